"""Tables, curves and verdicts rebuilt from result files, without training.

    python experiments/table3.py --report --results_dir docs/results   # one table
    python experiments/report.py                                       # RESULTS.md, every table

A trained row is reported over the seeds whose files hold the config the
code defines now (its row hash): n, mean, SD and the 95% t-interval of the
top-1 error. A row the paper compares with another (`Row.claim`) gets the
difference of means with Welch's 95% interval, the paper's change beside it
and a verdict (`inception.statistics.verdict`). Rows that evaluate fixed
networks (Tables 4, 5) are paired with their baseline on the same images
and bootstrapped over images.
"""

from __future__ import annotations

import dataclasses
import glob
import os
from typing import Dict, List, Optional, Sequence

from inception import config as config_lib
from inception import curves, profiles, results, rows, statistics
from inception.config import ExperimentConfig
from inception.data import fashion_mnist

TITLES = {
    "table2": "Table 2: receptive field at (nearly) constant cost",
    "table3": "Table 3: single model, single crop, cumulative changes",
    "table4": "Table 4: one Inception-v3, multi-crop",
    "table5": "Table 5: ensemble of Inception-v3 networks, 144 crops",
    "controls": "Controls: the paper's claims made in passing (sections 3-5)",
}
CURVES_FILE = "{table}_curves.png"


@dataclasses.dataclass
class TrainedRow:
    """A trained row's seeds (of the current config) and what they say."""

    name: str
    row: rows.Row
    records: List[dict]
    stale: int  # seed files of an older config, left out

    @property
    def errors(self) -> List[float]:
        return [r["top1_error"] for r in self.records]

    @property
    def summary(self) -> Optional[statistics.Summary]:
        return statistics.summarize(self.errors) if self.records else None


def _percent(value: Optional[float], digits: int = 2) -> str:
    return "-" if value is None else f"{100 * value:.{digits}f}%"


def _bounds(interval: statistics.Interval) -> str:
    """An interval of error rates as "[low%, high%]"."""
    return f"[{_percent(interval.low)}, {_percent(interval.high)}]"


def _points(interval: statistics.Interval) -> str:
    """A change in percentage points with its interval."""
    if not interval.defined:
        return f"{100 * interval.estimate:+.2f} (no interval)"
    return f"{100 * interval.estimate:+.2f} [{100 * interval.low:+.2f}, {100 * interval.high:+.2f}]"


def trained_row(name: str, results_dir: str, profile: str) -> TrainedRow:
    """The seeds of `name` (an alias reads the row it stands for) that trained today's config."""
    row = profiles.get(name, profile)
    source = profiles.get(row.alias_of, profile) if row.alias_of else row
    config = source.config
    all_records = results.seed_results(results_dir, profile, config.table, config.name)
    current = [r for r in all_records if r.get("row_hash") == config.identity_hash(with_seed=False)]
    return TrainedRow(name, row, current, len(all_records) - len(current))


def comparison(later: TrainedRow, earlier: TrainedRow, claim: rows.Claim) -> dict:
    """Our change (Welch) beside the paper's, and the verdict."""
    ours = statistics.welch_difference(later.errors, earlier.errors)
    paper = claim.change if claim.change is not None else float(claim.direction)
    return {"ours": ours, "verdict": statistics.verdict(paper, ours)}


def _row_cells(entry: TrainedRow) -> List[str]:
    summary = entry.summary
    if summary is None:
        return [f"`{entry.name}`", entry.row.config.description, "0", "-", "-"]
    spread = "" if summary.n < 2 else f" ± {100 * summary.sd:.2f}"
    interval = _bounds(summary.interval) if summary.interval.defined else "-"
    return [f"`{entry.name}`", entry.row.config.description, str(summary.n),
            f"{_percent(summary.mean)}{spread}", interval]


def _markdown_table(header: Sequence[str], lines: Sequence[Sequence[str]]) -> str:
    rule = "|" + "|".join("---" for _ in header) + "|"
    body = ["| " + " | ".join(cells) + " |" for cells in lines]
    return "\n".join(["| " + " | ".join(header) + " |", rule, *body])


