"""The training crop keeps the distribution of `sample_distorted_bounding_box`.

The training path decodes only the crop window, and a window at least twice
the network's input on both sides at reduced DCT scale (libjpeg's `ratio`
2/4/8), whose edges then fall on the nearest scaled pixel. That may change
pixel values slightly but must not change which part of the image is seen:
here the full-scale region each decode covers is compared, over thousands of
crops, with independent draws of `tf.image.stateless_sample_distorted_bounding_box`
(the sampler of the authors' code) by two-sample Kolmogorov-Smirnov tests of
the crop area and aspect ratio. Seeds are fixed, so each test gives the same
p-value every run; "not tiny" is p > 1e-3, and a control shows that a small
real change of the distribution gets p < 1e-6.
"""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image
from scipy import stats

from inception.data import decoding, preprocessing

SAMPLES = 3000
NOT_TINY = 1e-3


def seeds(count, stream):
    return tf.stack([tf.range(count, dtype=tf.int64), tf.fill([count], tf.constant(stream, tf.int64))], 1)


@tf.function
def training_regions(image_shape, image_seeds, image_size):
    """The full-scale [y, x, h, w] that the training path decodes for each seed."""

    def region(seed):
        crop_seed = preprocessing.split_seed(seed)[0]
        window = preprocessing.random_crop_window(image_shape, crop_seed)
        return decoding.decoded_region(window, image_shape, image_size)

    return tf.map_fn(region, image_seeds, fn_output_signature=tf.int32)


@tf.function
def reference_boxes(image_shape, image_seeds, area_range=preprocessing.AREA_RANGE):
    """[y, x, h, w] drawn directly by stateless_sample_distorted_bounding_box."""

    def box(seed):
        begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
            tf.concat([image_shape, [3]], 0), tf.zeros([1, 0, 4]), seed=seed,
            min_object_covered=preprocessing.MIN_OBJECT_COVERED,
            aspect_ratio_range=preprocessing.ASPECT_RATIO_RANGE, area_range=area_range,
            max_attempts=preprocessing.MAX_ATTEMPTS, use_image_if_no_bounding_boxes=True)
        return tf.concat([begin[:2], size[:2]], 0)

    return tf.map_fn(box, image_seeds, fn_output_signature=tf.int32)


@tf.function
def crop_seeds(image_seeds):
    """The seed the training path gives `random_crop_window` for each image seed."""
    return tf.map_fn(lambda seed: preprocessing.split_seed(seed)[0], image_seeds)


@tf.function
def dct_scale_ratios(windows, image_size):
    return tf.map_fn(lambda window: decoding.dct_scale_ratio(window, image_size), windows)


def areas_and_aspects(boxes, image_shape):
    boxes = np.asarray(boxes, np.float64)
    return boxes[:, 2] * boxes[:, 3] / np.prod(image_shape), boxes[:, 3] / boxes[:, 2]


# (image shape, network input): no DCT scaling at 299 on ImageNet's usual 375x500;
# 1/2 and 1/4 scale for large photos at 299 and for 375x500 at Table 2's 79.
CASES = [((375, 500), 299), ((1500, 2000), 299), ((375, 500), 79)]


@pytest.mark.parametrize("image_shape, image_size", CASES)
def test_crop_area_and_aspect_ratio_distributions_are_unchanged(image_shape, image_size):
    shape = tf.constant(image_shape, tf.int32)
    ours = training_regions(shape, seeds(SAMPLES, 1), image_size).numpy()
    theirs = reference_boxes(shape, seeds(SAMPLES, 2)).numpy()
    assert (ours[:, :2] >= 0).all() and (ours[:, :2] + ours[:, 2:] <= image_shape).all()
    our_areas, our_aspects = areas_and_aspects(ours, image_shape)
    their_areas, their_aspects = areas_and_aspects(theirs, image_shape)
    assert stats.ks_2samp(our_areas, their_areas).pvalue > NOT_TINY
    assert stats.ks_2samp(our_aspects, their_aspects).pvalue > NOT_TINY


def test_scaled_decodes_are_common_where_the_window_allows_them():
    # Otherwise the test above would not exercise the reduced-scale path.
    shape = tf.constant((375, 500))
    windows = reference_boxes(shape, seeds(500, 3))
    ratios = dct_scale_ratios(windows, 79).numpy()
    assert {1, 2, 4} <= set(ratios) and np.mean(ratios > 1) > 0.3


def test_the_test_detects_a_small_change_of_the_crop_distribution():
    shape = tf.constant((375, 500))
    ours = training_regions(shape, seeds(SAMPLES, 1), 299).numpy()
    narrower = reference_boxes(shape, seeds(SAMPLES, 2), area_range=(0.15, 1.0)).numpy()
    assert stats.ks_2samp(areas_and_aspects(ours, (375, 500))[0],
                          areas_and_aspects(narrower, (375, 500))[0]).pvalue < 1e-6


def test_each_edge_moves_by_at_most_half_a_scaled_pixel():
    shape = tf.constant((1500, 2000))
    image_seeds = seeds(SAMPLES, 4)
    windows = reference_boxes(shape, crop_seeds(image_seeds)).numpy()  # the sampler of the training crop
    regions = training_regions(shape, image_seeds, 150).numpy()
    ratios = dct_scale_ratios(tf.constant(windows), 150).numpy()
    assert {2, 4, 8} <= set(ratios)
    starts_moved = np.abs(regions[:, :2] - windows[:, :2]).max(axis=1)
    ends_moved = np.abs(regions[:, :2] + regions[:, 2:] - windows[:, :2] - windows[:, 2:]).max(axis=1)
    assert (2 * starts_moved <= ratios).all() and (2 * ends_moved <= ratios).all()


def smooth_jpeg(height, width):
    y, x = np.mgrid[0:height, 0:width] / max(height, width)
    image = np.stack([np.sin(6 * x + 1), np.cos(5 * y), np.sin(4 * (x + y))], -1) * 100 + 128
    buffer = io.BytesIO()
    Image.fromarray(image.astype(np.uint8)).save(buffer, "JPEG", quality=95)
    return buffer.getvalue()


def test_a_scaled_decode_shows_the_same_window():
    # Same seed: the reduced-scale crop, resized, looks like the full-scale one.
    encoded = smooth_jpeg(600, 800)
    decoded = decoding.decode_rgb(encoded)
    scaled = 0
    for i in range(12):
        seed = tf.constant([i, 5], tf.int64)
        crop_seed = preprocessing.split_seed(seed)[0]
        window = preprocessing.random_crop_window(tf.constant([600, 800]), crop_seed)
        ratio = int(decoding.dct_scale_ratio(window, 48))
        crop = decoding.decode_window_rgb(
            encoded, lambda shape: preprocessing.random_crop_window(shape, crop_seed), output_size=48)
        assert tuple(crop.shape[:2]) == tuple(decoding.scaled_window(window, (600, 800), ratio)[2:].numpy())
        fast = preprocessing.preprocess_encoded_for_train(encoded, 48, seed, color_distortion=False)
        full = preprocessing.preprocess_for_train(decoded, 48, seed, color_distortion=False)
        assert float(tf.reduce_mean(tf.abs(fast - full))) < 0.02  # 2.5 of 255 levels
        scaled += ratio > 1
    assert scaled >= 4
