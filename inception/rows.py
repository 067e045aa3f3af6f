"""Every row of the paper's Tables 2-5, and its control experiments, as named experiments.

A row is an `ExperimentConfig` at the paper's full scale (the `imagenet`
profile). Later rows are earlier ones with fields changed, so Table 3's
cumulative ablation reads as a diff (`inception.config.diff` prints it), and
each control is `bn_auxiliary` (= Inception-v3) with one field changed.
`inception.profiles` sizes a row for a run (`small`: the embedded
Fashion-MNIST on 2 CPU cores; `imagenet`: the paper's setup); the
experiment scripts in `experiments/` only look rows up here.

Paper figures are the paper's Tables 2-5 and the numbers its sections give
for the controls. Errors are fractions; the paper prints percentages. Each
row's `claim` is the change the paper reports against the row it is
compared with (`compare_to`), which the report checks against our interval.
"""

from __future__ import annotations

import dataclasses
from typing import Dict, Optional, Tuple

from inception.config import ExperimentConfig


@dataclasses.dataclass(frozen=True)
class Claim:
    """What the paper says a row changes against another row.

    `change` is the paper's top-1 error difference (a fraction; None when
    the paper gives only a direction), `direction` its sign (+1: the row is
    worse, -1: better, 0: no change claimed), `text` the claim in a line.
    """

    compare_to: str
    direction: int
    text: str
    change: Optional[float] = None


@dataclasses.dataclass(frozen=True)
class Row:
    """A table row: how to train it, and how to evaluate it.

    `config` trains one model. Rows that only evaluate (Tables 4 and 5, and
    rf299, which is bn_auxiliary's network) name the row whose trained models
    they reuse (`reuses`) and how many of them with different seeds they need
    (`ensemble`); their `config.evaluation` says how many crops. A row that
    reuses another with one crop and one model is that row under another
    name (`alias_of`).
    """

    config: ExperimentConfig
    paper: Dict[str, Optional[float]]
    reuses: Optional[str] = None
    ensemble: int = 1
    claim: Optional[Claim] = None

    @property
    def name(self) -> str:
        return self.config.name

    @property
    def table(self) -> str:
        return self.config.table

    @property
    def trains(self) -> bool:
        return self.reuses is None

    @property
    def alias_of(self) -> Optional[str]:
        if self.reuses and self.ensemble == 1 and self.config.evaluation.crops == 1:
            return self.reuses
        return None


# --- The paper's setup: the released network and recipe (sections 6-8) -------

INCEPTION_V3 = ExperimentConfig(
    name="inception_v3",
    description="Inception-v3 as released: RMSProp, label smoothing, factorized 7x7, BN-auxiliary.",
)

# --- Table 3: single-model, single-crop, cumulative -------------------------

# Row 1. Inception-v2: the 7x7 stem, no BN in the side head, momentum SGD,
# no label smoothing (paper section 10). The paper does not give the 7x7
# stem exactly: ours is a reconstruction (`inception.model`); everything
# after it is the canonical network.
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


# --- Controls: claims the paper makes in passing (sections 3-5) ---------------

def _control(name: str, description: str, **model) -> ExperimentConfig:
    """A control: Inception-v3 (`bn_auxiliary`) with the network changed by `model` fields."""
    return BN_AUXILIARY.derive(name=name, table="controls", description=description, model=model)


FIGURE2_LINEAR = _control(
    "figure2_linear", "Figure 2: the first layer of every factorized pair linear (no ReLU), batch norm kept.",
    factorized_first_activation="linear")
FIGURE9_POOL_FIRST = _control(
    "figure9_pool_first", "Figure 9, left: each grid reduction pools first, then the block at the reduced grid.",
    grid_reduction="pool_first")
FIGURE9_CONV_FIRST = _control(
    "figure9_conv_first", "Figure 9, right: each grid reduction runs the block at the full grid, then pools.",
    grid_reduction="conv_first")
ASYMMETRIC_35 = _control(
    "asymmetric_35x35", "Section 3.2: the 35x35 blocks factorized asymmetrically (each nxn as 1xn, nx1).",
    mixed_5_block="asymmetric")
NO_AUXILIARY = _control("no_auxiliary", "Section 4: trained without the auxiliary classifier.", include_aux=False)


def _paper(top1=None, top5=None, cost=None, **extra):
    figures = {"top1_error": top1, "top5_error": top5, "cost_billion_ops": cost}
    figures.update(extra)
    return figures


def _step(previous: str, paper_before: float, paper_after: float, what: str) -> Claim:
    change = paper_after - paper_before
    direction = -1 if change < 0 else (1 if change > 0 else 0)
    return Claim(previous, direction, f"{what}: {100 * paper_before:.1f}% -> {100 * paper_after:.1f}% "
                 "top-1 error", change)


