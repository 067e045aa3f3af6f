"""Replicas: one machine's GPUs, N logical CPU devices, or several workers (paper section 8: 50 synchronous replicas).

On TensorFlow these are tf.distribute strategies; on JAX, Keras'
`DataParallel` over all local devices (`KerasDataParallel`).

All strategies are synchronous: every step, each replica computes gradients
on its own `per_replica_batch` examples, the gradients are summed across
replicas, and every replica applies the same update. Batch-norm statistics
stay per replica (plain Keras BatchNormalization under tf.distribute), as in
the paper's setup of 50 replicas with batch 32.
"""

from __future__ import annotations

import contextlib
import json
import os

import keras
import tensorflow as tf

from inception.config import DistributeConfig

STRATEGIES = ("auto", "default", "mirrored", "multi_worker")


def configure_cpu_replicas(count: int) -> list:
    """Split the CPU into `count` logical devices; returns their names.

    Must run before TensorFlow initialises its devices (before the first op);
    calling it again with the same count is fine.
    """
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is None or len(current) != count:
        try:
            tf.config.set_logical_device_configuration(
                cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(count)])
        except RuntimeError as error:
            raise RuntimeError(
                f"Cannot split the CPU into {count} logical devices: TensorFlow has already "
                "initialised its devices in this process. Set DistributeConfig.cpu_replicas in a "
                "fresh process, before any TensorFlow op runs.") from error
    return [device.name for device in tf.config.list_logical_devices("CPU")]


def _cluster_workers() -> int:
    """Tasks in TF_CONFIG's cluster (0 without TF_CONFIG)."""
    cluster = json.loads(os.environ.get("TF_CONFIG", "{}")).get("cluster", {})
    return sum(len(tasks) for tasks in cluster.values())


def strategy_kind(dist: DistributeConfig) -> str:
    """Resolve "auto": TF_CONFIG with several tasks -> multi_worker; logical CPUs or GPUs -> mirrored."""
    if dist.strategy not in STRATEGIES:
        raise ValueError(f"DistributeConfig.strategy must be one of {STRATEGIES}; got {dist.strategy!r}")
    if dist.strategy != "auto":
        return dist.strategy
    if _cluster_workers() > 1:
        return "multi_worker"
    if dist.cpu_replicas or tf.config.list_physical_devices("GPU"):
        return "mirrored"
    return "default"


class KerasDataParallel:
    """The JAX path's replicas: `keras.distribution.DataParallel` over every local device.

    Stands where the TensorFlow path has its strategy, with the parts the
    trainer uses (`num_replicas_in_sync`, `scope`). Keras compiles one SPMD
    step: each device takes its slice of the global batch, the gradient
    (and the batch-norm statistics) are those of the global batch, and the
    variables are replicated. With one device nothing is distributed.
    """

    def __init__(self, devices: list):
        self.devices = devices
        self.distribution = keras.distribution.DataParallel(devices=devices) if len(devices) > 1 else None
        if self.distribution is not None:
            # For the whole process, as a strategy is: fit, evaluate and new variables all use it.
            keras.distribution.set_distribution(self.distribution)

    @property
    def num_replicas_in_sync(self) -> int:
        return len(self.devices)

    def scope(self):
        return contextlib.nullcontext()


def _keras_data_parallel(dist: DistributeConfig) -> KerasDataParallel:
    """Every local accelerator (or CPU device); tf.distribute's strategies do not apply on JAX."""
    if dist.strategy not in ("auto", "default"):
        raise ValueError(f"strategy={dist.strategy!r} is tf.distribute (KERAS_BACKEND=tensorflow); on "
                         f"{keras.backend.backend()} the replicas are all local devices (DataParallel).")
    if dist.cpu_replicas:
        raise ValueError("cpu_replicas splits TensorFlow's CPU; on JAX set "
                         "XLA_FLAGS=--xla_force_host_platform_device_count=N before starting Python.")
    return KerasDataParallel(keras.distribution.list_devices())


