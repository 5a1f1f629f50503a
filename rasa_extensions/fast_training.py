"""Rasa's TensorFlow models (DIET) trained without a persistent gradient tape.

Why: `RasaModel.train_step` (rasa/utils/tensorflow/models.py, Rasa 3.6.21) records the whole loss on one
`tf.GradientTape(persistent=True)` only to take two gradients from it, of the prediction loss and of the
weights' L2 regularization. Under a persistent tape TensorFlow treats every `tf.cond` and `tf.while_loop` as
possibly needing higher-order gradients (`PossibleTapeGradientTypes` is HIGHER_ORDER) and, while tracing the
training step, wraps each in a function whose forward and backward graphs it builds there and then: the CRF's
conds and loops of DIET's entity layer. py-spy over `make train` (issue 16) put 33% of the training's samples in
that one trace, most of them in `_forward_and_backward_functions` and `_IfGrad` of the CRF. The regularization
loss is a sum of the weights' L2 regularizers, which Keras computes from the weights whenever `model.losses`
is read, so it can be recorded on a tape of its own after the prediction loss's: two ordinary tapes give the
same two gradients, combined exactly as Rasa combines them, and the step traces without the higher-order
wrapping.

Second, each batch's sparse features (the character n-grams, 9,000 columns) reach TensorFlow as coordinate
lists built by `RasaDataGenerator._scipy_matrix_to_values`, which stacks three small arrays per example in
Python: 18% of the same profile, every epoch again, on the cores the training step runs on. The same arrays
are built here with one concatenation per batch.

tests/rasa_extensions/test_fast_training.py fails when Rasa's methods change (hashes of their source), checks
that one step of both versions updates a small model's weights identically, and that both conversions give
identical arrays. Upstream: RasaHQ/rasa,
rasa/utils/tensorflow/models.py `RasaModel.train_step` at tag 3.6.21; no upstream fix we know of. Installed by
rasa_extensions/cli.py, which `make train` and the NLU benchmark run Rasa through.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, List, Tuple, Union

import numpy as np
import scipy.sparse
import tensorflow as tf
from rasa.utils.tensorflow.data_generator import RasaDataGenerator
from rasa.utils.tensorflow.feature_array import FeatureArray
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)

# sha256 of inspect.getsource(RasaModel.train_step) in Rasa 3.6.21 (see fast_action_validation.source_sha256).
PATCHED_SOURCE_SHA256 = "bf7557fbb3533e43ee6d8990c0c95a06181fa297cfcb3e9903ce077f067a8f3d"

ORIGINAL_TRAIN_STEP = RasaModel.train_step
# The same for RasaDataGenerator._scipy_matrix_to_values.
PATCHED_CONVERSION_SHA256 = "53d2e4842e1946baa5137e297c52f6c9e727fa25f7ca94ea2b7fd4bce04d4b04"
ORIGINAL_SCIPY_MATRIX_TO_VALUES = RasaDataGenerator._scipy_matrix_to_values


# Keras calls train_step from its own (unconverted) training function, so it runs as plain Python while tracing;
# kept so when called from converted code too (autograph's zip takes no `strict`).
@tf.autograph.experimental.do_not_convert
def _train_step(
    self: RasaModel, batch_in: Union[Tuple[tf.Tensor, ...], Tuple[np.ndarray, ...]]
) -> Dict[str, Any]:
    """RasaModel.train_step with the prediction and regularization gradients taken on two ordinary tapes."""
    self._training = True

    with tf.GradientTape() as tape:
        prediction_loss = self.batch_loss(batch_in)
    prediction_gradients = tape.gradient(prediction_loss, self.trainable_variables)
    # Keras computes the weights' regularizers from the weights each time `losses` is read: on this tape too.
    with tf.GradientTape() as tape:
        regularization_loss = tf.math.add_n(self.losses)
    regularization_gradients = tape.gradient(regularization_loss, self.trainable_variables)

    self.total_loss.update_state(prediction_loss + regularization_loss)

    # As Rasa combines them: a variable without a prediction gradient gets none.
    gradients = []
    for pred_grad, reg_grad in zip(prediction_gradients, regularization_gradients, strict=True):
        if pred_grad is not None and reg_grad is not None:
            gradients.append(pred_grad + tf.where(pred_grad > 0, reg_grad, tf.zeros_like(reg_grad)))
        else:
            gradients.append(pred_grad)

    self.optimizer.apply_gradients(zip(gradients, self.trainable_variables, strict=True))

    self._training = None

    return self._get_metric_results()


def _scipy_matrix_to_values(array_of_sparse: FeatureArray) -> List[np.ndarray]:
    """RasaDataGenerator._scipy_matrix_to_values with one concatenation per batch instead of three per example."""
    if array_of_sparse.number_of_dimensions == 4:
        return ORIGINAL_SCIPY_MATRIX_TO_VALUES(array_of_sparse)
    matrices = [x if isinstance(x, scipy.sparse.coo_matrix) else x.tocoo() for x in array_of_sparse]
    max_seq_len = max(x.shape[0] for x in matrices)
    # Row i of the batch, its rows and columns: the order Rasa's per-example stacking gives.
    examples = np.repeat(np.arange(len(matrices), dtype=np.int64), [len(x.row) for x in matrices])
    indices = np.stack([examples, np.concatenate([x.row for x in matrices]).astype(np.int64),
                        np.concatenate([x.col for x in matrices]).astype(np.int64)], axis=1)
    data = np.concatenate([x.data for x in matrices]).astype(np.float32)
    shape = np.array((len(matrices), max_seq_len, matrices[0].shape[-1]), dtype=np.int64)
    return [indices, data, shape]


def install() -> None:
    """Replace RasaModel.train_step and RasaDataGenerator._scipy_matrix_to_values in this process (idempotent)."""
    RasaModel.train_step = _train_step
    RasaDataGenerator._scipy_matrix_to_values = staticmethod(_scipy_matrix_to_values)
