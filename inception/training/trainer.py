"""One run, from an ExperimentConfig to results: `train_and_evaluate(config, workdir)`.

Reads top to bottom: build the strategy, check the config against the data
and size the run (before anything is written), write the config, build and
compile the model under the strategy, restore the latest intact checkpoint,
`model.fit` with the run's callbacks (and the held-out curve of the averaged
weights, paper Figure 8), save, evaluate with the moving-average weights.
CLIs (experiments/, tools/) and notebooks call this; multi-crop and ensemble
evaluation start from `inception.loading.load_trained_model(workdir)`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib.util
import time
from typing import Callable, Optional, Sequence

import keras
import tensorflow as tf
from absl import logging

from inception import compat
from inception import data as data_lib
from inception import evaluation
from inception.config import ExperimentConfig, ModelConfig, RunSize
from inception.loading import build_model, has_aux
from inception.training import callbacks as callbacks_lib
from inception.training import distribute
from inception.training.checkpoint import all_finite, training_checkpoint
from inception.training.ema import ema_weights
from inception.training.recipe import recipe_from_config
from inception.training.workdir import RunPaths, write_config, write_results

ModelFn = Callable[[ModelConfig], keras.Model]


@dataclasses.dataclass
class TrainedRun:
    """What `train` leaves behind: the compiled model (raw weights, averages in its optimizer) and more."""

    config: ExperimentConfig
    paths: RunPaths
    strategy: object  # a tf.distribute.Strategy, or distribute.KerasDataParallel on JAX
    model: keras.Model
    model_fn: ModelFn
    size: RunSize
    checkpoint: object  # checkpoint.TrainingCheckpoint, or keras_checkpoint.KerasCheckpoint on JAX
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


def _train_dataset_fn(config: ExperimentConfig, size: RunSize, start_step: int):
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
        return dataset

    return dataset_fn


def _heldout_callback(config: ExperimentConfig) -> list:
    """The held-out curve of paper Figure 8: the first `heldout_examples` evaluation images, in memory."""
    every = config.evaluation.heldout_every_steps
    if not every:
        return []
    limit = config.evaluation.heldout_examples
    if config.data.eval_examples is not None:
        limit = min(limit, config.data.eval_examples)
    data = dataclasses.replace(config.data, eval_examples=limit)
    dataset = data_lib.build_dataset(data, split="eval", image_size=config.model.input_size,
                                     batch_size=config.evaluation.batch_size, training=False)
    batches = [(images.numpy(), labels.numpy()) for images, labels in dataset]
    return [callbacks_lib.HeldOutAccuracy(batches, every, use_ema=config.evaluation.use_ema)]


def _prebuild_compiled_state(model: keras.Model, config: ExperimentConfig) -> None:
    """The compiled losses' and metrics' state built from specs, before `fit` (`compat.prebuild_compiled_state`).

    Under several workers Keras would otherwise reduce a real batch to learn
    its shapes (keras-team/keras#20585); on one device it would create the
    loss trackers inside the first trace of the training step, and TensorFlow
    then traces the whole step a second time (tensorflow/tensorflow#48851):
    17-31 s of a tiny row's start on a 2-core CPU.
    """
    batch, size = config.distribute.per_replica_batch, config.model.input_size
    images = tf.TensorSpec([batch, size, size, 3], tf.float32)
    labels = tf.TensorSpec([batch], tf.int32)
    compat.prebuild_compiled_state(model, (images, labels))


def _callbacks(run_paths: RunPaths, checkpoint, history, size: RunSize,
               config: ExperimentConfig, chief: bool) -> list:
    """Order matters: the NaN check runs before anything can save; the held-out
    accuracy goes into the logs before the history and TensorBoard read them."""
    callbacks = [
        callbacks_lib.TerminateOnNonFiniteLoss(checkpoint),
        *_heldout_callback(config),
        callbacks_lib.StopAtStep(size.total_steps),
        callbacks_lib.PeriodicCheckpoint(checkpoint, config.checkpoint_every_steps),
        history,
        data_lib.SkippedImagesLogger(splits=("train",)),
    ]
    if chief and _tensorboard_installed():
        # write_graph=False: serialising the whole training graph costs seconds and is rarely read.
        callbacks.append(keras.callbacks.TensorBoard(run_paths.tensorboard, write_graph=False))
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


def _sized_run(config: ExperimentConfig, replicas: int) -> RunSize:
    """The run's size from its data; raises (before anything is written) if config and data disagree."""
    info = data_lib.dataset_info(config.data)
    if info.num_classes > config.model.num_classes:
        raise ValueError(f"{info.name} has {info.num_classes} classes; the model only "
                         f"{config.model.num_classes}: set model.num_classes.")
    if info.train_examples < 1:
        raise ValueError(f"{info.name} has no training examples; check DataConfig.data_dir.")
    return config.run_size(info.train_examples, replicas)


def train(config: ExperimentConfig, workdir: str, *, model_fn: Optional[ModelFn] = None,
          callbacks: Sequence[keras.callbacks.Callback] = (), verbose="auto") -> TrainedRun:
    """Train (or resume training) the run `config` in `workdir`; see `train_and_evaluate`.

    `model_fn(config.model)` builds the network (default `inception_v3`); it is
    called under the strategy's scope. `callbacks` are added after the run's own.
    """
    model_fn = model_fn or build_model
    strategy = distribute.build_strategy(config.distribute)  # before any other TF op
    chief = distribute.is_chief(strategy)
    paths = RunPaths(workdir)
    size = _sized_run(config, strategy.num_replicas_in_sync)
    _seed_everything(config)
    if chief:
        write_config(config, workdir)
    logging.info("%s: %d replicas, global batch %d, %d steps/epoch, %d steps. Building the network "
                 "and its optimizer.", config.name, strategy.num_replicas_in_sync, size.global_batch,
                 size.steps_per_epoch, size.total_steps)

    with strategy.scope():
        model = model_fn(config.model)
        model.compile(**recipe_from_config(config.recipe, size.steps_per_epoch, has_aux=has_aux(model)))
        _prebuild_compiled_state(model, config)
        checkpoint = training_checkpoint(model, paths.checkpoints, chief=chief,
                                         worker=distribute.worker_id(strategy), strategy=strategy)
    start_step = checkpoint.restore_latest()
    if start_step:
        logging.info("Resuming from %s (step %d).", checkpoint.restored, start_step)

    history = callbacks_lib.StepHistory(paths.history if chief else None)
    if start_step < size.total_steps:
        dataset = distribute.distribute_dataset(strategy, _train_dataset_fn(config, size, start_step))
        logging.info("Tracing and optimising the training step (tens of seconds on a CPU), "
                     "then training from step %d.", start_step)
        several_workers = distribute.num_workers(strategy) > 1
        with compat.multi_worker_logs_averaged() if several_workers else contextlib.nullcontext():
            model.fit(dataset, epochs=size.intervals, initial_epoch=start_step // size.log_every_steps,
                      steps_per_epoch=size.log_every_steps, verbose=verbose, shuffle=False,
                      callbacks=_callbacks(paths, checkpoint, history, size, config, chief)
                      + list(callbacks))
    else:  # finished before: just read the history back
        history.set_model(model)
        history.on_train_begin()
    run = TrainedRun(config, paths, strategy, model, model_fn, size, checkpoint, history.records,
                     history.train_seconds, chief)
    _save_final(run)
    return run


def evaluation_model(run: TrainedRun) -> keras.Model:
    """A copy of the run's network outside its strategy, holding its evaluation weights.

    Every worker can evaluate it on its own (no collective ops), with the
    one evaluator the tables use (`inception.evaluation.evaluate`).
    """
    with ema_weights(run.model, enabled=run.config.evaluation.use_ema):
        weights = run.model.get_weights()
    model = run.model_fn(run.config.model)  # outside `strategy.scope()`: a plain local model
    model.set_weights(weights)
    return model


def evaluate(run: TrainedRun) -> dict:
    """Single-crop top-1/top-5 error on the eval split, with the moving averages by default."""
    config = run.config
    started = time.time()
    dataset = data_lib.build_dataset(
        config.data, split="eval", image_size=config.model.input_size,
        batch_size=config.evaluation.batch_size, training=False)
    result = evaluation.evaluate(evaluation_model(run), dataset)
    return {
        "top1_error": result.top1_error,
        "top5_error": result.top5_error,
        "eval_examples": result.examples,
        "eval_seconds": time.time() - started,
        "use_ema": config.evaluation.use_ema,
    }


def train_and_evaluate(config: ExperimentConfig, workdir: str, *, model_fn: Optional[ModelFn] = None,
                       callbacks: Sequence[keras.callbacks.Callback] = (), verbose="auto") -> dict:
    """Train `config` in `workdir` (resuming if it holds checkpoints), then evaluate.

    Returns (and writes to workdir/results.json) top1_error, top5_error,
    steps, train_seconds, history (one record per log interval: step,
    learning_rate, loss, logits_top1, and `heldout_top1` of the averaged
    weights where the config asks for it), the run's sizes and the paths of
    the final weights and checkpoint.
    """
    run = train(config, workdir, model_fn=model_fn, callbacks=callbacks, verbose=verbose)
    results = evaluate(run)
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
