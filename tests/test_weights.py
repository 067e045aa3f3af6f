"""Weight import from keras.applications and from a TF-slim-named checkpoint.

Both sources are built here with random weights (nothing is downloaded); the
batch-norm statistics and offsets are randomised too, so that a mismatched
layer changes the outputs.
"""

import numpy as np
import pytest
import tensorflow as tf

import keras
import inception
from inception import weights


def randomise(model, seed=0):
    """Random weights everywhere, with positive variances for batch norms."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        values = []
        for w in layer.weights:
            if "variance" in w.path:
                values.append(rng.uniform(0.5, 1.5, w.shape))
            elif len(w.shape) == 4:
                fan_in = np.prod(w.shape[:3])
                values.append(rng.normal(0, np.sqrt(1.0 / fan_in), w.shape))
            else:
                values.append(rng.normal(0, 0.1, w.shape))
        if values:
            layer.set_weights([v.astype("float32") for v in values])


@pytest.fixture(scope="module")
def keras_applications_model():
    model = keras.applications.InceptionV3(weights=None, classifier_activation=None)
    randomise(model)
    return model


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(1).uniform(-1, 1, (2, 299, 299, 3)).astype("float32")


def test_from_keras_applications_gives_equal_logits(keras_applications_model, images):
    ours = weights.from_keras_applications(keras_applications_model)
    expected = keras_applications_model.predict(images, verbose=0)
    got = ours.predict(images, verbose=0)
    assert got.shape == (2, 1000)
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=1e-4)
    assert np.std(expected) > 0.1  # the comparison is not between near-zero outputs


def test_from_keras_applications_rejects_another_network():
    other = keras.applications.MobileNet(weights=None, input_shape=(128, 128, 3))
    with pytest.raises(ValueError, match="is it keras.applications.InceptionV3"):
        weights.from_keras_applications(other)


# TF-slim's checkpoint scopes in the order the released code creates them,
# written out here from the slim source so that the test does not reuse the
# library's own naming.
def _mixed_5(scope, irregular=False):
    b1 = ["Conv2d_0b_1x1", "Conv_1_0c_5x5"] if irregular else ["Conv2d_0a_1x1", "Conv2d_0b_5x5"]
    return [f"{scope}/Branch_0/Conv2d_0a_1x1"] + [f"{scope}/Branch_1/{n}" for n in b1] + [
        f"{scope}/Branch_2/Conv2d_0a_1x1", f"{scope}/Branch_2/Conv2d_0b_3x3",
        f"{scope}/Branch_2/Conv2d_0c_3x3", f"{scope}/Branch_3/Conv2d_0b_1x1"]


def _mixed_6(scope):
    return [f"{scope}/Branch_0/Conv2d_0a_1x1", f"{scope}/Branch_1/Conv2d_0a_1x1",
            f"{scope}/Branch_1/Conv2d_0b_1x7", f"{scope}/Branch_1/Conv2d_0c_7x1",
            f"{scope}/Branch_2/Conv2d_0a_1x1", f"{scope}/Branch_2/Conv2d_0b_7x1",
            f"{scope}/Branch_2/Conv2d_0c_1x7", f"{scope}/Branch_2/Conv2d_0d_7x1",
            f"{scope}/Branch_2/Conv2d_0e_1x7", f"{scope}/Branch_3/Conv2d_0b_1x1"]


def _mixed_7(scope, second):
    return [f"{scope}/Branch_0/Conv2d_0a_1x1", f"{scope}/Branch_1/Conv2d_0a_1x1",
            f"{scope}/Branch_1/Conv2d_0b_1x3", f"{scope}/Branch_1/{second}",
            f"{scope}/Branch_2/Conv2d_0a_1x1", f"{scope}/Branch_2/Conv2d_0b_3x3",
            f"{scope}/Branch_2/Conv2d_0c_1x3", f"{scope}/Branch_2/Conv2d_0d_3x1",
            f"{scope}/Branch_3/Conv2d_0b_1x1"]


SLIM_CONV_SCOPES = (
    ["Conv2d_1a_3x3", "Conv2d_2a_3x3", "Conv2d_2b_3x3", "Conv2d_3b_1x1", "Conv2d_4a_3x3"]
    + _mixed_5("Mixed_5b") + _mixed_5("Mixed_5c", irregular=True) + _mixed_5("Mixed_5d")
    + ["Mixed_6a/Branch_0/Conv2d_1a_1x1", "Mixed_6a/Branch_1/Conv2d_0a_1x1",
       "Mixed_6a/Branch_1/Conv2d_0b_3x3", "Mixed_6a/Branch_1/Conv2d_1a_1x1"]
    + _mixed_6("Mixed_6b") + _mixed_6("Mixed_6c") + _mixed_6("Mixed_6d") + _mixed_6("Mixed_6e")
    + ["Mixed_7a/Branch_0/Conv2d_0a_1x1", "Mixed_7a/Branch_0/Conv2d_1a_3x3",
       "Mixed_7a/Branch_1/Conv2d_0a_1x1", "Mixed_7a/Branch_1/Conv2d_0b_1x7",
       "Mixed_7a/Branch_1/Conv2d_0c_7x1", "Mixed_7a/Branch_1/Conv2d_1a_3x3"]
    + _mixed_7("Mixed_7b", "Conv2d_0b_3x1") + _mixed_7("Mixed_7c", "Conv2d_0c_3x1")
)


def _creation_order(model, kind):
    """keras.applications layers in creation order, from their generated names."""
    def index(layer):
        suffix = layer.name.rpartition("_")[2]
        return int(suffix) if suffix.isdigit() else 0
    return sorted((l for l in model.layers if isinstance(l, kind)), key=index)


def write_slim_checkpoint(keras_model, prefix, *, with_aux=True, ema_offset=None):
    """A TF-slim-named inception_v3 checkpoint (1001 classes) from a Keras model."""
    convs = _creation_order(keras_model, keras.layers.Conv2D)
    norms = _creation_order(keras_model, keras.layers.BatchNormalization)
    assert len(convs) == len(norms) == len(SLIM_CONV_SCOPES) == 94
    tensors = {}
    for scope, conv, norm in zip(SLIM_CONV_SCOPES, convs, norms):
        tensors[f"InceptionV3/{scope}/weights"] = conv.kernel.numpy()
        beta, mean, variance = norm.get_weights()
        tensors[f"InceptionV3/{scope}/BatchNorm/beta"] = beta
        tensors[f"InceptionV3/{scope}/BatchNorm/moving_mean"] = mean
        tensors[f"InceptionV3/{scope}/BatchNorm/moving_variance"] = variance
    kernel, bias = keras_model.get_layer("predictions").get_weights()
    rng = np.random.default_rng(5)
    # Logit 0 is TF-slim's "background" class.
    tensors["InceptionV3/Logits/Conv2d_1c_1x1/weights"] = np.concatenate(
        [rng.normal(0, 0.01, (2048, 1)), kernel], axis=1)[None, None].astype("float32")
    tensors["InceptionV3/Logits/Conv2d_1c_1x1/biases"] = np.concatenate([[7.0], bias]).astype("float32")
    if with_aux:
        aux = {"Conv2d_1b_1x1": (1, 1, 768, 128), "Conv2d_2a_5x5": (5, 5, 128, 768)}
        for scope, shape in aux.items():
            tensors[f"InceptionV3/AuxLogits/{scope}/weights"] = rng.normal(0, 0.02, shape).astype("float32")
            for v in ("beta", "moving_mean"):
                tensors[f"InceptionV3/AuxLogits/{scope}/BatchNorm/{v}"] = rng.normal(0, 0.1, shape[-1:]).astype("float32")
            tensors[f"InceptionV3/AuxLogits/{scope}/BatchNorm/moving_variance"] = rng.uniform(0.5, 1.5, shape[-1:]).astype("float32")
        tensors["InceptionV3/AuxLogits/Conv2d_2b_1x1/weights"] = rng.normal(0, 0.02, (1, 1, 768, 1001)).astype("float32")
        tensors["InceptionV3/AuxLogits/Conv2d_2b_1x1/biases"] = rng.normal(0, 0.1, (1001,)).astype("float32")
    tensors["global_step"] = np.array(1000, "int64")  # real checkpoints carry more than the network
    if ema_offset is not None:
        # Shadow variables written by tf.train.ExponentialMovingAverage.
        for name in list(tensors):
            if name.startswith("InceptionV3/"):
                tensors[f"{name}/ExponentialMovingAverage"] = tensors[name]
                tensors[name] = tensors[name] + ema_offset
    names = sorted(tensors)
    tf.raw_ops.SaveV2(
        prefix=str(prefix), tensor_names=names, shape_and_slices=[""] * len(names),
        tensors=[tf.constant(tensors[n]) for n in names],
    )
    return tensors


@pytest.mark.parametrize("use_shadow", [False, True])
def test_from_tf_slim_checkpoint_gives_equal_logits(keras_applications_model, images, tmp_path, use_shadow):
    prefix = tmp_path / "inception_v3.ckpt"
    tensors = write_slim_checkpoint(
        keras_applications_model, prefix, ema_offset=0.5 if use_shadow else None)
    ours = weights.from_tf_slim_checkpoint(str(prefix))
    assert ours.get_layer("logits").output.shape[-1] == 1001
    got = ours.predict(images, verbose=0)
    expected = keras_applications_model.predict(images, verbose=0)
    np.testing.assert_allclose(got["logits"][:, 1:], expected, atol=1e-4, rtol=1e-4)
    background = ours.get_layer("Logits.Conv2d_1c_1x1.Conv2D").get_weights()[1][0]
    assert background == pytest.approx(7.0)
    aux = ours.get_layer("AuxLogits.Conv2d_2b_1x1.Conv2D").get_weights()[1]
    np.testing.assert_array_equal(aux, tensors["InceptionV3/AuxLogits/Conv2d_2b_1x1/biases"
                                              + ("/ExponentialMovingAverage" if use_shadow else "")])


def test_tf_slim_checkpoint_without_aux_head(keras_applications_model, tmp_path):
    prefix = tmp_path / "no_aux.ckpt"
    write_slim_checkpoint(keras_applications_model, prefix, with_aux=False)
    ours = weights.from_tf_slim_checkpoint(str(prefix))
    assert ours.output.shape[-1] == 1001  # single output: no aux head in the checkpoint


def test_tf_slim_checkpoint_errors_name_the_problem(keras_applications_model, tmp_path):
    bogus = tmp_path / "bogus.ckpt"
    tf.raw_ops.SaveV2(prefix=str(bogus), tensor_names=["x"], shape_and_slices=[""], tensors=[tf.constant(1.0)])
    with pytest.raises(ValueError, match="not a TF-slim inception_v3 checkpoint"):
        weights.from_tf_slim_checkpoint(str(bogus))


def test_variable_names_of_irregular_scopes():
    model = inception.inception_v3(num_classes=1001)
    names = weights.tf_slim_variable_names(model.get_layer("Mixed_5c.Branch_1.Conv_1_0c_5x5.Conv2D"))
    assert names == ["InceptionV3/Mixed_5c/Branch_1/Conv_1_0c_5x5/weights"]
    names = weights.tf_slim_variable_names(model.get_layer("Logits.Conv2d_1c_1x1.Conv2D"))
    assert names == ["InceptionV3/Logits/Conv2d_1c_1x1/weights", "InceptionV3/Logits/Conv2d_1c_1x1/biases"]
    all_names = {n for l in model.layers for n in weights.tf_slim_variable_names(l)}
    assert all(f"InceptionV3/{s}/weights" in all_names for s in SLIM_CONV_SCOPES)


def test_weight_sources_carry_their_conventions():
    slim = weights.WEIGHT_SOURCES["tf_slim"]
    assert slim.num_classes == 1001 and slim.background_class and slim.input_range == (-1.0, 1.0)
    assert weights.WEIGHT_SOURCES["keras_applications"].num_classes == 1000
