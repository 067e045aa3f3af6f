"""Cost of a built model: multiply-adds, the unit of the paper's cost column.

Keras counts parameters but not arithmetic, so this walks the layers by hand.
Counted: convolutions (kh * kw * in/groups * out per output cell) and dense
layers (in * out per example). Pooling, batch norm, activations and additions
are not counted, following the convention of the paper's "billions of
multiply-adds" (the canonical network is 5.71 G at 299x299).
"""

from __future__ import annotations

import math

import keras


def _conv_multiply_adds(layer) -> int:
    out_cells = math.prod(layer.output.shape[1:-1])
    kernel = layer.kernel.shape  # (kh, kw, in / groups, out)
    return out_cells * math.prod(kernel)


def _dense_multiply_adds(layer) -> int:
    kernel = layer.kernel.shape
    # A dense layer on a [batch, ..., in] tensor runs once per leading cell.
    cells = math.prod(layer.output.shape[1:-1]) if len(layer.output.shape) > 2 else 1
    return cells * kernel[0] * kernel[1]


def count_multiply_adds(model: keras.Model, scope: str = "") -> int:
    """Multiply-adds of one forward pass of one example through `model`.

    `scope` counts only the layers whose names start with it, e.g. "Mixed_6a"
    for one block (layers are named after TF-slim scopes).
    """
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += count_multiply_adds(layer, scope)
        elif not layer.name.startswith(scope):
            continue
        elif isinstance(layer, (keras.layers.Conv2D, keras.layers.Conv1D, keras.layers.Conv3D)):
            total += _conv_multiply_adds(layer)
        elif isinstance(layer, keras.layers.DepthwiseConv2D):
            total += math.prod(layer.output.shape[1:-1]) * math.prod(layer.kernel.shape)
        elif isinstance(layer, keras.layers.Dense):
            total += _dense_multiply_adds(layer)
    return total
