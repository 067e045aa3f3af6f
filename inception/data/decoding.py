"""Encoded image bytes -> RGB pixels, decoding only the window that is needed.

Every format `tf.io.decode_image` reads (JPEG, PNG, GIF, BMP, WebP, JPEG XL
in TF 2.21) decodes to three uint8 channels whatever the file's name says:
grey and CMYK JPEGs come out as RGB, a PNG saved as `.jpg` is recognised by
its bytes, and an alpha channel is dropped.
Bytes that cannot be decoded raise `InvalidArgumentError`; the pipeline
catches that and skips the image (`inception.data.bad_images`).

For JPEGs (all of ImageNet) `tf.image.decode_and_crop_jpeg` decodes only the
crop window, which is the largest single saving in the training pipeline: the
random crop keeps 5..100% of the image (see `tools/benchmark_input.py`). When
the window is at least twice the network's input on both sides, the training
path also asks libjpeg to decode at 1/2, 1/4 or 1/8 scale (its DCT scaling,
`ratio`): the same window, fewer pixels to decode and then to resize.
"""

from __future__ import annotations

from typing import Callable, Optional

import tensorflow as tf

from inception.data import headers

# window_for_shape(shape) -> [offset_y, offset_x, height, width], all int32;
# `shape` is the decoded image's [height, width].
WindowFn = Callable[[tf.Tensor], tf.Tensor]

# The scales libjpeg decodes at (1/ratio of each side), smallest ratio first.
DCT_SCALE_RATIOS = (1, 2, 4, 8)


def decode_rgb(encoded: tf.Tensor) -> tf.Tensor:
    """Decodes a whole image to uint8 [height, width, 3] (a GIF: its first frame)."""

    def webp_with_alpha():
        # decode_image asks the WebP decoder for 3 channels, which it refuses
        # for a file with alpha; ask for the file's 4 and drop alpha, as
        # decode_image does for a PNG.
        return tf.io.decode_webp(encoded, channels=4)[0, :, :, :3]

    def any_other():
        return tf.io.decode_image(encoded, channels=3, expand_animations=False)

    image = tf.cond(headers.webp_has_alpha(encoded), webp_with_alpha, any_other)
    image.set_shape([None, None, 3])
    return image


def crop_to_window(image: tf.Tensor, window: tf.Tensor) -> tf.Tensor:
    """The pixels of `image` inside `window` ([offset_y, offset_x, height, width])."""
    return tf.slice(image, [window[0], window[1], 0], [window[2], window[3], -1])


def dct_scale_index(window: tf.Tensor, output_size: int) -> tf.Tensor:
    """Index in `DCT_SCALE_RATIOS` of the largest r with both sides of `window` >= r * `output_size`.

    The window still has at least `output_size` pixels on each side at 1/r
    scale, so the resize after it only shrinks, as it would at full scale.
    """
    shorter_side = tf.minimum(window[2], window[3])
    fits = [tf.cast(shorter_side >= r * output_size, tf.int32) for r in DCT_SCALE_RATIOS[1:]]
    return tf.add_n(fits)


def dct_scale_ratio(window: tf.Tensor, output_size: int) -> tf.Tensor:
    """The ratio (1, 2, 4 or 8) of `dct_scale_index`."""
    return tf.gather(tf.constant(DCT_SCALE_RATIOS, tf.int32), dct_scale_index(window, output_size))


def scaled_window(window: tf.Tensor, image_shape: tf.Tensor, ratio: tf.Tensor) -> tf.Tensor:
    """`window` in the pixels of a decode at 1/`ratio` scale, its edges on the nearest scaled pixel.

    libjpeg's scaled image is ceil(side / ratio) pixels, scaled pixel k covering
    full-scale pixels [k * ratio, (k + 1) * ratio); each edge of the window
    moves by at most ratio / 2 full-scale pixels. Ratio 1 returns `window`.
    """
    window, shape = tf.cast(window, tf.int32), tf.cast(image_shape, tf.int32)
    scaled_shape = (shape + ratio - 1) // ratio

    def nearest(coordinate):  # round(coordinate / ratio), halves up, in integers
        return (2 * coordinate + ratio) // (2 * ratio)

    start = tf.minimum(nearest(window[:2]), scaled_shape - 1)
    end = tf.clip_by_value(nearest(window[:2] + window[2:]), start + 1, scaled_shape)
    return tf.concat([start, end - start], axis=0)


def decoded_region(window: tf.Tensor, image_shape: tf.Tensor, output_size: int) -> tf.Tensor:
    """The full-scale [offset_y, offset_x, height, width] that the scaled decode of `window` covers."""
    ratio = dct_scale_ratio(window, output_size)
    scaled = scaled_window(window, image_shape, ratio)
    start = scaled[:2] * ratio
    end = tf.minimum((scaled[:2] + scaled[2:]) * ratio, tf.cast(image_shape, tf.int32))
    return tf.concat([start, end - start], axis=0)


def _decode_jpeg_window(encoded: tf.Tensor, window: tf.Tensor, shape: tf.Tensor,
                        output_size: Optional[int]) -> tf.Tensor:
    if output_size is None:
        return tf.image.decode_and_crop_jpeg(encoded, window, channels=3)
    index = dct_scale_index(window, output_size)
    window = scaled_window(window, shape, tf.gather(tf.constant(DCT_SCALE_RATIOS), index))

    def at_ratio(ratio):
        return lambda: tf.image.decode_and_crop_jpeg(encoded, window, channels=3, ratio=ratio)

    # `ratio` is an attribute of the op, so one branch per scale.
    return tf.switch_case(index, [at_ratio(ratio) for ratio in DCT_SCALE_RATIOS])


def decode_window_rgb(encoded: tf.Tensor, window_for_shape: WindowFn,
                      output_size: Optional[int] = None) -> tf.Tensor:
    """Decodes the window `window_for_shape([h, w])` of an image to uint8 [h', w', 3].

    JPEGs take the fast path: the shape is read from the header and only the
    window is decoded. Other formats are decoded whole, then cropped; the
    window is computed by the same function, so both paths give the same
    pixels for the same image. With `output_size` (the side the window will be
    resized to), a JPEG window at least twice that size on both sides is
    decoded at reduced DCT scale (`dct_scale_ratio`, `scaled_window`): the
    same window, slightly different pixels, fewer of them.
    """

    def jpeg_window():
        shape = tf.image.extract_jpeg_shape(encoded)[:2]
        return _decode_jpeg_window(encoded, window_for_shape(shape), shape, output_size)

    def other_format_window():
        image = decode_rgb(encoded)
        return crop_to_window(image, window_for_shape(tf.shape(image)[:2]))

    image = tf.cond(tf.io.is_jpeg(encoded), jpeg_window, other_format_window)
    image.set_shape([None, None, 3])
    return image
