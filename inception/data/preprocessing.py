"""The paper's single-crop preprocessing, as tf.image ops inside tf.data.

Training (the authors' `inception_preprocessing.py`; the paper does not describe it):
a random crop chosen by `sample_distorted_bounding_box` (at least 10% of the
image covered, aspect ratio 3/4..4/3, area 5..100%, 100 attempts, the whole
image when no attempt fits), bilinear resize to the input size, random
left-right flip, colour distortion (brightness, saturation, hue, contrast in
one of two orders), clip to [0, 1], scale to [-1, 1]. Only the crop window of
a JPEG is decoded, at reduced DCT scale when it is at least twice the input
size (`decoding.decode_window_rgb`); the steps after it run in the cheapest
order that gives the same result (see `finish_for_train`).

Evaluation: the central 87.5% of the image, bilinear resize, scale to [-1, 1].

All randomness is stateless and comes from one `seed` per image (a [2] int
tensor), so a seeded pipeline gives the same augmentations whatever the
parallelism. Functions named `*_encoded_*` take JPEG/PNG/GIF/BMP bytes and
use the JPEG decode-and-crop fast path; the others take decoded uint8
[height, width, 3] images (Fashion-MNIST arrays). Any input size works (299,
151, 79 for Table 2; 32..96 for small runs).
"""

from __future__ import annotations

import dataclasses
from typing import Tuple

import tensorflow as tf

# The colour distortion's draws and strengths are shared with the layer that runs it on the
# accelerator; PIXEL_MAX: uint8 pixels are 0..255, the network sees [-1, 1].
from inception.color_distortion import PIXEL_MAX, UNIFORMS_PER_IMAGE, ColorDistortion
from inception.data import decoding

# The random crop of the training preprocessing, as the authors' code draws it.
MIN_OBJECT_COVERED = 0.1
ASPECT_RATIO_RANGE = (3.0 / 4.0, 4.0 / 3.0)
AREA_RANGE = (0.05, 1.0)
MAX_ATTEMPTS = 100

# Evaluation keeps the central 87.5% (= 224/256 of GoogLeNet).
CENTRAL_FRACTION = 0.875


@dataclasses.dataclass(frozen=True)
class CropRanges:
    """What `sample_distorted_bounding_box` may choose: the paper's ImageNet ranges by default.

    `DataConfig.crop_*` sets them per experiment: a 28-pixel thumbnail cannot
    lose 95% of its area and still show its class.
    """

    area_range: Tuple[float, float] = AREA_RANGE
    aspect_ratio_range: Tuple[float, float] = ASPECT_RATIO_RANGE
    min_object_covered: float = MIN_OBJECT_COVERED

    @classmethod
    def of(cls, data) -> "CropRanges":
        """The ranges a `DataConfig` asks for."""
        return cls(tuple(data.crop_area_range), tuple(data.crop_aspect_ratio_range),
                   data.crop_min_object_covered)


PAPER_CROP = CropRanges()


# -- crop windows: [offset_y, offset_x, height, width] for an image of shape [h, w]


def random_crop_window(image_shape: tf.Tensor, seed: tf.Tensor,
                       ranges: CropRanges = PAPER_CROP) -> tf.Tensor:
    """The training crop: `sample_distorted_bounding_box` with `ranges` (the paper's by default).

    No bounding box is given, so the whole image is the object that the crop
    must cover (10% of it in the paper); when none of the 100 attempts fits,
    the whole image.
    """
    height_width_channels = tf.concat([tf.cast(image_shape, tf.int32), [3]], axis=0)
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        height_width_channels,
        bounding_boxes=tf.zeros([1, 0, 4]),
        seed=seed,
        min_object_covered=ranges.min_object_covered,
        aspect_ratio_range=ranges.aspect_ratio_range,
        area_range=ranges.area_range,
        max_attempts=MAX_ATTEMPTS,
        use_image_if_no_bounding_boxes=True,
    )
    return tf.stack([begin[0], begin[1], size[0], size[1]])


