"""inception.profiles: the small profile's compressed schedule and averaging, the paper's untouched."""

import numpy as np
import pytest

from inception import config as config_lib
from inception import profiles, rows
from inception.training.schedule import paper_learning_rate


def test_imagenet_profile_keeps_the_papers_constants():
    config = profiles.get("bn_auxiliary", "imagenet").config
    assert config.recipe.ema_decay == 0.9999
    assert config.model.batch_norm_momentum == 0.9997
    assert config.recipe.learning_rate_decay_epochs == 2.0 and config.epochs == 100.0
    assert config.recipe.learning_rate == 0.045 and config.recipe.clip_global_norm == 2.0
    assert config.distribute.per_replica_batch == 32 and config.data.source == "imagenet"
    assert config.data.crop_area_range == (0.05, 1.0) and config.data.eval_crop_fraction == 0.875


def test_the_papers_run_is_80000_steps():
    assert profiles._paper_steps() == 80_000  # 1,281,167 // 1,600 = 800 steps x 100 epochs


def test_small_profile_trains_on_all_60000_images_and_evaluates_on_all_10000():
    config = profiles.get("label_smoothing").config
    assert config.data.train_examples is None and config.data.eval_examples is None
    assert config.run_size(60_000).steps_per_epoch == 468
    assert profiles.get("crops144").config.data.eval_examples == profiles.SMALL_MULTICROP_EVAL_EXAMPLES
    assert profiles.SMALL_MULTICROP_EVAL_EXAMPLES >= 2000


def test_compressed_schedule_has_the_papers_shape():
    config = profiles.get("label_smoothing").config
    size = config.run_size(60_000)
    schedule = paper_learning_rate(size.steps_per_epoch, config.recipe.learning_rate,
                                   config.recipe.learning_rate_decay,
                                   config.recipe.learning_rate_decay_epochs)
    rates = np.array([float(schedule(step)) for step in range(size.total_steps + 1)])
    first = 0.045 * profiles.SMALL_LEARNING_RATE_FACTOR  # the paper's rate, doubled for 5 epochs
    assert rates[0] == pytest.approx(first)
    # 0.94 every 2 of 100 epochs is 50 decays: all of them inside this run, the last at its end.
    decays = np.count_nonzero(np.diff(rates) < 0)
    assert decays == 50
    assert rates[-1] == pytest.approx(first * 0.94 ** 50, rel=1e-5)
    assert rates[-2] == pytest.approx(first * 0.94 ** 49, rel=1e-5)


def test_small_doubles_every_rows_learning_rate_and_the_other_profiles_keep_it():
    assert profiles.SMALL_LEARNING_RATE_FACTOR == 2.0
    for name in ("inception_v2", "bn_auxiliary", "rf79"):
        paper = rows.get(name).config.recipe.learning_rate
        assert profiles.get(name, "small").config.recipe.learning_rate == pytest.approx(2 * paper)
        for kept in ("long", "small_crop85", "imagenet"):
            assert profiles.get(name, kept).config.recipe.learning_rate == paper


def test_averaging_windows_are_the_papers_fraction_of_the_run():
    config = profiles.get("label_smoothing").config
    steps = config.run_size(60_000).total_steps
    # The paper: EMA 0.9999 over 10,000 of 80,000 steps (12.5%), BN 0.9997 over 3,333 (4.17%).
    assert 1 / (1 - config.recipe.ema_decay) == pytest.approx(0.125 * steps, rel=1e-3)
    assert 1 / (1 - config.model.batch_norm_momentum) == pytest.approx(steps / 24, rel=1e-3)
    assert profiles.averaging_decay(0.9999, 10) == 0.9  # never faster than the floor
    assert profiles.averaging_decay(0.9999, 10**7) == 0.9999  # never slower than the paper


def test_epochs_override_recompresses_and_explicit_fields_win():
    longer = profiles.get("label_smoothing", overrides={"epochs": 10.0}).config
    assert longer.recipe.learning_rate_decay_epochs == pytest.approx(0.2)
    assert longer.recipe.ema_decay > profiles.get("label_smoothing").config.recipe.ema_decay
    pinned = profiles.get("label_smoothing", overrides={"recipe": {"ema_decay": 0.99}}).config
    assert pinned.recipe.ema_decay == 0.99


def test_controls_are_bn_auxiliary_with_one_change():
    base = profiles.get("bn_auxiliary").config
    for name in rows.rows_of("controls"):
        changed = {k for k in config_lib.diff(base, profiles.get(name).config)
                   if k.split(".")[0] not in config_lib.NOT_IDENTITY}
        assert len(changed) == 1 and changed.pop().startswith("model."), name


def test_unknown_profile_and_row_name_the_choices():
    with pytest.raises(ValueError, match="small.*long.*imagenet"):
        profiles.get("bn_auxiliary", "huge")
    with pytest.raises(ValueError, match="valid rows"):
        profiles.get("resnet50")


def test_small_trains_on_whole_images_and_small_crop85_keeps_the_earlier_crop():
    current, earlier = (profiles.get("bn_auxiliary", p).config for p in ("small", "small_crop85"))
    assert current.data.crop_area_range == (1.0, 1.0) and current.data.crop_aspect_ratio_range == (1.0, 1.0)
    assert earlier.data.crop_area_range == (0.85, 1.0) and earlier.epochs == 5.0
    assert earlier.data.crop_aspect_ratio_range == pytest.approx((0.9, 1 / 0.9))
    # Only the crop, the rate, the length and what the length sets (the compressed schedule and averages).
    changed = set(config_lib.diff(current, earlier)) - set(profiles.FOLLOW_THE_EPOCHS)
    assert changed <= {"data.crop_area_range", "data.crop_aspect_ratio_range", "epochs", "recipe.learning_rate"}
    assert {"data.crop_area_range", "data.crop_aspect_ratio_range"} <= changed