ROWS: Dict[str, Row] = {
    r.name: r
    for r in (
        # rf299 is bn_auxiliary's network trained the same way: reuse that run, don't train it twice.
        Row(RF299, _paper(top1=1 - 0.766), reuses="bn_auxiliary"),
        Row(RF151, _paper(top1=1 - 0.764),
            claim=_step("rf299", 1 - 0.766, 1 - 0.764, "151x151 vs 299x299 receptive field")),
        Row(RF79, _paper(top1=1 - 0.752),
            claim=_step("rf299", 1 - 0.766, 1 - 0.752, "79x79 vs 299x299 receptive field")),
        Row(INCEPTION_V2, _paper(top1=0.234, cost=3.8)),
        Row(RMSPROP, _paper(top1=0.231, top5=0.063, cost=3.8),
            claim=_step("inception_v2", 0.234, 0.231, "+ RMSProp")),
        Row(LABEL_SMOOTHING, _paper(top1=0.228, top5=0.061, cost=3.8),
            claim=_step("rmsprop", 0.231, 0.228, "+ label smoothing")),
        Row(FACTORIZED_7X7, _paper(top1=0.216, top5=0.058, cost=4.8),
            claim=_step("label_smoothing", 0.228, 0.216, "+ factorized 7x7")),
        Row(BN_AUXILIARY, _paper(top1=0.212, top5=0.056, cost=4.8),
            claim=_step("factorized_7x7", 0.216, 0.212, "+ BN-auxiliary")),
        # Table 4's columns are printed swapped in the paper: the larger figure is top-1.
        Row(CROPS12, _paper(top1=0.1947, top5=0.0448), reuses="bn_auxiliary",
            claim=_step("bn_auxiliary", 0.212, 0.1947, "12 crops vs 1 crop")),
        Row(CROPS144, _paper(top1=0.1877, top5=0.042), reuses="bn_auxiliary",
            claim=_step("bn_auxiliary", 0.212, 0.1877, "144 crops vs 1 crop")),
        Row(ENSEMBLE4_CROPS144, _paper(top1=0.172, top5=0.0358), reuses="bn_auxiliary", ensemble=4,
            claim=_step("crops144", 0.1877, 0.172, "4 models vs 1 model, 144 crops")),
        # Section 3.1: "77.2% vs 76.2%" top-1 accuracy, ReLU vs linear.
        Row(FIGURE2_LINEAR, _paper(top1=1 - 0.762, released_top1=1 - 0.772),
            claim=Claim("bn_auxiliary", 1, "Figure 2: linear first layers 76.2% vs ReLU 77.2% "
                        "top-1 accuracy; \"linear activation was always inferior\"", 0.010)),
        Row(FIGURE9_POOL_FIRST, _paper(),
            claim=Claim("bn_auxiliary", 1, "Figure 9: pooling first creates a representational "
                        "bottleneck (no figure given)")),
        Row(FIGURE9_CONV_FIRST, _paper(),
            claim=Claim("bn_auxiliary", 0, "Figure 9: the block before pooling costs about 3x; "
                        "Figure 10 gets its quality at the lower cost (no figure given)")),
        Row(ASYMMETRIC_35, _paper(),
            claim=Claim("bn_auxiliary", 1, "Section 3.2: asymmetric factorization \"does not work "
                        "well on early layers\" (no figure given)")),
        Row(NO_AUXILIARY, _paper(),
            claim=Claim("bn_auxiliary", 1, "Section 4: the auxiliary head gives a slightly higher "
                        "plateau, no faster early convergence (no figure given)")),
    )
}

TABLES = {table: [name for name, r in ROWS.items() if r.table == table]
          for table in ("table2", "table3", "table4", "table5", "controls")}

# Rows the paper cites from earlier work: printed beside ours, never rerun.
CITED = {
    "table3": [
        ("GoogLeNet", _paper(top1=0.29, top5=0.092, cost=1.5)),
        ("BN-GoogLeNet", _paper(top1=0.268, cost=1.5)),
        ("BN-Inception", _paper(top1=0.252, top5=0.078, cost=2.0)),
    ],
}


def get(name: str) -> Row:
    """The row `name` at the paper's scale; errors name the valid choices."""
    if name not in ROWS:
        raise ValueError(f"Unknown row {name!r}; valid rows: {sorted(ROWS)}.")
    return ROWS[name]


def rows_of(table: str) -> Tuple[str, ...]:
    if table not in TABLES:
        raise ValueError(f"Unknown table {table!r}; valid tables: {sorted(TABLES)}.")
    return tuple(TABLES[table])
