"""Run a row of the paper's tables or controls over seeds: `run_row(name, seeds=5)`.

A row (`inception.rows`) either trains a network (Tables 2 and 3, the
controls), once per seed, or evaluates networks another row trained
(`Row.reuses`: Tables 4 and 5) with 12 or 144 crops and, for an ensemble,
several of its seeds. Runs and results land in two places:

    <workdir>/<profile>/<table>/<row>/seed_<k>/          seed k's run (the trainer's files)
    <results_dir>/<profile>/<table>/<row>/seed_<k>.json  seed k's result (`inception.results`)
    <results_dir>/<profile>/<table>/<row>/result.json    an evaluating row's result

Nothing is done twice: a seed whose result file holds the hash of the
config it would train is skipped, a finished run directory is read back
instead of retrained, and an interrupted one resumes from its checkpoint.
The tables themselves are written by `inception.report` from the result files.
"""

from __future__ import annotations

import dataclasses
import os
import time
from typing import List, Optional

from absl import logging

from inception import data as data_lib
from inception import evaluation, machine, profiles, results
from inception.complexity import count_multiply_adds
from inception.config import ExperimentConfig
from inception.loading import load_trained_model
from inception.rows import Row
from inception.training import trainer
from inception.training.workdir import RunPaths, read_config, read_results

# Multi-crop batches hold about this many crops (144 crops of 4 images at 75x75: 140 MB).
CROPS_PER_BATCH = 512


@dataclasses.dataclass(frozen=True)
class Seed:
    """One seed of a trained row: its run's config, run directory and result file."""

    row: Row
    index: int
    config: ExperimentConfig
    run_dir: str
    result_path: str


def seeds_of(row: Row, profile: str, workdir: str, results_dir: str, count: int) -> List[Seed]:
    """Seeds 0..count-1 of a trained row: seed k trains with `config.seed + k`."""
    if not row.trains:
        raise ValueError(f"Row {row.name!r} evaluates {row.reuses!r}'s networks; it trains nothing.")
    found = []
    for k in range(count):
        config = row.config.derive(seed=row.config.seed + k, seeds=count)
        found.append(Seed(row, k, config, os.path.join(workdir, profile, row.table, row.name, f"seed_{k}"),
                          results.seed_path(results_dir, profile, row.table, row.name, k)))
    return found


def _finished_run(seed: Seed) -> Optional[dict]:
    """The trainer's results of an earlier run of exactly this config in the seed's directory."""
    paths = RunPaths(seed.run_dir)
    if not os.path.exists(paths.results) or not os.path.exists(paths.config):
        return None
    if read_config(seed.run_dir).identity_hash() != seed.config.identity_hash():
        return None
    return read_results(seed.run_dir)


def ensure_seed(seed: Seed, profile: str, command: Optional[str] = None, verbose="auto") -> dict:
    """The seed's result record: read back when done, else trained (or resumed) and written."""
    if results.is_done(seed.result_path, seed.config):
        logging.info("%s seed %d: done before (%s).", seed.row.name, seed.index, seed.result_path)
        return results.read_json(seed.result_path)
    started = time.time()
    run = _finished_run(seed) or trainer.train_and_evaluate(seed.config, seed.run_dir, verbose=verbose)
    record = results.seed_record(
        table=seed.row.table, row=seed.row.name, seed=seed.index, profile=profile,
        config=seed.config, run=run, machine=machine.describe(), command=command,
        wall_seconds=time.time() - started)
    results.write_json(record, seed.result_path)
    logging.info("%s seed %d: top-1 error %.4f in %.0f s; wrote %s.", seed.row.name, seed.index,
                 record["top1_error"], record["wall_seconds"], seed.result_path)
    return record


def ensure_weights(seed: Seed, verbose="auto") -> None:
    """The seed's trained network on disk, for rows that evaluate it (Tables 4, 5).

    A seed whose result file was committed may have no run directory on
    this machine: it is trained again (a new run of the same config; the
    committed result file is left as it is).
    """
    from inception.loading import final_weights_path

    if not os.path.exists(final_weights_path(seed.run_dir)):
        logging.info("%s seed %d: no trained network in %s; training it.", seed.row.name, seed.index,
                     seed.run_dir)
        trainer.train_and_evaluate(seed.config, seed.run_dir, verbose=verbose)


