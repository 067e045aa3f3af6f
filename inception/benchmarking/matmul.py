"""The machine's matrix-multiply rates (fp32, bf16, int8), timed in the same rounds as the models."""

from __future__ import annotations

from typing import Dict


def matmul_candidates(size: int, int8: bool) -> Dict[str, tuple]:
    """{name: (call, operations per call)}: square fp32 and bf16 matmuls; int8 as a 1x1 convolution.

    The int8 GEMM goes through the same oneDNN kernel as the int8 network
    (an [M, K] x [K, N] product is a 1x1 convolution over M pixels).
    """
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.constant(rng.normal(size=(size, size)), tf.float32)
    candidates = {}
    for name, dtype in (("matmul_fp32", tf.float32), ("matmul_bf16", tf.bfloat16)):
        x = tf.cast(a, dtype)
        product = tf.function(lambda x=x: tf.reduce_sum(tf.cast(tf.matmul(x, x), tf.float32)))
        candidates[name] = (lambda product=product: product().numpy(), 2.0 * size ** 3)
    if int8:
        candidates["matmul_int8"] = (_int8_gemm(size, rng), 2.0 * size ** 3)
    return candidates


def _int8_gemm(size: int, rng):
    import numpy as np
    import tensorflow as tf

    from inception.fast_inference.int8 import WEIGHT_LEVELS

    pixels = tf.bitcast(tf.constant(rng.integers(0, 256, (1, size, 1, size), dtype=np.uint8)), tf.quint8)
    weights = rng.integers(-WEIGHT_LEVELS, WEIGHT_LEVELS + 1, (1, 1, size, size), dtype=np.int8)

    @tf.function
    def product():
        result = tf.raw_ops.QuantizedConv2DWithBiasAndReluAndRequantize(
            input=pixels, filter=tf.bitcast(tf.constant(weights), tf.qint8),
            bias=tf.zeros([size]), min_input=tf.constant(0.0), max_input=tf.constant(1.0),
            min_filter=tf.constant(-1.0), max_filter=tf.constant(1.0),
            min_freezed_output=tf.constant(0.0), max_freezed_output=tf.constant(1.0),
            strides=[1, 1, 1, 1], padding="SAME", out_type=tf.quint8)
        return tf.reduce_sum(tf.cast(tf.bitcast(result[0], tf.uint8), tf.int32))

    return lambda: product().numpy()
