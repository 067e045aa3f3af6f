"""TF1 RMSProp and Momentum in keras.ops against TF1's own optimizers; clipping (paper section 8)."""

import numpy as np
import pytest
import tensorflow as tf

from inception.training.optimizer import TF1Momentum, TF1RMSProp

# 25 steps of gradients that grow and change sign, so the slots move well away from their start.
GRADIENTS = [np.array([[0.3, -1.2], [2.0, 0.05]], np.float32) * (step + 1) * (-1) ** (step // 3)
             for step in range(25)]
INITIAL = np.array([[1.0, -2.0], [0.5, 3.0]], np.float32)


def _apply_all(optimizer):
    """Apply GRADIENTS in turn (TF1 and Keras optimizers share `apply_gradients`)."""
    variable = tf.Variable(INITIAL)
    for gradient in GRADIENTS:
        optimizer.apply_gradients([(tf.constant(gradient), variable)])
    return variable.numpy()


def test_rmsprop_equals_tf1_rmsprop_over_several_steps():
    expected = _apply_all(tf.compat.v1.train.RMSPropOptimizer(0.045, decay=0.9, momentum=0.9, epsilon=1.0))
    actual = _apply_all(TF1RMSProp(0.045, decay=0.9, momentum=0.9, epsilon=1.0))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


def test_rmsprop_first_step_by_hand():
    g = GRADIENTS[0]
    ms = 0.9 * 1.0 + 0.1 * g**2  # the slot starts at 1.0
    expected = INITIAL - 0.045 * g / np.sqrt(ms + 1.0)
    variable = tf.Variable(INITIAL)
    TF1RMSProp(0.045).apply_gradients([(tf.constant(g), variable)])
    np.testing.assert_allclose(variable.numpy(), expected, rtol=1e-6)


def test_momentum_equals_tf1_momentum_over_several_steps():
    expected = _apply_all(tf.compat.v1.train.MomentumOptimizer(0.045, momentum=0.9))
    actual = _apply_all(TF1Momentum(0.045, momentum=0.9))
    np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-6)


@pytest.mark.parametrize("norm", [0.5, 7.0])
def test_clipping_bounds_the_global_norm(norm):
    gradients = [np.full((3,), 2.0, np.float32), np.full((2, 2), -1.5, np.float32)]
    global_norm = np.sqrt(sum((g**2).sum() for g in gradients))
    variables = [tf.Variable(np.zeros_like(g)) for g in gradients]
    # Momentum 0, lr 1: the step is exactly the (clipped) gradient.
    TF1Momentum(1.0, momentum=0.0, global_clipnorm=2.0).apply_gradients(
        [(tf.constant(g * norm / global_norm), v) for g, v in zip(gradients, variables)])
    applied = np.sqrt(sum((v.numpy() ** 2).sum() for v in variables))
    np.testing.assert_allclose(applied, min(norm, 2.0), rtol=1e-5)


def test_optimizer_round_trips_its_config():
    optimizer = TF1RMSProp(0.01, decay=0.8, epsilon=0.5, global_clipnorm=2.0, ema_decay=0.99)
    clone = TF1RMSProp.from_config(optimizer.get_config())
    assert (clone.decay, clone.epsilon, clone.global_clipnorm, clone.ema_decay) == (0.8, 0.5, 2.0, 0.99)