def _cited_lines(table: str, columns: int) -> List[List[str]]:
    """The earlier networks the paper's table cites (`rows.CITED`): their top-1 error, never rerun."""
    return [[f"{name} (cited, not rerun)", "", "", "", "", _percent(paper.get("top1_error"), 1)]
            + ["-"] * (columns - 6) for name, paper in rows.CITED.get(table, [])]


def trained_table(table: str, results_dir: str, profile: str) -> str:
    """The markdown of a table of trained rows (Table 2, Table 3, the controls)."""
    names = list(rows.rows_of(table))
    if table == "controls":
        names = ["bn_auxiliary"] + names
    entries = {name: trained_row(name, results_dir, profile) for name in names}
    header = ["row", "what it changes", "n", "top-1 error, mean ± SD", "95% interval",
              "paper top-1 error", "change vs", "ours: points [95% interval]", "paper: points",
              "verdict"]
    lines = []
    for name, entry in entries.items():
        claim = entry.row.claim
        cells = _row_cells(entry) + [_percent(entry.row.paper.get("top1_error"), 1)]
        if claim is None or claim.compare_to not in entries or not entry.records \
                or not entries[claim.compare_to].records:
            cells += [claim.compare_to if claim else "-", "-", "-", "-"]
        else:
            compared = comparison(entry, entries[claim.compare_to], claim)
            paper = "direction only" if claim.change is None else f"{100 * claim.change:+.2f}"
            if claim.change is None:
                paper = {1: "worse", -1: "better", 0: "no change"}[claim.direction]
            cells += [f"`{claim.compare_to}`", _points(compared["ours"]), paper, compared["verdict"]]
        lines.append(cells)
    lines += _cited_lines(table, len(header))
    notes = [f"{e.stale} seed file(s) of an older `{e.name}` config left out."
             for e in entries.values() if e.stale]
    return "\n\n".join([_markdown_table(header, lines)] + notes)


def _evaluation_record(name: str, results_dir: str, profile: str) -> Optional[dict]:
    row = profiles.get(name, profile)
    path = results.evaluation_path(results_dir, profile, row.table, name)
    if not os.path.exists(path):
        return None
    record = results.read_json(path)
    return record if record["config_hash"] == row.config.identity_hash() else None


def evaluated_table(table: str, results_dir: str, profile: str) -> str:
    """The markdown of a table of rows that evaluate trained networks (Tables 4, 5)."""
    header = ["row", "evaluated on", "top-1 error [95% bootstrap]", "baseline", "baseline top-1 error",
              "change: points [paired 95%]", "paper: points", "verdict"]
    lines = []
    for name in rows.rows_of(table):
        row = rows.get(name)
        record = _evaluation_record(name, results_dir, profile)
        if record is None:
            lines.append([f"`{name}`", "not run yet", "-", "-", "-", "-", "-", "-"])
            continue
        ours, base = record["ours"], record["baseline"]
        ours_correct, base_correct = (results.unbits(x["correct_top1"]) for x in (ours, base))
        interval = statistics.bootstrap_error(ours_correct)
        base_interval = statistics.bootstrap_error(base_correct)
        change = statistics.paired_bootstrap_difference(ours_correct, base_correct)
        claim = row.claim
        baseline = f"{base['models']} model(s) x {base['crops']} crop(s)"
        lines.append([
            f"`{name}`", f"{ours['models']} model(s) x {ours['examples']:,} images x {ours['crops']} crops",
            f"{_percent(interval.estimate)} {_bounds(interval)}",
            baseline,
            f"{_percent(base_interval.estimate)} {_bounds(base_interval)}",
            _points(change), f"{100 * claim.change:+.2f}", statistics.verdict(claim.change, change)])
    return _markdown_table(header, lines)


def table_curves(table: str, results_dir: str, profile: str, path: str) -> bool:
    """The table's curves (held-out and training accuracy of each trained row) into `path`."""
    names = [n for n in rows.rows_of(table) if rows.get(n).trains or rows.get(n).alias_of]
    if table == "controls":
        names = ["bn_auxiliary"] + names
    histories = {n: [r["history"] for r in trained_row(n, results_dir, profile).records] for n in names}
    histories = {n: h for n, h in histories.items() if h}
    return curves.plot(histories, path, TITLES[table]) if histories else False


