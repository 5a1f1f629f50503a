"""Rasa's TensorFlow models (DIET, TED) loaded for prediction without a training step.

Why: `RasaModel.load` (rasa/utils/tensorflow/models.py, Rasa 3.6.21) compiles the model and runs
`model.fit()` on one example "to build weights of the correct size" before `load_weights`: TensorFlow traces
the whole training graph (losses, CRF, optimizer) only to throw its result away. On this machine that step
was 93% of DIETClassifier's load and so most of Rasa's start-up (py-spy over bench/rasa_startup_bench.py;
issue 16). For prediction the training graph is never used: restoring the checkpoint first and building the
model by its first inference (TensorFlow restores each variable as it is created) gives the same weights,
hence the same predictions, without tracing training. Fine-tuning (`finetune_mode`) and loads without an
inference example keep Rasa's own path.

tests/rasa_extensions/test_fast_model_load.py fails when Rasa's method changes (a hash of its source) and,
with the trained model, checks that both loads parse a set of messages to identical intents, confidences
and entities. Upstream: RasaHQ/rasa, rasa/utils/tensorflow/models.py `RasaModel.load` at tag 3.6.21; no
upstream fix we know of. Installed by rasa_extensions/gateway_channel.py, like fast_action_validation.
"""
from __future__ import annotations

import logging
from typing import Any, Optional

import tensorflow as tf
from rasa.utils.tensorflow.constants import LEARNING_RATE, RUN_EAGERLY
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel

logger = logging.getLogger(__name__)

# sha256 of inspect.getsource(RasaModel.load) in Rasa 3.6.21 (see fast_action_validation.source_sha256).
PATCHED_SOURCE_SHA256 = "84fd81c0fdd01a8048de2d9b5b3022bdbf1e155f7b4d67737eb51ecb0787d292"

ORIGINAL_LOAD = RasaModel.load.__func__


def _load(
    cls: Any,
    model_file_name: str,
    model_data_example: RasaModelData,
    predict_data_example: Optional[RasaModelData] = None,
    finetune_mode: bool = False,
    *args: Any,
    **kwargs: Any,
) -> RasaModel:
    """RasaModel.load for prediction: restore the weights, then build the model by one inference."""
    if finetune_mode or not predict_data_example:
        return ORIGINAL_LOAD(cls, model_file_name, model_data_example, predict_data_example, finetune_mode,
                             *args, **kwargs)
    model = cls(*args, **kwargs)
    config = kwargs.get("config", {})
    # Compiled as Rasa does, so the model is in the state Rasa's code expects (no training happens).
    model.compile(optimizer=tf.keras.optimizers.Adam(config.get(LEARNING_RATE, 0.001)),
                  run_eagerly=config.get(RUN_EAGERLY))
    # Restored on creation: each variable takes its trained value when the first inference creates it. The
    # optimizer's and the training-only variables in the checkpoint are not needed for prediction.
    model.load_weights(model_file_name).expect_partial()
    model.run_inference(predict_data_example)
    logger.debug("Loaded %s for prediction without a training step", cls.__name__)
    return model


def install() -> None:
    """Replace RasaModel.load in this process (idempotent)."""
    RasaModel.load = classmethod(_load)