def network_cost(config: ExperimentConfig) -> dict:
    """Multiply-adds and parameters of the evaluated network (no auxiliary head), one crop."""
    from inception.model import inception_v3

    model = inception_v3(config.model, include_aux=False)
    return {"multiply_adds": count_multiply_adds(model), "parameters": model.count_params()}


def train_seeds(row: Row, profile: str, workdir: str, results_dir: str, count: int,
                command: Optional[str] = None, verbose="auto") -> List[dict]:
    """Every seed of a trained row, in order; each result file is written as it finishes."""
    seeds = seeds_of(row, profile, workdir, results_dir, count)
    return [ensure_seed(s, profile, command, verbose) for s in seeds]


def _eval_dataset(row: Row, crops: int):
    return data_lib.build_dataset(
        row.config.data, split="eval", image_size=row.config.model.input_size,
        batch_size=max(1, CROPS_PER_BATCH // crops), training=False, crops=crops)


def _summary(result: evaluation.EvalResult) -> dict:
    return {"top1_error": result.top1_error, "top5_error": result.top5_error,
            "examples": result.examples, "crops": result.crops, "models": result.models,
            "correct_top1": results.bits(result.correct_top1),
            "correct_top5": results.bits(result.correct_top5)}


def evaluate_reused(row: Row, profile: str, workdir: str, results_dir: str,
                    overrides: Optional[dict] = None, command: Optional[str] = None,
                    verbose="auto") -> dict:
    """An evaluating row (Table 4, 5): its crops and models, and the baseline on the same images.

    The baseline is what the paper compares the row with: one crop of the
    same network (Table 4), or one model with the same crops (Table 5), so
    the two evaluations are paired image by image.
    """
    path = results.evaluation_path(results_dir, profile, row.table, row.name)
    reused = profiles.get(row.reuses, profile, overrides)
    seeds = seeds_of(reused, profile, workdir, results_dir, row.ensemble)
    seed_hashes = [s.config.identity_hash() for s in seeds]
    if results.is_done(path, row.config) and results.read_json(path)["seed_hashes"] == seed_hashes:
        return results.read_json(path)
    records = [ensure_seed(s, profile, command, verbose) for s in seeds]
    for s in seeds:
        ensure_weights(s, verbose)
    started = time.time()
    models = [load_trained_model(s.run_dir, use_ema=row.config.evaluation.use_ema) for s in seeds]
    crops = row.config.evaluation.crops
    dataset = _eval_dataset(row, crops)
    ours = evaluation.evaluate(models, dataset, use_ema=False)  # the loaded weights are the averages
    baseline_models, baseline_crops = (models[:1], crops) if len(models) > 1 else (models, 1)
    baseline = evaluation.evaluate(baseline_models, _eval_dataset(row, baseline_crops), use_ema=False)
    record = {
        "table": row.table, "row": row.name, "profile": profile, "reuses": row.reuses,
        "config_hash": row.config.identity_hash(), "config": row.config.to_dict(),
        "seeds": [s.config.seed for s in seeds], "seed_hashes": seed_hashes,
        "member_top1_errors": [r["top1_error"] for r in records],
        "ours": _summary(ours), "baseline": _summary(baseline),
        "eval_seconds": time.time() - started, "machine": machine.describe(), "command": command,
        **network_cost(row.config),
    }
    results.write_json(record, path)
    return record


def run_row(name: str, *, profile: str = "small", workdir: str = "runs",
            results_dir: Optional[str] = None, overrides: Optional[dict] = None,
            seeds: Optional[int] = None, command: Optional[str] = None, verbose="auto"):
    """Train (or reuse) and evaluate the row `name`; returns its seeds' records or its evaluation.

    `overrides` change the row's config after the profile (as for
    `ExperimentConfig.derive`), e.g. `{"max_steps": 2}`; `seeds` defaults to
    the config's `seeds`. Result files go to `results_dir` (default
    `<workdir>/results`).
    """
    row = profiles.get(name, profile, overrides)
    results_dir = results_dir or os.path.join(workdir, "results")
    if row.alias_of:
        row = profiles.get(row.alias_of, profile, overrides)
    if row.trains:
        return train_seeds(row, profile, workdir, results_dir, seeds or row.config.seeds, command, verbose)
    return evaluate_reused(row, profile, workdir, results_dir, overrides, command, verbose)