def table_markdown(table: str, results_dir: str, profile: str) -> str:
    if table in ("table4", "table5"):
        return evaluated_table(table, results_dir, profile)
    return trained_table(table, results_dir, profile)


def write_table(table: str, results_dir: str, profile: str) -> str:
    """`<results_dir>/<profile>/<table>.md` and its curves; returns the markdown path."""
    directory = os.path.join(results_dir, profile)
    os.makedirs(directory, exist_ok=True)
    lines = [f"# {TITLES[table]}", "", table_markdown(table, results_dir, profile), ""]
    curves_name = CURVES_FILE.format(table=table)
    if table not in ("table4", "table5") and table_curves(table, results_dir, profile,
                                                           os.path.join(directory, curves_name)):
        lines += [f"![{table} curves]({curves_name})", ""]
    path = os.path.join(directory, f"{table}.md")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def section4_curves(results_dir: str, profile: str, path: str) -> bool:
    """Figure 8's comparison: with and without the auxiliary head, held-out accuracy in one plot."""
    histories = {n: [r["history"] for r in trained_row(n, results_dir, profile).records]
                 for n in ("bn_auxiliary", "no_auxiliary")}
    if not all(histories.values()):
        return False
    return curves.plot(histories, path, "Section 4 / Figure 8: with and without the auxiliary head")


def machines(records: Sequence[dict]) -> List[str]:
    """The distinct machines (CPU, cores, ISA, backend) the records were measured on, with counts."""
    from inception.machine import isa_summary

    counts: Dict[tuple, int] = {}
    for r in records:
        m = r.get("machine", {})
        key = (m.get("cpu"), m.get("cores"), isa_summary(m), m.get("backend"),
               m.get("tensorflow") or m.get("jax"))
        counts[key] = counts.get(key, 0) + 1
    return [f"{cpu}, {cores} cores ({isa}); {backend} {version}: {count} run(s)"
            for (cpu, cores, isa, backend, version), count in counts.items()]


def _cost_line(name: str, profile: str, released: dict) -> str:
    from inception.experiment import network_cost  # builds the network (no training)

    cost = network_cost(profiles.get(name, profile).config)
    return (f"Cost at the `{profile}` profile (the evaluated network, no auxiliary head): "
            f"{cost['multiply_adds'] / 1e6:,.1f} M multiply-adds ({cost['multiply_adds'] / released['multiply_adds']:.2f}x the released network's), "
            f"{cost['parameters']:,} parameters ({cost['parameters'] / released['parameters']:.2f}x).")


def _ours_line(entry: TrainedRow, released: TrainedRow) -> str:
    summary = entry.summary
    if summary is None:
        return (f"Not run yet: `python experiments/controls.py --row {entry.name} --seeds "
                f"{profiles.PUBLISHED_SEEDS} --results_dir docs/results`.")
    interval = f", 95% interval {_bounds(summary.interval)}" if summary.interval.defined else ""
    line = (f"Ours: top-1 error {_percent(summary.mean)} over n = {summary.n} seed(s)"
            f"{'' if summary.n < 2 else f', SD {100 * summary.sd:.2f} points'}{interval}")
    if not released.records:
        return line + "; the released network has no seeds yet, so no change or verdict."
    compared = comparison(entry, released, entry.row.claim)
    return (f"{line}; the released network {_percent(released.summary.mean)} (n = {released.summary.n}). "
            f"Change: {_points(compared['ours'])} points. Verdict: **{compared['verdict']}**.")


def control_sections(results_dir: str, profile: str) -> List[str]:
    """One section per control experiment: the paper's claim, our cost, our numbers, the verdict."""
    from inception.experiment import network_cost

    released = trained_row("bn_auxiliary", results_dir, profile)
    released_cost = network_cost(released.row.config)
    lines = []
    for name in rows.rows_of("controls"):
        entry = trained_row(name, results_dir, profile)
        lines += [f"#### `{name}`", "", entry.row.config.description, "",
                  f"Paper: {entry.row.claim.text}.", "", _cost_line(name, profile, released_cost), "",
                  _ours_line(entry, released), ""]
    return lines


# --- RESULTS.md ----------------------------------------------------------------

