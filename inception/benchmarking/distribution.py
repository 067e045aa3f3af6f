"""Distribution overhead: one global step on R logical CPU replicas against R single-replica steps."""

from __future__ import annotations

import statistics

from inception.benchmarking import timing
from inception.benchmarking.settings import Settings


def _repeated_batch(count: int, settings: Settings, model):
    """One fixed batch of `count` images and labels, repeated, with the targets `model` trains on."""
    import numpy as np
    import tensorflow as tf

    from inception.training import targets_for

    rng = np.random.default_rng(0)
    size = settings.distribution_image_size
    images = rng.uniform(-1, 1, (count, size, size, 3)).astype("float32")
    labels = rng.integers(0, 10, count).astype("int32")
    return tf.data.Dataset.from_tensors((images, labels)).repeat().map(targets_for(model))


def measure_distribution_overhead(replicas: int, settings: Settings) -> dict:
    """One global step on `replicas` logical CPU replicas / `replicas` single-replica steps.

    Must run in a fresh process (the CPU is split before TensorFlow starts).
    The model is the test-sized stand-in (`inception.training.testing.tiny_model`)
    with the whole recipe; a ratio of 1 means replication costs nothing, above
    1 is the overhead of mirroring variables and all-reducing gradients.
    """
    from inception.config import DistributeConfig, ModelConfig
    from inception.training import distribute, paper_recipe
    from inception.training.testing import tiny_model

    strategy = distribute.build_strategy(DistributeConfig(cpu_replicas=replicas))
    spec = ModelConfig(num_classes=10, input_size=settings.distribution_image_size)
    with strategy.scope():
        replicated = tiny_model(spec)
        replicated.compile(**paper_recipe(steps_per_epoch=1000))
    single = tiny_model(spec)
    single.compile(**paper_recipe(steps_per_epoch=1000))

    per_replica, steps = settings.distribution_batch, settings.distribution_steps
    calls = {"global_step": timing.fit_call(replicated, _repeated_batch(per_replica * replicas, settings, single),
                                            steps),
             "single_replica_steps": timing.fit_call(single, _repeated_batch(per_replica, settings, single),
                                                     (steps - 1) * replicas + 1)}
    times = timing.interleaved(calls, settings.distribution_repeats)
    # Both timed parts hold the same images: steps - 1 global steps, or R times as many single ones.
    ratios = [g / s for g, s in zip(times["global_step"]["wall"], times["single_replica_steps"]["wall"])]
    return {
        "replicas": strategy.num_replicas_in_sync,
        "per_replica_batch": per_replica,
        "image_size": settings.distribution_image_size,
        "global_step_seconds": round(statistics.median(times["global_step"]["wall"]) / (steps - 1), 4),
        "single_replica_step_seconds": round(
            statistics.median(times["single_replica_steps"]["wall"]) / ((steps - 1) * replicas), 4),
        "overhead_ratio": round(statistics.median(ratios), 3),
    }
