"""SavedModel export for TF Serving: the network as the paper evaluates it (section 8: averaged weights).

    model = inception.loading.load_trained_model("runs/small/table3/label_smoothing/seed_0")
    path = inception.export.export_savedmodel(model, "exported/inception")
    # -> "exported/inception/1", ready for `tensorflow_model_server`

The SavedModel has two signatures, both with the moving-average (EMA)
weights, without the auxiliary head, and without Python in the graph:

- `serving_default`: `images`, tf.string [B], encoded JPEG/PNG/GIF/BMP/WebP
  bytes, the form TF Serving's REST API delivers from `{"b64": ...}`. Each
  image is decoded to RGB and given the evaluation preprocessing of the
  input pipeline (the run's central crop, 87.5% by default, bilinear resize,
  [-1, 1]) in the graph. An image larger than `max_image_pixels` (height x
  width x frames, read from its header) is refused before it is decoded:
  memory per image stays bounded whatever the request holds.
- `predict_images`: `images`, float32 [B, H, W, 3], already in [-1, 1].

Both return `probabilities` float32 [B, K], the top-5 `classes` int32 [B, 5]
and their `top_probabilities` float32 [B, 5] (top-K when K < 5), and
`class_names` string [B, 5] when class names are given.

Bad requests fail with InvalidArgument, never a crash of the server:
empty bytes, an unknown format, an image over the size limit, or one that
does not decode (each named by its index in the batch:
`inception.data.encoded_batch`), an empty batch, a wrong shape, pixels
outside [-1, 1] (checks in the graph), a wrong dtype (refused by the
signature). Only Python callers of the restored functions
(`loaded.serving_default(...)`, not `loaded.signatures[...]`) see a wrong
dtype as a TypeError, when the arguments are bound.
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
from typing import Optional, Sequence, Union

import keras
import tensorflow as tf
from absl import logging

from inception.data import encoded_batch, preprocessing
from inception.loading import classifier as logits_only
from inception.loading import has_moving_averages, load_trained_model, run_directory_of
from inception.training import ema
from inception.training.workdir import read_config

SERVING_SIGNATURE = "serving_default"
IMAGES_SIGNATURE = "predict_images"
INPUT_NAME = "images"
TOP_K = 5
# predict_images accepts pixels this far outside [-1, 1] (resize round-off).
RANGE_TOLERANCE = 1e-3
# serving_default refuses images larger than this (height x width x frames):
# 50 megapixels decode to 150 MB of RGB; a 48-megapixel photo still passes.
DEFAULT_MAX_IMAGE_PIXELS = 50_000_000

ModelOrPath = Union[keras.Model, str, os.PathLike]


# -- the serving graph


def next_version(output_dir: Union[str, os.PathLike]) -> int:
    """1 + the highest integer-named version under `output_dir` (1 when there is none)."""
    if not os.path.isdir(output_dir):
        return 1
    versions = [int(name) for name in os.listdir(output_dir)
                if name.isdigit() and os.path.isdir(os.path.join(output_dir, name))]
    return max(versions, default=0) + 1


def _new_version_dir(output_dir: Union[str, os.PathLike], version: Optional[int]) -> str:
    version = next_version(output_dir) if version is None else int(version)
    if version < 1:
        raise ValueError(f"version must be a positive integer, got {version}")
    version_dir = os.path.join(os.fspath(output_dir), str(version))
    if os.path.exists(version_dir):
        raise FileExistsError(f"{version_dir} exists; choose another version or leave it out")
    return version_dir


def _input_size(classifier: keras.Model, image_size: Optional[int]) -> int:
    height, width = classifier.input_shape[1:3]
    if height != width:
        raise ValueError(f"Expected a square input, the model takes {height}x{width}")
    if image_size is None:
        if height is None:
            raise ValueError("The model's input size is not fixed; pass image_size")
        return height
    if height is not None and image_size != height:
        raise ValueError(f"image_size={image_size}, but the model takes {height}x{height} images")
    return image_size


def _class_names_tensor(class_names: Optional[Sequence[str]], num_classes: int):
    if class_names is None:
        return None
    if len(class_names) != num_classes:
        raise ValueError(f"{len(class_names)} class names for a model with {num_classes} classes")
    return tf.constant([str(name) for name in class_names], dtype=tf.string)


def _checked(images: tf.Tensor, shape, assertions) -> tf.Tensor:
    """`images` once its shape and the assertions are checked (InvalidArgument if not).

    The signature's shape is not enforced when TF Serving feeds the graph, so
    it is checked again when run: `tf.ensure_shape` is; `tf.rank` and friends
    would be folded to the signature's static shape when traced.
    """
    images = tf.ensure_shape(images, shape)
    with tf.control_dependencies([check(images) for check in assertions]):
        return tf.identity(images)


def _not_empty(signature: str):
    def check(images):
        return tf.debugging.assert_positive(
            tf.shape(images)[0], message=f"{signature}: the batch is empty; send at least one image")
    return check


def _in_signed_unit_range(images):
    return tf.debugging.assert_less_equal(
        tf.reduce_max(tf.abs(images)), 1.0 + RANGE_TOLERANCE,
        message=f"{IMAGES_SIGNATURE}: pixels must be finite and scaled to [-1, 1]")


def _predictions(classifier: keras.Model, images: tf.Tensor, class_names) -> dict:
    """Probabilities and the top-5 classes for a float batch in [-1, 1]."""
    logits = classifier(images, training=False)
    probabilities = tf.nn.softmax(tf.cast(logits, tf.float32), axis=-1)
    top = tf.math.top_k(probabilities, k=min(TOP_K, probabilities.shape[-1]))
    outputs = {"probabilities": probabilities, "classes": top.indices,
               "top_probabilities": top.values}
    if class_names is not None:
        outputs["class_names"] = tf.gather(class_names, top.indices)
    return outputs


def _build_archive(classifier: keras.Model, image_size: int, class_names, central_fraction: float,
                   max_image_pixels: int) -> keras.export.ExportArchive:
    """Both signatures as endpoints of a Keras ExportArchive (traced here, once)."""

    def serve_encoded_images(images):
        images = _checked(images, [None], [_not_empty(SERVING_SIGNATURE)])
        # The input pipeline's own evaluation preprocessing, per image, once its size is checked.
        batch = encoded_batch.preprocess_encoded_batch(
            images, image_size, central_fraction=central_fraction,
            max_image_pixels=max_image_pixels, signature=SERVING_SIGNATURE)
        return _predictions(classifier, batch, class_names)

    def predict_images(images):
        images = _checked(images, [None, image_size, image_size, 3],
                          [_not_empty(IMAGES_SIGNATURE), _in_signed_unit_range])
        return _predictions(classifier, images, class_names)

    archive = keras.export.ExportArchive()
    archive.track(classifier)
    archive.add_endpoint(SERVING_SIGNATURE, serve_encoded_images,
                         input_signature=[tf.TensorSpec([None], tf.string, name=INPUT_NAME)])
    archive.add_endpoint(IMAGES_SIGNATURE, predict_images, input_signature=[
        tf.TensorSpec([None, image_size, image_size, 3], tf.float32, name=INPUT_NAME)])
    return archive


def _write_atomically(archive: keras.export.ExportArchive, version_dir: str) -> None:
    """Writes beside `version_dir`, then renames: TF Serving polls for new versions
    and must never load a half-written one."""
    parent = os.path.dirname(version_dir)
    if not os.path.isdir(parent):
        os.makedirs(parent)
        _add_mode(parent, _READ_AND_ENTER)  # the server must reach the versions inside
    staging = tempfile.mkdtemp(prefix=".export-", dir=parent)
    try:
        archive.write_out(staging, verbose=False)
        _make_world_readable(staging)
        os.rename(staging, version_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


_READ_AND_ENTER = 0o555  # r-x for the owner, the group and others
_READ = 0o444


def _add_mode(path: str, bits: int) -> None:
    os.chmod(path, stat.S_IMODE(os.stat(path).st_mode) | bits)


def _make_world_readable(root: str) -> None:
    """Read (and, for folders, enter) rights for all: a model server often runs as
    another user, and mkdtemp makes the folder 0700 whatever the umask."""
    for folder, _, files in os.walk(root):
        _add_mode(folder, _READ_AND_ENTER)
        for name in files:
            _add_mode(os.path.join(folder, name), _READ)


def _central_fraction(model_or_path: ModelOrPath, central_fraction: Optional[float]) -> float:
    """The argument, else the evaluation crop of the run the path belongs to, else the paper's."""
    run = None if isinstance(model_or_path, keras.Model) else run_directory_of(model_or_path)
    run_fraction = None if run is None else read_config(run).data.eval_crop_fraction
    if central_fraction is None:
        return preprocessing.CENTRAL_FRACTION if run_fraction is None else run_fraction
    if not 0.0 < central_fraction <= 1.0:
        raise ValueError(f"central_fraction must be in (0, 1], got {central_fraction}")
    if run_fraction is not None and central_fraction != run_fraction:
        logging.warning("Exporting with central_fraction=%g; the run %s evaluated with %g.",
                        central_fraction, run, run_fraction)
    return central_fraction


