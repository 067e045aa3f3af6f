"""TF1-style parameter averaging (paper section 8)."""

import numpy as np
import pytest
import tensorflow as tf
import keras

from inception.training.ema import ema_weights, tf1_decay
from inception.training.optimizer import TF1Momentum


@pytest.mark.parametrize("step, expected", [(0, 0.1), (1, 2 / 11), (90, 91 / 100), (10**6, 0.9999)])
def test_effective_decay(step, expected):
    np.testing.assert_allclose(float(tf1_decay(float(step), 0.9999)), expected, rtol=1e-6)


def test_average_follows_tf1_by_hand():
    # lr 1, no momentum: the weights after step t are w0 - sum of gradients.
    variable = tf.Variable([1.0, -1.0])
    optimizer = TF1Momentum(1.0, momentum=0.0, ema_decay=0.9999)
    gradients = [np.array([0.5, 0.25], np.float32) * (t + 1) for t in range(5)]
    weights, average = np.array([1.0, -1.0]), np.array([1.0, -1.0])  # shadow starts at w0
    for t, g in enumerate(gradients):
        optimizer.apply_gradients([(tf.constant(g), variable)])
        weights = weights - g
        decay = min(0.9999, (1 + t) / (10 + t))
        average = decay * average + (1 - decay) * weights
    np.testing.assert_allclose(variable.numpy(), weights, rtol=1e-6)
    np.testing.assert_allclose(optimizer.average_of(variable).numpy(), average, rtol=1e-6)


def test_ema_weights_swaps_in_and_back():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=TF1Momentum(0.1, ema_decay=0.9999), loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=3, verbose=0)
    raw = [w.copy() for w in model.get_weights()]
    averages = [model.optimizer.average_of(v).numpy() for v in model.trainable_variables]
    with ema_weights(model):
        for v, a in zip(model.trainable_variables, averages):
            np.testing.assert_array_equal(v.numpy(), a)
    for w, r in zip(model.get_weights(), raw):
        np.testing.assert_array_equal(w, r)
    assert not np.allclose(raw[0], averages[0])


def test_ema_weights_is_a_no_op_without_averages():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=TF1Momentum(0.1), loss="mse")
    with ema_weights(model):
        pass
