"""Faster inference on CPU: batch norm folded into the convolutions; int8 through oneDNN.

    from inception import fast_inference
    fast = fast_inference.fold_batch_norm(inception.without_aux(model))
    fast.predict_on_batch(images)            # same outputs, fewer ops; a plain Keras model
    # With TF_ENABLE_ONEDNN_OPTS=1 set before TensorFlow is imported:
    int8 = fast_inference.Int8Classifier(fast, calibration_images)   # ~500 training images
    int8(images)                             # logits, int8 convolutions
    fast_inference.save_int8(int8, "exported/int8/1")               # SavedModel, predict_images

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

The int8 path (`Int8Classifier`, below) runs every convolution unit but the
first as one oneDNN int8 kernel (u8 activations, s8 per-channel weights,
bias, ReLU and requantization fused), with activation ranges calibrated on
training images. It needs TensorFlow's oneDNN kernels, which this
TensorFlow build enables only with TF_ENABLE_ONEDNN_OPTS=1.
"""

from __future__ import annotations

from typing import Dict, Optional

import keras
import numpy as np
import tensorflow as tf


def _producer(tensor) -> Optional[keras.layers.Layer]:
    """The layer whose output `tensor` (a symbolic Keras tensor) is."""
    history = getattr(tensor, "_keras_history", None)
    return history.operation if history is not None else None


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
        if not _is_channels_last_batch_norm(layer) or len(layer._inbound_nodes) != 1:
            continue
        inputs = layer._inbound_nodes[0].input_tensors
        conv = _producer(inputs[0]) if len(inputs) == 1 else None
        if (
            type(conv) is keras.layers.Conv2D
            and conv.data_format == "channels_last"
            and conv.activation in (None, keras.activations.linear)
            and len(conv._inbound_nodes) == 1
            and len(conv._outbound_nodes) == 1
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
    from tensorflow.python.framework import convert_to_constants  # not in the public API

    spec = tf.TensorSpec((batch_size,) + tuple(model.input_shape[1:]), model.inputs[0].dtype)
    traced = tf.function(lambda images: model(images, training=False)).get_concrete_function(spec)
    frozen = convert_to_constants.convert_variables_to_constants_v2(traced)

    def call(images):
        # The frozen function returns a flat list; give back the model's structure.
        return tf.nest.pack_sequence_as(traced.structured_outputs, frozen(images))

    return call


# -- int8 inference through oneDNN's quantized kernels -------------------------
#
# Activations after a ReLU are unsigned: a tensor is held as quint8 `q` with
# one scale, value = q * max_value / 255. Weights are signed, per output
# channel. The quantized convolution is TensorFlow's
# QuantizedConv2DWithBiasAndReluAndRequantize, which only has a kernel when
# TensorFlow runs with oneDNN (TF_ENABLE_ONEDNN_OPTS=1), and which requires
# its filter to be a graph constant.

ACTIVATION_LEVELS = 255
# Weights use all 8 bits (+-127); activations keep one bit of headroom: the
# calibrated maximum is held as 127, not 255. On CPUs without AVX512-VNNI
# (this project's machine, for one) oneDNN multiplies u8 x s8 with vpmaddubsw,
# whose 16-bit pairwise sums saturate above 32767: 2 x 127 x 127 stays below,
# 2 x 255 x 127 does not. Top-1 agreement with fp32 on the 10,000
# Fashion-MNIST test images for the small-profile bn_auxiliary model
# (`tools/benchmark.py --agreement_model`, PERFORMANCE.md): 99.24% so, 97.49%
# with 7-bit weights and full-range activations (about 10% faster here).
WEIGHT_LEVELS = 127
ACTIVATION_HEADROOM = 2.0
ONEDNN_FLAG = "TF_ENABLE_ONEDNN_OPTS"


def onednn_enabled() -> bool:
    """Whether TensorFlow runs with oneDNN in this process (needed for int8)."""
    from tensorflow.python.util import _pywrap_util_port  # not in the public API

    return bool(_pywrap_util_port.IsMklEnabled())


class Quantized:
    """A non-negative activation as quint8 values and the float its 255 stands for."""

    def __init__(self, values: tf.Tensor, max_value: float):
        self.values = values
        self.max_value = float(max_value)

    def dequantize(self) -> tf.Tensor:
        as_float = tf.cast(tf.bitcast(self.values, tf.uint8), tf.float32)
        return as_float * (self.max_value / ACTIVATION_LEVELS)

    @classmethod
    def from_float(cls, x: tf.Tensor, max_value: float) -> "Quantized":
        scaled = tf.round(tf.clip_by_value(x, 0.0, max_value) * (ACTIVATION_LEVELS / max_value))
        return cls(tf.bitcast(tf.cast(scaled, tf.uint8), tf.quint8), max_value)

    def requantized(self, max_value: float) -> "Quantized":
        if max_value == self.max_value:
            return self
        return Quantized.from_float(self.dequantize(), max_value)


def _is_plain_relu(layer) -> bool:
    if isinstance(layer, keras.layers.ReLU):
        return layer.negative_slope == 0 and layer.max_value is None and layer.threshold == 0
    return isinstance(layer, keras.layers.Activation) and layer.activation is keras.activations.relu


def _graph(model: keras.Model):
    """(nodes in topological order, {id of a symbolic tensor: the nodes consuming it})."""
    nodes = [node for depth in sorted(model._nodes_by_depth, reverse=True)
             for node in model._nodes_by_depth[depth]]
    consumers: Dict[int, list] = {}
    for node in nodes:
        for tensor in node.input_tensors:
            consumers.setdefault(id(tensor), []).append(node)
    return nodes, consumers


def _relu_after(conv_node, consumers) -> Optional[keras.layers.Layer]:
    """The ReLU layer that is the only consumer of `conv_node`'s output, if any."""
    users = consumers.get(id(conv_node.output_tensors[0]), [])
    if len(users) == 1 and _is_plain_relu(users[0].operation):
        return users[0].operation
    return None


def _calibrated_layers(model: keras.Model):
    """The layers whose outputs may be held in int8: ReLUs, pools and concatenations."""
    kinds = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D, keras.layers.Concatenate)
    return [layer for layer in model.layers if _is_plain_relu(layer) or isinstance(layer, kinds)]


