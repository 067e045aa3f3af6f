"""Result files: what outlives a machine, one small JSON per finished seed of a row.

    <results_dir>/<profile>/<table>/<row>/seed_<k>.json   a trained row's seed k: errors,
                       steps, time, machine, config and its hashes, history
    <results_dir>/<profile>/<table>/<row>/result.json     a row that evaluates trained
                       networks (Tables 4, 5): per-image correctness too

The published ones live in `docs/results/` (`PUBLISHED`) and are committed
as they finish; the report (`inception.report`) rebuilds every table, curve
and verdict from them without training. A seed whose file holds the hash of
the config it would train now is done and is never trained again; a file
of another config is never overwritten (`ResultConflict`).
"""

from __future__ import annotations

import datetime
import glob
import json
import os
from typing import Iterable, List, Optional

from inception.config import ExperimentConfig

PUBLISHED = "docs/results"
SEED_FILE = "seed_{seed}.json"
EVALUATION_FILE = "result.json"
# History keys kept in a result file (the rest of a run's history stays in its run directory).
HISTORY_KEYS = ("step", "learning_rate", "loss", "logits_top1", "top1", "heldout_top1",
                "train_seconds")


class ResultConflict(FileExistsError):
    """A result file holds another config's result; it is kept, not overwritten."""


def row_dir(results_dir: str, profile: str, table: str, row: str) -> str:
    return os.path.join(results_dir, profile, table, row)


def seed_path(results_dir: str, profile: str, table: str, row: str, seed: int) -> str:
    return os.path.join(row_dir(results_dir, profile, table, row), SEED_FILE.format(seed=seed))


def evaluation_path(results_dir: str, profile: str, table: str, row: str) -> str:
    return os.path.join(row_dir(results_dir, profile, table, row), EVALUATION_FILE)


def write_json(value: dict, path: str) -> str:
    """Write `value` to `path` atomically (a killed run never leaves half a file)."""
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    temporary = path + ".tmp"
    with open(temporary, "w") as f:
        json.dump(value, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(temporary, path)
    return path


def read_json(path: str) -> dict:
    with open(path) as f:
        return json.load(f)


def _rounded(value):
    return float(f"{value:.5g}") if isinstance(value, float) else value


def compact_history(history: Iterable[dict]) -> List[dict]:
    """The history records with the keys the curves need, floats to 5 significant digits."""
    return [{k: _rounded(r[k]) for k in HISTORY_KEYS if k in r} for r in history]


def seed_record(*, table: str, row: str, seed: int, profile: str, config: ExperimentConfig,
                run: dict, machine: dict, command: Optional[str], wall_seconds: float) -> dict:
    """The result file of one seed, from `train_and_evaluate`'s results."""
    return {
        "table": table,
        "row": row,
        "seed": seed,
        "profile": profile,
        "config_hash": config.identity_hash(),
        "row_hash": config.identity_hash(with_seed=False),
        "config": config.to_dict(),
        "top1_error": run["top1_error"],
        "top5_error": run["top5_error"],
        "eval_examples": run["eval_examples"],
        "steps": run["steps"],
        "global_batch": run["global_batch"],
        "train_seconds": run["train_seconds"],
        "wall_seconds": wall_seconds,
        "machine": machine,
        "date": datetime.date.today().isoformat(),
        "command": command,
        "history": compact_history(run["history"]),
    }


def is_done(path: str, config: ExperimentConfig) -> bool:
    """Whether `path` holds the result of a run of `config` (the same training, by its hash).

    Raises `ResultConflict` when it holds another config's result: that
    result is kept, and the caller must choose another results directory.
    """
    if not os.path.exists(path):
        return False
    try:
        found = read_json(path).get("config_hash")
    except (OSError, ValueError):
        return False  # a damaged file is redone
    if found != config.identity_hash():
        raise ResultConflict(
            f"{path} holds the result of another config (hash {found}, this one "
            f"{config.identity_hash()}); it is kept. Use another --results_dir, or move the file away.")
    return True


def seed_results(results_dir: str, profile: str, table: str, row: str,
                 row_hash: Optional[str] = None) -> List[dict]:
    """The seed files of a row in seed order, only those of `row_hash` when given ([] if none)."""
    directory = glob.escape(row_dir(results_dir, profile, table, row))
    found = [read_json(path) for path in glob.glob(os.path.join(directory, SEED_FILE.format(seed="*")))]
    if row_hash is not None:
        found = [r for r in found if r.get("row_hash") == row_hash]
    return sorted(found, key=lambda r: r["seed"])


def bits(flags: Iterable[bool]) -> str:
    """Per-image correctness as a string of 0 and 1 (compact in JSON, exact to read back)."""
    return "".join("1" if f else "0" for f in flags)


def unbits(text: str) -> List[bool]:
    return [c == "1" for c in text]
