"""What an image's first bytes say: its format and its size, before any pixel is decoded.

`tf.io.decode_image` (TF 2.21) reads JPEG, PNG, GIF, BMP, WebP and JPEG XL,
and allocates the whole decoded image before looking at the pixel data: a
0.3 MB PNG of 16000x16000 grey pixels becomes 768 MB of RGB. Reading the
size from the header lets a server refuse such an image at the cost of a
few bytes (`inception.export`).

Only JPEG has a TF op for its size (`tf.image.extract_jpeg_shape`). The
others are hand-written here with `tf.strings.substr` and `tf.io.decode_raw`,
because no TF op reads them: PNG, BMP and WebP keep their size at fixed
offsets of the header; GIF needs a walk over its blocks (`_gif_size`),
because TF decodes every frame onto a canvas as large as the largest frame.
JPEG XL packs its size in variable-length bit fields: `image_size` refuses it
rather than guess.
"""

from __future__ import annotations

import tensorflow as tf

# (format, offset, signature): the bytes by which decode_image recognises a format.
SIGNATURES = (
    ("jpeg", 0, b"\xff\xd8\xff"),
    ("png", 0, b"\x89PNG\r\n\x1a\n"),
    ("gif", 0, b"GIF8"),
    ("bmp", 0, b"BM"),
    ("webp", 8, b"WEBP"),  # after "RIFF" and the chunk size
    ("jxl", 0, b"\xff\x0a"),  # a bare codestream
    ("jxl", 0, b"\x00\x00\x00\x0cJXL \r\n\x87\n"),  # the ISO BMFF container
)
FORMATS = ("jpeg", "png", "gif", "bmp", "webp", "jxl")
SIZED_FORMATS = ("jpeg", "png", "gif", "bmp", "webp")  # those `image_size` reads
_HEADER_BYTES = 32  # enough for every fixed-offset field below


def image_format(encoded: tf.Tensor) -> tf.Tensor:
    """The format's name from `FORMATS` (a string scalar), or "" when the bytes are no known image."""
    found = tf.constant("")
    for name, offset, signature in reversed(SIGNATURES):
        start = tf.strings.substr(_padded_header(encoded), offset, len(signature))
        matches = tf.equal(start, signature)
        if name == "webp":
            matches = tf.logical_and(matches, tf.equal(tf.strings.substr(encoded, 0, 4), b"RIFF"))
        found = tf.where(matches, tf.constant(name), found)
    return found


def _padded_header(encoded: tf.Tensor) -> tf.Tensor:
    """The first `_HEADER_BYTES` bytes, zero-padded: fixed offsets never run past the end."""
    head = tf.strings.substr(encoded, 0, _HEADER_BYTES)
    return tf.strings.substr(head + b"\x00" * _HEADER_BYTES, 0, _HEADER_BYTES)


def _header_bytes(encoded: tf.Tensor) -> tf.Tensor:
    return tf.cast(tf.io.decode_raw(_padded_header(encoded), tf.uint8), tf.int64)


def _little_endian(data: tf.Tensor, offset: int, length: int) -> tf.Tensor:
    return sum(data[offset + k] * (256 ** k) for k in range(length))


def _big_endian(data: tf.Tensor, offset: int, length: int) -> tf.Tensor:
    return sum(data[offset + k] * (256 ** (length - 1 - k)) for k in range(length))


def _one_frame(height, width) -> tf.Tensor:
    return tf.stack([height, width, tf.constant(1, tf.int64)])


def _jpeg_size(encoded):
    shape = tf.cast(tf.image.extract_jpeg_shape(encoded), tf.int64)
    return _one_frame(shape[0], shape[1])


def _png_size(encoded):
    # The IHDR chunk comes first: width and height, big-endian, at bytes 16 and 20.
    data = _header_bytes(encoded)
    return _one_frame(_big_endian(data, 20, 4), _big_endian(data, 16, 4))


def _bmp_size(encoded):
    # BITMAPINFOHEADER: width and height, little-endian int32, at bytes 18 and 22;
    # a negative height means the rows are stored top-down.
    data = _header_bytes(encoded)

    def signed(value):
        return tf.where(value >= 2 ** 31, value - 2 ** 32, value)

    height, width = (tf.abs(signed(_little_endian(data, offset, 4))) for offset in (22, 18))
    return _one_frame(height, width)


