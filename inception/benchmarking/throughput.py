"""Images/s of model paths beside the machine's matmul rates, timed in the same rounds.

Every throughput is also a fraction of what the cores can do:
images/s x multiply-adds x 2 (x 3 for training) / matmul FLOP/s.
"""

from __future__ import annotations

from typing import Callable, Dict

from inception.benchmarking import timing
from inception.benchmarking.progress import progress


def fraction_of_peak(images_per_second: float, multiply_adds: int, flops: float, passes: int = 1) -> float:
    """images/s x multiply-adds x 2 (x 3 for a training step) / measured matmul FLOP/s."""
    return round(images_per_second * multiply_adds * 2 * passes / flops, 3)


def peak_fractions(name: str, images_per_second: float, multiply_adds: int, rates: dict,
                   passes: int = 1) -> dict:
    """The fraction of the fp32 matmul rate; for bf16 and int8 paths also of their own type's."""
    fractions = {"fraction_of_fp32_matmul_peak": fraction_of_peak(
        images_per_second, multiply_adds, rates["matmul_fp32"], passes)}
    for kind in ("bf16", "int8"):
        if kind in name and f"matmul_{kind}" in rates:
            fractions[f"fraction_of_{kind}_matmul_peak"] = fraction_of_peak(
                images_per_second, multiply_adds, rates[f"matmul_{kind}"], passes)
    return fractions


def ceiling_ratio(path: dict) -> float:
    """The ratio to the baseline this path would reach at 100% of its number type's matmul rate.

    ratio / fraction of peak: a path now at ratio 1.5 using 75% of the
    int8 matmul rate could reach 2.0 at most, however its kernels improved,
    without fewer multiply-adds or a faster number type. The rate is that of
    a large square matrix product measured in the same rounds (`matmul.matmul_candidates`).
    """
    kind = next((k for k in ("int8", "bf16") if f"fraction_of_{k}_matmul_peak" in path), "fp32")
    return round(path["ratio_vs_baseline"] / path[f"fraction_of_{kind}_matmul_peak"], 2)


def time_beside_matmuls(section: str, calls: Dict[str, Callable[[], object]], images_per_call: int,
                        multiply_adds: Dict[str, int], matmuls: Dict[str, tuple], baseline: str,
                        repeats: int, warmup: int, passes: int = 1) -> dict:
    """Times `calls` and `matmuls` in alternation; each path's images/s, ratio and fractions of peak.

    `matmuls` is `matmul.matmul_candidates(...)`; `passes` is 1 for
    inference and 3 for a training step (forward, two backward). Returns
    {"paths": {name: figures}, "matmul_ops_per_second": {name: G ops/s}}.
    """
    candidates = dict(calls, **{name: call for name, (call, _) in matmuls.items()})
    progress(f"{section}: timing {len(candidates)} candidates, {repeats} rounds")
    times = timing.interleaved(candidates, repeats, warmup=warmup)
    work = dict({name: images_per_call for name in calls}, **{name: ops for name, (_, ops) in matmuls.items()})
    summary = timing.summarize(times, work, baseline, "images")
    rates = {name: summary.pop(name)["images_per_second"] for name in matmuls}  # ops/s, not images
    for name, figures in summary.items():
        figures.update(peak_fractions(name, figures["images_per_second"], multiply_adds[name], rates, passes))
        figures["multiply_adds_per_image"] = multiply_adds[name]
    return {"paths": summary, "matmul_ops_per_second": {k: round(v / 1e9, 1) for k, v in rates.items()}}
