"""Evaluation preprocessing, pinned bit for bit against a plain reimplementation.

The training path is free to change its arithmetic (tests/test_data_preprocessing.py,
tests/test_data_crop_distribution.py); evaluation must not: its numbers are the
ones the paper's tables are compared with. The reference below uses only
tf.image / tf.io calls: `tf.image.central_crop` decides the window, applied
to a grid of pixel coordinates so that the JPEG can still be decoded window-only.
"""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from inception.data import preprocessing


def photo_like(height, width, seed=0):
    rng = np.random.default_rng(seed)
    coarse = Image.fromarray(rng.integers(0, 256, (5, 7, 3), dtype=np.uint8))
    smooth = np.asarray(coarse.resize((width, height), Image.BICUBIC), np.int16)
    return np.clip(smooth + rng.integers(-10, 11, smooth.shape), 0, 255).astype(np.uint8)


def encode(image, fmt):
    buffer = io.BytesIO()
    options = {"quality": 90} if fmt == "JPEG" else {}
    Image.fromarray(image).save(buffer, fmt, **options)
    return buffer.getvalue()


def central_window(height, width, fraction):
    """[y, x, h, w] of `tf.image.central_crop`, read off a cropped coordinate grid."""
    grid = tf.stack(tf.meshgrid(tf.range(height), tf.range(width), indexing="ij"), axis=-1)
    cropped = tf.image.central_crop(grid, fraction)
    return tf.concat([cropped[0, 0], tf.shape(cropped)[:2]], axis=0)


def reference_eval(encoded, fmt, image_size, fraction):
    if fmt == "JPEG":
        height, width = tf.image.extract_jpeg_shape(encoded)[:2].numpy()
        crop = tf.image.decode_and_crop_jpeg(encoded, central_window(height, width, fraction), channels=3)
    else:
        crop = tf.image.central_crop(tf.io.decode_png(encoded, channels=3), fraction)
    image = tf.image.convert_image_dtype(crop, tf.float32)
    return (tf.image.resize(image, [image_size, image_size], method="bilinear") - 0.5) * 2.0


@pytest.mark.parametrize("shape", [(375, 500), (500, 375), (333, 500), (97, 131)])
@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_encoded_eval_is_bit_identical_to_the_reference(shape, fmt):
    encoded = encode(photo_like(*shape), fmt)
    for image_size, fraction in ((299, 0.875), (79, 0.875), (64, 1.0)):
        np.testing.assert_array_equal(
            preprocessing.preprocess_encoded_for_eval(encoded, image_size, fraction),
            reference_eval(encoded, fmt, image_size, fraction))


@pytest.mark.parametrize("shape", [(28, 28), (375, 500), (33, 17)])
def test_decoded_eval_is_bit_identical_to_the_reference(shape):
    image = photo_like(*shape)
    expected = tf.image.convert_image_dtype(tf.image.central_crop(image, 0.875), tf.float32)
    expected = (tf.image.resize(expected, [32, 32], method="bilinear") - 0.5) * 2.0
    np.testing.assert_array_equal(preprocessing.preprocess_for_eval(image, 32), expected)
