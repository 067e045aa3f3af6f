"""The run's config as JSON in its working directory."""

import pytest

from inception.config import ExperimentConfig
from inception.training.workdir import RunPaths, read_config, write_config


def test_config_round_trips_through_the_workdir(tmp_path):
    config = ExperimentConfig(name="row", paper={"top1_error": 21.2}).derive(
        recipe={"optimizer": "momentum"}, distribute={"cpu_replicas": 4}, max_steps=10)
    assert write_config(config, str(tmp_path)) == RunPaths(str(tmp_path)).config
    assert read_config(str(tmp_path)) == config


def test_a_workdir_refuses_a_different_config(tmp_path):
    write_config(ExperimentConfig(), str(tmp_path))
    write_config(ExperimentConfig(), str(tmp_path))  # the same run may resume
    with pytest.raises(ValueError, match="recipe.label_smoothing"):
        write_config(ExperimentConfig().derive(recipe={"label_smoothing": 0.0}), str(tmp_path))
