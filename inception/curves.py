"""Held-out and training accuracy against iterations, as the paper's Figure 8 draws them.

Each curve is one row: the mean over its seeds at each logged step, with a
band from the lowest to the highest seed. The held-out curve is the
averaged weights on held-out images (`EvalConfig.heldout_every_steps`); the
training curve (thin, dashed) is the raw weights on the augmented training
batches.
"""

from __future__ import annotations

from typing import Dict, List, Sequence, Tuple

import numpy as np

HELDOUT_KEYS = ("heldout_top1",)
TRAINING_KEYS = ("logits_top1", "top1")


def _key(records: Sequence[dict], keys: Sequence[str]):
    return next((k for k in keys if any(k in r for r in records)), None)


def curve(histories: Sequence[Sequence[dict]], keys: Sequence[str]) -> Tuple[np.ndarray, np.ndarray]:
    """(steps, values [seeds, steps]) at the steps every history logged `keys` (NaN-free)."""
    key = _key([r for h in histories for r in h], keys)
    if key is None or not histories:
        return np.array([]), np.zeros((0, 0))
    per_seed = [{r["step"]: r[key] for r in h if key in r} for h in histories]
    steps = sorted(set.intersection(*(set(p) for p in per_seed)))
    return np.array(steps), np.array([[p[s] for s in steps] for p in per_seed])


def plot(rows: Dict[str, List[List[dict]]], path: str, title: str) -> bool:
    """One figure: for each row (label -> its seeds' histories) held-out and training accuracy.

    Returns False (and writes nothing) when no row has a curve.
    """
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(8, 5))
    plotted = False
    for index, (label, histories) in enumerate(rows.items()):
        color = f"C{index % 10}"
        steps, values = curve(histories, HELDOUT_KEYS)
        if steps.size:
            axes.plot(steps, values.mean(0), color=color, label=f"{label} (held-out, n={len(values)})")
            if len(values) > 1:
                axes.fill_between(steps, values.min(0), values.max(0), color=color, alpha=0.15)
            plotted = True
        steps, values = curve(histories, TRAINING_KEYS)
        if steps.size:
            axes.plot(steps, values.mean(0), color=color, linestyle="--", linewidth=0.8, alpha=0.7)
            plotted = True
    if plotted:
        axes.set_xlabel("iteration")
        axes.set_ylabel("top-1 accuracy")
        axes.set_ylim(0.5, 1.0)
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small", loc="lower right")
        axes.text(0.01, 0.01, "solid: averaged weights on held-out images (band: min-max over seeds); "
                  "dashed: training batches", transform=axes.transAxes, fontsize="x-small")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    plt.close(figure)
    return plotted