def _webp_size(encoded):
    """The canvas of a WebP, by its first chunk: "VP8 " (lossy), "VP8L" (lossless), "VP8X" (extended)."""
    data = _header_bytes(encoded)
    chunk = tf.strings.substr(_padded_header(encoded), 12, 4)
    # VP8: 14-bit width and height at 26 and 28, after the key frame's start code.
    lossy = (_little_endian(data, 28, 2) % 2 ** 14, _little_endian(data, 26, 2) % 2 ** 14)
    # VP8L: after the signature byte 0x2f, 14 bits of width - 1, then 14 of height - 1.
    bits = _little_endian(data, 21, 4)
    lossless = ((bits // 2 ** 14) % 2 ** 14 + 1, bits % 2 ** 14 + 1)
    # VP8X: 24-bit canvas width - 1 and height - 1 at 24 and 27.
    extended = (_little_endian(data, 27, 3) + 1, _little_endian(data, 24, 3) + 1)
    height = tf.where(tf.equal(chunk, b"VP8L"), lossless[0],
                      tf.where(tf.equal(chunk, b"VP8X"), extended[0], lossy[0]))
    width = tf.where(tf.equal(chunk, b"VP8L"), lossless[1],
                     tf.where(tf.equal(chunk, b"VP8X"), extended[1], lossy[1]))
    known_chunk = tf.debugging.assert_equal(
        tf.strings.regex_full_match(chunk, "VP8[ LX]"), True,
        message="WebP image with an unknown first chunk")
    with tf.control_dependencies([known_chunk]):
        return _one_frame(height, width)


def webp_has_alpha(encoded: tf.Tensor) -> tf.Tensor:
    """Whether the bytes are a WebP with an alpha channel (the VP8X or the VP8L alpha flag).

    TF's WebP decoder needs the file's own channel count: 4 for these, 3 for the others.
    """
    data = _header_bytes(encoded)
    chunk = tf.strings.substr(_padded_header(encoded), 12, 4)
    extended_alpha = tf.logical_and(tf.equal(chunk, b"VP8X"), data[20] // 16 % 2 == 1)
    lossless_alpha = tf.logical_and(tf.equal(chunk, b"VP8L"), data[24] // 16 % 2 == 1)
    return tf.logical_and(tf.equal(image_format(encoded), "webp"),
                          tf.logical_or(extended_alpha, lossless_alpha))


def _gif_size(encoded):
    """[canvas height, canvas width, frames] of a GIF, from a walk over its blocks.

    After the 13-byte header and the optional global colour table, a GIF is
    a sequence of blocks: an image (0x2C: a 10-byte descriptor, an optional
    local colour table, one byte, then data sub-blocks), an extension (0x21,
    a label, then sub-blocks) or the trailer (0x3B). Sub-blocks are a length
    byte and that many bytes, ended by a zero length. The walk reads one
    length byte per step, so it costs about one step per 255 bytes.
    """
    data = tf.cast(tf.io.decode_raw(encoded, tf.uint8), tf.int64)
    size = tf.size(data, out_type=tf.int64)

    def byte(position):
        return tf.gather(data, tf.minimum(position, size - 1))

    def colour_table(flags):
        return tf.where(flags >= 128, 3 * 2 ** (flags % 8 + 1), 0)

    def step(position, in_sub_blocks, frames, height, width):
        length = byte(position)
        # Inside sub-blocks: skip one; a zero length ends them.
        sub_position = position + 1 + length
        sub_inside = length > 0
        # At a block: an image or an extension starts its sub-blocks; anything else ends the walk.
        is_image = tf.equal(length, 0x2C)
        is_extension = tf.equal(length, 0x21)
        image_end = position + 10 + colour_table(byte(position + 9)) + 1
        block_position = tf.where(is_image, image_end, tf.where(is_extension, position + 2, size))
        frame_height = byte(position + 7) + 256 * byte(position + 8)
        frame_width = byte(position + 5) + 256 * byte(position + 6)
        new_frame = tf.logical_and(tf.logical_not(in_sub_blocks), is_image)
        return (tf.where(in_sub_blocks, sub_position, block_position),
                tf.where(in_sub_blocks, sub_inside, tf.logical_or(is_image, is_extension)),
                frames + tf.cast(new_frame, tf.int64),
                tf.where(new_frame, tf.maximum(height, frame_height), height),
                tf.where(new_frame, tf.maximum(width, frame_width), width))

    screen_height = byte(tf.constant(8, tf.int64)) + 256 * byte(tf.constant(9, tf.int64))
    screen_width = byte(tf.constant(6, tf.int64)) + 256 * byte(tf.constant(7, tf.int64))
    start = 13 + colour_table(byte(tf.constant(10, tf.int64)))
    _, _, frames, height, width = tf.while_loop(
        lambda position, *_: position < size, step,
        (start, tf.constant(False), tf.constant(0, tf.int64), screen_height, screen_width))
    return tf.stack([height, width, tf.maximum(frames, 1)])


def image_size(encoded: tf.Tensor) -> tf.Tensor:
    """[height, width, frames] (int64) of JPEG, PNG, GIF, BMP or WebP bytes, read from the header.

    Raises InvalidArgumentError (when run) for other bytes, a JPEG header that
    cannot be parsed, and JPEG XL, whose size is not read here. The numbers
    are what the header claims; a decoder may still fail on the pixel data.
    """
    fmt = image_format(encoded)
    readers = {"jpeg": _jpeg_size, "png": _png_size, "gif": _gif_size, "bmp": _bmp_size,
               "webp": _webp_size}
    known = tf.reduce_any(tf.equal(fmt, list(readers)))
    with tf.control_dependencies([tf.debugging.assert_equal(
            known, True, message="Unknown image file format, or one whose size cannot be read "
            f"before decoding; send {', '.join(f.upper() for f in SIZED_FORMATS)} bytes")]):
        branches = [lambda reader=reader: reader(encoded) for reader in readers.values()]
        index = tf.argmax(tf.cast(tf.equal(fmt, list(readers)), tf.int32), output_type=tf.int32)
        return tf.switch_case(index, branches)