MAIN_JOB = ("table3", "bn_auxiliary")  # Inception-v3 itself
MAIN_JOB_TARGET = (0.920, 600.0)  # at least 92.0% top-1 accuracy in at most 10 minutes


def _profile_summary(profile: str) -> str:
    config = profiles.get("bn_auxiliary", profile).config
    size = config.run_size(fashion_mnist.TRAIN_EXAMPLES if config.data.train_examples is None
                           else config.data.train_examples)
    data, model, recipe = config.data, config.model, config.recipe
    paper_rate = rows.get("bn_auxiliary").config.recipe.learning_rate
    rate_note = ("" if recipe.learning_rate == paper_rate else
                 f" ({recipe.learning_rate / paper_rate:g}x the paper's {paper_rate:g})")
    crop = ("no random crop" if tuple(data.crop_area_range) == (1.0, 1.0) else
            f"random crops of {data.crop_area_range[0]:g}-{data.crop_area_range[1]:g} of the area")
    return (f"Profile `{profile}` (`inception.profiles.{profile}` states each change and why): "
            f"Fashion-MNIST, {'all 60,000' if data.train_examples is None else data.train_examples} "
            f"training and {'all 10,000' if data.eval_examples is None else data.eval_examples} test "
            f"images; {config.epochs:g} epochs of batch {size.global_batch} = {size.total_steps:,} "
            f"steps; input {model.input_size}x{model.input_size} (39 and 21 for Table 2's rf151 and "
            f"rf79), depth multiplier {model.depth_multiplier}, min depth {model.min_depth}; the "
            f"paper's RMSProp at learning rate {recipe.learning_rate:g}{rate_note}, clipping "
            f"{recipe.clip_global_norm}, "
            f"with its 50 decays of {recipe.learning_rate_decay} laid over the run (one every "
            f"{recipe.learning_rate_decay_epochs:g} epochs), EMA decay {recipe.ema_decay} and "
            f"batch-norm momentum {model.batch_norm_momentum} (the paper's averaging windows as a "
            f"fraction of the run); {crop}, the flip; evaluation on the whole image (fraction "
            f"{data.eval_crop_fraction:g}).")


def _accuracy_over_seeds(records: Sequence[dict]) -> str:
    """E.g. 'n = 3 seed(s): mean 91.20% top-1 accuracy, SD 0.30 points, 95% interval [90.45%, 91.95%]'."""
    summary = statistics.summarize([r["top1_error"] for r in records])
    text = f"n = {summary.n} seed(s): mean {_percent(1 - summary.mean)} top-1 accuracy"
    if summary.n >= 2:
        text += (f", SD {100 * summary.sd:.2f} points, 95% interval "
                 f"[{_percent(1 - summary.interval.high)}, {_percent(1 - summary.interval.low)}]")
    return text


def _main_job(results_dir: str, reported: Sequence[str] = ("small",)) -> List[str]:
    """Seed 0 of the main job at the current profile against its target; every profile's seeds."""
    table, name = MAIN_JOB
    seeds_of = {profile: trained_row(name, results_dir, profile).records for profile in reported}
    records = seeds_of[reported[0]]
    lines = []
    if not records:
        lines.append("Not run yet: `bash scripts/main.sh`.")
    else:
        first = records[0]
        accuracy, seconds = 1 - first["top1_error"], first["wall_seconds"]
        target_accuracy, target_seconds = MAIN_JOB_TARGET
        met = accuracy >= target_accuracy and seconds <= target_seconds
        lines.append(
            f"`bash scripts/main.sh` (Inception-v3, Table 3's `{name}`, `{reported[0]}` profile, seed "
            f"{first['seed']}): **{100 * accuracy:.2f}% top-1 accuracy** on the 10,000 test images with "
            f"the averaged weights, in **{seconds / 60:.1f} minutes** of wall time on "
            f"{first['machine'].get('cpu')} ({first['machine'].get('cores')} cores; the time as it ran, "
            f"with whatever else shared the machine: PERFORMANCE.md says what did). Target: at least "
            f"{100 * target_accuracy:.1f}% in at most {target_seconds / 60:.0f} minutes: "
            f"{'met' if met else 'NOT met'}.")
    for profile, seeds in seeds_of.items():
        if seeds:
            lines += ["", f"At the `{profile}` profile, {_accuracy_over_seeds(seeds)}."]
    return lines


