"""A batch of encoded images (a serving request) -> pixels, refusing what cannot be served.

`preprocess_encoded_batch` gives each image the evaluation preprocessing of
the input pipeline, after two checks that name the image (its index in the
batch) when they fail, with InvalidArgument:

1. its header: a known format (`inception.data.headers`) whose size reads,
   and a size within `max_image_pixels` (height x width x frames), checked
   before any pixel is decoded, so that a small file that decodes to
   gigabytes is refused at the cost of its header;
2. its pixel data: the decoder's own error would not say which image of the
   batch it came from, so decoding is tried (`bad_images.first_that_works`)
   and the first image that failed is named.
"""

from __future__ import annotations

import tensorflow as tf

from inception.data import bad_images, headers, preprocessing

_ACCEPTED = ", ".join(f.upper() for f in headers.SIZED_FORMATS)


def _reasons(encoded, fmt, size, header_read, small_enough, max_image_pixels) -> tf.Tensor:
    """Why each image was refused (a string per image; meaningful only where it was)."""
    height, width, frames = (tf.strings.as_string(size[:, k]) for k in range(3))
    too_large = tf.strings.join([
        "it is ", height, "x", width, " pixels",
        tf.where(size[:, 2] > 1, tf.strings.join([" in ", frames, " frames"]), ""),
        f", over the limit of {max_image_pixels} pixels per image set at export "
        "(max_image_pixels); send a smaller image"])
    upper = tf.strings.upper(fmt)
    # The first condition that holds gives the reason.
    cases = [
        (tf.equal(tf.strings.length(encoded), 0), "Input is empty; send the image's bytes"),
        (tf.equal(fmt, ""), f"Unknown image file format; send {_ACCEPTED} bytes"),
        (tf.equal(fmt, "jxl"), "JPEG XL is not accepted: its size cannot be checked before "
                               f"decoding; send {_ACCEPTED} bytes"),
        (tf.logical_not(header_read),
         tf.strings.join(["its ", upper, " header cannot be read (truncated or corrupt)"])),
        (tf.logical_not(small_enough), too_large),
    ]
    reason = tf.strings.join(["its ", upper, " data cannot be decoded (truncated or corrupt)"])
    for condition, text in reversed(cases):
        reason = tf.where(condition, text, reason)
    return reason


def preprocess_encoded_batch(images: tf.Tensor, image_size: int, *, central_fraction: float,
                             max_image_pixels: int, signature: str) -> tf.Tensor:
    """tf.string [B] -> float32 [B, image_size, image_size, 3] in [-1, 1], or InvalidArgument.

    The message of a refused image reads "<signature>: image <i> of the
    batch: <reason>", for the first refused image.
    """
    pixels_spec = tf.zeros([image_size, image_size, 3], tf.float32)

    def sized(element):
        return {**element, "size": headers.image_size(element["encoded"]), "header_read": True}

    def not_sized(element):
        return {**element, "size": tf.zeros([3], tf.int64), "header_read": False}

    def within_limit(element):
        pixels = tf.reduce_prod(tf.cast(element["size"], tf.float64))
        return {**element, "small_enough": pixels <= float(max_image_pixels)}

    def decoded(element):
        allowed = tf.debugging.assert_equal(
            tf.logical_and(element["header_read"], element["small_enough"]), True)
        with tf.control_dependencies([allowed]):  # nothing is decoded that was refused
            pixels = preprocessing.preprocess_encoded_for_eval(
                element["encoded"], image_size, central_fraction)
        return {**element, "pixels": tf.ensure_shape(pixels, pixels_spec.shape), "decoded": True}

    def not_decoded(element):
        return {**element, "pixels": pixels_spec, "decoded": False}

    count = tf.size(images, out_type=tf.int64)
    batch = (tf.data.Dataset.from_tensor_slices({"encoded": images})
             .flat_map(lambda e: bad_images.first_that_works(e, sized, not_sized))
             .map(within_limit)
             .interleave(lambda e: bad_images.first_that_works(e, decoded, not_decoded),
                         cycle_length=tf.data.AUTOTUNE, num_parallel_calls=tf.data.AUTOTUNE,
                         deterministic=True)
             .batch(count)
             .get_single_element())
    refused = tf.logical_not(batch["decoded"])
    first = tf.argmax(tf.cast(refused, tf.int32), output_type=tf.int32)
    reasons = _reasons(images, headers.image_format(images), batch["size"], batch["header_read"],
                       batch["small_enough"], max_image_pixels)
    message = tf.strings.join([f"{signature}: image ", tf.strings.as_string(first),
                               " of the batch: ", reasons[first]])
    check = tf.debugging.Assert(tf.logical_not(tf.reduce_any(refused)), [message])
    with tf.control_dependencies([check]):
        return tf.identity(batch["pixels"])
