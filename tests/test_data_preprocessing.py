"""Single-crop training and evaluation preprocessing (SPEC section 4)."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from inception.data import decoding, preprocessing

SIZES = (299, 151, 79, 32)


def random_image(height=60, width=80, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), dtype=np.uint8)


def smooth_image(height=60, width=80):
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 255 // width, y * 255 // height, (x + y) % 256], -1).astype(np.uint8)


def jpeg_bytes(image, quality=95):
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, "JPEG", quality=quality)
    return buffer.getvalue()


SEED = tf.constant([1, 2], tf.int64)


@pytest.mark.parametrize("size", SIZES)
def test_train_output_shape_dtype_and_range(size):
    out = preprocessing.preprocess_for_train(random_image(), size, SEED)
    assert out.shape == (size, size, 3) and out.dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(out)) < float(tf.reduce_max(out)) <= 1.0


@pytest.mark.parametrize("size", SIZES)
def test_eval_output_shape_dtype_and_range(size):
    out = preprocessing.preprocess_encoded_for_eval(jpeg_bytes(random_image()), size)
    assert out.shape == (size, size, 3) and out.dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(out)) < float(tf.reduce_max(out)) <= 1.0


def test_train_is_a_function_of_the_seed():
    image = random_image()
    first = preprocessing.preprocess_for_train(image, 32, SEED)
    again = preprocessing.preprocess_for_train(image, 32, SEED)
    other = preprocessing.preprocess_for_train(image, 32, tf.constant([3, 4], tf.int64))
    np.testing.assert_array_equal(first, again)
    assert not np.array_equal(first, other)


def test_random_crop_window_follows_the_papers_ranges():
    height, width = 375, 500
    areas, aspects = [], []
    for i in range(200):
        y, x, h, w = preprocessing.random_crop_window(
            tf.constant([height, width]), tf.constant([i, 7])
        ).numpy()
        assert 0 <= y and 0 <= x and y + h <= height and x + w <= width
        areas.append(h * w / (height * width))
        aspects.append(w / h)
    assert 0.05 - 0.01 <= min(areas) and max(areas) <= 1.0
    assert 0.75 - 0.02 <= min(aspects) and max(aspects) <= 4 / 3 + 0.02
    assert max(areas) - min(areas) > 0.5  # really random, over most of the range


def test_without_color_distortion_colours_are_kept():
    # train_augmentation=False: crop and flip only, so a flat colour stays exact.
    flat = np.full((40, 50, 3), (200, 50, 100), np.uint8)
    expected = (np.array([200, 50, 100]) / 255.0 - 0.5) * 2
    for i in range(5):
        seed = tf.constant([i, 0])
        kept = preprocessing.preprocess_for_train(flat, 32, seed, color_distortion=False)
        np.testing.assert_allclose(kept, np.broadcast_to(expected, (32, 32, 3)), atol=1e-5)
    distorted = [
        preprocessing.preprocess_for_train(flat, 32, tf.constant([i, 0]), color_distortion=True)
        for i in range(5)
    ]
    assert all(np.abs(d - expected).max() > 0.01 for d in distorted)


def test_color_distortion_stays_in_range_after_clip():
    out = preprocessing.preprocess_for_train(np.full((30, 30, 3), 250, np.uint8), 16, SEED)
    assert -1.0 <= float(tf.reduce_min(out)) and float(tf.reduce_max(out)) <= 1.0


@pytest.mark.parametrize("shape", [(375, 500), (28, 28), (33, 17)])
def test_central_crop_window_matches_tf_image_central_crop(shape):
    image = random_image(*shape)
    window = preprocessing.central_crop_window(tf.constant(shape))
    np.testing.assert_array_equal(
        decoding.crop_to_window(image, window), tf.image.central_crop(image, 0.875)
    )


def test_eval_is_central_crop_resized_and_scaled():
    image = random_image(50, 70)
    crop = tf.image.central_crop(tf.image.convert_image_dtype(image, tf.float32), 0.875)
    expected = (tf.image.resize(crop, [32, 32], method="bilinear") - 0.5) * 2
    np.testing.assert_allclose(preprocessing.preprocess_for_eval(image, 32), expected, atol=1e-6)


def test_jpeg_fast_path_matches_decoding_the_whole_image():
    # Without chroma subsampling, decoding a window gives exactly the same pixels
    # (with it, pixels at the window's edge differ slightly).
    buffer = io.BytesIO()
    Image.fromarray(smooth_image(120, 160)).save(buffer, "JPEG", quality=95, subsampling=0)
    encoded = buffer.getvalue()
    decoded = decoding.decode_rgb(encoded)
    for seed in ([1, 2], [3, 4], [5, 6]):
        np.testing.assert_array_equal(
            preprocessing.preprocess_encoded_for_train(encoded, 48, tf.constant(seed)),
            preprocessing.preprocess_for_train(decoded, 48, tf.constant(seed)),
        )
    np.testing.assert_array_equal(
        preprocessing.preprocess_encoded_for_eval(encoded, 48),
        preprocessing.preprocess_for_eval(decoded, 48),
    )
