"""DIET's training step and batch conversion (rasa_extensions/fast_training.py) against Rasa's.

The module replaces two methods of Rasa: these tests fail when Rasa's methods change, when one training step of
ours updates a model's weights differently from Rasa's, and when the conversions' arrays differ.
"""
from __future__ import annotations

from typing import Any, Dict, List

import numpy as np
import pytest
import scipy.sparse
import tensorflow as tf
from rasa.utils.tensorflow.data_generator import RasaDataGenerator
from rasa.utils.tensorflow.feature_array import FeatureArray
from rasa.utils.tensorflow.models import RasaModel

from rasa_extensions import fast_training
from rasa_extensions.fast_action_validation import source_sha256


def test_rasa_code_replaced_is_the_code_this_module_was_written_for() -> None:
    # Update a hash only after reading Rasa's new method and re-running these tests and the NLU benchmark.
    assert source_sha256(fast_training.ORIGINAL_TRAIN_STEP) == fast_training.PATCHED_SOURCE_SHA256
    assert (source_sha256(fast_training.ORIGINAL_SCIPY_MATRIX_TO_VALUES)
            == fast_training.PATCHED_CONVERSION_SHA256)


class _TinyModel(RasaModel):
    """A model with Rasa's shape of loss: a prediction loss through a tf.cond and a loop, and L2 regularizers."""

    def __init__(self) -> None:
        super().__init__(random_seed=7)
        l2 = tf.keras.regularizers.l2(0.01)
        self.hidden = tf.keras.layers.Dense(8, kernel_regularizer=l2, activation="relu")
        self.out = tf.keras.layers.Dense(3, kernel_regularizer=l2)
        # Regularized but never reached by the prediction loss: it must get no gradient at all.
        self.unused = tf.keras.layers.Dense(2, kernel_regularizer=l2)
        self.unused.build((None, 4))

    def batch_loss(self, batch_in: Any) -> tf.Tensor:
        features, labels = batch_in
        logits = self.out(self.hidden(features))
        loss = tf.reduce_mean(tf.keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True))
        # Like the CRF's: a cond and a loop on the way to the loss.
        loss = tf.cond(tf.shape(features)[0] > 1, lambda: loss * 1.5, lambda: loss)
        return tf.while_loop(lambda i, x: i < 3, lambda i, x: (i + 1, x * 1.1), (0, loss))[1]


def _weights_after_steps(train_step: Any, steps: int = 3) -> List[np.ndarray]:
    model = _TinyModel()
    model.compile(optimizer=tf.keras.optimizers.Adam(0.01))
    rng = np.random.default_rng(0)
    features = tf.constant(rng.normal(size=(16, 4)), dtype=tf.float32)
    labels = tf.constant(rng.integers(0, 3, size=16))
    step = tf.function(lambda batch: train_step(model, batch))
    for _ in range(steps):
        step((features, labels))
    return [variable.numpy() for variable in model.trainable_variables]


def test_our_training_step_updates_the_weights_as_rasa_s_does() -> None:
    rasa_s = _weights_after_steps(fast_training.ORIGINAL_TRAIN_STEP)
    ours = _weights_after_steps(fast_training._train_step)
    assert len(ours) == len(rasa_s) == 6
    for our_weights, rasa_weights in zip(ours, rasa_s, strict=True):
        np.testing.assert_allclose(our_weights, rasa_weights, rtol=1e-6, atol=1e-7)


def _sparse_batch(rng: np.random.Generator, format_: str) -> FeatureArray:
    matrices = [scipy.sparse.random(int(rng.integers(1, 9)), 50, density=0.2, format=format_, random_state=i,
                                    dtype=np.float64) for i in range(12)]
    matrices.append(scipy.sparse.coo_matrix((3, 50)))  # an example without a feature
    array = np.empty(len(matrices), dtype=object)
    array[:] = matrices
    return FeatureArray(array, number_of_dimensions=3)


@pytest.mark.parametrize("format_", ["coo", "csr"])
def test_our_batch_conversion_gives_rasa_s_arrays(format_: str) -> None:
    batch = _sparse_batch(np.random.default_rng(1), format_)
    rasa_s: List[np.ndarray] = fast_training.ORIGINAL_SCIPY_MATRIX_TO_VALUES(batch)
    ours: List[np.ndarray] = fast_training._scipy_matrix_to_values(batch)
    for our_array, rasa_array in zip(ours, rasa_s, strict=True):
        assert our_array.dtype == rasa_array.dtype
        np.testing.assert_array_equal(our_array, rasa_array)


def test_the_command_line_launcher_installs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from rasa_extensions import cli

    monkeypatch.setattr(RasaModel, "train_step", fast_training.ORIGINAL_TRAIN_STEP)
    monkeypatch.setattr(RasaDataGenerator, "_scipy_matrix_to_values",
                        staticmethod(fast_training.ORIGINAL_SCIPY_MATRIX_TO_VALUES))
    cli.install_fixes()
    assert RasaModel.train_step is fast_training._train_step
    converted: Dict[str, Any] = {"function": RasaDataGenerator._scipy_matrix_to_values}
    assert converted["function"] is fast_training._scipy_matrix_to_values