def calibrate(model: keras.Model, images, batch_size: int = 32) -> Dict[str, float]:
    """{layer name: the largest value its output takes on `images`} (float inference).

    `images` is an array [N, H, W, C] of representative inputs (training
    images, never the test set).
    """
    layers = _calibrated_layers(model)
    maxima_model = keras.Model(model.inputs[0], [keras.ops.max(layer.output) for layer in layers])
    maxima = np.zeros(len(layers))
    for start in range(0, len(images), batch_size):
        batch = np.asarray(images[start:start + batch_size], np.float32)
        maxima = np.maximum(maxima, [float(m) for m in maxima_model(batch, training=False)])
    return {layer.name: max(value, 1e-6) for layer, value in zip(layers, maxima)}


def plan_ranges(model: keras.Model, calibrated: Dict[str, float]) -> Dict[str, float]:
    """Calibrated maxima, with every input of a concatenation given the concatenation's.

    Concatenating int8 tensors is a plain copy only when they share one scale,
    so the convolutions feeding a concatenation requantize straight into its
    range (pools, whose scale is their input's, are requantized when built).
    """
    ranges = dict(calibrated)
    nodes, _ = _graph(model)

    def share(tensor, max_value):
        layer = _producer(tensor)
        if _is_plain_relu(layer) or isinstance(layer, keras.layers.Concatenate):
            ranges[layer.name] = max_value
        if isinstance(layer, keras.layers.Concatenate):
            for inner in layer._inbound_nodes[0].input_tensors:
                share(inner, max_value)

    for node in reversed(nodes):  # outer concatenations first
        layer = node.operation
        if isinstance(layer, keras.layers.Concatenate) and layer.name in ranges:
            share(node.output_tensors[0], ranges[layer.name])
    return ranges


