"""12 and 144 evaluation crops: shapes and exact geometry (Table 4, GoogLeNet's crops)."""

import numpy as np
import pytest
import tensorflow as tf

from inception.data import multicrop, preprocessing

CROP = 14  # the first GoogLeNet scale, 8/7, makes the shorter side exactly 16


def coordinate_image(height, width):
    """Pixels that say where they are: R = column, G = row (x 10), B = 7."""
    y, x = np.mgrid[0:height, 0:width]
    return np.stack([x * 10, y * 10, np.full_like(x, 7)], -1).astype(np.uint8)


def scaled(pixels):
    return (np.asarray(pixels, np.float32) / 255.0 - 0.5) * 2


def test_googlenet_scales_for_224_and_other_sizes():
    assert multicrop.shorter_side_lengths(224) == (256, 288, 320, 352)
    assert multicrop.shorter_side_lengths(299) == (342, 384, 427, 470)
    assert multicrop.shorter_side_lengths(32) == (37, 41, 46, 50)


@pytest.mark.parametrize("size", [32, 79])
@pytest.mark.parametrize("crops", [12, 144])
def test_shapes_and_range(size, crops):
    out = multicrop.multi_crop(coordinate_image(40, 60), size, crops)
    assert out.shape == (crops, size, size, 3) and out.dtype == tf.float32
    assert -1.0 <= float(tf.reduce_min(out)) and float(tf.reduce_max(out)) <= 1.0


def test_one_crop_is_the_single_crop_evaluation():
    image = coordinate_image(20, 30)
    np.testing.assert_array_equal(
        multicrop.multi_crop(image, 16, 1)[0], preprocessing.preprocess_for_eval(image, 16)
    )


def test_twelve_crops_geometry_on_a_landscape_image():
    image = coordinate_image(16, 24)  # shorter side already 16: no resampling
    crops = multicrop.multi_crop(image, CROP, 12).numpy()
    square = image[:, 4:20]  # the centre square
    expected = [
        square[0:14, 0:14], square[0:14, 2:16], square[2:16, 0:14], square[2:16, 2:16],
        square[1:15, 1:15],
    ]  # fmt: skip
    for k, pixels in enumerate(expected):
        np.testing.assert_allclose(crops[k], scaled(pixels), atol=1e-6)
    whole = tf.image.resize(tf.image.convert_image_dtype(square, tf.float32), [CROP, CROP])
    np.testing.assert_allclose(crops[5], (whole - 0.5) * 2, atol=1e-6)
    for k in range(6):  # the mirrored crop is the flipped crop
        np.testing.assert_array_equal(crops[6 + k], crops[k][:, ::-1])


def test_144_crops_geometry_squares_along_the_longer_side():
    crops = multicrop.multi_crop(coordinate_image(16, 24), CROP, 144).numpy()

    def index(scale, square, mirrored, crop):
        return ((scale * 3 + square) * 2 + mirrored) * 6 + crop

    image = coordinate_image(16, 24)
    # Scale 0: squares start at columns 0 (left), 4 (centre) and 8 (right).
    np.testing.assert_allclose(crops[index(0, 0, 0, 0)], scaled(image[0:14, 0:14]), atol=1e-6)
    np.testing.assert_allclose(crops[index(0, 1, 0, 4)], scaled(image[1:15, 5:19]), atol=1e-6)
    np.testing.assert_allclose(crops[index(0, 2, 0, 3)], scaled(image[2:16, 10:24]), atol=1e-6)
    np.testing.assert_array_equal(crops[index(3, 2, 1, 1)], crops[index(3, 2, 0, 1)][:, ::-1])
    # Larger scales: the same crop size spans fewer of the original columns.
    spans = [np.ptp(crops[index(scale, 0, 0, 0)][..., 0]) for scale in range(4)]
    assert spans == sorted(spans, reverse=True) and len(set(spans)) == 4
    mirrored = crops.reshape(4, 3, 2, 6, CROP, CROP, 3)
    np.testing.assert_array_equal(mirrored[:, :, 1], mirrored[:, :, 0][..., ::-1, :])


def test_portrait_images_use_top_centre_bottom_squares():
    image = coordinate_image(24, 16)
    crops = multicrop.multi_crop(image, CROP, 144).numpy()
    top_left_of_bottom_square = crops[(0 * 3 + 2) * 2 * 6 + 0]
    np.testing.assert_allclose(top_left_of_bottom_square, scaled(image[8:22, 0:14]), atol=1e-6)


def test_invalid_crop_count():
    with pytest.raises(ValueError, match="1, 12, 144"):
        multicrop.multi_crop(coordinate_image(16, 16), CROP, 10)