def central_crop_window(image_shape: tf.Tensor, fraction: float = CENTRAL_FRACTION) -> tf.Tensor:
    """The evaluation crop, with the offsets `tf.image.central_crop` uses."""
    shape = tf.cast(image_shape, tf.float32)
    offset = tf.cast((shape - shape * fraction) / 2.0, tf.int32)
    size = tf.cast(image_shape, tf.int32) - 2 * offset
    return tf.concat([offset, size], axis=0)


# -- the steps after the crop


def to_unit_range(image: tf.Tensor) -> tf.Tensor:
    """uint8 [0, 255] -> float32 [0, 1]."""
    return tf.image.convert_image_dtype(image, tf.float32)


def to_signed_unit_range(image: tf.Tensor) -> tf.Tensor:
    """[0, 1] -> [-1, 1], the network's input range (the released network's)."""
    return (image - 0.5) * 2.0


def resize(image: tf.Tensor, image_size: int) -> tf.Tensor:
    """Bilinear resize to a square `image_size`, as the paper (no antialiasing)."""
    return tf.image.resize(image, [image_size, image_size], method="bilinear")


# -- training after the crop: flip, resize once, colour distortion, clip and scale.
# Cheapest order with the same result: the flip on the uint8 crop (a
# permutation; it commutes with the resize and every colour step), the pixels
# kept in [0, 255] (hue and saturation do not depend on the scale, brightness
# and contrast are affine) so that the 1/255 folds into the last step, and
# clip-and-scale as one affine map and a clip. The colour steps themselves are
# tf.image's fused kernels, per image: an XLA-compiled HSV conversion of the
# whole batch, tried, cost more CPU time (channel-interleaved layout), and the
# same four ops compiled per image with XLA cost about the same as these on
# photo-like pixels (2026-12-02, AMD EPYC; 2.6x less only on pixels far outside
# [0, 255], where the hue kernel's scalar loop is slow).


def resize_pixels(crop: tf.Tensor, image_size: int) -> tf.Tensor:
    """uint8 crop -> float32 [image_size, image_size, 3] in [0, 255], bilinear as `resize`."""
    return resize(tf.cast(crop, tf.float32), image_size)


def pixels_to_signed_unit_range(pixels: tf.Tensor) -> tf.Tensor:
    """clip(pixels, 0, 255) scaled to [-1, 1], as one affine map and a clip."""
    return tf.clip_by_value(pixels * (2.0 / PIXEL_MAX) - 1.0, -1.0, 1.0)


def distort_color_and_scale(pixels: tf.Tensor, color: ColorDistortion) -> tf.Tensor:
    """`color` applied to [0, 255] pixels, then clip and scale to [-1, 1].

    The same as tf.image's adjust_brightness, _saturation, _hue and _contrast
    in the authors' order on [0, 1] images, then clip (see `ColorDistortion`);
    values may leave [0, 255] between the steps, as there.
    """

    def brightness_first():
        image = tf.image.adjust_saturation(pixels + color.brightness, color.saturation)
        return tf.image.adjust_contrast(tf.image.adjust_hue(image, color.hue), color.contrast)

    def saturation_first():
        image = tf.image.adjust_saturation(pixels, color.saturation) + color.brightness
        return tf.image.adjust_hue(tf.image.adjust_contrast(image, color.contrast), color.hue)

    return pixels_to_signed_unit_range(tf.cond(color.brightness_first, brightness_first, saturation_first))


def train_uniforms(seed: tf.Tensor) -> tf.Tensor:
    """The six uniforms of one image's training draw after its crop: the flip, then `ColorDistortion`."""
    return tf.random.stateless_uniform([1 + UNIFORMS_PER_IMAGE], seed)


def flip_and_resize(crop: tf.Tensor, image_size: int, flip_uniform: tf.Tensor) -> tf.Tensor:
    """uint8 crop, flipped left-right when `flip_uniform` < 0.5 -> [0, 255] pixels (`resize_pixels`)."""
    crop = tf.cond(flip_uniform < 0.5, lambda: tf.reverse(crop, axis=[1]), lambda: crop)
    return resize_pixels(crop, image_size)