def build_strategy(dist: DistributeConfig):
    """The replicas for `dist`: a tf.distribute strategy on TensorFlow, else `KerasDataParallel`.

    Call it first thing in a process. MultiWorkerMirroredStrategy reads the
    cluster from TF_CONFIG and, like the logical CPU split, must be created
    before TensorFlow runs any op.
    """
    if keras.backend.backend() != "tensorflow":
        return _keras_data_parallel(dist)
    kind = strategy_kind(dist)
    if kind == "multi_worker":
        if dist.cpu_replicas:
            raise ValueError("cpu_replicas splits one machine; with multi_worker each worker is one replica "
                             "(or its GPUs).")
        return tf.distribute.MultiWorkerMirroredStrategy()
    if kind == "mirrored":
        devices = configure_cpu_replicas(dist.cpu_replicas) if dist.cpu_replicas else None
        return tf.distribute.MirroredStrategy(devices=devices)
    if dist.cpu_replicas:
        raise ValueError(f"cpu_replicas={dist.cpu_replicas} needs the 'mirrored' (or 'auto') strategy.")
    return tf.distribute.get_strategy()


def is_chief(strategy: tf.distribute.Strategy) -> bool:
    """True on the one worker that writes the run's files (always, on one machine)."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return True
    return resolver.task_type == "chief" or (
        resolver.task_type == "worker" and resolver.task_id == 0
        and "chief" not in resolver.cluster_spec().as_dict())


def num_workers(strategy: tf.distribute.Strategy) -> int:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.task_type:
        return 1
    cluster = resolver.cluster_spec().as_dict()
    return len(cluster.get("chief", [])) + len(cluster.get("worker", []))


def worker_id(strategy: tf.distribute.Strategy) -> int:
    resolver = getattr(strategy, "cluster_resolver", None)
    return int(resolver.task_id or 0) if resolver is not None and resolver.task_type else 0


def average_batch_norm_statistics(model, strategy: tf.distribute.Strategy) -> None:
    """Give every replica the mean over replicas of each batch-norm moving statistic.

    Each replica normalises with its own batch's statistics and updates its
    own copy of the moving averages (Keras 3 BatchNormalization under
    tf.distribute); reads in cross-replica context, e.g. when saving, see the
    first replica's copy only, and other workers' copies drift apart. The
    trainer calls this before every checkpoint and evaluation so that all
    replicas and workers hold, and save, the same statistics: the average
    over all replicas' data (what Keras 2 returned on read). Training itself
    never reads them.
    """
    statistics = [v for v in model.non_trainable_variables
                  if v.name in ("moving_mean", "moving_variance")]
    if not isinstance(strategy, tf.distribute.Strategy):
        return  # DataParallel: one copy, of the global batch's statistics
    if strategy.num_replicas_in_sync == 1 or not statistics:
        return

    def replace_by_mean():
        context = tf.distribute.get_replica_context()
        # This replica's copies; tf.identity gives each a device, which
        # MultiWorkerMirroredStrategy's all-reduce needs (a bare read has none).
        local = [tf.identity(v) for v in statistics]
        means = context.all_reduce(tf.distribute.ReduceOp.MEAN, local)
        for variable, mean in zip(statistics, means):
            variable.assign(mean)  # each replica writes its own copy

    tf.function(lambda: strategy.run(replace_by_mean))()


def distribute_dataset(strategy, dataset_fn):
    """`dataset_fn(input_context)` run once per input pipeline (one per worker).

    Each pipeline reads its own part of the data and yields per-replica
    batches (`input_context.get_per_replica_batch_size(global_batch)`). On
    JAX there is one pipeline of global batches, which Keras splits over
    the devices.
    """
    if not isinstance(strategy, tf.distribute.Strategy):
        return dataset_fn(tf.distribute.InputContext(num_input_pipelines=1, input_pipeline_id=0,
                                                     num_replicas_in_sync=1))
    return strategy.distribute_datasets_from_function(dataset_fn)
