"""Inception-v3 and the variants of the paper's tables, as Keras 3 models.

The canonical network is the one the authors released (TF-slim
`inception_v3`, also `keras.applications.InceptionV3` plus the auxiliary
head). The blocks it is made of live in `blocks.py`, one
function per figure; the convolution unit in `conv_unit.py`, the two
classifier heads in `heads.py`.

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
import dataclasses
import functools
from typing import Dict, Iterable, Optional

import keras
from keras import layers

from inception import blocks, heads
from inception import config as config_lib
from inception.config import ModelConfig
from inception.conv_unit import ConvUnits
from inception.color_distortion import distorted_input

# Stems: the layers before Mixed_5b. "3x3" is the canonical stem (Table 2's
# 299x299 receptive field, Table 3's "Factorized 7x7"); the others are the
# variants Tables 2 and 3 compare it with. The choices live in inception.config.
STEMS = config_lib.STEMS
MIXED_5_BLOCKS = config_lib.MIXED_5_BLOCKS
DTYPE_POLICIES = config_lib.DTYPE_POLICIES

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
        raise ValueError(f"Unknown stem {stem!r}; valid: {STEMS}.")
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


def _one_label_per_head(y, y_pred):
    """The label for each output: a dict of outputs trained against one label gets it for each."""
    if isinstance(y_pred, dict) and y is not None and not isinstance(y, dict):
        return {name: y for name in y_pred}
    return y


@keras.saving.register_keras_serializable(package="inception")
class AuxiliaryHeadModel(keras.Model):
    """A functional model whose outputs {"logits", "aux_logits"} both learn the image's label.

    Section 4 and Figure 8: the auxiliary classifier is trained on the same
    label as the main one. `fit` and `evaluate` take (images, labels)
    straight from `inception.data.build_dataset`; each head gets the label
    (labels already given per head, as a dict, are used as they are).
    """

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(x, _one_label_per_head(y, y_pred), y_pred, sample_weight, training)

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        return super().compute_metrics(x, _one_label_per_head(y, y_pred), y_pred, sample_weight)


def inception_v3(config: Optional[ModelConfig] = None, *, name: str = "InceptionV3",
                 **fields) -> keras.Model:
    """Builds Inception-v3 or one of the variants of the paper's tables and controls.

        inception_v3()                                   # the released network, 1000 classes
        inception_v3(num_classes=10, input_size=75)      # any ModelConfig field as a keyword
        inception_v3(run_config.model)                   # a run's ModelConfig

    `fields` are `inception.config.ModelConfig` fields (its docstring says
    what each does), applied over `config` (default: the released network).

    Returns:
      A functional `keras.Model` whose layers are named after TF-slim's
      scopes (see `conv_unit.py`), so `model.get_layer("Mixed_6e")` is that end
      point. With the auxiliary head it is an `AuxiliaryHeadModel` whose
      outputs are a dict {"logits", "aux_logits"}, both trained on the one
      label of each image; `without_aux(model)` shares its weights.

    Raises:
      ValueError: an unknown field or choice, a depth multiplier <= 0, or an
        input too small for the stem (the message says what is allowed).
    """
    if config is not None and not isinstance(config, ModelConfig):
        raise TypeError(f"inception_v3's only positional argument is a ModelConfig, not {config!r}; "
                        f"give settings as keywords, e.g. inception_v3(num_classes={config!r}).")
    try:
        config = dataclasses.replace(config or ModelConfig(), **fields)
    except TypeError as error:  # an unknown keyword
        valid = [f.name for f in dataclasses.fields(ModelConfig)]
        raise ValueError(f"{error}; valid fields: {valid}.") from None
    smallest = minimum_input_size(config.stem)
    if config.input_size < smallest:
        raise ValueError(
            f"input_size {config.input_size} is too small for stem {config.stem!r}: "
            f"the smallest input it allows is {smallest}x{smallest}.")
    with _global_dtype_policy(config.dtype_policy):
        return _build(config, name)


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


def _stem(x, conv: ConvUnits, stem: str):
    """299x299x3 -> 35x35x192 (at the canonical input)."""
    for kind, filters, kernel, stride, padding, scope in _stem_layers(stem):
        if kind == "conv":
            x = conv(x, filters, kernel, scope, strides=stride, padding=padding)
        else:
            x = layers.MaxPooling2D(kernel, strides=stride, padding=padding, name=scope)(x)
    return x


def _build(config: ModelConfig, name: str) -> keras.Model:
    conv = ConvUnits.of(config)
    inputs = keras.Input((config.input_size, config.input_size, 3), name="images")
    # Training only; not a TF-slim end point (slim distorts colours in its input pipeline).
    x = distorted_input(inputs, config.color_distortion)
    x = _stem(x, conv, config.stem)

    # 35x35: three Figure 5 blocks -> 35x35x288.
    variant = config.mixed_5_block
    x = blocks.factorized_5x5_block(x, conv, "Mixed_5b", pool_filters=32, variant=variant)
    x = blocks.factorized_5x5_block(
        x, conv, "Mixed_5c", pool_filters=64, variant=variant,
        branch_1_names=("Conv2d_0b_1x1", "Conv_1_0c_5x5"),  # TF-slim's irregular names
    )
    x = blocks.factorized_5x5_block(x, conv, "Mixed_5d", pool_filters=64, variant=variant)

    # 35x35 -> 17x17x768, then four Figure 6 blocks.
    x = blocks.grid_reduction_35_to_17(x, conv, "Mixed_6a", variant=config.grid_reduction)
    for scope, channels in (("Mixed_6b", 128), ("Mixed_6c", 160), ("Mixed_6d", 160), ("Mixed_6e", 192)):
        x = blocks.asymmetric_7x7_block(x, conv, scope, channels)
    mixed_6e = x

    # 17x17 -> 8x8x1280, then two Figure 7 blocks -> 8x8x2048.
    x = blocks.grid_reduction_17_to_8(x, conv, "Mixed_7a", variant=config.grid_reduction)
    x = blocks.expanded_filter_bank_block(x, conv, "Mixed_7b")
    x = blocks.expanded_filter_bank_block(
        x, conv, "Mixed_7c",
        branch_1_split_names=("Conv2d_0b_1x3", "Conv2d_0c_3x1"),  # TF-slim's irregular names
    )

    logits = heads.classifier(x, conv, config.num_classes, dropout_keep_prob=config.dropout_keep_prob)
    if not config.include_aux:
        return keras.Model(inputs, logits, name=name)
    aux_logits = heads.auxiliary_classifier(mixed_6e, conv, config.num_classes,
                                             batch_norm=config.aux_batch_norm)
    return AuxiliaryHeadModel(inputs, {"logits": logits, "aux_logits": aux_logits}, name=name)


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