def export_savedmodel(
    model_or_path: ModelOrPath,
    output_dir: Union[str, os.PathLike],
    *,
    version: Optional[int] = None,
    use_ema: bool = True,
    image_size: Optional[int] = None,
    class_names: Optional[Sequence[str]] = None,
    central_fraction: Optional[float] = None,
    max_image_pixels: int = DEFAULT_MAX_IMAGE_PIXELS,
) -> str:
    """Exports a SavedModel for TF Serving into `<output_dir>/<version>/`.

    Args:
      model_or_path: a Keras model from `inception_v3` (with or without the
        auxiliary head), or a run directory, training checkpoint or `.keras`
        file, loaded with `load_trained_model`.
      output_dir: the model's base path for TF Serving.
      version: the version directory; default 1 + the highest existing one.
      use_ema: export the moving averages of the weights (the paper's
        evaluation weights); the model keeps its raw weights afterwards.
      image_size: the input side; default (and must equal) the model's.
      class_names: K strings, added to the outputs as `class_names`.
      central_fraction: the central crop of `serving_default`; default the
        run's `DataConfig.eval_crop_fraction` when `model_or_path` is a run
        directory or one of its checkpoints, else 0.875 (the paper's).
      max_image_pixels: `serving_default` refuses, before decoding, images
        of more pixels (height x width x frames) than this.

    Returns:
      The version directory written.

    Raises:
      FileExistsError: the version already exists (served versions are immutable).
      ValueError: class names or image size that do not fit the model, a
        central fraction outside (0, 1], a limit below one pixel.
    """
    version_dir = _new_version_dir(output_dir, version)  # before the (slow) loading
    if max_image_pixels < 1:
        raise ValueError(f"max_image_pixels must be at least 1, got {max_image_pixels}")
    fraction = _central_fraction(model_or_path, central_fraction)
    if isinstance(model_or_path, keras.Model):
        model = model_or_path
        if use_ema and not has_moving_averages(model):
            logging.info("Model %r keeps no moving averages; exporting its current weights "
                         "(already averaged if it came from load_trained_model).", model.name)
    else:
        model = load_trained_model(model_or_path, use_ema=use_ema)
    classifier = logits_only(model)
    size = _input_size(classifier, image_size)
    names = _class_names_tensor(class_names, classifier.output_shape[-1])
    # Variable values are read when written out, so both happen with the averages in.
    with ema.ema_weights(model, enabled=use_ema and has_moving_averages(model)):
        _write_atomically(_build_archive(classifier, size, names, fraction, max_image_pixels),
                          version_dir)
    logging.info("Exported %s (signatures %s, %s; central crop %g, at most %d pixels per image)",
                 version_dir, SERVING_SIGNATURE, IMAGES_SIGNATURE, fraction, max_image_pixels)
    return version_dir
