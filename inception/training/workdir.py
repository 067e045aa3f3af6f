"""What a run writes to its working directory, and the run config as JSON.

    workdir/
      config.json           the ExperimentConfig, written before training
      checkpoints/          training state (TrainingCheckpoint): resume from here
      tensorboard/          Keras TensorBoard logs (train/ and validation/)
      history.jsonl         one line per log interval: step, loss, accuracies, lr
      final.weights.h5      the trained weights used for evaluation (EMA if kept)
      final_raw.weights.h5  the raw training weights at the end
      results.json          what train_and_evaluate returned
"""

from __future__ import annotations

import dataclasses
import json
import os

from inception import config as config_lib
from inception.config import ExperimentConfig


class _InWorkdir:
    """A file or folder of the run directory, as an attribute of `RunPaths`: its path."""

    def __init__(self, name: str):
        self.name = name

    def __get__(self, paths, owner=None):
        return self if paths is None else os.path.join(paths.workdir, self.name)


@dataclasses.dataclass(frozen=True)
class RunPaths:
    """The paths of what a run writes (the module docstring lists them)."""

    workdir: str

    config = _InWorkdir("config.json")
    checkpoints = _InWorkdir("checkpoints")
    tensorboard = _InWorkdir("tensorboard")
    history = _InWorkdir("history.jsonl")
    final_weights = _InWorkdir("final.weights.h5")
    final_raw_weights = _InWorkdir("final_raw.weights.h5")
    results = _InWorkdir("results.json")


def read_config(workdir: str) -> ExperimentConfig:
    with open(RunPaths(workdir).config) as f:
        return ExperimentConfig.from_json(f.read())


def write_config(config: ExperimentConfig, workdir: str) -> str:
    """Write config.json; refuse if the directory holds a different run's config.

    A resumed run must use the config its checkpoints were made with. Only
    what the run trains counts (`ExperimentConfig.identity`): a new name or
    seed count for the same training is the same run.
    """
    paths = RunPaths(workdir)
    os.makedirs(workdir, exist_ok=True)
    if os.path.exists(paths.config):
        previous = read_config(workdir)
        changes = {k: v for k, v in config_lib.diff(previous, config).items()
                   if k.split(".")[0] not in config_lib.NOT_IDENTITY}
        if changes:
            raise ValueError(
                f"{workdir} holds a run with a different config ({changes}); "
                "use a new workdir, or the same config to resume.")
    _write_atomically(paths.config, config.to_json())
    return paths.config


def read_results(workdir: str) -> dict:
    """The results.json `train_and_evaluate` wrote."""
    with open(RunPaths(workdir).results) as f:
        return json.load(f)


def write_results(results: dict, workdir: str) -> str:
    path = RunPaths(workdir).results
    _write_atomically(path, json.dumps(results, indent=2, sort_keys=True))
    return path


def _write_atomically(path: str, text: str) -> None:
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        f.write(text + "\n")
    os.replace(temporary, path)
