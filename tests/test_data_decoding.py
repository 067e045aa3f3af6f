"""Decoding every kind of file the pipeline meets; bad input is skipped, never fatal."""

import io

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from inception.data import decoding

RGB = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
FLAT = np.full((24, 32, 3), (200, 60, 30), np.uint8)


def encode(image, fmt, mode="RGB"):
    buffer = io.BytesIO()
    Image.fromarray(image).convert(mode).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    "fmt, mode",
    [("JPEG", "RGB"), ("JPEG", "L"), ("JPEG", "CMYK"), ("PNG", "RGB"), ("PNG", "L"),
     ("PNG", "RGBA"), ("GIF", "P"), ("BMP", "RGB"), ("WEBP", "RGB"), ("WEBP", "L")],
)  # fmt: skip
def test_decodes_to_three_channels(fmt, mode):
    image = decoding.decode_rgb(encode(RGB, fmt, mode))
    assert image.shape == (24, 32, 3) and image.dtype == tf.uint8


@pytest.mark.parametrize("lossless", [False, True])
def test_webp_with_alpha_keeps_its_colours(lossless):
    # TF's WebP decoder refuses 3 channels for a file with alpha (TF 2.21).
    rgba = np.dstack([FLAT, np.full((24, 32, 1), 90, np.uint8)])
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, "WEBP", lossless=lossless, exact=True)
    with pytest.raises(tf.errors.InvalidArgumentError):
        tf.io.decode_image(buffer.getvalue(), channels=3, expand_animations=False)
    decoded = decoding.decode_rgb(buffer.getvalue()).numpy().astype(int)
    assert decoded.shape == (24, 32, 3) and np.abs(decoded - FLAT).max() < 12


def test_cmyk_jpeg_keeps_its_colours():
    decoded = decoding.decode_rgb(encode(FLAT, "JPEG", "CMYK")).numpy().astype(int)
    assert np.abs(decoded - FLAT).max() < 12


def test_grey_jpeg_has_equal_channels():
    decoded = decoding.decode_rgb(encode(RGB, "JPEG", "L")).numpy()
    assert (decoded[..., 0] == decoded[..., 1]).all() and (decoded[..., 1] == decoded[..., 2]).all()


def test_png_named_jpg_is_recognised_by_its_bytes(tmp_path):
    path = tmp_path / "really_a_png.jpg"
    path.write_bytes(encode(RGB, "PNG"))
    np.testing.assert_array_equal(decoding.decode_rgb(tf.io.read_file(str(path))), RGB)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_window_decoding_equals_cropping_the_decoded_image(fmt):
    encoded = encode(RGB, fmt)
    window = tf.constant([3, 5, 10, 12])
    got = decoding.decode_window_rgb(encoded, lambda shape: window)
    expected = decoding.decode_rgb(encoded)[3:13, 5:17]
    tolerance = 0 if fmt == "PNG" else 40  # JPEG: chroma upsampling differs at edges
    assert got.shape == (10, 12, 3)
    assert np.abs(got.numpy().astype(int) - expected.numpy().astype(int)).max() <= tolerance


@pytest.mark.parametrize(
    "data",
    [b"", encode(RGB, "JPEG")[:200], encode(RGB, "PNG")[:100], b"not an image at all" * 10],
    ids=["zero-byte", "truncated-jpeg", "truncated-png", "junk"],
)
def test_undecodable_bytes_raise(data):
    with pytest.raises(tf.errors.InvalidArgumentError):
        decoding.decode_rgb(data)
    with pytest.raises(tf.errors.InvalidArgumentError):
        decoding.decode_window_rgb(data, lambda shape: tf.constant([0, 0, 2, 2]))


@pytest.mark.parametrize("shorter_side, ratio", [(597, 1), (598, 2), (1195, 2), (1196, 4), (2392, 8), (9000, 8)])
def test_dct_scale_ratio_keeps_at_least_the_output_size(shorter_side, ratio):
    window = tf.constant([0, 0, shorter_side, shorter_side + 50])
    assert int(decoding.dct_scale_ratio(window, 299)) == ratio
    assert int(decoding.dct_scale_ratio(tf.constant([0, 0, 9000, shorter_side]), 299)) == ratio


def test_scaled_window_rounds_each_edge_to_the_nearest_scaled_pixel():
    shape = tf.constant([375, 500])
    np.testing.assert_array_equal(decoding.scaled_window(tf.constant([5, 7, 200, 300]), shape, 1), [5, 7, 200, 300])
    # At 1/4 scale the image is 94 x 125; 5 -> 1.25 -> 1, 205 -> 51.25 -> 51, 7 -> 1.75 -> 2, 307 -> 76.75 -> 77.
    np.testing.assert_array_equal(decoding.scaled_window(tf.constant([5, 7, 200, 300]), shape, 4), [1, 2, 50, 75])
    # The whole image stays the whole (scaled) image.
    np.testing.assert_array_equal(decoding.scaled_window(tf.constant([0, 0, 375, 500]), shape, 8), [0, 0, 47, 63])
    np.testing.assert_array_equal(decoding.decoded_region(tf.constant([0, 0, 375, 500]), shape, 40),
                                  [0, 0, 375, 500])


def test_window_decoded_at_reduced_scale_has_the_scaled_size():
    image = np.random.default_rng(1).integers(0, 256, (160, 240, 3), dtype=np.uint8)
    encoded = encode(image, "JPEG")
    got = decoding.decode_window_rgb(encoded, lambda shape: tf.constant([8, 16, 120, 200]), output_size=30)
    assert got.shape == (30, 50, 3)  # 1/4 scale: 120 >= 4 * 30
    full = decoding.decode_window_rgb(encoded, lambda shape: tf.constant([8, 16, 120, 200]))
    assert full.shape == (120, 200, 3)  # no output size: full scale, as evaluation
