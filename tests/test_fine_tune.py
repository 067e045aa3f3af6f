"""Fine-tuning from pretrained weights (inception/fine_tune.py, tools/fine_tune.py, weights.load_pretrained).

Pretrained weights are random here (nothing is downloaded): keras.applications'
InceptionV3(weights=None) randomised as in test_weights.py, saved as a Keras
weights file or written out as a TF-slim-layout checkpoint.

"Predicts exactly as keras.applications" means: the same JPEG decoded by
`tf.io.decode_jpeg`, the whole image (no crop) resized to 299x299 by
bilinear `tf.image.resize` (what `keras.layers.Resizing` and
`image_dataset_from_directory` do), `keras.applications.inception_v3.preprocess_input`,
then keras.applications' model; against the folder pipeline's evaluation
preprocessing with the keras_applications source's crop and our network.
"""

import json
from pathlib import Path

import keras
import numpy as np
import pytest
import tensorflow as tf

import inception
from inception import fine_tune, weights
from inception.data import build_dataset
from tests.support import run_script
from test_weights import randomise, write_slim_checkpoint

REPO = Path(__file__).resolve().parents[1]


def smooth_jpeg(path, height, width, seed):
    """A photo-like JPEG: a smooth random colour field (bicubic from a 4x5 grid)."""
    coarse = np.random.default_rng(seed).uniform(0, 255, (1, 4, 5, 3)).astype("float32")
    image = tf.image.resize(coarse, (height, width), method="bicubic")[0]
    encoded = tf.io.encode_jpeg(tf.cast(tf.clip_by_value(tf.round(image), 0, 255), tf.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encoded.numpy())
    return encoded.numpy()


def image_folder(root, classes=("cat", "dog"), train=4, evaluate=2, shape=(90, 120)):
    """`root/train/<class>/i.jpg` and `root/eval/<class>/i.jpg`."""
    seed = 0
    for split, count in (("train", train), ("eval", evaluate)):
        for name in classes:
            for i in range(count):
                seed += 1
                smooth_jpeg(root / split / name / f"{i}.jpg", *shape, seed)
    return root


@pytest.fixture(scope="module")
def keras_model():
    model = keras.applications.InceptionV3(weights=None, classifier_activation=None)
    randomise(model)
    return model


def keras_applications_pixels(encoded):
    image = tf.cast(tf.io.decode_jpeg(encoded, channels=3), tf.float32)
    image = tf.image.resize(image, (299, 299), method="bilinear")
    return keras.applications.inception_v3.preprocess_input(image[None].numpy())


def test_keras_applications_weights_predict_as_keras_applications_on_a_jpeg(keras_model, tmp_path):
    path = tmp_path / "keras.weights.h5"
    keras_model.save_weights(path)
    pretrained = weights.load_pretrained(str(path))  # through keras.applications' own loader
    assert pretrained.source is weights.WEIGHT_SOURCES["keras_applications"]

    encoded = smooth_jpeg(tmp_path / "photos" / "eval" / "a" / "0.jpg", 240, 320, seed=3)
    smooth_jpeg(tmp_path / "photos" / "train" / "a" / "0.jpg", 240, 320, seed=4)
    pixels = keras_applications_pixels(encoded)
    # A random network's logits hardly depend on the image; Mixed_5b (keras' "mixed0") does.
    theirs = keras.Model(keras_model.input, [keras_model.get_layer("mixed0").output, keras_model.output])
    expected_features, expected_logits = (t.numpy() for t in theirs(pixels, training=False))
    ours = inception.end_points(pretrained.model, ["Mixed_5b", "Logits"])

    def our_pipeline(data):
        dataset = build_dataset(data, split="eval", image_size=pretrained.source.input_size,
                                batch_size=1, training=False)
        images, _ = next(iter(dataset))
        return images.numpy(), {k: v.numpy() for k, v in ours(images, training=False).items()}

    data = fine_tune.data_config(pretrained.source, str(tmp_path / "photos"))
    assert data.eval_crop_fraction == 1.0
    images, outputs = our_pipeline(data)
    np.testing.assert_allclose(images, pixels, atol=1e-5)
    np.testing.assert_allclose(outputs["Mixed_5b"], expected_features, atol=1e-4, rtol=1e-4)
    np.testing.assert_allclose(outputs["Logits"], expected_logits, atol=1e-4, rtol=1e-4)
    assert np.std(expected_logits) > 0.1 and np.std(expected_features) > 0.1
    # The crop matters: the paper's central 87.5% gives other features of this image.
    paper_crop = fine_tune.data_config(weights.WEIGHT_SOURCES["tf_slim"], str(tmp_path / "photos"))
    images, outputs = our_pipeline(paper_crop)
    assert np.max(np.abs(images - pixels)) > 0.05
    assert np.max(np.abs(outputs["Mixed_5b"] - expected_features)) > 1e-2


def test_load_pretrained_reads_weights_without_the_top(keras_model, tmp_path):
    path = tmp_path / "notop.weights.h5"
    keras.Model(keras_model.input, keras_model.get_layer("mixed10").output).save_weights(path)
    without_top = weights.load_pretrained(str(path))
    assert without_top.source.name == "keras_applications"
    assert without_top.model.input_shape[1] == 299
    pixels = tf.random.stateless_uniform([1, 299, 299, 3], [3, 4], -1, 1)
    expected = keras_model.get_layer("mixed10").output
    expected = keras.Model(keras_model.input, expected)(pixels, training=False)
    got = inception.end_points(without_top.model, ["Mixed_7c"])(pixels, training=False)["Mixed_7c"]
    np.testing.assert_allclose(got.numpy(), expected.numpy(), atol=1e-4, rtol=1e-4)


def test_load_pretrained_names_what_to_pass(tmp_path):
    with pytest.raises(FileNotFoundError, match="TF-slim checkpoint prefix"):
        weights.load_pretrained(str(tmp_path / "missing.ckpt"))
    with pytest.raises(FileNotFoundError, match="No Keras weights file"):
        weights.load_pretrained(str(tmp_path / "missing.h5"))
    with pytest.raises(FileNotFoundError, match="without a TF checkpoint"):
        weights.load_pretrained(str(tmp_path))


def tiny(**fields):
    return inception.inception_v3(input_size=75, depth_multiplier=0.1, min_depth=8, **fields)


def test_transfer_keeps_every_pretrained_layer_but_the_classifiers():
    source, target = tiny(num_classes=1001), tiny(num_classes=3)
    filled = fine_tune.transfer(fine_tune.pretrained_layer_weights(source), target)
    with_weights = [layer.name for layer in target.layers if layer.weights]
    assert sorted(set(with_weights) - set(filled)) == sorted(fine_tune.CLASSIFIER_LAYERS)
    for name in filled:
        for mine, theirs in zip(target.get_layer(name).weights, source.get_layer(name).weights):
            np.testing.assert_array_equal(mine.numpy(), theirs.numpy())


@pytest.mark.parametrize("freeze_batch_norm", [True, False])
def test_frozen_batch_norm_trains_as_it_evaluates(freeze_batch_norm):
    """Frozen batch norms (the default) run in inference mode in training too: no train/eval mismatch."""
    source, target = tiny(num_classes=1001), tiny(num_classes=3, include_aux=False)
    filled = fine_tune.transfer(fine_tune.pretrained_layer_weights(source), target)
    fine_tune.freeze(target, filled, trunk=False, batch_norm=freeze_batch_norm)
    norm = target.get_layer("Conv2d_1a_3x3.BatchNorm")
    assert norm.trainable is not freeze_batch_norm
    assert target.get_layer("Conv2d_1a_3x3.Conv2D").trainable  # the trunk still learns

    features = inception.end_points(target, ["Mixed_7c"])
    x = tf.random.stateless_uniform([4, 75, 75, 3], [1, 2], -1, 1)
    moving_mean = norm.moving_mean.numpy().copy()
    trained = features(x, training=True)["Mixed_7c"].numpy()
    evaluated = features(x, training=False)["Mixed_7c"].numpy()
    same = np.allclose(trained, evaluated, atol=1e-5)
    assert same is freeze_batch_norm
    assert np.array_equal(norm.moving_mean.numpy(), moving_mean) is freeze_batch_norm


def test_freeze_trunk_leaves_only_new_layers_trainable():
    source, target = tiny(num_classes=1001), tiny(num_classes=3)
    filled = fine_tune.transfer(fine_tune.pretrained_layer_weights(source), target)
    fine_tune.freeze(target, filled, trunk=True, batch_norm=True)
    trainable = {layer.name for layer in target.layers if layer.trainable_weights}
    assert trainable == set(fine_tune.CLASSIFIER_LAYERS)


def test_each_sources_preprocessing_reaches_the_run(tmp_path):
    folder = str(image_folder(tmp_path))
    for name, fraction in (("tf_slim", 0.875), ("keras_applications", 1.0)):
        source = weights.WEIGHT_SOURCES[name]
        config = fine_tune.fine_tune_config(
            source, folder, 2, epochs=1, image_size=None, batch_size=4, learning_rate=1e-3,
            include_aux=True, max_steps=None, train_examples=None, eval_examples=None, seed=0)
        assert config.data.eval_crop_fraction == fraction == source.crop_fraction
        assert config.model.input_size == source.input_size == 299
    other = weights.WeightSource("other", 1000, False, input_range=(0.0, 1.0))
    with pytest.raises(ValueError, match=r"\(0.0, 1.0\).*extend inception.data.preprocessing"):
        fine_tune.data_config(other, folder)


@pytest.mark.parametrize("make, message", [
    (lambda root: root / "nowhere", "No image folder"),
    (lambda root: image_folder(root, evaluate=0), "No eval images"),
    (lambda root: image_folder(root, train=1), "do not fill one batch of 4"),
])
def test_unusable_folders_fail_before_any_loading(tmp_path, make, message):
    data = make(tmp_path / "photos")
    with pytest.raises((FileNotFoundError, ValueError), match=message):
        fine_tune.fine_tune(str(tmp_path / "not_loaded.ckpt"), str(data), str(tmp_path / "run"),
                            batch_size=4)
    assert not (tmp_path / "run").exists()


def run_cli(*args):
    return run_script("tools/fine_tune.py", *args)


def test_cli_errors_are_one_line_with_the_fix(tmp_path):
    folder = image_folder(tmp_path / "photos")
    done = run_cli("--weights", tmp_path / "missing.ckpt", "--data", folder, "--workdir", tmp_path / "run",
                   "--batch_size", 2)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("fine_tune.py: error:")]
    assert errors == [f"fine_tune.py: error: No weights at {str(tmp_path / 'missing.ckpt')!r}: pass a "
                      "TF-slim checkpoint prefix (inception_v3.ckpt) or a keras.applications "
                      ".h5/.keras file"]
    debug = run_cli("--weights", tmp_path / "missing.ckpt", "--data", folder, "--workdir",
                    tmp_path / "run", "--batch_size", 2, "--debug")
    assert debug.returncode != 0 and "Traceback" in debug.stderr


