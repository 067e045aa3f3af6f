"""int8 inference through oneDNN's quantized kernels, for a batch-norm-folded classifier.

`Int8Classifier` runs every convolution unit but the first as one oneDNN
int8 kernel (u8 activations, s8 per-channel weights, bias, ReLU and
requantization fused), with activation ranges calibrated on training images.
It needs TensorFlow's oneDNN kernels (TF_ENABLE_ONEDNN_OPTS=1 where the CPU
does not enable them by default).
"""

from __future__ import annotations

from typing import Dict, Optional

import keras
import numpy as np
import tensorflow as tf

from inception import compat
from inception.compat import onednn_enabled

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
    nodes = compat.nodes_in_order(model)
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
        layer = compat.producer(tensor)
        if _is_plain_relu(layer) or isinstance(layer, keras.layers.Concatenate):
            ranges[layer.name] = max_value
        if isinstance(layer, keras.layers.Concatenate):
            for inner in compat.inbound_nodes(layer)[0].input_tensors:
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
