"""Declarative configuration of a run: model, data, recipe, distribution, evaluation.

One `ExperimentConfig` describes everything a run does. The paper's table
rows are named instances of it (`inception.rows`); a later row is an earlier
one with fields replaced (`ExperimentConfig.derive`), so a cumulative
ablation reads as a diff (`diff`). The config is written to the run's
directory as JSON before training starts and read back with
`ExperimentConfig.from_json`.

Every default is the paper's full-scale setup (sections 6-8 of the paper,
and the network the authors released). `ModelConfig` is the one source of
the network's settings: `inception.inception_v3(**fields)` builds from it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
from typing import Any, Optional, Tuple

# The choices of the network's variants (see `inception.model` and `inception.blocks`).
STEMS = ("3x3", "7x7", "rf151", "rf79")
MIXED_5_BLOCKS = ("released", "figure5", "asymmetric")
GRID_REDUCTIONS = ("parallel", "pool_first", "conv_first")
FACTORIZED_ACTIVATIONS = ("relu", "linear")
# Keras dtype policies the network is built and trained in. Under
# "mixed_bfloat16" layers compute in bfloat16 and keep float32 variables (so
# checkpoints and exports are unchanged); the logits stay float32. Float16
# would need loss scaling, which the recipe's optimizers do not do.
DTYPE_POLICIES = ("float32", "mixed_bfloat16")
OPTIMIZERS = ("rmsprop", "momentum")


def _choose(field: str, value, choices) -> None:
    if value not in choices:
        raise ValueError(f"Unknown {field} {value!r}; valid: {choices}.")


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ValueError(message)


@dataclasses.dataclass(frozen=True)
class ModelConfig:
    """The network: `inception.inception_v3(**dataclasses.asdict(model_config))`.

    Args:
      num_classes: 1000 for ImageNet; 1001 for the TF-slim checkpoint layout
        (class 0 is "background").
      input_size: side of the square input (299 in the paper); images in [-1, 1].
      include_aux: the auxiliary classifier of Figure 8 (outputs become a dict
        {"logits", "aux_logits"}); section 4's control trains without it.
      stem: "3x3" (released), "7x7" (Table 3's Inception-v2 rows), "rf151" or
        "rf79" (Table 2's smaller receptive fields).
      mixed_5_block: the 35x35 blocks: "released", "figure5" (Figure 5 as
        drawn: every 5x5 factorized) or "asymmetric" (section 3.2's control:
        each nxn of the released block as 1xn then nx1).
      grid_reduction: "parallel" (Figure 10, released), "pool_first" or
        "conv_first" (the two ways of Figure 9).
      factorized_first_activation: "relu" (released) or "linear" (Figure 2's
        control: the first layer of every factorized pair without ReLU).
      aux_batch_norm: batch-normalize the auxiliary head ("BN-auxiliary").
      depth_multiplier, min_depth: every filter count becomes
        max(int(d * depth_multiplier), min_depth), as in TF-slim.
      dropout_keep_prob: keep probability of the dropout before the logits.
      batch_norm_momentum: moving-average decay of batch-norm statistics
        (0.9997 as released; short runs need a faster one).
      batch_norm_epsilon: 0.001, as released.
      weight_decay: L2 factor in TF `l2_loss` semantics on every kernel (4e-5).
      dtype_policy: "float32" or "mixed_bfloat16"; None follows Keras' global
        policy when the network is built.
      color_distortion: the authors' colour distortion of training images as
        the network's first layer (`RandomColorDistortion`, the identity at
        inference), so that it runs batched on the accelerator instead of
        the CPU; the input pipeline must then leave it out
        (`DataConfig.train_augmentation=False`).
    """

    num_classes: int = 1000
    input_size: int = 299
    include_aux: bool = True
    stem: str = "3x3"
    mixed_5_block: str = "released"
    grid_reduction: str = "parallel"
    factorized_first_activation: str = "relu"
    aux_batch_norm: bool = True
    depth_multiplier: float = 1.0
    min_depth: int = 16
    dropout_keep_prob: float = 0.8
    batch_norm_momentum: float = 0.9997
    batch_norm_epsilon: float = 0.001
    weight_decay: float = 4e-5
    dtype_policy: Optional[str] = None
    color_distortion: bool = False

    def __post_init__(self):
        _choose("stem", self.stem, STEMS)
        _choose("mixed_5_block", self.mixed_5_block, MIXED_5_BLOCKS)
        _choose("grid_reduction", self.grid_reduction, GRID_REDUCTIONS)
        _choose("factorized_first_activation", self.factorized_first_activation,
                FACTORIZED_ACTIVATIONS)
        if self.dtype_policy is not None:
            _choose("dtype_policy", self.dtype_policy, DTYPE_POLICIES)
        _require(self.num_classes >= 1, f"num_classes must be at least 1, got {self.num_classes}.")
        _require(self.depth_multiplier > 0,
                 f"depth_multiplier must be greater than zero, got {self.depth_multiplier}.")
        _require(self.min_depth >= 1, f"min_depth must be at least 1, got {self.min_depth}.")
        _require(0.0 < self.dropout_keep_prob <= 1.0,
                 f"dropout_keep_prob must be in (0, 1], got {self.dropout_keep_prob}.")
        _require(0.0 <= self.batch_norm_momentum < 1.0,
                 f"batch_norm_momentum must be in [0, 1), got {self.batch_norm_momentum}.")


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """Where examples come from and how they are prepared (paper section 8, and its ImageNet setup).

    The crop fields are those of the training crop (`sample_distorted_bounding_box`)
    and the central crop of evaluation; their defaults are the paper's ImageNet values.
    """

    source: str = "imagenet"  # "imagenet", "fashion_mnist" or "folder"
    data_dir: Optional[str] = None  # TFDS data dir, or the image folder
    train_examples: Optional[int] = None  # take a subset (quick runs)
    eval_examples: Optional[int] = None
    blacklist_file: Optional[str] = None  # ILSVRC2014 validation blacklist
    shuffle_buffer: int = 10_000
    train_augmentation: bool = True  # the colour distortions; off for grey images
    crop_area_range: Tuple[float, float] = (0.05, 1.0)
    crop_aspect_ratio_range: Tuple[float, float] = (3.0 / 4.0, 4.0 / 3.0)
    crop_min_object_covered: float = 0.1
    eval_crop_fraction: float = 0.875  # the central crop of evaluation
    seed: int = 0
    manual_dir: Optional[str] = None  # ImageNet archives; default <data_dir>/downloads/manual

    def __post_init__(self):
        for field in ("crop_area_range", "crop_aspect_ratio_range"):  # JSON gives lists
            value = tuple(getattr(self, field))
            _require(len(value) == 2 and 0 < value[0] <= value[1],
                     f"DataConfig.{field} must be (low, high) with 0 < low <= high, got {value}.")
            object.__setattr__(self, field, value)
        _require(self.crop_area_range[1] <= 1.0, "DataConfig.crop_area_range cannot exceed 1.0.")
        _require(0.0 <= self.crop_min_object_covered <= 1.0,
                 "DataConfig.crop_min_object_covered must be in [0, 1].")
        _require(0.0 < self.eval_crop_fraction <= 1.0,
                 f"DataConfig.eval_crop_fraction must be in (0, 1], got {self.eval_crop_fraction}.")


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

    def __post_init__(self):
        _choose("optimizer", self.optimizer, OPTIMIZERS)
        _require(self.learning_rate_decay_epochs > 0,
                 f"learning_rate_decay_epochs must be positive, got {self.learning_rate_decay_epochs}.")
        if self.ema_decay is not None:
            _require(0.0 < self.ema_decay < 1.0, f"ema_decay must be in (0, 1), got {self.ema_decay}.")


@dataclasses.dataclass(frozen=True)
class DistributeConfig:
    """How replicas are laid out: tf.distribute on TensorFlow, keras.distribution on JAX."""

    strategy: str = "auto"  # "auto", "default", "mirrored", "multi_worker"
    cpu_replicas: Optional[int] = None  # split the CPU into N logical devices
    per_replica_batch: int = 32


@dataclasses.dataclass(frozen=True)
class EvalConfig:
    """How the trained network is evaluated, and the held-out curve during training.

    `heldout_every_steps`: every that many steps (rounded to log intervals)
    the averaged weights are evaluated on the first `heldout_examples`
    evaluation images, as the paper's Figure 8 plots held-out accuracy
    against iterations; None draws no such curve.
    """

    crops: int = 1  # 1, 12 or 144
    use_ema: bool = True
    batch_size: int = 32
    heldout_every_steps: Optional[int] = None
    heldout_examples: int = 1000


# Fields of ExperimentConfig that name or count a run without changing what it trains.
NOT_IDENTITY = ("name", "table", "description", "seeds")


@dataclasses.dataclass(frozen=True)
class ExperimentConfig:
    """A whole run; `seeds` runs it that many times (seed, seed + 1, ...)."""

    name: str = "inception_v3"
    table: Optional[str] = None
    description: str = ""
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
    seeds: int = 1
    deterministic: bool = False

    def __post_init__(self):
        _require(self.seeds >= 1, f"seeds must be at least 1, got {self.seeds}.")
        _require(self.epochs >= 0, f"epochs cannot be negative, got {self.epochs}.")
        _require(not (self.model.color_distortion and self.data.train_augmentation),
                 "model.color_distortion and data.train_augmentation would each distort the colours "
                 "of a training image: set data.train_augmentation=False to distort them only in "
                 "the model (on the accelerator), or model.color_distortion=False to keep the "
                 "input pipeline's.")

    def derive(self, **changes: Any) -> "ExperimentConfig":
        """A copy with fields changed; nested sections take dicts.

        `cfg.derive(name="rmsprop", recipe={"optimizer": "rmsprop"})` changes
        only `recipe.optimizer`, so derived rows state exactly what differs.
        """
        updates = {}
        for key, value in changes.items():
            if key not in _FIELDS:
                raise ValueError(f"Unknown config field {key!r}; valid: {sorted(_FIELDS)}.")
            current = getattr(self, key)
            if dataclasses.is_dataclass(current) and isinstance(value, dict):
                _check_fields(type(current), value, prefix=f"{key}.")
                value = dataclasses.replace(current, **value)
            updates[key] = value
        return dataclasses.replace(self, **updates)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict) -> "ExperimentConfig":
        _check_fields(cls, data)
        kwargs = dict(data)
        for name, section in _SECTIONS.items():
            if isinstance(kwargs.get(name), dict):
                _check_fields(section, kwargs[name], prefix=f"{name}.")
                kwargs[name] = section(**kwargs[name])
        return cls(**kwargs)

    @classmethod
    def from_json(cls, text: str) -> "ExperimentConfig":
        return cls.from_dict(json.loads(text))

    def identity(self, with_seed: bool = True) -> dict:
        """What the run trains: the fields that differ from the defaults, names and seed count left out.

        Fields added later with a default leave the identity of older runs
        unchanged. Without `with_seed` it is the identity of the row: the
        same for all its seeds.
        """
        skip = NOT_IDENTITY + (() if with_seed else ("seed",))
        return {k: v for k, v in _sparse(self, type(self)()).items() if k not in skip}

    def identity_hash(self, with_seed: bool = True) -> str:
        """A short hash of `identity()`: two runs with the same hash train the same thing."""
        text = json.dumps(self.identity(with_seed), sort_keys=True, default=list)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def run_size(self, train_examples: int, replicas: int = 1) -> "RunSize":
        """Steps from epochs (fractional allowed), the global batch and max_steps."""
        global_batch = self.distribute.per_replica_batch * replicas
        steps_per_epoch = max(1, train_examples // global_batch)
        total = math.ceil(self.epochs * steps_per_epoch)
        if self.max_steps is not None:
            total = min(total, self.max_steps)
        if total < 1:
            raise ValueError(f"The run has no steps (epochs={self.epochs}, max_steps={self.max_steps}, "
                             f"{train_examples} training examples): give it at least one.")
        return RunSize(global_batch, steps_per_epoch, total, max(1, min(self.log_every_steps, total)))


@dataclasses.dataclass(frozen=True)
class RunSize:
    """How long a run is, in optimizer steps of the global batch."""

    global_batch: int
    steps_per_epoch: int  # one pass over the training examples; the LR schedule's epoch
    total_steps: int  # epochs * steps_per_epoch (rounded up), capped by max_steps
    log_every_steps: int  # one Keras "epoch" of fit

    @property
    def intervals(self) -> int:
        return math.ceil(self.total_steps / self.log_every_steps)


_SECTIONS = {
    "model": ModelConfig,
    "data": DataConfig,
    "recipe": RecipeConfig,
    "distribute": DistributeConfig,
    "evaluation": EvalConfig,
}
_FIELDS = {f.name for f in dataclasses.fields(ExperimentConfig)}


def _check_fields(cls, values: dict, prefix: str = "") -> None:
    valid = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - valid)
    if unknown:
        raise ValueError(f"Unknown config fields {[prefix + u for u in unknown]}; "
                         f"valid: {sorted(prefix + v for v in valid)}.")


def _sparse(config, default) -> dict:
    """The fields of `config` that differ from `default`, sections as nested dicts."""
    changed = {}
    for field in dataclasses.fields(config):
        value, base = getattr(config, field.name), getattr(default, field.name)
        if dataclasses.is_dataclass(value):
            nested = _sparse(value, base)
            if nested:
                changed[field.name] = nested
        elif value != base:
            changed[field.name] = value
    return changed


def diff(base: ExperimentConfig, derived: ExperimentConfig) -> dict:
    """Fields (dotted paths) whose values differ between two configs: {path: (base, derived)}."""
    changes = {}

    def walk(a, b, prefix):
        for field in dataclasses.fields(a):
            x, y = getattr(a, field.name), getattr(b, field.name)
            if dataclasses.is_dataclass(x):
                walk(x, y, f"{prefix}{field.name}.")
            elif x != y:
                changes[prefix + field.name] = (x, y)

    walk(base, derived, "")
    return changes