def finish_for_train(
    crop: tf.Tensor, image_size: int, seed: tf.Tensor, color_distortion: bool = True
) -> tf.Tensor:
    """Flip, resize, colour distortion, clip and scale: training after the crop.

    `color_distortion=False` (DataConfig.train_augmentation) keeps only the
    random crop and flip, for tiny grey inputs where colour has no meaning.
    One draw of six uniforms from `seed`: the flip, then `ColorDistortion`.
    """
    uniforms = train_uniforms(seed)
    pixels = flip_and_resize(crop, image_size, uniforms[0])
    if not color_distortion:
        return pixels_to_signed_unit_range(pixels)
    return distort_color_and_scale(pixels, ColorDistortion.draw(uniforms[1:]))


def finish_for_eval(crop: tf.Tensor, image_size: int) -> tf.Tensor:
    """Resize and scale: evaluation after the central crop."""
    return to_signed_unit_range(resize(to_unit_range(crop), image_size))


# -- whole preprocessing, from decoded pixels or from encoded bytes


def split_seed(seed: tf.Tensor) -> tuple[tf.Tensor, tf.Tensor]:
    """An image's seed -> (the seed of its crop window, the seed of the rest)."""
    crop_seed, rest_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    return crop_seed, rest_seed


def preprocess_for_train(
    image: tf.Tensor, image_size: int, seed: tf.Tensor, color_distortion: bool = True,
    ranges: CropRanges = PAPER_CROP,
) -> tf.Tensor:
    """uint8 [h, w, 3] -> float32 [image_size, image_size, 3] in [-1, 1], augmented."""
    crop_seed, rest_seed = split_seed(seed)
    window = random_crop_window(tf.shape(image)[:2], crop_seed, ranges)
    crop = decoding.crop_to_window(image, window)
    return finish_for_train(crop, image_size, rest_seed, color_distortion)


def preprocess_encoded_for_train(
    encoded: tf.Tensor, image_size: int, seed: tf.Tensor, color_distortion: bool = True,
    ranges: CropRanges = PAPER_CROP,
) -> tf.Tensor:
    """Image bytes -> the same as `preprocess_for_train`, decoding only the crop.

    A JPEG crop at least twice `image_size` on both sides is decoded at reduced
    DCT scale (`decoding.dct_scale_ratio`): the same window, pixels that
    differ slightly from a full-scale decode.
    """
    crop_seed, rest_seed = split_seed(seed)
    return finish_for_train(decode_train_crop(encoded, image_size, crop_seed, ranges), image_size, rest_seed,
                            color_distortion)


def decode_train_crop(encoded: tf.Tensor, image_size: int, crop_seed: tf.Tensor,
                      ranges: CropRanges = PAPER_CROP) -> tf.Tensor:
    """Image bytes -> the uint8 training crop (`random_crop_window`), decoding only that window."""
    return decoding.decode_window_rgb(
        encoded, lambda shape: random_crop_window(shape, crop_seed, ranges), output_size=image_size)


def preprocess_for_eval(image: tf.Tensor, image_size: int,
                        central_fraction: float = CENTRAL_FRACTION) -> tf.Tensor:
    """uint8 [h, w, 3] -> float32 [image_size, image_size, 3] in [-1, 1]."""
    window = central_crop_window(tf.shape(image)[:2], central_fraction)
    return finish_for_eval(decoding.crop_to_window(image, window), image_size)


def preprocess_encoded_for_eval(encoded: tf.Tensor, image_size: int,
                                central_fraction: float = CENTRAL_FRACTION) -> tf.Tensor:
    """Image bytes -> the same as `preprocess_for_eval`, decoding only the crop."""
    crop = decoding.decode_window_rgb(
        encoded, lambda shape: central_crop_window(shape, central_fraction))
    return finish_for_eval(crop, image_size)
