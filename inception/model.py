"""Inception-v3 and the variants of the paper's tables, as Keras 3 models.

The canonical network is the one the authors released (TF-slim
`inception_v3`, also `keras.applications.InceptionV3` plus the auxiliary
head); SPEC section 2.1. The blocks it is made of live in `blocks.py`, one
function per figure.

    end point        what                             output at 299
    Conv2d_1a_3x3    3x3/2 conv, 32                   149x149x32
    Conv2d_2a_3x3    3x3 conv, 32                     147x147x32
    Conv2d_2b_3x3    3x3 conv SAME, 64                147x147x64
    MaxPool_3a_3x3   3x3/2 max pool                   73x73x64
    Conv2d_3b_1x1    1x1 conv, 80                     73x73x80
    Conv2d_4a_3x3    3x3 conv, 192                    71x71x192
    MaxPool_5a_3x3   3x3/2 max pool                   35x35x192
    Mixed_5b/5c/5d   Figure 5 blocks                  35x35x256/288/288
    Mixed_6a         Figure 10 reduction              17x17x768
    Mixed_6b..6e     Figure 6 blocks (n = 7)          17x17x768
    AuxLogits        Figure 8 head on Mixed_6e        num_classes
    Mixed_7a         Figure 10 reduction              8x8x1280
    Mixed_7b, 7c     Figure 7 blocks                  8x8x2048
    Logits           pool, dropout, linear            num_classes
"""

from __future__ import annotations

import contextlib
import functools
from typing import Dict, Iterable, Optional

import keras
from keras import layers

from inception import blocks

# Stems: the layers before Mixed_5b. "3x3" is the canonical stem (Table 2's
# 299x299 receptive field, Table 3's "Factorized 7x7"); the others are the
# variants Tables 2 and 3 compare it with.
STEMS = ("3x3", "7x7", "rf151", "rf79")
MIXED_5_BLOCKS = ("released", "figure5")
# Keras dtype policies the network is built and trained in. Under
# "mixed_bfloat16" layers compute in bfloat16 and keep float32 variables (so
# checkpoints and exports are unchanged); the logits stay float32. Float16
# would need loss scaling, which the recipe's optimizers do not do.
DTYPE_POLICIES = ("float32", "mixed_bfloat16")

# The names TF-slim gives to the end points, in network order.
STEM_END_POINTS = (
    "Conv2d_1a_3x3", "Conv2d_1a_7x7", "Conv2d_2a_3x3", "Conv2d_2b_3x3",
    "MaxPool_3a_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3", "MaxPool_5a_3x3",
)
MIXED_END_POINTS = (
    "Mixed_5b", "Mixed_5c", "Mixed_5d", "Mixed_6a", "Mixed_6b", "Mixed_6c",
    "Mixed_6d", "Mixed_6e", "Mixed_7a", "Mixed_7b", "Mixed_7c",
)
# Head end points -> the Keras layer holding them.
HEAD_END_POINTS = {"AuxLogits": "aux_logits", "PreLogits": "Logits.Dropout_1b", "Logits": "logits"}


def _stem_layers(stem: str):
    """The stem as (kind, filters, kernel, stride, padding, scope) rows.

    "3x3": three 3x3 convolutions replace the 7x7 (section 6 of the paper).
    "7x7": Table 3's Inception-v2 rows, a single 7x7/2 VALID convolution with
       64 filters in place of Conv2d_1a..2b, so that its output is still
       147x147x64 at 299. The paper does not give this stem exactly; this
       reconstruction keeps everything after it identical to the canonical
       network, so that the "Factorized 7x7" row changes only the stem.
    "rf151": Table 2's 151x151 receptive field: first convolution stride 1,
       pooling kept. At a 151x151 input the grids after it match the
       canonical network at 299x299, so the cost is the same.
    "rf79": Table 2's 79x79 receptive field: first convolution stride 1 and
       the first max pooling removed.
    """
    if stem not in STEMS:
        raise ValueError(f"Unknown stem {stem!r}; valid stems are {STEMS}.")
    if stem == "7x7":
        head = [("conv", 64, (7, 7), 2, "valid", "Conv2d_1a_7x7")]
    else:
        first_stride = 2 if stem == "3x3" else 1
        head = [
            ("conv", 32, (3, 3), first_stride, "valid", "Conv2d_1a_3x3"),
            ("conv", 32, (3, 3), 1, "valid", "Conv2d_2a_3x3"),
            ("conv", 64, (3, 3), 1, "same", "Conv2d_2b_3x3"),
        ]
    pool = [] if stem == "rf79" else [("maxpool", None, (3, 3), 2, "valid", "MaxPool_3a_3x3")]
    tail = [
        ("conv", 80, (1, 1), 1, "valid", "Conv2d_3b_1x1"),
        ("conv", 192, (3, 3), 1, "valid", "Conv2d_4a_3x3"),
        ("maxpool", None, (3, 3), 2, "valid", "MaxPool_5a_3x3"),
    ]
    return head + pool + tail


