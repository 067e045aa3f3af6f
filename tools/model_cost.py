"""Parameters and multiply-adds of every trained row's network, beside the paper's cost column.

    python tools/model_cost.py                    # the paper's scale (299x299, full width)
    python tools/model_cost.py --profile small    # what the small profile trains

The networks are the rows' own configs (`inception.rows`, sized by
`inception.profiles`), without the auxiliary head (it plays no part at
evaluation). The paper's Table 3 costs are its own (its Inception-v2 is of
the BN-Inception lineage); our "7x7" rows are a reconstruction, so their
cost is what this network costs, not a copy of the paper's 3.8.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app, flags  # noqa: E402

import inception  # noqa: E402
from inception import profiles, rows  # noqa: E402

FLAGS = flags.FLAGS
flags.DEFINE_enum("profile", "imagenet", list(profiles.PROFILES), "Size the rows for this profile.")


def cost_rows(profile: str = "imagenet"):
    """One dict per trained row (aliases and evaluating rows share a trained row's network)."""
    found = []
    for name, row in rows.ROWS.items():
        if not row.trains:
            continue
        config = profiles.get(name, profile).config
        model = inception.inception_v3(config.model, include_aux=False)
        found.append(dict(
            table=row.table, row=name, description=row.config.description,
            input_size=config.model.input_size, parameters=model.count_params(),
            multiply_adds=inception.count_multiply_adds(model),
            paper_cost=row.paper.get("cost_billion_ops")))
    return found


def cost_table(profile: str = "imagenet") -> str:
    """The cost rows as a markdown table; multiply-adds relative to bn_auxiliary (Inception-v3)."""
    found = cost_rows(profile)
    reference = next(r["multiply_adds"] for r in found if r["row"] == "bn_auxiliary")
    lines = [
        "| table | row | input | parameters | multiply-adds | vs Inception-v3 | paper's cost (G) |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in found:
        paper = "-" if r["paper_cost"] is None else f"{r['paper_cost']:.1f}"
        adds = r["multiply_adds"]
        shown = f"{adds / 1e9:.2f} G" if adds >= 1e8 else f"{adds / 1e6:.1f} M"
        lines.append(f"| {r['table']} | `{r['row']}` | {r['input_size']} | {r['parameters']:,} | "
                     f"{shown} | {adds / reference:.2f}x | {paper} |")
    return "\n".join(lines)


def main(_):
    print(cost_table(FLAGS.profile))


if __name__ == "__main__":
    app.run(main)
