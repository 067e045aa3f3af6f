"""Single-crop training and evaluation preprocessing (the authors' `inception_preprocessing.py`)."""

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
    # (with it, pixels at the window's edge differ slightly). At 64 pixels no
    # window of this 120x160 image is twice the output, so no DCT scaling.
    buffer = io.BytesIO()
    Image.fromarray(smooth_image(120, 160)).save(buffer, "JPEG", quality=95, subsampling=0)
    encoded = buffer.getvalue()
    decoded = decoding.decode_rgb(encoded)
    for seed in ([1, 2], [3, 4], [5, 6]):
        np.testing.assert_array_equal(
            preprocessing.preprocess_encoded_for_train(encoded, 64, tf.constant(seed)),
            preprocessing.preprocess_for_train(decoded, 64, tf.constant(seed)),
        )
    np.testing.assert_array_equal(
        preprocessing.preprocess_encoded_for_eval(encoded, 48),
        preprocessing.preprocess_for_eval(decoded, 48),
    )


def authors_color_distortion(image, color):
    """The reference: tf.image's adjust_* ops on a [0, 1] image in the authors' two orders."""
    brightness = float(color.brightness) / 255.0
    if bool(color.brightness_first):
        image = tf.image.adjust_brightness(image, brightness)
        image = tf.image.adjust_saturation(image, color.saturation)
        image = tf.image.adjust_hue(image, color.hue)
        image = tf.image.adjust_contrast(image, color.contrast)
    else:
        image = tf.image.adjust_saturation(image, color.saturation)
        image = tf.image.adjust_brightness(image, brightness)
        image = tf.image.adjust_contrast(image, color.contrast)
        image = tf.image.adjust_hue(image, color.hue)
    return (tf.clip_by_value(image, 0.0, 1.0) - 0.5) * 2.0


@pytest.mark.parametrize("brightness_first", [True, False])
def test_color_distortion_equals_tf_image_ops_in_the_authors_orders(brightness_first):
    # The merged affine steps and the [0, 255] scale change rounding only.
    rng = np.random.default_rng(3)
    for trial in range(12):
        image = rng.random((17, 23, 3)).astype(np.float32)
        uniforms = rng.random(5).astype(np.float32)
        uniforms[0] = 0.25 if brightness_first else 0.75
        color = preprocessing.ColorDistortion.draw(tf.constant(uniforms))
        np.testing.assert_allclose(
            preprocessing.distort_color_and_scale(tf.constant(image * 255.0), color),
            authors_color_distortion(tf.constant(image), color), atol=1e-4)


def test_color_draws_cover_the_authors_ranges():
    draws = [preprocessing.ColorDistortion.draw(u) for u in tf.constant([[0.0] * 5, [0.999999] * 5])]
    low, high = draws
    assert bool(low.brightness_first) and not bool(high.brightness_first)
    np.testing.assert_allclose([low.brightness, high.brightness], [-32.0, 32.0], atol=1e-3)
    np.testing.assert_allclose([low.saturation, high.saturation], [0.5, 1.5], atol=1e-5)
    np.testing.assert_allclose([low.hue, high.hue], [-0.2, 0.2], atol=1e-5)
    np.testing.assert_allclose([low.contrast, high.contrast], [0.5, 1.5], atol=1e-5)


def test_half_of_the_training_crops_are_flipped():
    # A left-to-right ramp, the whole image kept: flipped iff the left edge is bright.
    ramp = np.broadcast_to(np.linspace(0, 255, 40).astype(np.uint8)[None, :, None], (40, 40, 3))
    whole = preprocessing.CropRanges(area_range=(1.0, 1.0), aspect_ratio_range=(1.0, 1.0))
    flipped = [
        bool(preprocessing.preprocess_for_train(ramp, 16, tf.constant([i, 9]), False, whole)[0, 0, 0] > 0)
        for i in range(200)
    ]
    assert 0.35 < np.mean(flipped) < 0.65
