"""Serving with bounded memory: sizes read from headers, bad images named, readable files.

(inception/export.py, inception/data/headers.py, inception/data/encoded_batch.py,
tools/export_savedmodel.py.) A 0.3 MB PNG of 16000x16000 grey pixels decodes
to 768 MB of RGB; `serving_default` must refuse it from its header, with an
InvalidArgument that names the limit and the image's index in the batch.
Memory is not measured: the refusal of a PNG whose header claims that size
but whose pixel data is garbage shows that the header is read first.
"""

import io
import os
import re
import stat
import struct
import sys
import zlib
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

import inception
from inception import export, loading
from inception.config import DataConfig, ExperimentConfig, ModelConfig
from inception.data import decoding, headers, preprocessing
from inception.training import paper_recipe
from inception.training.testing import tiny_model
from inception.training.trainer import save_final_weights
from inception.training.workdir import RunPaths, write_config
from tests.support import run_command

REPO = Path(__file__).resolve().parents[1]
SIZE = 16  # the tiny model's input side
LIMIT = 1000  # pixels, for the small export


# -- images made here


def encode(pixels, fmt, **options):
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, fmt, **options)
    return buffer.getvalue()


def random_pixels(height, width, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


def animated_gif(height, width, frames):
    images = [Image.fromarray(random_pixels(height, width, seed)) for seed in range(frames)]
    buffer = io.BytesIO()
    images[0].save(buffer, "GIF", save_all=True, append_images=images[1:])
    return buffer.getvalue()


def _png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def grey_png(height, width, idat=None):
    """A grey PNG written row by row (no array of the whole image is ever made)."""
    if idat is None:
        compressor = zlib.compressobj(9)
        row = b"\x00" + b"\x80" * width  # filter "none", mid-grey
        idat = b"".join(compressor.compress(row) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


JPEG_30x40 = encode(random_pixels(30, 40), "JPEG")
JPEG_20x20 = encode(random_pixels(20, 20), "JPEG")  # within the small export's limit
# 10x6 pixels of one colour, encoded once with libjxl (see tests/test_data_folder.py).
JXL_10x6 = (b"\xff\n(P\x10\t\x08\x00\x01\x00d\x00K\x18\x8b\x15\x00\xd4\x881\xde1\xc6;\x80\xda0"
            b"\xec^\xc9\x0fD\xa2\xa0[\x81\n")


# -- the sizes in the headers


def top_down_bmp(height, width):
    """A BMP whose rows run top-down: the height is stored negative."""
    data = bytearray(encode(random_pixels(height, width), "BMP"))
    data[22:26] = struct.pack("<i", -height)
    return bytes(data)


HEADER_CASES = {
    "jpeg": (JPEG_30x40, [30, 40, 1]),
    "png": (encode(random_pixels(33, 7), "PNG"), [33, 7, 1]),
    "grey png": (grey_png(21, 34), [21, 34, 1]),
    "gif": (encode(random_pixels(19, 23), "GIF"), [19, 23, 1]),
    "animated gif": (animated_gif(12, 9, 4), [12, 9, 4]),
    "bmp": (encode(random_pixels(11, 17), "BMP"), [11, 17, 1]),
    "top-down bmp": (top_down_bmp(11, 17), [11, 17, 1]),
    "lossy webp": (encode(random_pixels(25, 31), "WEBP"), [25, 31, 1]),
    "lossless webp": (encode(random_pixels(25, 300), "WEBP", lossless=True), [25, 300, 1]),
    "webp with alpha": (encode(np.dstack([random_pixels(14, 22), np.full((14, 22, 1), 7, np.uint8)]),
                               "WEBP"), [14, 22, 1]),
}


@pytest.mark.parametrize("case", list(HEADER_CASES))
def test_header_gives_the_size_the_decoder_produces(case):
    encoded, expected = HEADER_CASES[case]
    size = headers.image_size(tf.constant(encoded)).numpy()
    assert size.tolist() == expected
    assert decoding.decode_rgb(tf.constant(encoded)).shape[:2] == tuple(expected[:2])
    if "gif" in case:
        assert tf.io.decode_gif(encoded).shape[0] == expected[2]


def test_gif_canvas_is_its_largest_frame():
    # TF decodes every frame onto a canvas as large as the largest one.
    small, large = Image.fromarray(random_pixels(5, 6)), Image.fromarray(random_pixels(40, 3))
    buffer = io.BytesIO()
    small.save(buffer, "GIF", save_all=True, append_images=[large])
    size = headers.image_size(tf.constant(buffer.getvalue())).numpy().tolist()
    decoded = tf.io.decode_image(buffer.getvalue(), channels=3).shape
    assert size[2] == 2 and size[0] >= decoded[1] and size[1] >= decoded[2]


def test_format_names():
    assert [headers.image_format(tf.constant(b)).numpy().decode() for b in (
        JPEG_30x40, HEADER_CASES["png"][0], HEADER_CASES["gif"][0], HEADER_CASES["bmp"][0],
        HEADER_CASES["lossy webp"][0], JXL_10x6, b"", b"II*\x00 a TIFF")] == [
        "jpeg", "png", "gif", "bmp", "webp", "jxl", "", ""]


# -- the small export: a tiny model, a limit of 1000 pixels, a 50% crop


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
    keras.utils.set_random_seed(0)
    model = tiny_model(ModelConfig(num_classes=5, input_size=SIZE))
    logits = model.get_layer("logits")
    logits.kernel.assign(logits.kernel * 100.0)  # crops that differ give clearly different outputs
    base = tmp_path_factory.mktemp("small_export") / "models"  # made by the export
    previous = os.umask(0o077)  # the strictest umask: the export must still be world-readable
    try:
        path = export.export_savedmodel(model, base, central_fraction=0.5, max_image_pixels=LIMIT)
    finally:
        os.umask(previous)
    return model, path, tf.saved_model.load(path).signatures["serving_default"]


def serve(signature, *encoded):
    return signature(images=tf.constant(list(encoded)))["probabilities"].numpy()


def test_export_is_readable_by_every_user(small_export):
    _, path, _ = small_export
    inside = [os.path.join(folder, name) for folder, dirs, files in os.walk(path)
              for name in dirs + files]
    entries = [os.path.dirname(path), path, *inside]
    assert len(entries) > 3
    for entry in entries:
        mode = os.stat(entry).st_mode
        assert mode & stat.S_IROTH, entry
        if stat.S_ISDIR(mode):
            assert mode & stat.S_IXOTH, entry


def test_limit_counts_height_width_and_frames(small_export):
    _, _, signature = small_export
    accepted = [encode(random_pixels(25, 40), "PNG"),  # 1000 pixels: at the limit
                animated_gif(20, 25, 2)]  # 2 frames of 500
    assert serve(signature, *accepted).shape == (2, 5)
    refused = {"png": (encode(random_pixels(25, 41), "PNG"), "it is 25x41 pixels, over"),
               "gif": (animated_gif(20, 25, 3), "it is 20x25 pixels in 3 frames, over")}
    for encoded, message in refused.values():
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"image 1 of the batch: {message} the limit of {LIMIT} pixels"):
            serve(signature, accepted[0], encoded)


BAD_IMAGES = {
    "empty": (b"", "Input is empty"),
    "unknown format": (b"II*\x00 a TIFF", "Unknown image file format"),
    "jpeg xl": (JXL_10x6, "JPEG XL is not accepted: its size cannot be checked"),
    "truncated jpeg header": (JPEG_20x20[:60], "its JPEG header cannot be read"),
    "truncated jpeg data": (JPEG_20x20[: JPEG_20x20.index(b"\xff\xda") + 40],  # into the scan
                            "its JPEG data cannot be decoded"),
    "corrupt png data": (grey_png(10, 10, idat=b"not zlib data"), "its PNG data cannot be decoded"),
}


@pytest.mark.parametrize("case", list(BAD_IMAGES))
def test_bad_image_is_named_by_its_index_in_the_batch(case, small_export):
    _, _, signature = small_export
    encoded, reason = BAD_IMAGES[case]
    good = encode(random_pixels(20, 20), "PNG")
    with pytest.raises(tf.errors.InvalidArgumentError,
                       match=f"serving_default: image 2 of the batch: {reason}"):
        serve(signature, good, good, encoded, good)
    assert serve(signature, good).shape == (1, 5)  # and the server answers the next request


def test_serving_uses_the_exported_central_crop(small_export):
    model, _, signature = small_export
    # A bright centre in a dark frame: the 50% crop sees only the centre.
    pixels = np.full((30, 30, 3), 20, np.uint8)
    pixels[8:22, 8:22] = 230
    encoded = encode(pixels, "PNG")

    def keras_probabilities(fraction):
        image = preprocessing.preprocess_for_eval(tf.constant(pixels), SIZE, fraction)
        logits = loading.classifier(model)(image[None], training=False)
        return tf.nn.softmax(logits).numpy()

    served = serve(signature, encoded)
    np.testing.assert_allclose(served, keras_probabilities(0.5), atol=1e-4)
    assert np.abs(served - keras_probabilities(0.875)).max() > 1e-2


def test_export_refuses_a_bad_limit_or_crop(small_export, tmp_path):
    model, _, _ = small_export
    with pytest.raises(ValueError, match="max_image_pixels"):
        export.export_savedmodel(model, tmp_path, max_image_pixels=0)
    for fraction in (0.0, 1.5):
        with pytest.raises(ValueError, match="central_fraction"):
            export.export_savedmodel(model, tmp_path, central_fraction=fraction)
    assert os.listdir(tmp_path) == []


# -- the default limit; a run directory's evaluation crop


@pytest.fixture(scope="module")
def default_signature(tmp_path_factory):
    model = tiny_model(ModelConfig(num_classes=5, input_size=SIZE))
    path = export.export_savedmodel(model, tmp_path_factory.mktemp("default_export"))
    return tf.saved_model.load(path).signatures["serving_default"]


def test_huge_png_is_refused_from_its_header_with_the_default_limit(default_signature):
    huge = grey_png(16000, 16000)  # 256 megapixels in about 0.3 MB
    assert len(huge) < 1_000_000
    lying = grey_png(16000, 16000, idat=b"garbage, not the pixels")  # a decoder would say so
    limit = export.DEFAULT_MAX_IMAGE_PIXELS
    for index, batch in ((0, [huge]), (2, [JPEG_30x40, JPEG_30x40, huge]), (1, [JPEG_30x40, lying])):
        with pytest.raises(tf.errors.InvalidArgumentError,
                           match=f"image {index} of the batch: it is 16000x16000 pixels, over the "
                                 f"limit of {limit} pixels per image"):
            serve(default_signature, *batch)
    assert serve(default_signature, grey_png(3000, 4000)).shape == (1, 5)  # 12 megapixels pass


def test_run_directory_of_a_run_and_of_its_checkpoints(tmp_path):
    run = str(tmp_path / "run")
    write_config(ExperimentConfig(), run)
    os.makedirs(RunPaths(run).checkpoints)
    prefix = os.path.join(RunPaths(run).checkpoints, "ckpt-3")
    Path(prefix + ".index").write_bytes(b"")
    assert loading.run_directory_of(run) == run
    assert os.path.samefile(loading.run_directory_of(prefix), run)
    assert loading.run_directory_of(tmp_path) is None  # no config.json
    assert loading.run_directory_of(tmp_path / "model.keras") is None


@pytest.mark.slow  # builds, exports and loads Inception-v3 at 75 px: about a minute on 2 cores
def test_run_directory_exports_with_the_runs_evaluation_crop(tmp_path):
    model_config = ModelConfig(num_classes=4, input_size=75, depth_multiplier=0.1, min_depth=8)
    run = str(tmp_path / "run")
    write_config(ExperimentConfig(model=model_config, data=DataConfig(eval_crop_fraction=0.6)), run)
    model = inception.inception_v3(model_config)
    model.compile(**paper_recipe(steps_per_epoch=10))
    model.optimizer.build(model.trainable_variables)
    save_final_weights(model, RunPaths(run))
    signatures = tf.saved_model.load(export.export_savedmodel(run, tmp_path / "served")).signatures
    encoded = encode(random_pixels(60, 80), "JPEG")
    served = serve(signatures["serving_default"], encoded)
    for fraction, close in ((0.6, True), (0.875, False)):
        pixels = preprocessing.preprocess_encoded_for_eval(tf.constant(encoded), 75, fraction)
        expected = signatures["predict_images"](images=pixels[None])["probabilities"].numpy()
        assert np.allclose(served, expected, atol=1e-5) == close


# -- the command line


TOOL = REPO / "tools" / "export_savedmodel.py"


def run_tool(*args):
    return run_command([sys.executable, TOOL, *args])


def test_tool_errors_are_one_line_and_debug_shows_the_traceback(tmp_path):
    missing = tmp_path / "names.txt"
    args = ["--checkpoint", tmp_path, "--output", tmp_path / "out", "--class_names_file", missing]
    done = run_tool(*args)
    assert done.returncode == 1
    # TensorFlow's own start-up lines may come before; the tool's error is one line.
    assert [line for line in done.stderr.splitlines() if line.startswith("error")] == [
        f"error: FileNotFoundError: --class_names_file: no file at {str(missing)!r} "
        "(--debug for the traceback)"]
    assert "Traceback" not in done.stderr
    debug = run_tool(*args, "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr
    assert not (tmp_path / "out").exists()


def test_tool_refuses_a_limit_below_one_pixel():
    done = run_tool("--checkpoint", ".", "--output", "/tmp/unused", "--max_image_pixels", 0)
    assert done.returncode != 0 and "--max_image_pixels" in done.stderr


def test_tool_default_limit_is_the_librarys():
    # Read from the file: importing the tool would define its flags in this process.
    (default,) = re.findall(r"^DEFAULT_MAX_IMAGE_PIXELS = ([\d_]+)$", TOOL.read_text(), re.M)
    assert int(default) == export.DEFAULT_MAX_IMAGE_PIXELS
