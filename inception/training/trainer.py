"""One run, from an ExperimentConfig to results: `train_and_evaluate(config, workdir)`.

Reads top to bottom: build the strategy, write the config, size the run from
the dataset, build and compile the model under the strategy, restore the
latest checkpoint, `model.fit` with the run's callbacks, save, evaluate with
the moving-average weights. CLIs (experiments/, tools/) and notebooks call
this; multi-crop and ensemble evaluation (`inception.evaluation`) start from
`load_trained_model(workdir)` or `final_weights_path(workdir)`.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import math
from typing import Callable, Optional, Sequence

import keras
import tensorflow as tf
from absl import logging

from inception import data as data_lib
from inception.config import ExperimentConfig, ModelConfig
from inception.training import callbacks as callbacks_lib
from inception.training import distribute
from inception.training.checkpoint import TrainingCheckpoint, all_finite
from inception.training.ema import ema_weights
from inception.training.recipe import LOGITS, recipe_from_config, targets_for
from inception.training.workdir import RunPaths, read_config, write_config, write_results

ModelFn = Callable[[ModelConfig], keras.Model]


def build_model(model_config: ModelConfig) -> keras.Model:
    """The network of the run: `inception.inception_v3(**model_config.build_kwargs())`."""
    from inception.model import inception_v3  # the lead's module; imported late on purpose

    return inception_v3(**model_config.build_kwargs())


@dataclasses.dataclass(frozen=True)
class RunSize:
    """How long a run is, in optimizer steps of the global batch."""

    global_batch: int
    steps_per_epoch: int  # one pass over the training examples; the LR schedule's epoch
    total_steps: int  # epochs * steps_per_epoch (rounded up), capped by max_steps
    log_every_steps: int  # one Keras "epoch" of fit (see callbacks.py)

    @property
    def intervals(self) -> int:
        return math.ceil(self.total_steps / self.log_every_steps)


def run_size(config: ExperimentConfig, train_examples: int, replicas: int) -> RunSize:
    """Steps from epochs (fractional allowed), the global batch and max_steps."""
    global_batch = config.distribute.per_replica_batch * replicas
    steps_per_epoch = max(1, train_examples // global_batch)
    total = math.ceil(config.epochs * steps_per_epoch)
    if config.max_steps is not None:
        total = min(total, config.max_steps)
    if total < 1:
        raise ValueError(f"The run has no steps (epochs={config.epochs}, max_steps={config.max_steps}).")
    return RunSize(global_batch, steps_per_epoch, total, max(1, min(config.log_every_steps, total)))


@dataclasses.dataclass
class TrainedRun:
    """What `train` leaves behind: the compiled model (raw weights, averages in its optimizer) and more."""

    config: ExperimentConfig
    paths: RunPaths
    strategy: tf.distribute.Strategy
    model: keras.Model
    size: RunSize
    checkpoint: TrainingCheckpoint
    history: list  # StepHistory records, resumed runs included
    train_seconds: float
    chief: bool

    @property
    def steps(self) -> int:
        return self.checkpoint.step


def _seed_everything(config: ExperimentConfig) -> None:
    keras.utils.set_random_seed(config.seed)  # Python, NumPy, TF: the same initial weights
    if config.deterministic:
        # Same ops, same order, same results; needed for a bit-exact resume.
        tf.config.experimental.enable_op_determinism()


def _train_dataset_fn(config: ExperimentConfig, size: RunSize, start_step: int, targets):
    """The per-pipeline training input, positioned at `start_step`.

    A deterministic run re-reads the batches consumed before the checkpoint
    (`skip`), so that a resumed run sees exactly what an uninterrupted one
    would. Otherwise nothing is seeded and a resumed run starts a fresh
    shuffled stream, as TF1's input queues did.
    """

    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        dataset = data_lib.build_dataset(
            config.data, split="train", image_size=config.model.input_size,
            batch_size=context.get_per_replica_batch_size(size.global_batch), training=True,
            input_context=context, deterministic=config.deterministic)
        if config.deterministic and start_step:
            # Each step takes one batch per local replica from this pipeline.
            replicas_here = context.num_replicas_in_sync // context.num_input_pipelines
            dataset = dataset.skip(start_step * replicas_here)
        return dataset.map(targets)

    return dataset_fn


def _eval_dataset_fn(config: ExperimentConfig, targets, repeat: bool):
    def dataset_fn(context: tf.distribute.InputContext) -> tf.data.Dataset:
        dataset = data_lib.build_dataset(
            config.data, split="eval", image_size=config.model.input_size,
            batch_size=config.evaluation.batch_size, training=False, input_context=context,
            deterministic=config.deterministic, repeat=repeat)
        return dataset.map(targets)

    return dataset_fn


def _work_around_keras_multi_worker_build(model: keras.Model, config: ExperimentConfig) -> None:
    """Build the compiled losses' and metrics' state from a batch's shapes, once, before `fit`.

    Before every fit/evaluate under a strategy, Keras 3 (TF backend) reads a
    real batch and `strategy.reduce`s it only to learn its shapes; under
    MultiWorkerMirroredStrategy that reduce fails for nested batches
    (keras-team/keras#20585, open in 3.15). So on several workers the state
    is built here from the specs with Keras' own builder, and the model's
    per-call pre-build is switched off. Both are private Keras methods:
    revisit on a Keras upgrade.
    """
    batch, size = config.distribute.per_replica_batch, config.model.input_size
    images = tf.TensorSpec([batch, size, size, 3], tf.float32)
    labels = tf.TensorSpec([batch], tf.int32)
    _, targets = targets_for(model)(images, labels)
    model._symbolic_build(data_batch=(images, targets))
    model._maybe_symbolic_build = lambda iterator=None, data_batch=None: None


def _callbacks(run_paths: RunPaths, checkpoint: TrainingCheckpoint, history, size: RunSize,
               config: ExperimentConfig, chief: bool) -> list:
    """Order matters: the NaN check runs before anything can save."""
    callbacks = [
        callbacks_lib.TerminateOnNonFiniteLoss(checkpoint),
        callbacks_lib.StopAtStep(size.total_steps),
        callbacks_lib.PeriodicCheckpoint(checkpoint, config.checkpoint_every_steps),
        history,
        data_lib.SkippedImagesLogger(splits=("train",)),
    ]
    if chief and _tensorboard_installed():
        callbacks.append(keras.callbacks.TensorBoard(run_paths.tensorboard))
    return callbacks


def _tensorboard_installed() -> bool:
    # tf.summary needs the `tensorboard` package, which tensorflow-cpu does not pull in.
    if importlib.util.find_spec("tensorboard") is None:
        logging.warning("The tensorboard package is not installed: no TensorBoard logs.")
        return False
    return True


def _save_final(run: TrainedRun) -> None:
    """Checkpoint the last step; write the evaluation and raw weights (chief only keeps files)."""
    if not all_finite(run.model):
        raise callbacks_lib.NonFiniteLossError(
            f"Weights are not finite at step {run.steps}; the last good checkpoint is untouched: "
            f"{run.checkpoint.latest}.")
    if run.checkpoint.saved_step != run.steps:  # not from the file system: all workers must agree
        run.checkpoint.save()
    if run.chief:
        save_final_weights(run.model, run.paths, use_ema=run.config.evaluation.use_ema)


def save_final_weights(model: keras.Model, paths: RunPaths, use_ema: bool = True) -> None:
    """Write a run's `final.weights.h5` (moving averages) and `final_raw.weights.h5`."""
    # A twin sharing the layers but not the optimizer: weights without slots.
    weights_only = keras.Model(model.inputs, model.outputs)
    weights_only.save_weights(paths.final_raw_weights)
    with ema_weights(model, enabled=use_ema):
        weights_only.save_weights(paths.final_weights)


def train(config: ExperimentConfig, workdir: str, *, model_fn: Optional[ModelFn] = None,
          callbacks: Sequence[keras.callbacks.Callback] = (), verbose="auto") -> TrainedRun:
    """Train (or resume training) the run `config` in `workdir`; see `train_and_evaluate`.

    `model_fn(config.model)` builds the network (default `build_model`); it is
    called under the strategy's scope. `callbacks` are added after the run's own.
    """
    strategy = distribute.build_strategy(config.distribute)  # before any other TF op
    chief = distribute.is_chief(strategy)
    paths = RunPaths(workdir)
    _seed_everything(config)
    if chief:
        write_config(config, workdir)

    info = data_lib.dataset_info(config.data)
    if info.num_classes > config.model.num_classes:
        raise ValueError(f"{info.name} has {info.num_classes} classes; the model only "
                         f"{config.model.num_classes}.")
    size = run_size(config, info.train_examples, strategy.num_replicas_in_sync)
    logging.info("%s: %d replicas, global batch %d, %d steps/epoch, %d steps.", config.name,
                 strategy.num_replicas_in_sync, size.global_batch, size.steps_per_epoch,
                 size.total_steps)

    with strategy.scope():
        model = (model_fn or build_model)(config.model)
        model.compile(**recipe_from_config(config.recipe, size.steps_per_epoch,
                                           has_aux=isinstance(model.output, dict)))
        if distribute.num_workers(strategy) > 1:
            _work_around_keras_multi_worker_build(model, config)
        checkpoint = TrainingCheckpoint(model, paths.checkpoints, chief=chief,
                                        worker=distribute.worker_id(strategy), strategy=strategy)
    start_step = checkpoint.restore_latest()
    if start_step:
        logging.info("Resuming from %s (step %d).", checkpoint.latest, start_step)

    history = callbacks_lib.StepHistory(paths.history if chief else None)
    if start_step < size.total_steps:
        dataset = distribute.distribute_dataset(
            strategy, _train_dataset_fn(config, size, start_step, targets_for(model)))
        model.fit(dataset, epochs=size.intervals, initial_epoch=start_step // size.log_every_steps,
                  steps_per_epoch=size.log_every_steps, verbose=verbose, shuffle=False,
                  callbacks=_callbacks(paths, checkpoint, history, size, config, chief) + list(callbacks))
    else:  # finished before: just read the history back
        history.set_model(model)
        history.on_train_begin()
    run = TrainedRun(config, paths, strategy, model, size, checkpoint, history.records,
                     history.train_seconds, chief)
    _save_final(run)
    return run


def evaluate(run: TrainedRun, verbose="auto") -> dict:
    """Single-crop top-1/top-5 error on the eval split, with the EMA weights by default.

    With several workers each reads its shard, repeated so that all run the
    same number of steps (a collective op would hang otherwise); up to one
    batch per worker is then counted twice.
    """
    config, strategy = run.config, run.strategy
    info = data_lib.dataset_info(config.data)
    repeat = distribute.num_workers(strategy) > 1
    dataset = distribute.distribute_dataset(
        strategy, _eval_dataset_fn(config, targets_for(run.model), repeat))
    steps = math.ceil(info.eval_examples / (config.evaluation.batch_size * strategy.num_replicas_in_sync))
    with ema_weights(run.model, enabled=config.evaluation.use_ema):
        metrics = run.model.evaluate(dataset, steps=steps, return_dict=True, verbose=verbose)
    prefix = f"{LOGITS}_" if isinstance(run.model.output, dict) else ""
    return {
        "top1_error": 1.0 - float(metrics[prefix + "top1"]),
        "top5_error": 1.0 - float(metrics[prefix + "top5"]),
        "eval_loss": float(metrics["loss"]),
        "eval_examples": info.eval_examples,
        "use_ema": config.evaluation.use_ema,
    }


def train_and_evaluate(config: ExperimentConfig, workdir: str, *, model_fn: Optional[ModelFn] = None,
                       callbacks: Sequence[keras.callbacks.Callback] = (), verbose="auto") -> dict:
    """Train `config` in `workdir` (resuming if it holds checkpoints), then evaluate.

    Returns (and writes to workdir/results.json) top1_error, top5_error,
    eval_loss, steps, train_seconds, history (one record per log interval:
    step, learning_rate, loss, logits_top1, ...), the run's sizes and the
    paths of the final weights and checkpoint.
    """
    run = train(config, workdir, model_fn=model_fn, callbacks=callbacks, verbose=verbose)
    results = evaluate(run, verbose=verbose)
    results.update(
        name=config.name,
        steps=run.steps,
        train_seconds=run.train_seconds,
        history=run.history,
        replicas=run.strategy.num_replicas_in_sync,
        global_batch=run.size.global_batch,
        steps_per_epoch=run.size.steps_per_epoch,
        weights_path=run.paths.final_weights,
        checkpoint=run.checkpoint.latest,
    )
    if run.chief:
        write_results(results, workdir)
    return results


def final_weights_path(workdir: str, use_ema: bool = True) -> str:
    """The `.weights.h5` file a finished run wrote (EMA weights unless use_ema=False)."""
    paths = RunPaths(workdir)
    return paths.final_weights if use_ema else paths.final_raw_weights


def load_trained_model(workdir: str, *, use_ema: bool = True, model_fn: Optional[ModelFn] = None
                       ) -> keras.Model:
    """The finished run's network, built from workdir/config.json, holding its final weights.

    The evaluation weights (moving averages) by default; the model is not
    compiled. This is the seam for multi-crop evaluation, ensembles and export.
    """
    config = read_config(workdir)
    model = (model_fn or build_model)(config.model)
    model.load_weights(final_weights_path(workdir, use_ema))
    return model
