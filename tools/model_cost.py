"""Prints parameters and multiply-adds of every network variant the tables use,
beside the paper's cost column (Table 3, "Cost Bn Ops") and Table 2's sizes.

    python tools/model_cost.py

The paper's Table 3 costs are its own (for its Inception-v2 of BN-Inception
lineage); our "7x7" rows are a reconstruction (SPEC 2.2), so their cost is
what this network costs, not a copy of the paper's 3.8.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # noqa: E402

import inception  # noqa: E402

# (table, row, model arguments, paper's cost in billions of multiply-adds)
VARIANTS = [
    ("Table 2", "rf299", dict(stem="3x3", input_size=299), None),
    ("Table 2", "rf151", dict(stem="rf151", input_size=151), None),
    ("Table 2", "rf79", dict(stem="rf79", input_size=79), None),
    ("Table 3", "inception_v2 / rmsprop / label_smoothing", dict(stem="7x7", aux_batch_norm=False), 3.8),
    ("Table 3", "factorized_7x7", dict(stem="3x3", aux_batch_norm=False), 4.8),
    ("Table 3", "bn_auxiliary (Inception-v3)", dict(stem="3x3"), 4.8),
    ("Figure 5", "figure-literal Mixed_5 blocks", dict(mixed_5_block="figure5"), None),
]


def cost_rows():
    """One dict per variant: its parameters and multiply-adds (heads included)."""
    rows = []
    for table, row, kwargs, paper in VARIANTS:
        model = inception.inception_v3(num_classes=1000, include_aux=False, **kwargs)
        rows.append(dict(
            table=table, row=row, input_size=kwargs.get("input_size", 299),
            parameters=model.count_params(),
            multiply_adds=inception.count_multiply_adds(model), paper_cost=paper,
        ))
    return rows


def cost_table() -> str:
    """The cost rows as a markdown table."""
    lines = [
        "| table | row | input | parameters | multiply-adds (G) | paper's cost (G) |",
        "|---|---|---|---|---|---|",
    ]
    for r in cost_rows():
        paper = "-" if r["paper_cost"] is None else f"{r['paper_cost']:.1f}"
        lines.append(f"| {r['table']} | {r['row']} | {r['input_size']} | {r['parameters']:,} | "
              f"{r['multiply_adds'] / 1e9:.2f} | {paper} |")
    return "\n".join(lines)


def main(_):
    print(cost_table())


if __name__ == "__main__":
    app.run(main)
