"""Regenerate a row of the paper's Tables 2-5: `run_row(name)`, then `write_table(table)`.

A row (`inception.rows`) either trains one network (Tables 2 and 3), or
evaluates networks another row trained (`Row.reuses`, Tables 4 and 5) with
12 or 144 crops and, for an ensemble, several seeds. Everything lands under
one working directory, so later tables reuse earlier tables' models:

    <workdir>/<table>/<row>/                 a trained row's run (trainer's files)
    <workdir>/<table>/<row>/result.json      the row's figures, ours and the paper's
    <workdir>/<table>/<row>/member_<k>/      seed k of an ensemble (k >= 1; seed 0
                                             is the reused row's own run)
    <workdir>/<table>/README.md              the table so far (`write_table`)
    <workdir>/<table>/curves.png             training accuracy against iterations

Runs resume: a finished run (its results.json and an identical config.json)
is reused as it is, an interrupted one continues from its last checkpoint.
"""

from __future__ import annotations

import dataclasses
import datetime
import json
import os
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple

from inception import data as data_lib
from inception import evaluation, rows
from inception.complexity import count_multiply_adds
from inception.config import ExperimentConfig
from inception.training import trainer
from inception.training.callbacks import read_history
from inception.training.workdir import RunPaths, read_config

RESULT_FILE = "result.json"
TABLE_FILE = "README.md"
CURVES_FILE = "curves.png"
# Multi-crop batches hold about this many crops (144 crops of 4 images at 75x75: 140 MB).
CROPS_PER_BATCH = 512
REQUIRED_KEYS = ("table", "row", "profile", "dataset", "top1_error", "top5_error",
                 "multiply_adds", "parameters", "train_seconds", "paper")


# --- Configs -----------------------------------------------------------------

def row_with_overrides(name: str, profile: str = "small", overrides: Optional[dict] = None) -> rows.Row:
    """The row `name` in `profile`, with `overrides` (as for `ExperimentConfig.derive`) applied."""
    row = rows.get(name, profile)
    return dataclasses.replace(row, config=apply_overrides(row.config, overrides))


def apply_overrides(config: ExperimentConfig, overrides: Optional[dict]) -> ExperimentConfig:
    """`config.derive(**overrides)`; a new dataset also sizes the classifier to its classes."""
    if not overrides:
        return config
    derived = config.derive(**overrides)
    if derived.data.source != config.data.source or derived.data.data_dir != config.data.data_dir:
        classes = data_lib.dataset_info(derived.data).num_classes
        derived = derived.derive(model={"num_classes": classes})
    return derived


@dataclasses.dataclass(frozen=True)
class Member:
    """One trained network a row needs: its config and its run directory."""

    config: ExperimentConfig
    run_dir: str


def members(row: rows.Row, profile: str, workdir: str, overrides: Optional[dict] = None) -> List[Member]:
    """The networks `row` trains or evaluates, in order (seed 0 first).

    A row that trains is its own single member. A row that reuses another
    takes that row's run (seed 0) and, for an ensemble, seeds 1.. of the same
    config in its own directory.
    """
    if row.reuses is None:
        return [Member(row.config, row_dir(workdir, row))]
    base = row_with_overrides(row.reuses, profile, overrides)
    found = [Member(base.config, row_dir(workdir, base))]
    for seed in range(1, row.ensemble):
        config = base.config.derive(name=f"{base.name}_seed{seed}", seed=seed)
        found.append(Member(config, os.path.join(row_dir(workdir, row), f"member_{seed}")))
    return found


def row_dir(workdir: str, row: rows.Row) -> str:
    return os.path.join(workdir, row.table, row.name)


# --- Running a row -------------------------------------------------------------

def ensure_trained(member: Member, verbose="auto") -> dict:
    """The member's training results: read back if it finished before, else train (or resume) it."""
    paths = RunPaths(member.run_dir)
    if os.path.exists(paths.results) and read_config(member.run_dir) == member.config:
        with open(paths.results) as f:
            return json.load(f)
    return trainer.train_and_evaluate(member.config, member.run_dir, verbose=verbose)


def load_members(row: rows.Row, trained: Sequence[Member]) -> list:
    """The members' final networks, with moving-average weights unless the row says otherwise."""
    return [trainer.load_trained_model(m.run_dir, use_ema=row.config.evaluation.use_ema) for m in trained]


