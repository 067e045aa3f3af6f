"""Every row of the paper's Tables 2-5 as a named, declarative experiment.

A row is an `ExperimentConfig` at the paper's full scale (the `imagenet`
profile). Later rows are earlier ones with fields changed, so Table 3's
cumulative ablation reads as a diff (`inception.config.diff` prints it).
`small(row)` derives the laptop-sized version that runs on the embedded
Fashion-MNIST in minutes; every constant it changes is stated there with the
reason. The experiment scripts in `experiments/` only look rows up here.

Paper figures are from SPEC section 7 (the paper's Tables 2-5). Errors are
fractions; the paper prints percentages.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

from inception.config import ExperimentConfig
from inception.model import minimum_input_size

PROFILES = ("small", "imagenet")

# Small profile: the multi-crop rows evaluate the first this-many test images
# (144 crops of 250 images cost as much as one crop of 36,000; Table 5 four times that).
SMALL_MULTICROP_EVAL_EXAMPLES = 250


@dataclasses.dataclass(frozen=True)
class Row:
    """A table row: how to train it, and how to evaluate it.

    `config` trains one model. Rows that only evaluate (Tables 4 and 5, and
    rf299, which is bn_auxiliary's network) name the row whose trained models
    they reuse (`reuses`) and how many of them with different seeds they need
    (`ensemble`); their `config.evaluation` says how many crops.
    """

    config: ExperimentConfig
    paper: Dict[str, Optional[float]]
    reuses: Optional[str] = None
    ensemble: int = 1

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def table(self) -> str:
        return self.config.table


# --- The paper's setup (SPEC sections 2, 3, 4) --------------------------------

INCEPTION_V3 = ExperimentConfig(
    name="inception_v3",
    description="Inception-v3 as released: RMSProp, label smoothing, factorized 7x7, BN-auxiliary.",
)

# --- Table 3: single-model, single-crop, cumulative -------------------------

# Row 1. Inception-v2: the 7x7 stem, no BN in the side head, momentum SGD,
# no label smoothing (paper section 10). The stem is our reconstruction
# (SPEC 2.2); everything after it is the canonical network.
INCEPTION_V2 = INCEPTION_V3.derive(
    name="inception_v2",
    table="table3",
    description="Inception-v2: 7x7 stem, aux head without BN, momentum SGD.",
    model={"stem": "7x7", "aux_batch_norm": False},
    recipe={"optimizer": "momentum", "label_smoothing": 0.0},
)
RMSPROP = INCEPTION_V2.derive(
    name="rmsprop", description="+ RMSProp (decay 0.9, epsilon 1.0).",
    recipe={"optimizer": "rmsprop"},
)
LABEL_SMOOTHING = RMSPROP.derive(
    name="label_smoothing", description="+ label smoothing regularization (epsilon 0.1).",
    recipe={"label_smoothing": 0.1},
)
FACTORIZED_7X7 = LABEL_SMOOTHING.derive(
    name="factorized_7x7", description="+ the first 7x7 factorized into three 3x3.",
    model={"stem": "3x3"},
)
BN_AUXILIARY = FACTORIZED_7X7.derive(
    name="bn_auxiliary", description="+ batch-normalized auxiliary classifier (= Inception-v3).",
    model={"aux_batch_norm": True},
)

# --- Table 2: receptive field at (nearly) constant compute ------------------

RF299 = BN_AUXILIARY.derive(
    name="rf299", table="table2", description="299x299 receptive field: stride 2 and max pooling after the first layer.",
    model={"stem": "3x3", "input_size": 299},
)
RF151 = RF299.derive(
    name="rf151", description="151x151 receptive field: first layer stride 1, max pooling kept.",
    model={"stem": "rf151", "input_size": 151},
)
RF79 = RF299.derive(
    name="rf79", description="79x79 receptive field: first layer stride 1, first max pooling removed.",
    model={"stem": "rf79", "input_size": 79},
)

# --- Tables 4 and 5: evaluation of trained Inception-v3 models --------------

CROPS12 = BN_AUXILIARY.derive(
    name="crops12", table="table4", description="Inception-v3, 12 crops per image.",
    evaluation={"crops": 12},
)
CROPS144 = CROPS12.derive(
    name="crops144", description="Inception-v3, 144 crops per image.",
    evaluation={"crops": 144},
)
ENSEMBLE4_CROPS144 = CROPS144.derive(
    name="ensemble4_crops144", table="table5",
    description="4 Inception-v3 models (different seeds), 144 crops, softmax averaged.",
)


def _paper(top1=None, top5=None, cost=None, **extra):
    figures = {"top1_error": top1, "top5_error": top5, "cost_billion_ops": cost}
    figures.update(extra)
    return figures


ROWS: Dict[str, Row] = {
    r.name: r
    for r in (
        # rf299 is bn_auxiliary's network trained the same way: reuse that run, don't train it twice.
        Row(RF299, _paper(top1=1 - 0.766), reuses="bn_auxiliary"),
        Row(RF151, _paper(top1=1 - 0.764)),
        Row(RF79, _paper(top1=1 - 0.752)),
        Row(INCEPTION_V2, _paper(top1=0.234, cost=3.8)),
        Row(RMSPROP, _paper(top1=0.231, top5=0.063, cost=3.8)),
        Row(LABEL_SMOOTHING, _paper(top1=0.228, top5=0.061, cost=3.8)),
        Row(FACTORIZED_7X7, _paper(top1=0.216, top5=0.058, cost=4.8)),
        Row(BN_AUXILIARY, _paper(top1=0.212, top5=0.056, cost=4.8)),
        # Table 4's columns are printed swapped in the paper: the larger figure is top-1.
        Row(CROPS12, _paper(top1=0.1947, top5=0.0448), reuses="bn_auxiliary"),
        Row(CROPS144, _paper(top1=0.1877, top5=0.042), reuses="bn_auxiliary"),
        Row(ENSEMBLE4_CROPS144, _paper(top1=0.172, top5=0.0358),
            reuses="bn_auxiliary", ensemble=4),
    )
}

TABLES = {table: [name for name, r in ROWS.items() if r.table == table] for table in ("table2", "table3", "table4", "table5")}

# Rows the paper cites from earlier work: printed beside ours, never rerun.
CITED = {
    "table3": [
        ("GoogLeNet", _paper(top1=0.29, top5=0.092, cost=1.5)),
        ("BN-GoogLeNet", _paper(top1=0.268, cost=1.5)),
        ("BN-Inception", _paper(top1=0.252, top5=0.078, cost=2.0)),
    ],
}


# --- Profiles ---------------------------------------------------------------

def small(config: ExperimentConfig) -> ExperimentConfig:
    """The same experiment, sized for 2 CPU cores and the embedded Fashion-MNIST.

    What changes, and why:
    - data: Fashion-MNIST (10 classes of 28x28 grey clothing photographs);
      the ImageNet colour distortions are off (grey images), the random crop
      and flip stay.
    - input size: the smallest input each stem allows (75 for the 3x3 and
      7x7 stems, 39 for rf151, 21 for rf79). These give every stem the same
      grids after it, as 299/151/79 do at full scale, so Table 2 still
      compares receptive fields at (nearly) constant compute.
    - depth_multiplier 0.25 (min_depth 8): a quarter of the filters, about a
      sixteenth of the multiply-adds.
    - batch-norm momentum 0.99 and EMA decay 0.999: the paper's 0.9997 and
      0.9999 average over ~3,000 and ~10,000 steps, longer than a small run.
    - one replica of batch 32, a few epochs on a subset: minutes, not days.
    - evaluation on the 10,000 test images with one crop; rows with 12 or 144
      crops on the first `SMALL_MULTICROP_EVAL_EXAMPLES` of them, to bound
      the time (each crop costs a forward pass).
    Everything else (optimizer, schedule per epoch, clipping, smoothing,
    aux weight, weight decay, dropout) is the row's own.
    """
    multicrop = config.evaluation.crops > 1
    return config.derive(
        data={"source": "fashion_mnist", "train_augmentation": False, "train_examples": 20_000,
              "eval_examples": SMALL_MULTICROP_EVAL_EXAMPLES if multicrop else 10_000,
              "shuffle_buffer": 20_000},
        model={
            "num_classes": 10,
            "input_size": minimum_input_size(config.model.stem),
            "depth_multiplier": 0.25,
            "min_depth": 8,
            "batch_norm_momentum": 0.99,
        },
        recipe={"ema_decay": 0.999},
        distribute={"per_replica_batch": 32, "cpu_replicas": None},
        evaluation={"batch_size": 64},
        epochs=2.0,
        checkpoint_every_steps=250,
        log_every_steps=50,
    )


def imagenet(config: ExperimentConfig) -> ExperimentConfig:
    """The paper's setup: ImageNet, 50 synchronous replicas of 32, 100 epochs."""
    return config.derive(
        data={"source": "imagenet"},
        distribute={"per_replica_batch": 32},
    )


def get(name: str, profile: str = "small") -> Row:
    """The row `name` in `profile`; errors name the valid choices."""
    if name not in ROWS:
        raise ValueError(f"Unknown row {name!r}; valid rows: {sorted(ROWS)}.")
    if profile not in PROFILES:
        raise ValueError(f"Unknown profile {profile!r}; valid profiles: {PROFILES}.")
    row = ROWS[name]
    sized = small if profile == "small" else imagenet
    return dataclasses.replace(row, config=sized(row.config))


def rows_of(table: str) -> Tuple[str, ...]:
    if table not in TABLES:
        raise ValueError(f"Unknown table {table!r}; valid tables: {sorted(TABLES)}.")
    return tuple(TABLES[table])