def int8_weights(conv: keras.layers.Conv2D) -> dict:
    """The constant inputs of the int8 convolution for `conv`: 8-bit weights per output channel."""
    kernel = conv.kernel.numpy()
    channel_max = np.maximum(np.abs(kernel).max(axis=(0, 1, 2)), 1e-12)
    return {
        "filter": np.round(kernel / channel_max * WEIGHT_LEVELS).astype(np.int8),
        "filter_range": (channel_max * 127 / WEIGHT_LEVELS).astype(np.float32),  # what int8 127 means
        "bias": conv.bias.numpy().astype(np.float32),
    }


def _quantized_conv_relu(conv: keras.layers.Conv2D, weights: dict, x: Quantized, max_out: float) -> Quantized:
    """relu(conv(x) + bias) as one int8 kernel, requantized to [0, max_out]."""
    strides = conv.strides
    result = tf.raw_ops.QuantizedConv2DWithBiasAndReluAndRequantize(
        input=x.values,
        filter=tf.bitcast(tf.constant(weights["filter"]), tf.qint8),
        bias=tf.constant(weights["bias"]),
        min_input=tf.constant(0.0), max_input=tf.constant(x.max_value),
        min_filter=tf.constant(-weights["filter_range"]),
        max_filter=tf.constant(weights["filter_range"]),
        min_freezed_output=tf.constant(0.0), max_freezed_output=tf.constant(float(max_out)),
        strides=[1, strides[0], strides[1], 1], padding=conv.padding.upper(),
        out_type=tf.quint8,
    )
    return Quantized(result[0], max_out)


def _int8_convs(model: keras.Model, ranges, consumers) -> Dict[str, str]:
    """{Conv2D name: the name of the ReLU fused with it} for the convolutions that can run in int8."""
    fused = {}
    for node in _graph(model)[0]:
        layer = node.operation
        relu = _relu_after(node, consumers) if type(layer) is keras.layers.Conv2D else None
        if relu is not None and relu.name in ranges and layer.use_bias and layer.groups == 1 \
                and tuple(layer.dilation_rate) == (1, 1) and layer.data_format == "channels_last":
            fused[layer.name] = relu.name
    return fused


def _run_int8_layer(node, inputs, ranges, conv_weights, fused):
    """One layer of the int8 graph; `inputs` hold tf.Tensors (float) or Quantized."""
    layer = node.operation
    quantized = inputs and all(isinstance(x, Quantized) for x in inputs)
    if layer.name in fused:
        max_out = ranges[fused[layer.name]]
        if quantized:
            return _quantized_conv_relu(layer, conv_weights[layer.name], inputs[0], max_out)
        return Quantized.from_float(tf.nn.relu(layer(inputs[0])), max_out)
    if _is_plain_relu(layer) and quantized:
        return inputs[0]  # int8 activations are already non-negative
    if quantized and isinstance(layer, keras.layers.MaxPooling2D):
        return _quantized_pool(tf.raw_ops.QuantizedMaxPool, layer, inputs[0])
    if (quantized and isinstance(layer, keras.layers.AveragePooling2D)
            and layer.padding == "same" and tuple(layer.strides) == (1, 1)):
        # Excludes padded cells like AvgPool; only the in-block pools, the
        # final global pool stays in float for precision.
        return _quantized_pool(tf.raw_ops.QuantizedAvgPool, layer, inputs[0])
    if quantized and isinstance(layer, keras.layers.Concatenate) and layer.axis in (-1, 3):
        max_value = ranges[layer.name]
        parts = [x.requantized(max_value).values for x in inputs]
        return Quantized(tf.concat(parts, axis=-1), max_value)
    floats = [x.dequantize() if isinstance(x, Quantized) else x for x in inputs]
    return layer(floats if isinstance(layer, keras.layers.Concatenate) else floats[0])


def _quantized_pool(op, layer, x: Quantized) -> Quantized:
    pool, strides = layer.pool_size, layer.strides
    result = op(input=x.values, min_input=tf.constant(0.0), max_input=tf.constant(x.max_value),
                ksize=[1, pool[0], pool[1], 1], strides=[1, strides[0], strides[1], 1],
                padding=layer.padding.upper())
    return Quantized(result[0], x.max_value)


