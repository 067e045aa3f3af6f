"""Encoded image bytes -> RGB pixels, decoding only the window that is needed.

Every format `tf.io.decode_image` reads (JPEG, PNG, GIF, BMP, WebP, JPEG XL
in TF 2.21) decodes to three uint8 channels whatever the file's name says:
grey and CMYK JPEGs come out as RGB, a PNG saved as `.jpg` is recognised by
its bytes (SPEC section 4, bad input), and an alpha channel is dropped.
Bytes that cannot be decoded raise `InvalidArgumentError`; the pipeline
catches that and skips the image (`inception.data.bad_images`).

For JPEGs (all of ImageNet) `tf.image.decode_and_crop_jpeg` decodes only the
crop window, which is the largest single saving in the training pipeline: the
random crop keeps 5..100% of the image (see `tools/benchmark_input.py`).
"""

from __future__ import annotations

from typing import Callable

import tensorflow as tf

from inception.data import headers

# window_for_shape(shape) -> [offset_y, offset_x, height, width], all int32;
# `shape` is the decoded image's [height, width].
WindowFn = Callable[[tf.Tensor], tf.Tensor]


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


def decode_window_rgb(encoded: tf.Tensor, window_for_shape: WindowFn) -> tf.Tensor:
    """Decodes the window `window_for_shape([h, w])` of an image to uint8 [h', w', 3].

    JPEGs take the fast path: the shape is read from the header and only the
    window is decoded. Other formats are decoded whole, then cropped; the
    window is computed by the same function, so both paths give the same
    pixels for the same image.
    """

    def jpeg_window():
        shape = tf.image.extract_jpeg_shape(encoded)[:2]
        return tf.image.decode_and_crop_jpeg(encoded, window_for_shape(shape), channels=3)

    def other_format_window():
        image = decode_rgb(encoded)
        return crop_to_window(image, window_for_shape(tf.shape(image)[:2]))

    image = tf.cond(tf.io.is_jpeg(encoded), jpeg_window, other_format_window)
    image.set_shape([None, None, 3])
    return image
