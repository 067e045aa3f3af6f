"""Top-k error, crop averaging and ensembles (inception/evaluation.py)."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import inception
from inception import evaluation
from inception.config import ModelConfig
from inception.training.testing import tiny_model


def tiny(num_classes=6, seed=0, **kwargs):
    keras.utils.set_random_seed(seed)
    return inception.inception_v3(
        num_classes=num_classes, input_size=75, depth_multiplier=0.05, min_depth=4, **kwargs)


def softmax(x):
    e = np.exp(x - x.max(-1, keepdims=True))
    return e / e.sum(-1, keepdims=True)


def test_top_k_correct():
    probabilities = np.array([[0.1, 0.5, 0.4], [0.7, 0.2, 0.1]])
    np.testing.assert_array_equal(evaluation.top_k_correct(probabilities, [2, 0], 1), [False, True])
    np.testing.assert_array_equal(evaluation.top_k_correct(probabilities, [2, 2], 2), [True, False])
    # k larger than the number of classes counts every label as found
    np.testing.assert_array_equal(evaluation.top_k_correct(probabilities, [2, 2], 5), [True, True])


def test_crops_and_models_are_averaged_in_probability_space():
    models = [tiny(include_aux=False, seed=s) for s in (1, 2)]
    images = np.random.default_rng(0).uniform(-1, 1, (2, 3, 75, 75, 3)).astype("float32")
    got = evaluation.average_probabilities(models, images)
    expected = np.mean([
        softmax(m.predict(images.reshape(6, 75, 75, 3), verbose=0)).reshape(2, 3, -1).mean(1)
        for m in models
    ], axis=0)
    np.testing.assert_allclose(got, expected, atol=1e-6)
    np.testing.assert_allclose(got.sum(-1), 1.0, atol=1e-5)


def test_evaluate_counts_errors_over_batches_and_ignores_the_aux_head():
    model = tiny()
    images = np.random.default_rng(1).uniform(-1, 1, (5, 75, 75, 3)).astype("float32")
    predicted = np.argmax(inception.without_aux(model).predict(images, verbose=0), -1)
    labels = predicted.copy()
    labels[:2] = (labels[:2] + 1) % 6  # two wrong at top-1
    dataset = tf.data.Dataset.from_tensor_slices((images, labels)).batch(2)
    result = evaluation.evaluate(model, dataset, use_ema=False)
    assert result.examples == 5 and result.crops == 1 and result.models == 1
    assert result.top1_error == pytest.approx(2 / 5)
    assert result.top5_error <= result.top1_error


def test_evaluate_uses_the_moving_averages_and_restores_the_raw_weights():
    # The two-layer test network: the swap of weights is the point, not the network.
    keras.utils.set_random_seed(0)
    model = tiny_model(ModelConfig(num_classes=6, input_size=75))
    model.compile(**inception.training.paper_recipe(steps_per_epoch=1, learning_rate=0.5))
    images = np.random.default_rng(2).uniform(-1, 1, (8, 75, 75, 3)).astype("float32")
    labels = np.arange(8) % 6
    data = tf.data.Dataset.from_tensor_slices((images, labels)).batch(4)
    model.fit(data.map(inception.training.targets_for(model)), epochs=1, verbose=0)
    raw = [w.numpy().copy() for w in model.trainable_weights]
    with inception.training.ema_weights(model):
        expected = softmax(inception.without_aux(model).predict(images, verbose=0))
    got = evaluation.average_probabilities([inception.without_aux(model)], images)
    assert not np.allclose(got, expected, atol=1e-4)  # raw and averaged weights differ
    result = evaluation.evaluate(model, data, use_ema=True)
    top1 = 1 - np.mean(np.argmax(expected, -1) == labels)
    assert result.top1_error == pytest.approx(top1)
    for before, after in zip(raw, model.trainable_weights):
        np.testing.assert_array_equal(before, after.numpy())


def test_evaluate_rejects_empty_input():
    with pytest.raises(ValueError, match="no examples"):
        evaluation.evaluate(tiny(include_aux=False), [], use_ema=False)
    with pytest.raises(ValueError, match="at least one model"):
        evaluation.evaluate([], [], use_ema=False)