def _long_run(results_dir: str) -> List[str]:
    records = trained_row(MAIN_JOB[1], results_dir, "long").records
    if not records:
        return ["Not run yet: `python experiments/table3.py --row bn_auxiliary --profile long "
                "--results_dir docs/results`."]
    r = records[0]
    return [f"`{MAIN_JOB[1]}` at the `long` profile ({r['config']['epochs']:g} epochs, {r['steps']:,} "
            f"steps): **{100 * (1 - r['top1_error']):.2f}% top-1 accuracy** after "
            f"{r['train_seconds'] / 60:.1f} minutes of training ({r['wall_seconds'] / 60:.1f} wall)."]


VERDICT_NOTE = (
    "How to read the verdicts: each change is the difference of the mean top-1 error of two rows "
    "over their seeds (positive: the row is worse), with Welch's 95% interval; for Tables 4 and 5 "
    "the difference of two evaluations of the same networks on the same images, with a paired "
    "bootstrap interval over images. \"Same direction\" and \"opposite direction\" are claimed only "
    "where the interval excludes zero; otherwise the change is not detectable at this scale, which "
    "is a measurement (of its size bound), not a failure. Top-5 error is not reported: with 10 "
    "classes it is near zero for every row.")


# Candidates for the small profile, one folder of seed files each: <results_dir>/profile_search/<name>/.
PROFILE_SEARCH = "profile_search"
_NOT_A_CHANGE = ("seed", "seeds", "name", "description", "table")


def config_changes(config: dict, against: ExperimentConfig) -> List[str]:
    """'field value (against's value)' for each field of a result file's config that differs from `against`.

    The fields that `profiles.compress_to_run` sets from the epochs are left
    out where something else changed: that change explains them.
    """
    changed = {k: v for k, v in config_lib.diff(against, ExperimentConfig.from_dict(config)).items()
               if k not in _NOT_A_CHANGE}
    shown = {k: v for k, v in changed.items() if k not in profiles.FOLLOW_THE_EPOCHS} or changed

    def value(v):
        if isinstance(v, (tuple, list)):
            return "[" + ", ".join(value(x) for x in v) + "]"
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    return [f"{k} {value(ours)} ({value(theirs)})" for k, (theirs, ours) in sorted(shown.items())]


def profile_search_markdown(results_dir: str, profile: str = "small",
                            others: Sequence[str] = ()) -> List[str]:
    """How the profile was chosen: each candidate's change against it, its seeds, and the difference.

    A candidate is a folder of seed files of the main job's row under
    `PROFILE_SEARCH`; the main job at each of the `others` profiles is one
    too. The change is read from the configs in its files against the row
    at `profile` today, so the table cannot misstate it.
    """
    name = MAIN_JOB[1]
    current = trained_row(name, results_dir, profile)
    against = current.row.config
    candidates = {f"`{os.path.basename(os.path.dirname(folder))}`":
                  [results.read_json(p) for p in sorted(glob.glob(os.path.join(folder, "seed_*.json")))]
                  for folder in sorted(glob.glob(os.path.join(results_dir, PROFILE_SEARCH, "*", "")))}
    candidates.update({f"the `{other}` profile": trained_row(name, results_dir, other).records
                       for other in others})
    lines = []
    for candidate, records in candidates.items():
        if not records:
            continue
        summary = statistics.summarize([r["top1_error"] for r in records])
        several = summary.n >= 2
        change = (_points(statistics.welch_difference([r["top1_error"] for r in records], current.errors))
                  if several and len(current.records) >= 2 else "-")
        lines.append([candidate, "; ".join(config_changes(records[0]["config"], against)) or "none",
                      str(summary.n), _percent(1 - summary.mean),
                      f"{100 * summary.sd:.2f}" if several else "-",
                      f"[{_percent(1 - summary.interval.high)}, {_percent(1 - summary.interval.low)}]"
                      if several else "-", change])
    if not lines:
        return []
    return [f"Candidates for the `{profile}` profile: seeds of `{name}`, each a result file in "
            f"`{results_dir}/{PROFILE_SEARCH}/<candidate>/` (its `command` reruns it), beside the main "
            f"job's seeds at the other profiles. Change: what the candidate sets, with the `{profile}` "
            "profile's value in brackets; accuracy: top-1 on the 10,000 test images, mean over the "
            "seeds, SD in points, 95% interval; error change: the candidate's mean top-1 error minus the "
            f"profile's (n = {len(current.records)}), in points, with Welch's 95% interval (negative: "
            "the candidate is better).", "",
            _markdown_table(["candidate", "change", "n", "accuracy", "SD", "95% interval",
                             "error change"], lines)]