def evaluate_models(row: rows.Row, models: Sequence, crops: int) -> evaluation.EvalResult:
    """Top-1/top-5 error of the models' averaged softmax over `crops` crops of `row`'s eval images."""
    dataset = data_lib.build_dataset(
        row.config.data, split="eval", image_size=row.config.model.input_size,
        batch_size=max(1, CROPS_PER_BATCH // crops), training=False, crops=crops)
    # The loaded weights already are the averages (or not): nothing to swap in.
    return evaluation.evaluate(models, dataset, use_ema=False)


def network_cost(config: ExperimentConfig) -> Dict[str, int]:
    """Multiply-adds and parameters of the evaluated network (no auxiliary head), one crop."""
    from inception.model import inception_v3

    model = inception_v3(**{**config.model.build_kwargs(), "include_aux": False})
    return {"multiply_adds": count_multiply_adds(model), "parameters": model.count_params()}


def run_row(name: str, *, profile: str = "small", workdir: str = "runs",
            overrides: Optional[dict] = None, command: Optional[str] = None, verbose="auto") -> dict:
    """Train (or reuse) and evaluate the row `name`; write and return its result.json.

    `overrides` change the row's config after the profile (and the configs of
    the runs it reuses), e.g. `{"max_steps": 2, "data": {"eval_examples": 16}}`.
    `command` is recorded as the command that made the row.
    """
    row = row_with_overrides(name, profile, overrides)
    needed = members(row, profile, workdir, overrides)
    started = time.time()
    trained = [ensure_trained(m, verbose=verbose) for m in needed]
    evaluated = time.time()
    crops = row.config.evaluation.crops
    if crops == 1 and len(needed) == 1 and needed[0].config.data == row.config.data:
        # The trainer already evaluated this network on these images with one crop.
        figures = {k: trained[0][k] for k in ("top1_error", "top5_error", "eval_examples")}
        figures.update(crops=1, models=1)
    else:
        models = load_members(row, needed)
        result = evaluate_models(row, models, crops)
        figures = {"top1_error": result.top1_error, "top5_error": result.top5_error,
                   "eval_examples": result.examples, "crops": result.crops, "models": result.models}
        if crops > 1:  # the same networks and images with one crop, to isolate the crops' effect
            single = evaluate_models(row, models, 1)
            figures.update(single_crop_top1_error=single.top1_error,
                           single_crop_top5_error=single.top5_error)
    result = {
        "table": row.table,
        "row": row.name,
        "description": row.config.description,
        "profile": profile,
        "dataset": data_lib.dataset_info(row.config.data).name,
        **figures,
        "use_ema": row.config.evaluation.use_ema,
        "blacklist": row.config.data.blacklist_file,
        **network_cost(row.config),
        "train_seconds": sum(t["train_seconds"] for t in trained),
        "eval_seconds": time.time() - evaluated,
        "wall_seconds": time.time() - started,
        "steps": [t["steps"] for t in trained],
        "seeds": [m.config.seed for m in needed],
        "run_dirs": [m.run_dir for m in needed],
        "member_top1_errors": [t["top1_error"] for t in trained],  # each network alone, one crop
        "paper": row.paper,
        "command": command,
        "date": datetime.date.today().isoformat(),
        "config": row.config.to_dict(),
    }
    write_json(result, os.path.join(row_dir(workdir, row), RESULT_FILE))
    return result


def write_json(value: dict, path: str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(temporary, path)


def read_results(table: str, workdir: str) -> List[dict]:
    """The result.json of every row of `table` run so far, in the paper's order."""
    found = []
    for name in rows.rows_of(table):
        path = os.path.join(workdir, table, name, RESULT_FILE)
        if os.path.exists(path):
            with open(path) as f:
                found.append(json.load(f))
    return found


# --- The table -------------------------------------------------------------

def _percent(value: Optional[float]) -> str:
    return "-" if value is None else f"{100 * value:.2f}%"


def _ops(value: Optional[float]) -> str:
    if value is None:
        return "-"
    return f"{value / 1e9:.2f} G" if value >= 1e8 else f"{value / 1e6:.1f} M"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.1f} min"


def _evaluated_on(result: dict) -> str:
    models = result.get("models", 1)
    ensemble = f"{models} models x " if models > 1 else ""
    return f"{ensemble}{result['eval_examples']:,} images x {result['crops']} crop{'s' * (result['crops'] > 1)}"


HEADER = ("| row | what it changes | top-1 err (ours) | top-5 err (ours) | top-1 err (paper) "
          "| top-5 err (paper) | multiply-adds (ours) | cost (paper) | parameters | evaluated on "
          "| train time (its networks) |\n|---|---|---|---|---|---|---|---|---|---|---|")


def table_markdown(table: str, results: Sequence[dict]) -> str:
    """The markdown table: our rows beside the paper's figures, then the rows the paper cites."""
    lines = [HEADER]
    for r in results:
        paper = r["paper"]
        cost = paper.get("cost_billion_ops")
        lines.append(
            f"| `{r['row']}` | {r['description']} | {_percent(r['top1_error'])} | "
            f"{_percent(r['top5_error'])} | {_percent(paper.get('top1_error'))} | "
            f"{_percent(paper.get('top5_error'))} | {_ops(r['multiply_adds'])} | "
            f"{'-' if cost is None else f'{cost} G'} | {r['parameters']:,} | {_evaluated_on(r)} | "
            f"{_minutes(r['train_seconds'])} |")
    for cited, paper in rows.CITED.get(table, []):
        cost = paper.get("cost_billion_ops")
        lines.append(
            f"| {cited} (cited by the paper, not rerun) | | | | {_percent(paper.get('top1_error'))} | "
            f"{_percent(paper.get('top5_error'))} | | {'-' if cost is None else f'{cost} G'} | | | |")
    return "\n".join(lines)


def single_crop_note(result: dict) -> Optional[str]:
    """For a multi-crop row: the same network(s) and images with one crop."""
    if "single_crop_top1_error" not in result:
        return None
    return (f"`{result['row']}` with one crop instead of {result['crops']}, same network(s) and "
            f"{result['eval_examples']:,} images: top-1 error {_percent(result['single_crop_top1_error'])}, "
            f"top-5 error {_percent(result['single_crop_top5_error'])}.")


def seed_spread(result: dict) -> Optional[str]:
    """For an ensemble row: each member's single-crop top-1 error, and their spread."""
    errors = result.get("member_top1_errors") or []
    if len(errors) < 2:
        return None
    mean = sum(errors) / len(errors)
    std = (sum((e - mean) ** 2 for e in errors) / (len(errors) - 1)) ** 0.5
    listed = ", ".join(_percent(e) for e in errors)
    return (f"Members alone (single crop, seeds {result['seeds']}): top-1 error {listed}; "
            f"mean {_percent(mean)}, standard deviation {_percent(std)}, "
            f"range {_percent(max(errors) - min(errors))}.")


def _preamble(results: Sequence[dict]) -> str:
    profiles = ", ".join(sorted({r["profile"] for r in results}))
    datasets = ", ".join(sorted({r["dataset"] for r in results}))
    weights = "moving averages" if results[0]["use_ema"] else "raw"
    return (f"Profile: {profiles}; dataset: {datasets}; evaluation weights: {weights}. Errors are on "
            "the evaluation images named in the table; the paper's on ImageNet validation (cost "
            "column: billions of multiply-adds at full scale).")


def _provenance(results: Sequence[dict]) -> List[str]:
    """The commands that made the rows, and when."""
    commands = list(dict.fromkeys(r["command"] for r in results if r.get("command")))
    lines = ["Made by:", "", "```", *commands, "```", ""] if commands else []
    return lines + [f"Date: {', '.join(sorted({r['date'] for r in results}))}."]


def write_table(table: str, workdir: str = "runs") -> str:
    """Write <workdir>/<table>/README.md (and curves.png) from the rows run so far; returns its path."""
    results = read_results(table, workdir)
    directory = os.path.join(workdir, table)
    os.makedirs(directory, exist_ok=True)
    lines = [f"# Table {table.removeprefix('table')}: ours beside the paper's", ""]
    if not results:
        lines.append("No row has been run yet.")
    else:
        lines += [_preamble(results), "", table_markdown(table, results), ""]
        notes = [single_crop_note(r) for r in results] + [seed_spread(r) for r in results]
        for note in filter(None, notes):
            lines += [note, ""]
        if plot_curves(table, results, os.path.join(directory, CURVES_FILE)):
            lines += [f"![training curves]({CURVES_FILE})", "",
                      "Training top-1 accuracy (mean over each log interval, on the training batches, "
                      "moving-average weights not applied) against iterations.", ""]
        lines += _provenance(results)
    path = os.path.join(directory, TABLE_FILE)
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")
    return path


def accuracy_curve(run_dir: str) -> tuple:
    """(steps, training top-1 accuracy) from a run's history records."""
    records = read_history(RunPaths(run_dir).history)
    key = next((k for k in ("logits_top1", "top1") if records and k in records[0]), None)
    if key is None:
        return [], []
    return [r["step"] for r in records], [r[key] for r in records]


def plot_curves(table: str, results: Iterable[dict], path: str) -> bool:
    """One plot, every trained network of the table (like the paper's Figures 2 and 8)."""
    runs, seen = [], set()
    for r in results:
        for seed, run_dir in zip(r["seeds"], r["run_dirs"]):
            if run_dir in seen:  # Table 4's rows share one network
                continue
            seen.add(run_dir)
            runs.append((r["row"] if len(r["run_dirs"]) == 1 else f"{r['row']} seed {seed}", run_dir))
    title = f"Table {table.removeprefix('table')}: training accuracy against iterations"
    return plot_runs(runs, title, path)


def plot_runs(runs: Sequence[Tuple[str, str]], title: str, path: str) -> bool:
    """Training accuracy against iterations of each (label, run_dir); False if none has a history."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    figure, axes = plt.subplots(figsize=(7, 4.5))
    plotted = False
    for label, run_dir in runs:
        steps, accuracy = accuracy_curve(run_dir)
        if steps:
            axes.plot(steps, accuracy, label=label)
            plotted = True
    if plotted:
        axes.set_xlabel("iteration")
        axes.set_ylabel("training top-1 accuracy")
        axes.set_title(title)
        axes.grid(alpha=0.3)
        axes.legend(fontsize="small")
        figure.tight_layout()
        figure.savefig(path, dpi=100)
    plt.close(figure)
    return plotted
