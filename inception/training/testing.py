"""A test-sized stand-in for Inception-v3 with the same outputs, for fast runs of the training code.

The real network's training graph takes a minute to build on a laptop CPU;
this one takes a second, so tests of the trainer (and 50-replica or
multi-worker runs) stay quick. It honours the ModelConfig fields that matter
to training: classes, input size, the auxiliary output, dropout, batch-norm
constants, weight decay and the colour distortion layer.
"""

from __future__ import annotations

import keras
from keras import layers

from inception.config import ModelConfig
from inception.color_distortion import distorted_input
from inception.model import AuxiliaryHeadModel


def tiny_model(model_config: ModelConfig = ModelConfig(num_classes=10, input_size=28),
               batch_norm: bool = True) -> keras.Model:
    """Two conv units, an auxiliary head after the first, a logits head after the second."""
    decay = model_config.weight_decay
    regularizer = keras.regularizers.L2(decay / 2.0) if decay else None  # TF l2_loss semantics

    def conv_unit(x, filters, name):
        x = layers.Conv2D(filters, 3, strides=2, padding="same", use_bias=not batch_norm,
                          kernel_regularizer=regularizer, name=f"{name}.Conv2D")(x)
        if batch_norm:
            x = layers.BatchNormalization(momentum=model_config.batch_norm_momentum,
                                          epsilon=model_config.batch_norm_epsilon, scale=False,
                                          name=f"{name}.BatchNorm")(x)
        return layers.ReLU(name=name)(x)

    size = model_config.input_size
    inputs = keras.Input((size, size, 3), name="images")
    x = conv_unit(distorted_input(inputs, model_config.color_distortion), 8, "Conv_1")
    aux = layers.GlobalAveragePooling2D(name="AuxPool")(x)
    aux_logits = layers.Dense(model_config.num_classes, kernel_regularizer=regularizer,
                              name="aux_logits")(aux)
    x = conv_unit(x, 16, "Conv_2")
    x = layers.GlobalAveragePooling2D(name="Pool")(x)
    if model_config.dropout_keep_prob < 1.0:
        x = layers.Dropout(1.0 - model_config.dropout_keep_prob, name="Dropout")(x)
    logits = layers.Dense(model_config.num_classes, kernel_regularizer=regularizer, name="logits")(x)
    if not model_config.include_aux:
        return keras.Model(inputs, logits, name="tiny")
    return AuxiliaryHeadModel(inputs, {"logits": logits, "aux_logits": aux_logits}, name="tiny")