def int8_forward(model: keras.Model, ranges: Dict[str, float]):
    """A Python function images -> logits running `model` (BN folded) in int8 where it can.

    Convolution + ReLU units whose input is int8 run as one oneDNN int8 kernel;
    pools and concatenations stay in int8; the first convolution (float
    images in) and the classifier after the last concatenation run in float.
    Trace it inside a tf.function (the weights become graph constants).
    """
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ValueError("int8 inference takes a single-input, single-output model "
                         "(use inception.without_aux and fold_batch_norm first)")
    nodes, consumers = _graph(model)
    fused = _int8_convs(model, ranges, consumers)
    conv_weights = {name: int8_weights(model.get_layer(name)) for name in fused}

    def forward(images):
        values = {id(model.inputs[0]): images}
        for node in nodes:
            if node.is_input:
                continue
            inputs = [values[id(t)] for t in node.input_tensors]
            values[id(node.output_tensors[0])] = _run_int8_layer(node, inputs, ranges, conv_weights, fused)
        out = values[id(model.outputs[0])]
        return out.dequantize() if isinstance(out, Quantized) else out

    return forward


class Int8Classifier(tf.Module):
    """A folded classifier in int8, callable and savable with `tf.saved_model.save`.

        int8 = Int8Classifier(fold_batch_norm(classifier), calibration_images)
        logits = int8(images)                    # or int8.predict(images)
        save_int8(int8, path)                    # serve with TF_ENABLE_ONEDNN_OPTS=1

    The int8 weights live in the graph as constants (the int8 kernel requires
    it); the module keeps only the variables of the layers that stay in float
    (the first convolution and the classifier), not the whole float model.
    """

    def __init__(self, folded: keras.Model, calibration_images, batch_size: int = 32):
        super().__init__(name="int8_classifier")
        if not onednn_enabled():
            raise RuntimeError(f"int8 inference needs TensorFlow with oneDNN: set {ONEDNN_FLAG}=1 "
                               "before TensorFlow is imported.")
        maxima = calibrate(folded, calibration_images, batch_size)
        self.ranges = plan_ranges(folded, {name: ACTIVATION_HEADROOM * m for name, m in maxima.items()})
        forward = int8_forward(folded, self.ranges)
        # The Keras model's shapes, so that code written for a classifier model takes this too.
        self.input_shape, self.output_shape = tuple(folded.input_shape), tuple(folded.output_shape)
        spec = tf.TensorSpec((None,) + self.input_shape[1:], tf.float32, name="images")
        self.predict = tf.function(forward, input_signature=[spec], autograph=False)
        # Traced now, so that the module tracks (and saves) just the variables the graph reads.
        self.float_variables = list(self.predict.get_concrete_function().variables)

    def __call__(self, images, training: bool = False):
        if training:
            raise ValueError("Int8Classifier is for inference only")
        return self.predict(images)


IMAGES_SIGNATURE = "predict_images"  # the float-batch signature of inception.export
TOP_K = 5


def save_int8(int8: Int8Classifier, path: str) -> str:
    """Writes `int8` as a SavedModel with the exporter's `predict_images` signature; returns `path`.

    Input `images` float32 [B, H, W, 3] in [-1, 1]; outputs `probabilities`
    [B, K], the top-5 `classes` and their `top_probabilities`, as
    `inception.export` writes them. Serve it with TF_ENABLE_ONEDNN_OPTS=1.
    """
    spec = int8.predict.input_signature[0]

    @tf.function(input_signature=[spec])
    def predict_images(images):
        probabilities = tf.nn.softmax(int8.predict(images), axis=-1)
        top = tf.math.top_k(probabilities, k=min(TOP_K, probabilities.shape[-1]))
        return {"probabilities": probabilities, "classes": top.indices, "top_probabilities": top.values}

    tf.saved_model.save(int8, path, signatures={IMAGES_SIGNATURE: predict_images})
    return path
