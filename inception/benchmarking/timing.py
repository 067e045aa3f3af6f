"""Timing on a shared machine: candidates in alternation, step times inside `fit`, ratio summaries.

Every speed figure is a ratio of two things timed in the same process, in
alternation (A, B, A, B, ...), with the median over the rounds reported: on
a machine shared with other work only such ratios are steady.
"""

from __future__ import annotations

import dataclasses
import resource
import statistics
import time
from typing import Callable, Dict


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


@dataclasses.dataclass
class StepTimes:
    """Seconds (wall and CPU) of the steps of one `fit` after its first."""

    wall: float = 0.0
    cpu: float = 0.0


def interleaved(candidates: Dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict:
    """{name: {"wall": [s, ...], "cpu": [s, ...]}}: each candidate once per round, in turn.

    A candidate that returns a `StepTimes` reports its own (steady-state)
    seconds; otherwise the whole call is timed.
    """
    for call in candidates.values():
        for _ in range(warmup):
            call()
    times = {name: {"wall": [], "cpu": []} for name in candidates}
    for _ in range(repeats):
        for name, call in candidates.items():
            started_wall, started_cpu = time.perf_counter(), cpu_seconds()
            measured = call()
            if not isinstance(measured, StepTimes):
                measured = StepTimes(time.perf_counter() - started_wall, cpu_seconds() - started_cpu)
            times[name]["wall"].append(measured.wall)
            times[name]["cpu"].append(measured.cpu)
    return times


def summarize(times: dict, work: Dict[str, float], baseline: str, unit: str) -> dict:
    """Per candidate: `unit`/s (wall, median), per CPU-second, and the ratio to `baseline`.

    `work[name]` is how many `unit`s one call does. The ratio is the median
    over rounds of (baseline seconds per unit / candidate seconds per unit),
    each from neighbouring calls, so slow drifts of the machine's load cancel.
    """
    summary = {}
    base = [work[baseline] / s for s in times[baseline]["wall"]]
    base_cpu = [work[baseline] / s for s in times[baseline]["cpu"]]
    for name, t in times.items():
        rate = [work[name] / s for s in t["wall"]]
        summary[name] = {
            f"{unit}_per_second": round(statistics.median(rate), 3),
            f"{unit}_per_cpu_second": round(statistics.median(work[name] / s for s in t["cpu"]), 3),
            "ratio_vs_baseline": round(statistics.median(r / b for r, b in zip(rate, base)), 3),
            "cpu_ratio_vs_baseline": round(statistics.median(
                (work[name] / c) / b for c, b in zip(t["cpu"], base_cpu)), 3),
            "seconds_per_call": [round(s, 3) for s in t["wall"]],
        }
    return summary


def _step_timer(result: StepTimes):
    """A Keras callback timing from the end of the first step to the end of the last.

    The first step of each `fit` carries the call's own set-up (iterators,
    callbacks, distributing the dataset); the steps after it are the steady
    state that a long run sees.
    """
    import keras

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter(), cpu_seconds()
            if batch == 0:
                self.start = now
            else:
                result.wall, result.cpu = now[0] - self.start[0], now[1] - self.start[1]

    return StepTimer()


def fit_call(model, dataset, steps: int) -> Callable[[], StepTimes]:
    """A call running `steps` optimizer steps of `fit`, returning the time of all but the first."""
    if steps < 2:
        raise ValueError("Time at least 2 steps per fit call: the first one is not timed.")

    def call() -> StepTimes:
        times = StepTimes()
        model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[_step_timer(times)])
        return times

    return call


def one_step(model, dataset) -> Callable[[], object]:
    """A call running one optimizer step of `fit` (tracing, and memory)."""
    return lambda: model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)
