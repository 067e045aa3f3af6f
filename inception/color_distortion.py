"""The authors' colour distortion: its draws, and a training-only Keras layer that runs it on the accelerator.

The draw (`ColorDistortion`: the order and four strengths of the authors'
`distort_color`, from five uniforms) is defined here once, for both places
that apply it: the input pipeline, per image with tf.image's kernels
(`inception.data.preprocessing.distort_color_and_scale`), and this layer.

The input pipeline's colour distortion is most of its CPU time per ImageNet image (PERFORMANCE.md: 57% on an Intel
Xeon). `ModelConfig.color_distortion` puts this layer in front of the stem
instead, and `DataConfig.train_augmentation=False` takes it out of the
pipeline: the CPU then decodes, crops, flips and resizes, and the four
colour steps run batched where the network runs, as Keras' own augmentation
layers do when placed in a model. Only in training: at inference the layer
returns its input, so evaluation, export and serving are unchanged.

The same distribution as the pipeline's: each image draws five uniforms
(`ColorDistortion.draw`), and
the steps are those of tf.image's adjust_brightness, _saturation, _hue and
_contrast in the authors' two orders, on [0, 255] pixels, then clip and
scale. It is written in `keras.ops` (not tf.image, whose strengths are one
scalar per call) so that it runs on every backend; tests/test_color_distortion.py
checks it against the pipeline's per-image ops on the same draws. Random
numbers come from the layer's `keras.random.SeedGenerator`, seeded like
every Keras layer (`keras.utils.set_random_seed`), not from the pipeline's
per-image seeds. Under tf.distribute every replica holds the same generator
state, so each draws the strengths of all replicas and keeps its own row
(otherwise image i of every replica's batch would get the same
distortion); on JAX one program draws for the whole global batch.
"""

from __future__ import annotations

import dataclasses

import keras
import tensorflow as tf
from keras import ops

# Colour distortion strengths of the authors' `distort_color`.
MAX_BRIGHTNESS_DELTA = 32.0 / 255.0
SATURATION_RANGE = (0.5, 1.5)
MAX_HUE_DELTA = 0.2
CONTRAST_RANGE = (0.5, 1.5)

# uint8 pixels are 0..255; the network sees [-1, 1].
PIXEL_MAX = 255.0
_HALF_PIXEL_MAX = PIXEL_MAX / 2.0

# The uniforms of one `ColorDistortion.draw`.
UNIFORMS_PER_IMAGE = 5


@dataclasses.dataclass(frozen=True)
class ColorDistortion:
    """One image's draw of the authors' `distort_color`: which order, and the four strengths.

    `brightness` is in pixel units ([0, 255] images); `brightness_first`
    picks the order brightness-saturation-hue-contrast, otherwise
    saturation-brightness-contrast-hue. Fields are scalars for one image, or
    [batch] when drawn for a batch.
    """

    brightness_first: object
    brightness: object
    saturation: object
    hue: object
    contrast: object

    @classmethod
    def draw(cls, uniforms) -> "ColorDistortion":
        """From `UNIFORMS_PER_IMAGE` independent uniforms in [0, 1) (`uniforms[k]`): each strength uniform over its range."""

        def between(u, low, high):
            return low + u * (high - low)

        return cls(uniforms[0] < 0.5,
                   between(uniforms[1], -MAX_BRIGHTNESS_DELTA, MAX_BRIGHTNESS_DELTA) * PIXEL_MAX,
                   between(uniforms[2], *SATURATION_RANGE),
                   between(uniforms[3], -MAX_HUE_DELTA, MAX_HUE_DELTA),
                   between(uniforms[4], *CONTRAST_RANGE))


def _replica() -> tuple:
    """(this replica's index, the number of replicas) under tf.distribute; (0, 1) elsewhere."""
    if keras.backend.backend() != "tensorflow":
        return 0, 1
    context = tf.distribute.get_replica_context()
    if context is None or context.num_replicas_in_sync == 1:
        return 0, 1
    return context.replica_id_in_sync_group, context.num_replicas_in_sync


def _per_image(value):
    """[batch] -> [batch, 1, 1, 1], to broadcast over an image's pixels."""
    return ops.reshape(value, (-1, 1, 1, 1))


def _in_hsv(pixels, change):
    """`pixels` -> HSV, `change(h, s, v)` -> [h, s, v], back to RGB."""
    h, s, v = ops.split(ops.image.rgb_to_hsv(pixels, data_format="channels_last"), 3, axis=-1)
    return ops.image.hsv_to_rgb(ops.concatenate(change(h, s, v), axis=-1), data_format="channels_last")


def _adjust_saturation(pixels, factor):
    return _in_hsv(pixels, lambda h, s, v: [h, ops.clip(s * factor, 0.0, 1.0), v])


def _adjust_hue(pixels, delta):
    return _in_hsv(pixels, lambda h, s, v: [ops.mod(h + delta, 1.0), s, v])


def _adjust_contrast(pixels, factor):
    mean = ops.mean(pixels, axis=(1, 2), keepdims=True)  # per image and channel, as tf.image
    return (pixels - mean) * factor + mean


def distort_color_batch(images, uniforms):
    """`inception.data.preprocessing.distort_color_and_scale` for a batch, each image with its own draw.

    Args:
      images: float32 [batch, height, width, 3] in [-1, 1] (the pipeline's
        output without colour distortion).
      uniforms: float32 [batch, 5] in [0, 1), one `ColorDistortion.draw` per image.

    Returns:
      The distorted images, clipped to [-1, 1]. Both of the authors' orders
      are computed for the whole batch and each image keeps its own: twice
      the arithmetic, no per-image branch (cheap beside the network on an
      accelerator).
    """
    color = ColorDistortion.draw(ops.moveaxis(uniforms, -1, 0))
    brightness, saturation, hue, contrast = (
        _per_image(value) for value in (color.brightness, color.saturation, color.hue, color.contrast))
    pixels = (images + 1.0) * _HALF_PIXEL_MAX

    brightness_first = _adjust_contrast(
        _adjust_hue(_adjust_saturation(pixels + brightness, saturation), hue), contrast)
    saturation_first = _adjust_hue(
        _adjust_contrast(_adjust_saturation(pixels, saturation) + brightness, contrast), hue)
    distorted = ops.where(_per_image(color.brightness_first), brightness_first, saturation_first)
    return ops.clip(distorted / _HALF_PIXEL_MAX - 1.0, -1.0, 1.0)


def distorted_input(images, color_distortion: bool):
    """The network's input after `RandomColorDistortion` (layer "ColorDistortion") when asked; else `images`."""
    return RandomColorDistortion(name="ColorDistortion")(images) if color_distortion else images


class RandomColorDistortion(keras.layers.Layer):
    """The authors' colour distortion of training images, drawn per image; the identity at inference.

    Input and output: float32 [batch, height, width, 3] in [-1, 1]. Computes
    in float32 whatever the global dtype policy (the network after it may be
    mixed precision).
    """

    def __init__(self, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.seed = seed
        self.generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=False):
        if not training:
            return images
        replica, replicas = _replica()
        every_replicas = keras.random.uniform((replicas, ops.shape(images)[0], UNIFORMS_PER_IMAGE),
                                              seed=self.generator)
        return distort_color_batch(images, ops.take(every_replicas, replica, axis=0))

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}
