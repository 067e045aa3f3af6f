"""Batch norm folded into the convolutions: the same network with fewer ops, for inference.

At inference a BatchNormalization layer is a per-channel affine map,
`y = (x - mean) / sqrt(var + eps) * gamma + beta`, that Keras runs as several
elementwise passes over the activation. After a convolution it can be folded
into that convolution's kernel and a bias, so every Conv2D -> BatchNorm ->
ReLU unit becomes Conv2D (with bias) -> ReLU: one pass less per layer over
memory, and TensorFlow's graph optimizer (grappler's remapper) can then run
convolution, bias and ReLU as one fused kernel. The folded model is built from
plain Keras layers (a Conv2D with a bias), so it saves, loads and exports like
any other model. It is for inference only: it has no batch-norm statistics
left to train.
"""

from __future__ import annotations

from typing import Dict, Optional

import keras
import numpy as np
import tensorflow as tf

from inception import compat


def _is_channels_last_batch_norm(layer) -> bool:
    return isinstance(layer, keras.layers.BatchNormalization) and layer.axis in (-1, 3) and not layer.renorm


def foldable_pairs(model: keras.Model) -> Dict[str, str]:
    """{batch-norm layer name: the Conv2D layer name folded into it}.

    A pair folds when the BatchNormalization (channels last) normalises the
    output of a channels-last Conv2D, that Conv2D is called once and its output
    feeds nothing else (else the un-normalised value would be lost).
    """
    pairs = {}
    for layer in model.layers:
        if not _is_channels_last_batch_norm(layer) or len(compat.inbound_nodes(layer)) != 1:
            continue
        inputs = compat.inbound_nodes(layer)[0].input_tensors
        conv = compat.producer(inputs[0]) if len(inputs) == 1 else None
        if (
            type(conv) is keras.layers.Conv2D
            and conv.data_format == "channels_last"
            and conv.activation in (None, keras.activations.linear)
            and len(compat.inbound_nodes(conv)) == 1
            and len(compat.outbound_nodes(conv)) == 1
        ):
            pairs[layer.name] = conv.name
    return pairs


def folded_kernel_and_bias(conv: keras.layers.Conv2D, batch_norm: keras.layers.BatchNormalization):
    """(kernel, bias) of the one convolution equal to `batch_norm(conv(x))` at inference.

    BN(Wx + b) = s * (Wx + b - mean) + beta with s = gamma / sqrt(var + eps)
               = (s W) x + (s (b - mean) + beta), per output channel.
    Computed in float64 so that the folded weights round only once.
    """
    kernel = np.asarray(conv.kernel.numpy(), np.float64)
    bias = np.asarray(conv.bias.numpy(), np.float64) if conv.use_bias else 0.0
    mean = np.asarray(batch_norm.moving_mean.numpy(), np.float64)
    variance = np.asarray(batch_norm.moving_variance.numpy(), np.float64)
    gamma = np.asarray(batch_norm.gamma.numpy(), np.float64) if batch_norm.scale else 1.0
    beta = np.asarray(batch_norm.beta.numpy(), np.float64) if batch_norm.center else 0.0
    scale = gamma / np.sqrt(variance + batch_norm.epsilon)
    dtype = conv.kernel.dtype
    return (kernel * scale).astype(dtype), (scale * (bias - mean) + beta).astype(dtype)


def _biased_conv_like(conv: keras.layers.Conv2D) -> keras.layers.Conv2D:
    """A Conv2D configured as `conv`, with a bias and without training-only regularizers."""
    config = conv.get_config()
    config.update(use_bias=True, kernel_regularizer=None, bias_regularizer=None,
                  activity_regularizer=None, kernel_constraint=None, bias_constraint=None)
    return keras.layers.Conv2D.from_config(config)


def _fresh_copy(layer: keras.layers.Layer) -> keras.layers.Layer:
    return layer.__class__.from_config(layer.get_config())


def fold_batch_norm(model: keras.Model) -> keras.Model:
    """A new functional model in which every foldable Conv2D -> BatchNorm pair is one Conv2D.

    Same inputs, outputs, layer names (the batch-norm layers disappear) and,
    at inference, the same outputs within float32 round-off. The new model
    owns copies of the weights; `model` is unchanged. Batch norms that follow
    no convolution stay as they are. Inference only (call with training=False
    or through predict): the folded model cannot update batch statistics.
    """
    pairs = foldable_pairs(model)
    folded_convs = {conv: bn for bn, conv in pairs.items()}
    clones: Dict[str, keras.layers.Layer] = {}

    def clone(layer):
        if layer.name in pairs:
            return layer  # never called: `call` skips it
        new = _biased_conv_like(layer) if layer.name in folded_convs else _fresh_copy(layer)
        clones[layer.name] = new
        return new

    def call(layer, *args, **kwargs):
        if layer.name in pairs:
            return args[0]  # the folded batch norm is the identity on its conv's new output
        return layer(*args, **kwargs)

    folded = keras.models.clone_model(model, clone_function=clone, call_function=call)
    for name, new in clones.items():
        old = model.get_layer(name)
        if name in folded_convs:
            new.set_weights(folded_kernel_and_bias(old, model.get_layer(folded_convs[name])))
        else:
            new.set_weights(old.get_weights())
    return folded


def frozen_function(model: keras.Model, batch_size: Optional[int] = None):
    """`model`'s inference as a TensorFlow concrete function with its weights as constants.

    The graph optimizer can then treat kernels as constants (constant folding,
    no variable reads each call). Takes one float tensor of the model's input
    shape (batch `batch_size`, or any when None) and returns its outputs.
    """
    spec = tf.TensorSpec((batch_size,) + tuple(model.input_shape[1:]), model.inputs[0].dtype)
    traced = tf.function(lambda images: model(images, training=False)).get_concrete_function(spec)
    frozen = compat.variables_to_constants(traced)

    def call(images):
        # The frozen function returns a flat list; give back the model's structure.
        return tf.nest.pack_sequence_as(traced.structured_outputs, frozen(images))

    return call
