"""The whole benchmark: every phase in order, each in its own process (`run_benchmark`)."""

from __future__ import annotations

import dataclasses
import datetime
import tempfile
from typing import Callable, Dict, Optional

from inception.benchmarking import inference, report, training
from inception.benchmarking.processes import run_phase
from inception.benchmarking.settings import Settings

# The paths whose peak memory is measured, each in a process of its own.
MEMORY_PATHS = {"inference": (inference.BASELINE, "ours_predict_on_batch") + inference.exported_names(),
                "training": (training.BASELINE, "ours_fit_full_recipe")}


def measure_all_memory(settings: Settings, saved_models: Optional[Dict[str, str]] = None,
                       log: Callable[[str], None] = print) -> dict:
    """{section: {path: peak memory}}, each path in its own process.

    An exported path is served from its SavedModel in `saved_models`
    ({path name: directory}, as the compute phase kept them), or from one
    that a process of its own exports first.
    """
    memory = {}
    saved_models = dict(saved_models or {})
    exported = inference.exported_names()
    with tempfile.TemporaryDirectory() as folder:
        for section, names in MEMORY_PATHS.items():
            if section == "training" and not settings.training:
                continue
            for name in names:
                log(f"memory: {section} {name}, in its own process")
                saved_model = None
                if name in exported:  # exported by one process, served by another
                    if name not in saved_models:
                        saved_models[name] = run_phase("export", settings, onednn=True, log=log, name=name,
                                                       folder=folder)["path"]
                    saved_model = saved_models[name]
                memory.setdefault(section, {})[name] = run_phase(
                    "memory", settings, onednn=True, log=log, section=section, name=name,
                    saved_model=saved_model)
    return memory


def measure_distribution(settings: Settings, log: Callable[[str], None] = print) -> dict:
    """{replicas: overhead figures}, a process for each replica count."""
    overhead = {}
    for replicas in settings.distribution_replicas:
        log(f"distribution overhead, {replicas} replicas")
        overhead[str(replicas)] = run_phase("distribution", settings, onednn=True, log=log, replicas=replicas)
    return overhead


def run_benchmark(settings: Settings = Settings(), agreement_model: Optional[str] = None,
                  log: Callable[[str], None] = print) -> dict:
    """Every phase; returns all figures, the headline ones at the top level.

    Both models of a comparison always share one process and so one
    TensorFlow configuration; a second compute phase with TensorFlow's
    default (oneDNN off in this build) repeats the fp32 inference comparisons.
    """
    started = datetime.datetime.now(datetime.timezone.utc)
    log("compute phase (oneDNN on): inference, training, matmul, input pipeline, agreement")
    with tempfile.TemporaryDirectory() as exports:  # exported once, then served by the memory processes
        results = run_phase("compute", settings, onednn=True, log=log, agreement_model=agreement_model,
                            export_folder=exports)
        saved_models = results["inference"].pop(inference.SAVED_MODELS)
        if settings.tf_default_phase:
            log("compute phase (TensorFlow defaults, oneDNN off): fp32 inference")
            default = dataclasses.replace(settings, bfloat16=False, training=False)
            results["tf_default"] = run_phase("compute", default, onednn=False, log=log, input_pipeline=False)
        results["memory"] = measure_all_memory(settings, saved_models, log)
    results["distribution_overhead"] = measure_distribution(settings, log)
    results.update(report.headline(results))
    results["settings"] = dataclasses.asdict(settings)
    results["started_utc"] = started.isoformat(timespec="seconds")
    results["seconds"] = round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds())
    return results
