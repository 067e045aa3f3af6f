"""Fast inference: batch norm folded into convolutions gives the same outputs; int8 agrees.

int8 needs TensorFlow with oneDNN, chosen when TensorFlow starts, so those
tests run in a child process with TF_ENABLE_ONEDNN_OPTS=1.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import inception
from inception import fast_inference
from tests.support import run_python

SMALL = dict(num_classes=10, input_size=75, depth_multiplier=0.25, min_depth=8)


def with_trained_statistics(model: keras.Model, seed: int = 0) -> keras.Model:
    """Batch norms with moving statistics and offsets far from their initial 0 and 1."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.moving_mean.shape[0]
            layer.moving_mean.assign(rng.normal(0.0, 0.5, n))
            layer.moving_variance.assign(rng.uniform(0.2, 3.0, n))
            layer.beta.assign(rng.normal(0.0, 0.3, n))
            if layer.scale:
                layer.gamma.assign(rng.uniform(0.5, 1.5, n))
    return model


def images(count=4, size=75, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (count, size, size, 3)).astype("float32")


@pytest.fixture(scope="module")
def classifier():
    keras.utils.set_random_seed(0)
    return with_trained_statistics(inception.without_aux(inception.inception_v3(**SMALL)))


def test_folding_inception_removes_every_batch_norm_and_keeps_the_outputs(classifier):
    folded = fast_inference.fold_batch_norm(classifier)
    batch_norms = [l for l in classifier.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(fast_inference.foldable_pairs(classifier)) == len(batch_norms) == 94
    assert not any(isinstance(l, keras.layers.BatchNormalization) for l in folded.layers)
    x = images()
    expected = classifier.predict_on_batch(x)
    np.testing.assert_allclose(folded.predict_on_batch(x), expected, rtol=1e-4, atol=1e-5)
    # End points keep their names; the original model is untouched.
    assert folded.get_layer("Mixed_7c").name == "Mixed_7c"
    np.testing.assert_array_equal(classifier.predict_on_batch(x), expected)


def test_the_folded_model_owns_its_weights(classifier):
    folded = fast_inference.fold_batch_norm(classifier)
    original = {id(v) for v in classifier.weights}
    assert not any(id(v) in original for v in folded.weights)


def test_folding_keeps_the_two_outputs_of_the_model_with_the_auxiliary_head():
    model = with_trained_statistics(inception.inception_v3(**SMALL))
    folded = fast_inference.fold_batch_norm(model)
    x = images(2)
    expected, got = model.predict_on_batch(x), folded.predict_on_batch(x)
    assert set(got) == {"logits", "aux_logits"}
    for name in got:
        np.testing.assert_allclose(got[name], expected[name], rtol=1e-4, atol=1e-5)


def test_only_a_conv_whose_output_feeds_nothing_but_the_batch_norm_folds():
    inputs = keras.Input((8, 8, 3))
    shared = keras.layers.Conv2D(4, 3, use_bias=True, name="shared")(inputs)
    normalised = keras.layers.BatchNormalization(name="bn_shared")(shared)
    branch = keras.layers.ReLU()(shared)  # a second consumer of the raw convolution
    alone = keras.layers.Conv2D(4, 1, name="alone")(normalised)
    scaled = keras.layers.BatchNormalization(scale=True, name="bn_alone")(alone)
    after_pool = keras.layers.BatchNormalization(name="bn_pool")(keras.layers.MaxPooling2D()(scaled))
    model = with_trained_statistics(keras.Model(inputs, [branch, after_pool]))
    assert fast_inference.foldable_pairs(model) == {"bn_alone": "alone"}
    folded = fast_inference.fold_batch_norm(model)
    x = images(3, 8)
    for got, expected in zip(folded.predict_on_batch(x), model.predict_on_batch(x)):
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_folding_keras_applications_inception_v3():
    model = with_trained_statistics(keras.applications.InceptionV3(weights=None, input_shape=(75, 75, 3),
                                                                   classes=10))
    folded = fast_inference.fold_batch_norm(model)
    assert len(fast_inference.foldable_pairs(model)) == 94
    x = images(2)
    np.testing.assert_allclose(folded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-4, atol=1e-6)


def test_the_folded_model_saves_loads_and_exports(classifier, tmp_path):
    from inception import export

    folded = fast_inference.fold_batch_norm(classifier)
    path = str(tmp_path / "folded.keras")
    folded.save(path)
    x = images(2)
    np.testing.assert_allclose(keras.saving.load_model(path).predict_on_batch(x), folded.predict_on_batch(x),
                               rtol=1e-6, atol=1e-6)
    version = export.export_savedmodel(folded, str(tmp_path / "exported"), use_ema=False)
    served = tf.saved_model.load(version).signatures[export.IMAGES_SIGNATURE](images=tf.constant(x))
    np.testing.assert_allclose(served["probabilities"].numpy(),
                               tf.nn.softmax(classifier.predict_on_batch(x)).numpy(), rtol=1e-4, atol=1e-6)


def test_frozen_function_matches_the_model(classifier):
    frozen = fast_inference.frozen_function(fast_inference.fold_batch_norm(classifier))
    x = images(2)
    np.testing.assert_allclose(frozen(tf.constant(x)).numpy(), classifier.predict_on_batch(x),
                               rtol=1e-4, atol=1e-5)


def test_quantized_activations_round_trip_within_half_a_step():
    x = tf.constant(np.linspace(-1.0, 7.0, 101, dtype=np.float32))
    q = fast_inference.Quantized.from_float(x, 6.0)
    step = 6.0 / 255
    expected = np.clip(x.numpy(), 0.0, 6.0)
    assert np.abs(q.dequantize().numpy() - expected).max() <= step / 2 + 1e-6
    # Requantizing rounds twice: at most half a step of each scale.
    requantized = q.requantized(3.0).dequantize().numpy()
    assert np.abs(requantized - np.clip(expected, 0, 3)).max() <= (6.0 / 255 + 3.0 / 255) / 2 + 1e-6


WITHOUT_ONEDNN = """
    import sys, keras, pytest
    sys.path.insert(0, "tests")
    from test_fast_inference import images
    from inception import fast_inference

    assert not fast_inference.onednn_enabled()
    with pytest.raises(RuntimeError, match="TF_ENABLE_ONEDNN_OPTS=1"):
        fast_inference.Int8Classifier(keras.Sequential([keras.Input((4, 4, 3))]), images(1, 4))
    print("ok")
"""


def test_int8_needs_onednn():
    # In a fresh process with oneDNN switched off, whatever this CPU's default is.
    result = run_python(WITHOUT_ONEDNN, env={"TF_ENABLE_ONEDNN_OPTS": "0"})
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout[-2000:] + result.stderr[-4000:]


INT8 = """
    import sys, numpy as np, tensorflow as tf, keras, inception
    from tests.test_fast_inference import SMALL, images, with_trained_statistics
    from inception import fast_inference

    assert fast_inference.onednn_enabled()
    keras.utils.set_random_seed(0)
    classifier = with_trained_statistics(inception.without_aux(inception.inception_v3(**SMALL)))
    folded = fast_inference.fold_batch_norm(classifier)
    int8 = fast_inference.Int8Classifier(folded, images(16, seed=2))
    graph = int8.predict.get_concrete_function().graph.as_graph_def()
    ops = [n.op for n in graph.node]
    # All but the first of the 94 convolution units run as one int8 kernel each.
    assert ops.count("QuantizedConv2DWithBiasAndReluAndRequantize") == 93, ops.count(
        "QuantizedConv2DWithBiasAndReluAndRequantize")
    # The module keeps only the float layers' variables: first convolution and classifier.
    assert len(int8.float_variables) == 4, [v.name for v in int8.float_variables]
    x = images(32, seed=3)
    expected = folded.predict_on_batch(x)
    got = int8(tf.constant(x)).numpy()
    error = np.abs(got - expected).max() / np.abs(expected).max()
    agreement = np.mean(got.argmax(-1) == expected.argmax(-1))
    assert error < 0.1 and agreement >= 0.9, (error, agreement)

    path = fast_inference.save_int8(int8, sys.argv[1])
    served = tf.saved_model.load(path).signatures[fast_inference.IMAGES_SIGNATURE](images=tf.constant(x))
    np.testing.assert_allclose(served["probabilities"].numpy(), tf.nn.softmax(got).numpy(), atol=1e-6)
    assert served["classes"].shape == (32, 5)
    print("ok", error, agreement)
"""


def test_int8_classifier_agrees_with_float_and_saves(tmp_path):
    result = run_python(INT8, tmp_path / "int8", env={"TF_ENABLE_ONEDNN_OPTS": "1"})
    assert result.returncode == 0 and "ok" in result.stdout, result.stdout[-2000:] + result.stderr[-4000:]
