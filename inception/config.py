"""Declarative configuration of a run: model, data, recipe, distribution.

One `ExperimentConfig` describes everything a run does. Paper-table rows are
named instances of it (see `experiments/rows.py`); a later row is an earlier one
with fields replaced (`dataclasses.replace` or `ExperimentConfig.derive`), so a
cumulative ablation reads as a diff. The config is written to the run's
directory as JSON before training starts and can be read back with
`ExperimentConfig.from_json`.

Defaults are the paper's full-scale setup (SPEC sections 2, 3, 5).
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Optional


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """Arguments of `inception.inception_v3` (see its docstring)."""

    num_classes: int = 1000
    input_size: int = 299
    include_aux: bool = True
    stem: str = "3x3"  # "3x3" (canonical, = rf299), "7x7", "rf151", "rf79"
    mixed_5_block: str = "released"  # "released" or "figure5"
    aux_batch_norm: bool = True
    depth_multiplier: float = 1.0
    min_depth: int = 16
    dropout_keep_prob: float = 0.8
    batch_norm_momentum: float = 0.9997
    batch_norm_epsilon: float = 0.001
    weight_decay: float = 4e-5
    dtype_policy: str = "float32"  # or "mixed_bfloat16" (faster where the CPU/GPU has bf16 units)

    def build_kwargs(self) -> dict:
        """Keyword arguments for `inception.inception_v3`."""
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where examples come from and how they are prepared."""

    source: str = "imagenet"  # "imagenet", "fashion_mnist" or "folder"
    data_dir: Optional[str] = None  # TFDS data dir, or the image folder
    train_examples: Optional[int] = None  # take a subset (quick runs)
    eval_examples: Optional[int] = None
    blacklist_file: Optional[str] = None  # ILSVRC2014 validation blacklist
    shuffle_buffer: int = 10_000
    train_augmentation: bool = True  # the paper's distortions; off for tiny inputs
    seed: int = 0
    manual_dir: Optional[str] = None  # ImageNet archives; default <data_dir>/downloads/manual


@dataclasses.dataclass(frozen=True)
class RecipeConfig:
    """The training recipe of paper section 8 and the authors' code."""

    optimizer: str = "rmsprop"  # "rmsprop" (TF1 semantics) or "momentum"
    learning_rate: float = 0.045
    learning_rate_decay: float = 0.94
    learning_rate_decay_epochs: float = 2.0
    rmsprop_decay: float = 0.9
    momentum: float = 0.9
    epsilon: float = 1.0
    clip_global_norm: Optional[float] = 2.0
    ema_decay: Optional[float] = 0.9999
    label_smoothing: float = 0.1
    aux_loss_weight: float = 0.4


@dataclasses.dataclass(frozen=True)
class DistributeConfig:
    """How replicas are laid out (SPEC section 5)."""

    strategy: str = "auto"  # "auto", "default", "mirrored", "multi_worker"
    cpu_replicas: Optional[int] = None  # split the CPU into N logical devices
    per_replica_batch: int = 32


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    crops: int = 1  # 1, 12 or 144
    use_ema: bool = True
    batch_size: int = 32


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole run. `paper` holds the paper's figures for the row, if any."""

    name: str = "inception_v3"
    table: Optional[str] = None
    description: str = ""
    paper: dict = dataclasses.field(default_factory=dict)
    model: ModelConfig = ModelConfig()
    data: DataConfig = DataConfig()
    recipe: RecipeConfig = RecipeConfig()
    distribute: DistributeConfig = DistributeConfig()
    evaluation: EvalConfig = EvalConfig()
    epochs: float = 100.0
    max_steps: Optional[int] = None  # stop early (tests, quick runs)
    checkpoint_every_steps: int = 1000
    log_every_steps: int = 100
    seed: int = 0
    deterministic: bool = False

    def derive(self, **changes: Any) -> "ExperimentConfig":
        """A copy with fields changed; nested sections take dicts.

        `cfg.derive(name="rmsprop", recipe={"optimizer": "rmsprop"})` changes
        only `recipe.optimizer`, so derived rows state exactly what differs.
        """
        updates = {}
        for key, value in changes.items():
            current = getattr(self, key)
            if dataclasses.is_dataclass(current) and isinstance(value, dict):
                value = dataclasses.replace(current, **value)
            updates[key] = value
        return dataclasses.replace(self, **updates)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ExperimentConfig":
        sections = {f.name: f.type for f in dataclasses.fields(cls)}
        kwargs = dict(data)
        for name, section in _SECTIONS.items():
            if name in kwargs and isinstance(kwargs[name], dict):
                kwargs[name] = section(**kwargs[name])
        unknown = set(kwargs) - set(sections)
        if unknown:
            raise ValueError(f"Unknown config fields {sorted(unknown)}; valid: {sorted(sections)}")
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> "ExperimentConfig":
        return cls.from_dict(json.loads(text))


_SECTIONS = {
    "model": ModelConfig,
    "data": DataConfig,
    "recipe": RecipeConfig,
    "distribute": DistributeConfig,
    "evaluation": EvalConfig,
}


def diff(base: ExperimentConfig, derived: ExperimentConfig) -> dict:
    """Fields (dotted paths) whose values differ between two configs."""
    changes = {}

    def walk(a, b, prefix):
        for key in a:
            if isinstance(a[key], dict) and key in _SECTIONS:
                walk(a[key], b[key], f"{prefix}{key}.")
            elif a[key] != b[key]:
                changes[prefix + key] = (a[key], b[key])

    walk(base.to_dict(), derived.to_dict(), "")
    return changes
