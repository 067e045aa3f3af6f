"""SavedModel export for TF Serving (inception/export.py, tools/export_savedmodel.py).

A tiny model is trained for two steps with the recipe, so that its moving
averages differ from its raw weights, and exported once for the module. The
SavedModel is served from a fresh Python process, as TF Serving would load
it, and compared with the Keras model on the same JPEG and PNG bytes.
"""

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import inception
from inception import export, loading
from inception.config import ExperimentConfig, ModelConfig
from inception.data import preprocessing
from inception.training import ema_weights, paper_recipe, targets_for
from inception.training.checkpoint import TrainingCheckpoint
from inception.training.trainer import save_final_weights
from inception.training.workdir import RunPaths, write_config
from tests.support import HANG_TIMEOUT_S

REPO = Path(__file__).resolve().parents[1]
IMAGE_SIZE = 75
NUM_CLASSES = 10
CLASS_NAMES = [f"class_{k}" for k in range(NUM_CLASSES)]
# (height, width) of the test images: smaller, larger, non-square than the input.
IMAGE_SHAPES = [(40, 60, 3), (120, 90, 3), (28, 28, 3)]


def tiny_model():
    return inception.inception_v3(
        num_classes=NUM_CLASSES, input_size=IMAGE_SIZE, depth_multiplier=0.1, min_depth=8)