@pytest.mark.slow
def test_fine_tune_command_from_a_tf_slim_checkpoint_to_a_saved_model(keras_model, tmp_path):
    """One command: TF-slim checkpoint + image folder -> fine-tuned, evaluated, exported (2 steps at 75x75)."""
    prefix = tmp_path / "inception_v3.ckpt"
    tensors = write_slim_checkpoint(keras_model, prefix)
    folder = image_folder(tmp_path / "photos")
    workdir = tmp_path / "runs" / "mine"
    done = run_cli("--weights", prefix, "--data", folder, "--workdir", workdir,
                   "--image_size", 75, "--batch_size", 4, "--max_steps", 2)
    assert done.returncode == 0, done.stderr[-3000:]

    printed = json.loads(done.stdout[done.stdout.index("{"):])
    summary = json.loads((workdir / "fine_tune.json").read_text())
    assert printed["steps"] == summary["steps"] == 2 and summary["weight_source"] == "tf_slim"
    assert summary["class_names"] == ["cat", "dog"] and summary["eval_examples"] == 4
    assert summary["preprocessing"]["crop_fraction"] == 0.875
    assert 0.0 <= summary["top1_error"] <= 1.0

    # The pretrained batch norms kept the checkpoint's statistics (frozen by default).
    model = inception.loading.load_trained_model(str(workdir))
    mean = model.get_layer("Mixed_6e.Branch_0.Conv2d_0a_1x1.BatchNorm").moving_mean.numpy()
    np.testing.assert_array_equal(mean, tensors["InceptionV3/Mixed_6e/Branch_0/Conv2d_0a_1x1/BatchNorm/moving_mean"])
    assert model.get_layer("logits").output.shape[-1] == 2

    # The SavedModel serves JPEG bytes with the run's own evaluation preprocessing.
    served = tf.saved_model.load(summary["export_path"]).signatures["serving_default"]
    encoded = (folder / "eval" / "cat" / "0.jpg").read_bytes()  # the first eval image
    outputs = served(images=tf.constant([encoded]))
    data = inception.training.workdir.read_config(str(workdir)).data
    images, _ = next(iter(build_dataset(data, split="eval", image_size=75, batch_size=1, training=False)))
    logits = inception.without_aux(model).predict(images, verbose=0)
    expected = tf.nn.softmax(logits).numpy()
    np.testing.assert_allclose(outputs["probabilities"].numpy(), expected, atol=1e-5)
    assert [n.decode() for n in outputs["class_names"][0].numpy()] in (["cat", "dog"], ["dog", "cat"])
