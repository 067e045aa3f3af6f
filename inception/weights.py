"""Weight import from the two public sources of Inception-v3 weights.

- The TF-slim checkpoint (`inception_v3.ckpt`, 1001 classes with class 0 the
  "background"), read by variable name: layer `S.Conv2D` holds
  `InceptionV3/S/weights` (and `/biases`), layer `S.BatchNorm` holds
  `InceptionV3/S/BatchNorm/{beta,moving_mean,moving_variance}`. The network's
  layer names already carry TF-slim's irregular scopes (`Conv_1_0c_5x5`,
  `Conv2d_1a_1x1` for a 3x3, ...), so no exception table is needed here.
- `keras.applications.InceptionV3` (1000 classes, no auxiliary head), whose
  layers have generated names (`conv2d_17`), matched by position: both
  functional graphs have the same shape, so Keras lists their convolutions
  and batch norms in the same order. Every pair is checked by shape.

Each source carries its input conventions as data (`WEIGHT_SOURCES`), so
fine-tuning, evaluation and export preprocess correctly for it
(`inception.fine_tune`). `load_pretrained(path_or_model)` tells the sources
apart. Nothing is downloaded here: pass a checkpoint path, a weights file or
a Keras model you already have.
"""

from __future__ import annotations

import dataclasses
import os
from typing import Dict, List, Union

import numpy as np
import keras

from inception.model import inception_v3

TF_SLIM_SCOPE = "InceptionV3"


@dataclasses.dataclass(frozen=True)
class WeightSource:
    """What a set of pretrained weights expects and produces."""

    name: str
    num_classes: int
    background_class: bool  # class 0 is "background" (TF-slim's 1001 layout)
    input_size: int = 299
    crop_fraction: float = 0.875  # central crop at evaluation
    interpolation: str = "bilinear"
    input_range: tuple = (-1.0, 1.0)  # pixels scaled from [0, 255] to this
    has_aux_head: bool = True


WEIGHT_SOURCES: Dict[str, WeightSource] = {
    # The authors' evaluation: central 87.5% crop, bilinear resize, [-1, 1].
    "tf_slim": WeightSource("tf_slim", num_classes=1001, background_class=True),
    # keras.applications' documented use resizes the whole image to 299x299
    # (no crop) and applies `inception_v3.preprocess_input` (x / 127.5 - 1).
    # Bilinear is the resize of `keras.layers.Resizing` and
    # `image_dataset_from_directory`; `keras.utils.load_img` defaults to nearest.
    "keras_applications": WeightSource(
        "keras_applications", num_classes=1000, background_class=False, crop_fraction=1.0,
        has_aux_head=False,
    ),
}


@dataclasses.dataclass(frozen=True)
class Pretrained:
    """An `inception_v3` holding imported weights, and the conventions of their source."""

    model: keras.Model
    source: WeightSource


def load_pretrained(weights: Union[str, os.PathLike, keras.Model], **options) -> Pretrained:
    """Imports pretrained weights from whichever source `weights` is.

    - a TF-slim checkpoint: its prefix (`inception_v3.ckpt`, with
      `inception_v3.ckpt.index` beside it) or a folder with a `checkpoint` file;
    - a `keras.applications.InceptionV3` weights file (`.h5`, `.weights.h5`,
      with or without the top), a saved model (`.keras`, full-model `.h5`),
      or the Keras model itself.

    `options` go to `from_tf_slim_checkpoint` / `from_keras_applications`.
    Nothing is downloaded. Raises FileNotFoundError or ValueError (one line:
    what is wrong and what to pass) for anything else.
    """
    if isinstance(weights, keras.Model):
        return Pretrained(from_keras_applications(weights, **options), WEIGHT_SOURCES["keras_applications"])
    path = os.fspath(weights)
    if path.endswith((".h5", ".keras")):
        if not os.path.isfile(path):
            raise FileNotFoundError(f"No Keras weights file at {path!r}")
        return Pretrained(from_keras_applications(_keras_applications_model(path), **options),
                          WEIGHT_SOURCES["keras_applications"])
    return Pretrained(from_tf_slim_checkpoint(_checkpoint_prefix(path), **options), WEIGHT_SOURCES["tf_slim"])


def _checkpoint_prefix(path: str) -> str:
    import tensorflow as tf

    if os.path.isdir(path):
        prefix = tf.train.latest_checkpoint(path)
        if prefix is None:
            raise FileNotFoundError(f"{path!r} is a folder without a TF checkpoint; pass the "
                                    "checkpoint prefix (e.g. inception_v3.ckpt)")
        return prefix
    if not os.path.isfile(path + ".index") and not os.path.isfile(path):
        raise FileNotFoundError(f"No weights at {path!r}: pass a TF-slim checkpoint prefix "
                                "(inception_v3.ckpt) or a keras.applications .h5/.keras file")
    return path