# The profiles whose tables RESULTS.md shows, the current instrument first.
REPORTED_PROFILES = ("small", "small_crop85")


def _trained_records(results_dir: str, profile: str) -> List[dict]:
    """Every seed of the trained tables at `profile` that holds today's config, each once."""
    found = [r for table in ("table2", "table3", "controls") for name in rows.rows_of(table)
             for r in trained_row(name, results_dir, profile).records]
    # A row that stands for another (rf299 is bn_auxiliary) reads the same files: count each once.
    return list({(r["table"], r["row"], r["seed"]): r for r in found}.values())


def _has_results(results_dir: str, profile: str) -> bool:
    return bool(_trained_records(results_dir, profile)) or any(
        _evaluation_record(name, results_dir, profile) for table in ("table4", "table5")
        for name in rows.rows_of(table))


def profile_markdown(results_dir: str, profile: str, image_dir: Optional[str] = None) -> List[str]:
    """One profile's part of RESULTS.md: its setup, machines and commands, every table and control."""
    image_dir = image_dir or os.path.join(results_dir, profile)
    records = _trained_records(results_dir, profile)
    commands = sorted({r["command"] for r in records if r.get("command")})
    lines = [f"## The tables at the `{profile}` profile", "", _profile_summary(profile), ""]
    if profile in profiles.RENAMED_FROM:
        lines += [f"These seeds ran when this profile was called `{profiles.RENAMED_FROM[profile]}`: "
                  f"the commands below rerun them with `--profile {profile}` added.", ""]
    lines += ["Machines:", ""] + ([f"- {m}" for m in machines(records)] or ["- none yet"])
    lines += ["", "Made by:", ""] + (["```", *commands, "```"] if commands else ["- nothing yet"])
    lines += [""]
    for table in ("table2", "table3", "table4", "table5", "controls"):
        path = write_table(table, results_dir, profile)
        lines += [f"### {TITLES[table]}", "", table_markdown(table, results_dir, profile), ""]
        curves_name = CURVES_FILE.format(table=table)
        if os.path.exists(os.path.join(os.path.dirname(path), curves_name)):
            lines += [f"![{table} curves]({os.path.join(image_dir, curves_name)})", ""]
    lines += control_sections(results_dir, profile)
    if section4_curves(results_dir, profile, os.path.join(results_dir, profile, "section4_curves.png")):
        lines += ["Section 4 (Figure 8): held-out accuracy with and without the auxiliary head.", "",
                  f"![section 4]({os.path.join(image_dir, 'section4_curves.png')})", ""]
    return lines


def _section(title: str, body: List[str]) -> List[str]:
    return [f"## {title}", "", *body, ""] if body else []


def results_markdown(results_dir: str = results.PUBLISHED,
                     reported: Sequence[str] = REPORTED_PROFILES) -> str:
    """RESULTS.md from the result files: the main job, the long run, then each profile's tables.

    A profile of `reported` without any result file is left out, except the first (the current one).
    """
    lines = ["# Results: the paper's tables and controls at the small profiles", "",
             f"Generated by `python experiments/report.py` from the result files in `{results_dir}/` "
             "(one per seed; commit them, never this page's numbers by hand).", "",
             "## The main job", "", *_main_job(results_dir, reported),
             "", "## Longer training: where the network ends up", "", *_long_run(results_dir), "",
             *_section("How the small profile was chosen", profile_search_markdown(results_dir, reported[0], reported[1:])),
             VERDICT_NOTE, ""]
    for index, profile in enumerate(reported):
        if index == 0 or _has_results(results_dir, profile):
            lines += profile_markdown(results_dir, profile)
    return "\n".join(lines)