def softmax(logits):
    e = np.exp(logits - logits.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def run_python(script, *args, timeout=HANG_TIMEOUT_S):
    """Runs `script` in a fresh interpreter (nothing shared with this process)."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(script), *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=env, cwd=REPO)
    assert done.returncode == 0, done.stderr[-3000:]
    return done


def keras_probabilities(model, pixels, use_ema):
    with ema_weights(model, enabled=use_ema):
        logits = inception.without_aux(model)(tf.constant(pixels), training=False)
    return softmax(np.asarray(logits, dtype=np.float64))


def eval_pixels(encoded_images):
    """The evaluation preprocessing applied outside the graph, on the whole decoded image."""
    return np.stack([
        preprocessing.preprocess_for_eval(tf.io.decode_image(b, channels=3), IMAGE_SIZE).numpy()
        for b in encoded_images])


@pytest.fixture(scope="module")
def trained_model():
    keras.utils.set_random_seed(0)
    model = tiny_model()
    # A large learning rate so that two steps move the weights away from their
    # averages. Eager: tracing the training step takes minutes on 2 cores.
    model.compile(**paper_recipe(steps_per_epoch=1, learning_rate=0.5), run_eagerly=True)
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (4, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    data = tf.data.Dataset.from_tensor_slices((images, np.arange(4) % NUM_CLASSES)).batch(2)
    model.fit(data.map(targets_for(model)), epochs=1, verbose=0)
    assert int(model.optimizer.iterations) == 2
    # Two steps move the averages only slightly, by an amount that depends on
    # the CPU's kernels. Move them far from the raw weights on purpose, so that
    # "the export holds the averages" is a property with a wide margin.
    for variable in model.trainable_variables:
        average = model.optimizer.average_of(variable)
        scale = float(np.std(variable.numpy())) + 0.05
        average.assign(variable + rng.normal(0.0, scale, variable.shape).astype("float32"))
    return model


@pytest.fixture(scope="module")
def raw_weights_before_export(trained_model):
    return [w.numpy().copy() for w in trained_model.weights]


@pytest.fixture(scope="module")
def export_base(tmp_path_factory):
    return tmp_path_factory.mktemp("exported")


@pytest.fixture(scope="module")
def export_dir(trained_model, raw_weights_before_export, export_base):
    return export.export_savedmodel(trained_model, export_base, class_names=CLASS_NAMES)


@pytest.fixture(scope="module")
def requests(tmp_path_factory):
    """The same images as JPEG and PNG files, and a batch of pixels in [-1, 1]."""
    rng = np.random.default_rng(1)
    folder = tmp_path_factory.mktemp("requests")
    images = [rng.integers(0, 256, shape, dtype=np.uint8) for shape in IMAGE_SHAPES]
    encoders = {"jpeg": tf.io.encode_jpeg, "png": tf.io.encode_png}
    files = {}
    for fmt, encode in encoders.items():
        files[fmt] = [folder / f"{k}.{fmt}" for k in range(len(images))]
        for path, image in zip(files[fmt], images):
            path.write_bytes(encode(image).numpy())
    pixels = rng.uniform(-1, 1, (2, IMAGE_SIZE, IMAGE_SIZE, 3)).astype("float32")
    np.save(folder / "pixels.npy", pixels)
    return dict(folder=folder, files=files, pixels=pixels)


SERVE_IN_FRESH_PROCESS = """
    import sys
    import numpy as np
    import tensorflow as tf

    export_dir, folder = sys.argv[1:]
    loaded = tf.saved_model.load(export_dir)
    results = {}

    def keep(prefix, outputs):
        for key, value in outputs.items():
            value = value.numpy()
            results[f"{prefix}/{key}"] = value.astype(str) if value.dtype == object else value

    for fmt in ("jpeg", "png"):
        encoded = [tf.io.read_file(f"{folder}/{k}.{fmt}") for k in range(%d)]
        keep(fmt, loaded.signatures["serving_default"](images=tf.stack(encoded)))
    pixels = tf.constant(np.load(f"{folder}/pixels.npy"))
    keep("pixels", loaded.signatures["predict_images"](images=pixels))
    np.savez(f"{folder}/served.npz", **results)
""" % len(IMAGE_SHAPES)


@pytest.fixture(scope="module")
def served(export_dir, requests):
    run_python(SERVE_IN_FRESH_PROCESS, export_dir, requests["folder"])
    with np.load(requests["folder"] / "served.npz") as results:
        return dict(results)


@pytest.fixture(scope="module")
def loaded(export_dir):
    return tf.saved_model.load(export_dir)


# -- what the server answers


def test_export_writes_the_first_version_directory(export_dir, export_base):
    assert export_dir == os.path.join(export_base, "1")
    assert os.path.isfile(os.path.join(export_dir, "saved_model.pb"))
    assert sorted(os.listdir(export_base)) == ["1"]  # no staging directory left behind


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_fresh_process_serves_encoded_images_like_the_keras_model(fmt, served, requests, trained_model):
    encoded = [path.read_bytes() for path in requests["files"][fmt]]
    expected = keras_probabilities(trained_model, eval_pixels(encoded), use_ema=True)
    probabilities = served[f"{fmt}/probabilities"]
    assert probabilities.shape == (len(IMAGE_SHAPES), NUM_CLASSES)
    np.testing.assert_allclose(probabilities.sum(-1), 1.0, atol=1e-5)
    np.testing.assert_allclose(probabilities, expected, atol=1e-4)


def test_top_five_classes_names_and_probabilities_agree(served):
    probabilities, classes = served["jpeg/probabilities"], served["jpeg/classes"]
    assert classes.shape == (len(IMAGE_SHAPES), 5) and np.issubdtype(classes.dtype, np.integer)
    # The classes hold the five largest probabilities, in order (ties may come in either order).
    np.testing.assert_allclose(np.take_along_axis(probabilities, classes, -1),
                               -np.sort(-probabilities, axis=-1)[:, :5], atol=1e-7)
    assert all(len(set(row)) == 5 for row in classes)
    np.testing.assert_allclose(served["jpeg/top_probabilities"],
                               np.take_along_axis(probabilities, classes, -1), atol=1e-7)
    np.testing.assert_array_equal(served["jpeg/class_names"], np.array(CLASS_NAMES)[classes])


def test_pixel_signature_matches_the_keras_model(served, requests, trained_model):
    expected = keras_probabilities(trained_model, requests["pixels"], use_ema=True)
    np.testing.assert_allclose(served["pixels/probabilities"], expected, atol=1e-4)


def test_export_holds_the_moving_averages_not_the_raw_weights(served, requests, trained_model):
    raw = keras_probabilities(trained_model, requests["pixels"], use_ema=False)
    averaged = keras_probabilities(trained_model, requests["pixels"], use_ema=True)
    # The fixture set the averages far from the raw weights: the two models disagree
    # by far more than any kernel's rounding, and the export is the averaged one.
    assert np.abs(raw - averaged).max() > 0.05
    np.testing.assert_allclose(served["pixels/probabilities"], averaged, atol=1e-4)
    assert np.abs(served["pixels/probabilities"] - raw).max() > 0.05


def test_export_leaves_the_model_with_its_raw_weights(export_dir, trained_model,
                                                      raw_weights_before_export):
    for before, variable in zip(raw_weights_before_export, trained_model.weights, strict=True):
        np.testing.assert_array_equal(before, variable.numpy())


def test_saved_model_cli_lists_both_signatures(export_dir):
    cli = Path(sys.executable).parent / "saved_model_cli"
    done = subprocess.run([str(cli), "show", "--all", "--dir", export_dir], capture_output=True,
                          text=True, timeout=HANG_TIMEOUT_S,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))
    assert done.returncode == 0, done.stderr[-3000:]
    signatures = done.stdout.split("signature_def[")
    serving = next(s for s in signatures if s.startswith("'serving_default'"))
    pixels = next(s for s in signatures if s.startswith("'predict_images'"))
    assert "dtype: DT_STRING" in serving and "shape: (-1)" in serving
    assert "dtype: DT_FLOAT" in pixels and f"shape: (-1, {IMAGE_SIZE}, {IMAGE_SIZE}, 3)" in pixels
    for signature in (serving, pixels):
        for output in ("probabilities", "classes", "top_probabilities", "class_names"):
            assert f"outputs['{output}']" in signature


# -- bad requests: InvalidArgument, and the server keeps answering

_JPEG = tf.io.encode_jpeg(np.full((30, 40, 3), 128, np.uint8)).numpy()

BAD_REQUESTS = {
    "undecodable bytes": ("serving_default", tf.constant([_JPEG, b"not an image"]),
                          "Unknown image file format"),
    "truncated jpeg": ("serving_default", tf.constant([_JPEG[:60]]), "JPEG"),
    "empty string": ("serving_default", tf.constant([b""]), "Input is empty"),
    "empty batch of bytes": ("serving_default", tf.constant([], tf.string), "the batch is empty"),
    "bytes of rank 2": ("serving_default", tf.constant([[_JPEG]]), "not compatible with expected shape"),
    "floats for bytes": ("serving_default", tf.constant([1.0]), "expected to be a string tensor"),
    "empty batch of pixels": ("predict_images", tf.zeros([0, IMAGE_SIZE, IMAGE_SIZE, 3]),
                              "the batch is empty"),
    "wrong image size": ("predict_images", tf.zeros([1, IMAGE_SIZE - 5, IMAGE_SIZE, 3]),
                         "not compatible with expected shape"),
    "grey pixels": ("predict_images", tf.zeros([1, IMAGE_SIZE, IMAGE_SIZE, 1]),
                    "not compatible with expected shape"),
    "pixels in [0, 255]": ("predict_images", tf.fill([1, IMAGE_SIZE, IMAGE_SIZE, 3], 255.0),
                           r"scaled to \[-1, 1\]"),
    "NaN pixels": ("predict_images", tf.fill([1, IMAGE_SIZE, IMAGE_SIZE, 3], np.nan),
                   r"scaled to \[-1, 1\]"),
    "integer pixels": ("predict_images", tf.zeros([1, IMAGE_SIZE, IMAGE_SIZE, 3], tf.int32),
                       "expected to be a float tensor"),
}


@pytest.mark.parametrize("case", list(BAD_REQUESTS))
def test_bad_requests_fail_with_invalid_argument(case, loaded):
    signature, images, message = BAD_REQUESTS[case]
    with pytest.raises(tf.errors.InvalidArgumentError, match=message):
        loaded.signatures[signature](images=images)
    good = loaded.signatures["serving_default"](images=tf.constant([_JPEG]))
    np.testing.assert_allclose(good["probabilities"].numpy().sum(), 1.0, atol=1e-5)


def test_wrong_dtype_through_the_restored_function_is_a_type_error(loaded):
    # The signatures (what TF Serving calls) answer InvalidArgument, above; the
    # restored tf.function refuses to bind the argument before running.
    with pytest.raises(TypeError, match="Binding inputs"):
        loaded.serving_default(tf.constant([1.0]))


# -- versions, arguments, loading


def test_next_version_counts_integer_directories_only(tmp_path):
    assert export.next_version(tmp_path / "missing") == 1
    for name in ("1", "3", "10", "7.tmp", "latest"):
        (tmp_path / name).mkdir()
    (tmp_path / "12").write_text("a file, not a version")
    assert export.next_version(tmp_path) == 11


def test_export_refuses_what_does_not_fit(export_dir, export_base, trained_model):
    with pytest.raises(FileExistsError, match="exists"):
        export.export_savedmodel(trained_model, export_base, version=1)
    with pytest.raises(ValueError, match="class names"):
        export.export_savedmodel(trained_model, export_base, class_names=["a", "b"])
    with pytest.raises(ValueError, match="image_size"):
        export.export_savedmodel(trained_model, export_base, image_size=IMAGE_SIZE + 8)
    assert sorted(os.listdir(export_base)) == ["1"]


@pytest.fixture(scope="module")
def run_dir(trained_model, tmp_path_factory):
    """A finished run's directory as `train_and_evaluate` leaves it, written with the
    trainer's own pieces (training it for real would build the graph: minutes)."""
    run = str(tmp_path_factory.mktemp("run"))
    write_config(ExperimentConfig(model=ModelConfig(
        num_classes=NUM_CLASSES, input_size=IMAGE_SIZE, depth_multiplier=0.1, min_depth=8)), run)
    paths = RunPaths(run)
    TrainingCheckpoint(trained_model, paths.checkpoints).save()
    save_final_weights(trained_model, paths)
    return run


@pytest.fixture(scope="module")
def keras_file(trained_model, tmp_path_factory):
    path = tmp_path_factory.mktemp("saved") / "model.keras"
    trained_model.save(path)
    return path


def assert_holds_weights(loaded_model, trained_model, use_ema):
    with ema_weights(trained_model, enabled=use_ema):
        expected = [v.numpy() for v in trained_model.trainable_variables]
    for want, got in zip(expected, loaded_model.trainable_variables, strict=True):
        np.testing.assert_array_equal(want, got.numpy())


@pytest.mark.parametrize("use_ema", [True, False])
def test_load_a_finished_run_takes_its_final_weights(use_ema, run_dir, trained_model):
    assert_holds_weights(loading.load_trained_model(run_dir, use_ema=use_ema), trained_model, use_ema)


def test_load_an_unfinished_run_takes_its_latest_checkpoint(run_dir, trained_model, tmp_path):
    unfinished = tmp_path / "unfinished"
    shutil.copytree(run_dir, unfinished, ignore=shutil.ignore_patterns("final*.weights.h5"))
    assert_holds_weights(loading.load_trained_model(unfinished), trained_model, use_ema=True)
    checkpoint = tf.train.latest_checkpoint(str(unfinished / "checkpoints"))
    assert_holds_weights(loading.load_trained_model(checkpoint, use_ema=False), trained_model,
                         use_ema=False)


def test_load_a_keras_file_swaps_in_the_averages(keras_file, trained_model):
    assert_holds_weights(loading.load_trained_model(keras_file), trained_model, use_ema=True)


def test_load_explains_what_it_cannot_load(tmp_path):
    with pytest.raises(FileNotFoundError, match="No run directory"):
        loading.load_trained_model(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="not a run directory"):
        loading.load_trained_model(tmp_path)
    (tmp_path / "model.weights.h5").write_bytes(b"")
    with pytest.raises(ValueError, match="Cannot load"):
        loading.load_trained_model(tmp_path / "model.weights.h5")
    write_config(ExperimentConfig(), str(tmp_path / "empty_run"))
    with pytest.raises(FileNotFoundError, match="neither final weights"):
        loading.load_trained_model(tmp_path / "empty_run")


# -- the command line


TOOL = REPO / "tools" / "export_savedmodel.py"


def run_tool(*args):
    return subprocess.run([sys.executable, str(TOOL), *map(str, args)], capture_output=True,
                          text=True, timeout=HANG_TIMEOUT_S,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2"))


@pytest.mark.slow  # a fresh process that builds, loads and traces the model: ~40 s on 2 cores
def test_tool_exports_a_run_directory(run_dir, requests, trained_model, tmp_path):
    names_file = tmp_path / "names.txt"
    names_file.write_text("\n".join(CLASS_NAMES) + "\n")
    done = run_tool("--checkpoint", run_dir, "--output", tmp_path / "served", "--version", 7,
                    "--no_ema", "--class_names_file", names_file)
    assert done.returncode == 0, done.stderr[-3000:]
    version_dir = tmp_path / "served" / "7"
    assert done.stdout.strip().endswith(str(version_dir))
    outputs = tf.saved_model.load(str(version_dir)).signatures["predict_images"](
        images=tf.constant(requests["pixels"]))
    raw = keras_probabilities(trained_model, requests["pixels"], use_ema=False)
    np.testing.assert_allclose(outputs["probabilities"].numpy(), raw, atol=1e-4)  # --no_ema
    assert set(outputs["class_names"].numpy().ravel().astype(str)) <= set(CLASS_NAMES)


@pytest.mark.parametrize("args, message", [
    (["--checkpoint", "/no/such/run", "--output", "/tmp/unused"],
     "no run directory, checkpoint or model file"),
    (["--output", "/tmp/unused"], "--checkpoint must have a value"),
    (["--checkpoint", ".", "--output", "/tmp/unused", "--ema_decay", "0.5"],
     "Unknown command line flag"),
    (["--checkpoint", ".", "--output", "/tmp/unused", "--version", "0"], "--version"),
])
def test_tool_rejects_bad_flags_with_a_message(args, message):
    done = run_tool(*args)
    assert done.returncode != 0
    assert message in done.stderr + done.stdout