def _keras_applications_model(path: str) -> keras.Model:
    """A saved Keras model as it is, or keras.applications.InceptionV3 holding a weights file."""
    import h5py  # Keras' own dependency for .h5 files

    if path.endswith(".keras"):
        return keras.saving.load_model(path, compile=False)
    with h5py.File(path, "r") as f:
        if "model_config" in f.attrs:  # a whole model saved as .h5
            return keras.saving.load_model(path, compile=False)
        names = []
        f.visit(names.append)
    # The top is InceptionV3's only Dense layer: a group "predictions" (legacy .h5, by
    # layer name) or "layers/dense" (Keras 3 .weights.h5, by class name).
    include_top = any(name in ("predictions", "layers/dense") for name in names)
    try:
        return keras.applications.InceptionV3(weights=path, include_top=include_top)
    except ValueError as error:
        raise ValueError(f"{path!r} does not hold keras.applications.InceptionV3 weights "
                         f"({'with' if include_top else 'without'} the top): "
                         f"{str(error).splitlines()[0]}") from error


def _trunk_layers(model: keras.Model, kinds) -> List[keras.layers.Layer]:
    return [layer for layer in model.layers if isinstance(layer, kinds)]


def from_keras_applications(keras_model: keras.Model, **options) -> keras.Model:
    """An `inception_v3` holding the weights of a `keras.applications.InceptionV3`.

    `options` go to `inception_v3` (the default here is `include_aux=False`,
    since keras.applications has no auxiliary head; with `include_aux=True`
    the head keeps its fresh initialisation). A model built with
    `include_top=False` fills everything but the classifier.
    """
    input_size = keras_model.input_shape[1]
    dense = _trunk_layers(keras_model, keras.layers.Dense)
    num_classes = dense[-1].units if dense else options.pop("num_classes", 1000)
    options.setdefault("include_aux", False)
    # Without the top keras.applications leaves the input size open: use the weights' own.
    options.setdefault("input_size", input_size or WEIGHT_SOURCES["keras_applications"].input_size)
    model = inception_v3(num_classes=num_classes, **options)

    theirs = _trunk_layers(keras_model, (keras.layers.Conv2D, keras.layers.BatchNormalization))
    ours = [
        layer
        for layer in _trunk_layers(model, (keras.layers.Conv2D, keras.layers.BatchNormalization))
        if not layer.name.startswith(("AuxLogits.", "Logits."))
    ]
    if len(theirs) != len(ours):
        raise ValueError(
            f"keras model has {len(theirs)} conv/batch-norm layers, the canonical "
            f"network {len(ours)}: is it keras.applications.InceptionV3?"
        )
    for mine, other in zip(ours, theirs):
        _assign(mine, other.get_weights(), source=other.name)
    if dense:
        kernel, bias = dense[-1].get_weights()
        _assign(model.get_layer("Logits.Conv2d_1c_1x1.Conv2D"), [kernel[None, None], bias], dense[-1].name)
    return model


def _assign(layer, values, source: str) -> None:
    expected = [tuple(w.shape) for w in layer.weights]
    got = [tuple(np.shape(v)) for v in values]
    if expected != got:
        raise ValueError(f"Cannot load {source} into {layer.name}: shapes {got} != {expected}.")
    layer.set_weights(values)


def tf_slim_variable_names(layer) -> List[str]:
    """The checkpoint variables that fill `layer`, in `layer.weights` order."""
    scope, _, kind = layer.name.rpartition(".")
    prefix = f"{TF_SLIM_SCOPE}/{scope.replace('.', '/')}"
    if kind == "Conv2D":
        return [f"{prefix}/weights"] + ([f"{prefix}/biases"] if layer.use_bias else [])
    if kind == "BatchNorm":
        return [f"{prefix}/BatchNorm/{v}" for v in ("beta", "moving_mean", "moving_variance")]
    return []


def from_tf_slim_checkpoint(path: str, *, use_moving_averages: bool = True, **options) -> keras.Model:
    """An `inception_v3` holding the weights of a TF-slim `inception_v3` checkpoint.

    `path` is the checkpoint prefix (`inception_v3.ckpt`). The number of
    classes is read from the checkpoint (1001 for the public one: logit 0
    is "background"); the auxiliary head is loaded when `include_aux` (the
    default) and present. With `use_moving_averages`, a variable's
    `/ExponentialMovingAverage` shadow is preferred where the checkpoint has
    one, since those are the weights the paper evaluates.
    """
    import tensorflow as tf  # checkpoint reading only; the network itself is backend-neutral

    reader = tf.train.load_checkpoint(path)
    available = reader.get_variable_to_shape_map()
    logits_name = f"{TF_SLIM_SCOPE}/Logits/Conv2d_1c_1x1/biases"
    if logits_name not in available:
        raise ValueError(f"{path} is not a TF-slim inception_v3 checkpoint: no {logits_name}.")
    options.setdefault("num_classes", available[logits_name][0])
    options.setdefault("include_aux", f"{TF_SLIM_SCOPE}/AuxLogits/Conv2d_2b_1x1/biases" in available)
    model = inception_v3(**options)

    def read(name):
        shadow = f"{name}/ExponentialMovingAverage"
        if use_moving_averages and shadow in available:
            return reader.get_tensor(shadow)
        if name not in available:
            raise ValueError(f"{path} has no variable {name}.")
        return reader.get_tensor(name)

    for layer in model.layers:
        names = tf_slim_variable_names(layer)
        if names:
            _assign(layer, [read(n) for n in names], source=names[0])
    return model
