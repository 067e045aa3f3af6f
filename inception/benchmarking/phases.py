"""What a child process of the benchmark runs: one phase, in a fresh TensorFlow.

    python -m inception.benchmarking.phases PHASE ARGUMENTS.json RESULT.json

The logical-device split (distribution), TensorFlow's oneDNN switch (int8
needs TF_ENABLE_ONEDNN_OPTS=1) and the Keras backend are fixed when the
process starts, and peak
memory needs a process of its own, so each phase runs in a child
(`processes.run_phase` starts it). ARGUMENTS.json holds the `Settings` and
the phase's keyword arguments; the phase's figures go to RESULT.json.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Callable, Dict, Optional

from inception.benchmarking.progress import progress
from inception.benchmarking.settings import Settings


def machine() -> dict:
    """`inception.machine.describe()` (CPU, instruction sets, cores, versions) and TF's thread pools."""
    import tensorflow as tf

    from inception import machine as machine_description

    return dict(machine_description.describe(),
                intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
                inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads())


def load_average() -> Optional[list]:
    """1, 5 and 15-minute load averages: how busy the shared machine was."""
    import os

    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def _sections(settings: Settings, agreement_model: Optional[str], input_pipeline: bool,
              export_folder: Optional[str]) -> Dict[str, Callable]:
    """{section: measure()} of the compute phase, in the order they run."""
    from inception.benchmarking.inference import measure_inference
    from inception.benchmarking.training import measure_training

    sections = {"inference": lambda: measure_inference(settings, export_folder)}
    if settings.training:
        sections["training"] = lambda: measure_training(settings)
    if input_pipeline:
        from inception.benchmarking.input_pipeline import measure_input_throughput

        sections["input_pipeline"] = lambda: measure_input_throughput(
            images=settings.input_images, image_size=settings.image_size,
            batch_size=min(settings.batch_size, settings.input_images), rounds=settings.input_rounds)
    if agreement_model:
        from inception.benchmarking.agreement import measure_agreement

        sections["agreement"] = lambda: measure_agreement(agreement_model, settings)
    return sections


def compute(settings: Settings, agreement_model: Optional[str] = None, input_pipeline: bool = True,
            export_folder: Optional[str] = None) -> dict:
    """Inference, training, matmul rates (and input pipeline, agreement) in this process.

    The exported paths' SavedModels stay under `export_folder` when given.
    """
    sections = _sections(settings, agreement_model, input_pipeline, export_folder)
    result = {"machine": machine(), "section_seconds": {}, "load_average": {}}
    for name, measure in sections.items():
        progress(f"{name} ...")
        started = time.perf_counter()
        result["load_average"][f"{name}_start"] = load_average()
        result[name] = measure()
        result["section_seconds"][name] = round(time.perf_counter() - started)
    result["load_average"]["end"] = load_average()
    return result


def memory(settings: Settings, section: str, name: str, saved_model: Optional[str] = None) -> dict:
    from inception.benchmarking.memory import measure_memory

    return measure_memory(section, name, settings, saved_model)


def export(settings: Settings, name: str, folder: str) -> dict:
    """Writes exported path `name`'s SavedModel under `folder` (another process serves it)."""
    from inception.benchmarking.inference import InferenceModels

    return {"path": InferenceModels(settings, folder).export(name)}


def distribution(settings: Settings, replicas: int) -> dict:
    from inception.benchmarking.distribution import measure_distribution_overhead

    return measure_distribution_overhead(replicas, settings)


def training_step(settings: Settings, row: str, batch: int, steps: int, warmup: int,
                  dtype_policy: str = "float32") -> dict:
    """A row's small-profile training step on this process's backend (tools/benchmark_backends.py)."""
    del settings  # the step's size is the small profile's, not the benchmark's
    from inception.benchmarking.backends import measure_training_step

    return measure_training_step(row, batch, steps, warmup, dtype_policy)


PHASES: Dict[str, Callable[..., dict]] = {
    "compute": compute, "memory": memory, "export": export, "distribution": distribution,
    "training_step": training_step}


def run(phase: str, arguments: dict) -> dict:
    """The figures of `phase`; `arguments` holds "settings" (a dict) and the phase's keywords."""
    if phase not in PHASES:
        raise ValueError(f"Unknown phase {phase!r}; valid: {sorted(PHASES)}.")
    arguments = dict(arguments)
    settings = Settings(**arguments.pop("settings"))
    return PHASES[phase](settings, **arguments)


def main(argv) -> None:
    phase, arguments_file, output = argv
    with open(arguments_file) as f:
        arguments = json.load(f)
    result = run(phase, arguments)
    with open(output, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1:])
