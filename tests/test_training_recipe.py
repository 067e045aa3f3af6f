"""The whole recipe through model.compile (paper sections 7-8)."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import inception
from inception.config import ModelConfig, RecipeConfig
from inception.training import (SmoothedSparseCategoricalCrossentropy, TF1Momentum, TF1RMSProp,
                                paper_recipe, recipe_from_config, targets_for)
from inception.training.testing import tiny_model


def test_paper_recipe_gives_the_papers_optimizer():
    optimizer = paper_recipe(steps_per_epoch=800)["optimizer"]
    assert isinstance(optimizer, keras.optimizers.Optimizer) and isinstance(optimizer, TF1RMSProp)
    assert (optimizer.decay, optimizer.momentum, optimizer.epsilon) == (0.9, 0.9, 1.0)
    assert optimizer.global_clipnorm == 2.0 and optimizer.ema_decay == 0.9999
    schedule = optimizer.learning_rate_schedule
    assert isinstance(schedule, keras.optimizers.schedules.ExponentialDecay)
    assert float(schedule(1599)) == pytest.approx(0.045) and float(schedule(1600)) == pytest.approx(0.045 * 0.94)


def test_overrides_are_recipe_fields():
    optimizer = paper_recipe(steps_per_epoch=10, optimizer="momentum", ema_decay=None)["optimizer"]
    assert isinstance(optimizer, TF1Momentum) and optimizer.ema_decay is None
    with pytest.raises(TypeError):
        paper_recipe(steps_per_epoch=10, not_a_field=1)


def test_total_loss_is_smoothed_main_plus_weighted_aux_plus_weight_decay():
    model = tiny_model(ModelConfig(num_classes=5, input_size=8, dropout_keep_prob=1.0))
    model.compile(**recipe_from_config(RecipeConfig(), steps_per_epoch=10, has_aux=True))
    x = np.random.default_rng(0).normal(size=(4, 8, 8, 3)).astype("float32")
    y = np.array([0, 1, 4, 2])
    out = model(x, training=False)
    total = model.compute_loss(x=x, y={"logits": y, "aux_logits": y}, y_pred=out, training=False)
    smoothed = SmoothedSparseCategoricalCrossentropy(0.1)
    kernels = [v for v in model.trainable_variables if "kernel" in v.path]
    decay = 4e-5 * sum(float(tf.reduce_sum(k**2)) for k in kernels) / 2  # TF l2_loss semantics
    expected = float(smoothed(y, out["logits"])) + 0.4 * float(smoothed(y, out["aux_logits"])) + decay
    np.testing.assert_allclose(float(total), expected, rtol=1e-5)


def test_fit_on_images_and_integer_labels_with_targets_for():
    model = tiny_model(ModelConfig(num_classes=5, input_size=8))
    model.compile(**paper_recipe(steps_per_epoch=10))
    x = np.zeros((8, 8, 8, 3), "float32")
    ds = tf.data.Dataset.from_tensor_slices((x, np.arange(8) % 5)).batch(4)
    history = model.fit(ds.map(targets_for(model)), verbose=0, shuffle=False)
    assert {"loss", "logits_top1", "logits_top5", "aux_logits_loss"} <= set(history.history)
    single = tiny_model(ModelConfig(num_classes=5, input_size=8, include_aux=False))
    single.compile(**paper_recipe(steps_per_epoch=10, has_aux=False))
    assert {"top1", "top5"} <= set(single.fit(ds.map(targets_for(single)), verbose=0, shuffle=False).history)


def test_the_network_carries_tf_l2_loss_weight_decay():
    model = inception.inception_v3(num_classes=10, input_size=75, depth_multiplier=0.1, min_depth=8,
                                   weight_decay=4e-5)
    kernels = [v for v in model.trainable_variables if v.path.endswith("kernel")]
    assert kernels
    expected = 4e-5 * sum(float(tf.reduce_sum(k**2)) for k in kernels) / 2
    np.testing.assert_allclose(float(tf.add_n(model.losses)), expected, rtol=1e-4)
