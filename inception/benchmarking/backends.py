"""The small profile's training step on each Keras backend, each variant in a fresh process.

Keras picks its backend when it is first imported and TensorFlow reads
TF_ENABLE_ONEDNN_OPTS when it starts, so a variant is a child process's
backend and oneDNN switch (`processes.run_phase(..., backend=, onednn=)`),
and the Keras dtype policy its network is built in. The
child builds a row's network at the small profile, compiles it with the whole
recipe of paper section 8 (TF1 RMSProp, staircase schedule, clipping, EMA,
smoothed losses) and runs `model.fit` over one in-memory batch repeated, so
that the figure is the training step alone, not the input pipeline.
"""

from __future__ import annotations

import dataclasses
import statistics
import time
from typing import Dict, List

from inception.benchmarking import timing


@dataclasses.dataclass(frozen=True)
class Variant:
    """A child process's Keras backend, TensorFlow oneDNN switch and Keras dtype policy.

    tf.data runs on TensorFlow whatever the backend.
    """

    backend: str
    onednn: bool = True
    dtype_policy: str = "float32"


VARIANTS: Dict[str, Variant] = {
    "tensorflow": Variant("tensorflow"),
    "tensorflow_onednn_off": Variant("tensorflow", onednn=False),
    "jax": Variant("jax"),
    # bfloat16 matrix products run on AMX or AVX512-BF16 where the CPU has them, emulated elsewhere.
    "tensorflow_mixed_bfloat16": Variant("tensorflow", dtype_policy="mixed_bfloat16"),
}


def check_variants(names: List[str]) -> None:
    unknown = sorted(set(names) - set(VARIANTS))
    if unknown:
        raise ValueError(f"Unknown variant(s) {unknown}; valid: {sorted(VARIANTS)}.")


def measure_training_step(row: str, batch: int, steps: int, warmup: int,
                          dtype_policy: str = "float32") -> dict:
    """Seconds per training step of `row`'s small-profile network on this process's backend.

    `warmup` one-step fits first (the first traces and compiles), untimed but
    reported; then one fit of `steps` + 1 steps, all but its first timed
    (`timing.fit_call`), in wall and CPU seconds.
    """
    import keras
    import numpy as np
    import tensorflow as tf

    import inception
    from inception import compat, profiles
    from inception.data import fashion_mnist
    from inception.training import recipe_from_config

    config = profiles.get(row, "small", overrides={"model": {"dtype_policy": dtype_policy}}).config
    model = inception.inception_v3(config.model)
    # The schedule's epoch is the small profile's (it shapes the rates, not the time of a step).
    epoch = config.run_size(fashion_mnist.TRAIN_EXAMPLES).steps_per_epoch
    model.compile(**recipe_from_config(config.recipe, steps_per_epoch=epoch))
    size = config.model.input_size
    rng = np.random.default_rng(0)
    images = rng.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    labels = rng.integers(0, config.model.num_classes, batch).astype("int32")
    dataset = tf.data.Dataset.from_tensors((images, labels)).repeat()
    compat.prebuild_compiled_state(model, dataset.element_spec)  # as the trainer does
    started = time.perf_counter()
    for _ in range(warmup):
        timing.one_step(model, dataset)()
    warmup_seconds = time.perf_counter() - started
    measured = timing.fit_call(model, dataset, steps + 1)()
    # What the convolutions compute in, read off the network (not the variant's wish).
    compute_dtype = next(layer.compute_dtype for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    return {"backend": keras.backend.backend(), "dtype_policy": dtype_policy, "compute_dtype": compute_dtype,
            "row": row, "batch": batch, "timed_steps": steps,
            "seconds_per_step": measured.wall / steps, "cpu_seconds_per_step": measured.cpu / steps,
            "warmup_seconds": warmup_seconds}


def summarize_rounds(rounds: List[Dict[str, dict]], baseline: str) -> dict:
    """Per variant: images/s, images per CPU-second and the ratios to `baseline` (`timing.summarize`).

    `rounds` holds one {variant: `measure_training_step` figures} per round,
    the variants timed in turn; each ratio is the median over rounds of that
    round's ratio, so that a change of the machine's load between rounds cancels.
    """
    times = {name: {"wall": [r[name]["seconds_per_step"] for r in rounds],
                    "cpu": [r[name]["cpu_seconds_per_step"] for r in rounds]} for name in rounds[0]}
    work = {name: rounds[0][name]["batch"] for name in times}
    summary = timing.summarize(times, work, baseline, "images")
    for name, figures in summary.items():
        figures["ms_per_step"] = round(1000 * statistics.median(times[name]["wall"]), 1)
        figures["warmup_seconds"] = round(statistics.median(r[name]["warmup_seconds"] for r in rounds), 1)
    return summary