def _valid(size: int, kernel: int, stride: int) -> int:
    return (size - kernel) // stride + 1


def grid_sizes(input_size: int, stem: str = "3x3") -> Dict[str, int]:
    """Side of the grid after each stem layer and each grid reduction."""
    sizes, n = {}, input_size
    for _, _, kernel, stride, padding, scope in _stem_layers(stem):
        if padding == "valid":
            n = _valid(n, kernel[0], stride)
        sizes[scope] = n
    sizes["Mixed_5d"] = n
    sizes["Mixed_6e"] = n = _valid(n, 3, 2)
    sizes["Mixed_7c"] = _valid(n, 3, 2)
    return sizes


@functools.lru_cache(maxsize=None)
def minimum_input_size(stem: str = "3x3") -> int:
    """The smallest input side for which every layer has a grid of at least 1."""
    _stem_layers(stem)  # validates the name
    n = 1
    while min(grid_sizes(n, stem).values()) < 1:
        n += 1
    return n


def _validate(num_classes, input_size, stem, mixed_5_block, depth_multiplier, min_depth, dropout_keep_prob):
    if stem not in STEMS:
        raise ValueError(f"Unknown stem {stem!r}; valid stems are {STEMS}.")
    if mixed_5_block not in MIXED_5_BLOCKS:
        raise ValueError(f"Unknown mixed_5_block {mixed_5_block!r}; valid: {MIXED_5_BLOCKS}.")
    if depth_multiplier <= 0:
        raise ValueError(f"depth_multiplier must be greater than zero, got {depth_multiplier}.")
    if min_depth < 1:
        raise ValueError(f"min_depth must be at least 1, got {min_depth}.")
    if num_classes < 1:
        raise ValueError(f"num_classes must be at least 1, got {num_classes}.")
    if not 0.0 < dropout_keep_prob <= 1.0:
        raise ValueError(f"dropout_keep_prob must be in (0, 1], got {dropout_keep_prob}.")
    smallest = minimum_input_size(stem)
    if input_size < smallest:
        raise ValueError(
            f"input_size {input_size} is too small for stem {stem!r}: "
            f"the smallest input it allows is {smallest}x{smallest}."
        )


def inception_v3(
    num_classes: int = 1000,
    include_aux: bool = True,
    *,
    input_size: int = 299,
    stem: str = "3x3",
    mixed_5_block: str = "released",
    aux_batch_norm: bool = True,
    depth_multiplier: float = 1.0,
    min_depth: int = 16,
    dropout_keep_prob: float = 0.8,
    batch_norm_momentum: float = 0.9997,
    batch_norm_epsilon: float = 0.001,
    weight_decay: float = 4e-5,
    dtype_policy: Optional[str] = None,
    name: str = "InceptionV3",
) -> keras.Model:
    """Builds Inception-v3 or one of the variants of the paper's tables.

    Args:
      num_classes: 1000 for ImageNet; 1001 for the TF-slim checkpoint layout
        (class 0 is "background").
      include_aux: add the auxiliary classifier (Figure 8). The model then has
        two outputs, a dict {"logits", "aux_logits"}; `without_aux(model)`
        gives the single-output model that shares its weights.
      input_size: side of the square input (299 in the paper); images are
        expected in [-1, 1].
      stem: "3x3" (canonical), "7x7" (Table 3's Inception-v2 rows),
        "rf151" or "rf79" (Table 2's smaller receptive fields).
      mixed_5_block: "released" (with the 5x5 branch) or "figure5" (the
        figure-literal block, every 5x5 factorized).
      aux_batch_norm: batch-normalize the auxiliary head ("BN-auxiliary").
      depth_multiplier, min_depth: scale every filter count to
        max(int(d * depth_multiplier), min_depth), as TF-slim does.
      dropout_keep_prob: keep probability of the dropout before the logits.
      batch_norm_momentum: moving-average decay of batch-norm statistics
        (0.9997 in the paper; short runs need a faster one).
      batch_norm_epsilon: 0.001, as released.
      weight_decay: L2 factor in TF `l2_loss` semantics on every kernel
        (4e-5 in the paper; 0 disables it).
      dtype_policy: "float32" or "mixed_bfloat16" (`DTYPE_POLICIES`); None
        follows Keras' global policy (`keras.config.dtype_policy()`). The
        logits are float32 under every policy.

    Returns:
      A functional `keras.Model` whose layers are named after TF-slim's
      scopes (see `blocks.py`), so `model.get_layer("Mixed_6e")` is that end
      point.

    Raises:
      ValueError: an unknown stem, block or dtype policy, a depth multiplier
        <= 0, or an input too small for the stem (the message says what is
        allowed).
    """
    _validate(num_classes, input_size, stem, mixed_5_block, depth_multiplier, min_depth, dropout_keep_prob)
    if dtype_policy is not None and dtype_policy not in DTYPE_POLICIES:
        raise ValueError(f"Unknown dtype_policy {dtype_policy!r}; valid: {DTYPE_POLICIES} or None.")
    with _global_dtype_policy(dtype_policy):
        return _inception_v3(num_classes, include_aux, input_size, stem, mixed_5_block, aux_batch_norm,
                             depth_multiplier, min_depth, dropout_keep_prob, batch_norm_momentum,
                             batch_norm_epsilon, weight_decay, name)


