"""The run's config as JSON in its working directory."""

import pytest

from inception.config import ExperimentConfig
from inception.training.workdir import RunPaths, read_config, write_config


def test_config_round_trips_through_the_workdir(tmp_path):
    config = ExperimentConfig(name="row").derive(
        recipe={"optimizer": "momentum"}, distribute={"cpu_replicas": 4}, max_steps=10,
        data={"crop_area_range": (0.5, 1.0)})
    assert write_config(config, str(tmp_path)) == RunPaths(str(tmp_path)).config
    assert read_config(str(tmp_path)) == config


def test_a_workdir_refuses_a_different_config(tmp_path):
    write_config(ExperimentConfig(), str(tmp_path))
    write_config(ExperimentConfig(), str(tmp_path))  # the same run may resume
    with pytest.raises(ValueError, match="recipe.label_smoothing"):
        write_config(ExperimentConfig().derive(recipe={"label_smoothing": 0.0}), str(tmp_path))


def test_a_new_name_or_seed_count_is_the_same_run(tmp_path):
    write_config(ExperimentConfig(name="a"), str(tmp_path))
    write_config(ExperimentConfig(name="b", seeds=5, description="renamed"), str(tmp_path))
    with pytest.raises(ValueError, match="seed"):
        write_config(ExperimentConfig(seed=1), str(tmp_path))
