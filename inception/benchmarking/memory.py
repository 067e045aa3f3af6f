"""Peak resident memory of one benchmark path, read from /proc/self/status.

Each path gets its own fresh process (`suite.measure_all_memory`):
TensorFlow's allocators keep freed memory, so in a shared process one
path's peak would hide the next.
"""

from __future__ import annotations

import tempfile
from typing import Optional

from inception.benchmarking.settings import Settings


def status_mib(field: str) -> float:
    """A field of /proc/self/status (VmRSS: resident now, VmHWM: resident at peak) in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def measure_memory(section: str, name: str, settings: Settings, saved_model: Optional[str] = None) -> dict:
    """Peak resident memory of this (fresh) process running path `name` on two batches.

    The process builds the path (a training run, or an inference model with
    the models it is derived from), or, given `saved_model`, only loads and
    serves that SavedModel, as a server would. `peak_rss_mib` is the
    process's high-water mark (VmHWM): TensorFlow, the weights, the graph and
    one batch's working memory. `peak_over_idle_mib` subtracts the resident
    set before the build or load (TensorFlow started, the input batch made).
    """
    import tensorflow as tf

    from inception.benchmarking.inference import InferenceModels
    from inception.benchmarking.training import TrainingRuns

    paths = InferenceModels(settings, tempfile.mkdtemp()) if section == "inference" else TrainingRuns(settings)
    tf.constant(0.0).numpy()  # start TensorFlow's runtime before the idle reading
    idle = status_mib("VmRSS")
    call = paths.served(saved_model) if saved_model else paths.call(name)
    call()
    call()
    peak = status_mib("VmHWM")
    return {"peak_rss_mib": round(peak), "peak_over_idle_mib": round(peak - idle), "idle_rss_mib": round(idle)}