@contextlib.contextmanager
def _global_dtype_policy(name: Optional[str]):
    """Keras' global dtype policy set to `name` (None: left alone) while the layers are made.

    Keras has no scoped policy; layers read the global one when constructed,
    so it is set for the build and restored after, even on error.
    """
    previous = keras.config.dtype_policy()
    if name is not None:
        keras.config.set_dtype_policy(name)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _inception_v3(num_classes, include_aux, input_size, stem, mixed_5_block, aux_batch_norm,
                  depth_multiplier, min_depth, dropout_keep_prob, batch_norm_momentum,
                  batch_norm_epsilon, weight_decay, name) -> keras.Model:
    conv = blocks.ConvUnits(
        depth_multiplier=depth_multiplier,
        min_depth=min_depth,
        batch_norm_momentum=batch_norm_momentum,
        batch_norm_epsilon=batch_norm_epsilon,
        weight_decay=weight_decay,
    )
    inputs = keras.Input((input_size, input_size, 3), name="images")

    # Stem: 299x299x3 -> 35x35x192.
    x = inputs
    for kind, filters, kernel, stride, padding, scope in _stem_layers(stem):
        if kind == "conv":
            x = conv(x, filters, kernel, scope, strides=stride, padding=padding)
        else:
            x = layers.MaxPooling2D(kernel, strides=stride, padding=padding, name=scope)(x)

    # 35x35: three Figure 5 blocks -> 35x35x288.
    figure_literal = mixed_5_block == "figure5"
    x = blocks.factorized_5x5_block(x, conv, "Mixed_5b", pool_filters=32, figure_literal=figure_literal)
    x = blocks.factorized_5x5_block(
        x, conv, "Mixed_5c", pool_filters=64, figure_literal=figure_literal,
        branch_1_names=("Conv2d_0b_1x1", "Conv_1_0c_5x5"),  # TF-slim's irregular names
    )
    x = blocks.factorized_5x5_block(x, conv, "Mixed_5d", pool_filters=64, figure_literal=figure_literal)

    # 35x35 -> 17x17x768, then four Figure 6 blocks.
    x = blocks.grid_reduction_35_to_17(x, conv, "Mixed_6a")
    for scope, channels in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = blocks.asymmetric_7x7_block(x, conv, scope, channels)
    mixed_6e = x

    # 17x17 -> 8x8x1280, then two Figure 7 blocks -> 8x8x2048.
    x = blocks.grid_reduction_17_to_8(x, conv, "Mixed_7a")
    x = blocks.expanded_filter_bank_block(x, conv, "Mixed_7b")
    x = blocks.expanded_filter_bank_block(
        x, conv, "Mixed_7c",
        branch_1_split_names=("Conv2d_0b_1x3", "Conv2d_0c_3x1"),  # TF-slim's irregular names
    )

    logits = blocks.classifier(x, conv, num_classes, dropout_keep_prob=dropout_keep_prob)
    if not include_aux:
        return keras.Model(inputs, logits, name=name)
    aux_logits = blocks.auxiliary_classifier(mixed_6e, conv, num_classes, batch_norm=aux_batch_norm)
    return keras.Model(inputs, {"logits": logits, "aux_logits": aux_logits}, name=name)


def without_aux(model: keras.Model) -> keras.Model:
    """The single-output model (logits only) sharing `model`'s weights.

    For evaluation and export: the auxiliary head only helps training.
    """
    return keras.Model(model.inputs, model.get_layer("logits").output, name=model.name)


def end_points(model: keras.Model, names: Optional[Iterable[str]] = None) -> keras.Model:
    """A model returning a dict of TF-slim end points, sharing `model`'s weights.

    `names` defaults to every end point the model has (stem layers, Mixed
    blocks, PreLogits, Logits and AuxLogits); use it for feature extraction,
    e.g. `end_points(model, ["Mixed_7c"])`.
    """
    available = {}
    for end_point in STEM_END_POINTS + MIXED_END_POINTS + tuple(HEAD_END_POINTS):
        layer_name = HEAD_END_POINTS.get(end_point, end_point)
        try:
            available[end_point] = model.get_layer(layer_name).output
        except ValueError:
            continue
    if names is None:
        names = list(available)
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ValueError(f"Unknown end points {unknown}; this model has {list(available)}.")
    return keras.Model(model.inputs, {n: available[n] for n in names}, name=f"{model.name}_end_points")
