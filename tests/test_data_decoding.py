"""Decoding every kind of file the pipeline meets (SPEC section 4, bad input)."""

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
