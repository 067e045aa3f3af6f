"""Multi-crop evaluation inputs: 12 and 144 crops per image (paper Table 4).

The crops follow GoogLeNet's (reference [20] of the paper), which Table 4 compares with.
For one square of the image the six crops are: the four
corner crops, the centre crop (each `image_size` pixels square) and the whole
square resized to `image_size`; each is also mirrored, so a square gives 12.

* 12 crops: the centre square of the image with its shorter side resized to
  8/7 of the input size (342 for 299), the scale at which the centre crop is
  the central 87.5% of the single-crop evaluation.
* 144 crops (GoogLeNet's scheme): the shorter side resized to 4 scales; at
  each, 3 squares along the longer side (left/centre/right, or
  top/centre/bottom); 6 crops of each; and their mirrors: 4 x 3 x 6 x 2.

GoogLeNet resizes the shorter side to 256, 288, 320 and 352 for 224-pixel
crops, i.e. 8/7, 9/7, 10/7 and 11/7 of the crop size. We keep those ratios for
any input size: 342, 384, 427, 470 for 299; 37, 41, 46, 50 for 32.

Crop order (an evaluator only averages, but tests pin it): index
`((scale * 3 + square) * 2 + mirrored) * 6 + crop` for 144 and
`mirrored * 6 + crop` for 12, with `crop` in
(top-left, top-right, bottom-left, bottom-right, centre, whole square).
"""

from __future__ import annotations

import tensorflow as tf

from inception.data import preprocessing

# Shorter side / crop size: GoogLeNet's 256, 288, 320, 352 over 224.
GOOGLENET_SCALES = (8 / 7, 9 / 7, 10 / 7, 11 / 7)
CROP_COUNTS = (1, 12, 144)


def shorter_side_lengths(image_size: int) -> tuple[int, ...]:
    """The four shorter-side lengths used for an input size (342..470 for 299)."""
    return tuple(int(round(image_size * scale)) for scale in GOOGLENET_SCALES)


def resize_shorter_side(image: tf.Tensor, length: int) -> tf.Tensor:
    """Bilinear resize keeping the aspect ratio, shorter side = `length`."""
    shape = tf.cast(tf.shape(image)[:2], tf.float32)
    new_shape = tf.cast(tf.round(shape * (length / tf.reduce_min(shape))), tf.int32)
    return tf.image.resize(image, new_shape, method="bilinear")


def squares(image: tf.Tensor, which: tuple[int, ...] = (0, 1, 2)) -> list[tf.Tensor]:
    """Squares of side min(h, w) along the longer side: 0 first, 1 centre, 2 last.

    Along the shorter side the spare length is 0, so the same offsets give
    left/centre/right for landscape and top/centre/bottom for portrait images.
    """
    shape = tf.shape(image)[:2]
    side = tf.reduce_min(shape)
    spare = shape - side
    return [tf.slice(image, tf.concat([k * spare // 2, [0]], 0), [side, side, -1]) for k in which]


def six_crops(square: tf.Tensor, crop_size: int) -> tf.Tensor:
    """[6, crop, crop, 3]: four corners, centre, and the whole square resized."""
    far = tf.shape(square)[0] - crop_size
    offsets = [(0, 0), (0, far), (far, 0), (far, far), (far // 2, far // 2)]
    crops = [tf.slice(square, [y, x, 0], [crop_size, crop_size, -1]) for y, x in offsets]
    crops.append(tf.image.resize(square, [crop_size, crop_size], method="bilinear"))
    return tf.stack(crops)


def with_mirrors(crops: tf.Tensor) -> tf.Tensor:
    """[n, ...] -> [2n, ...]: the crops, then each flipped left-right."""
    return tf.concat([crops, tf.image.flip_left_right(crops)], axis=0)


def multi_crop(image: tf.Tensor, image_size: int, crops: int) -> tf.Tensor:
    """uint8 [h, w, 3] -> float32 [crops, image_size, image_size, 3] in [-1, 1].

    `crops=1` is the single-crop evaluation preprocessing (central 87.5%).
    """
    if crops not in CROP_COUNTS:
        raise ValueError(f"crops must be one of {CROP_COUNTS}, got {crops!r}")
    if crops == 1:
        return preprocessing.preprocess_for_eval(image, image_size)[tf.newaxis]
    image = preprocessing.to_unit_range(image)
    if crops == 12:
        lengths, which_squares = shorter_side_lengths(image_size)[:1], (1,)
    else:
        lengths, which_squares = shorter_side_lengths(image_size), (0, 1, 2)
    groups = []
    for length in lengths:
        for square in squares(resize_shorter_side(image, length), which_squares):
            groups.append(with_mirrors(six_crops(square, image_size)))
    stacked = tf.concat(groups, axis=0)
    stacked.set_shape([crops, image_size, image_size, 3])
    return preprocessing.to_signed_unit_range(stacked)
