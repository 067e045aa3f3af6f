"""The one way to load a trained network, and its classifier without the auxiliary head.

    model = inception.loading.load_trained_model("runs/small/table3/bn_auxiliary/seed_0")
    logits_only = inception.loading.classifier(model)

`load_trained_model` takes what training leaves behind (what a run directory
holds is `inception.training.workdir`):
  - a run directory of `train_and_evaluate`: its final weights
    (`final.weights.h5`, the moving averages, or `final_raw.weights.h5`
    without `use_ema`), or, when the run has not finished, its latest
    training checkpoint;
  - a training checkpoint `<run>/checkpoints/ckpt-N`;
  - a `.keras` file saved with `model.save` after `model.fit` (its optimizer
    holds the averages).
The paper evaluates "a running average of the parameters" (section 8), so
the averages are the default. The model comes back uncompiled except from a
`.keras` file or a checkpoint (whose optimizer holds the averages, already
swapped in).
"""

from __future__ import annotations

import os
from typing import Callable, Optional, Union

import keras
from absl import logging

from inception.config import ModelConfig
from inception.model import inception_v3, without_aux
from inception.training import ema
from inception.training.workdir import RunPaths, read_config

ModelFn = Callable[[ModelConfig], keras.Model]
PathLike = Union[str, os.PathLike]


def has_aux(model: keras.Model) -> bool:
    """Whether the model has the auxiliary head (its outputs are a dict)."""
    return isinstance(model.output, dict)


def classifier(model: keras.Model) -> keras.Model:
    """The logits-only model sharing `model`'s weights: the auxiliary head only helps training."""
    return without_aux(model) if has_aux(model) else model


def build_model(model_config: ModelConfig) -> keras.Model:
    """The network of a run: `inception.inception_v3(model_config)`."""
    return inception_v3(model_config)


def has_moving_averages(model: keras.Model) -> bool:
    """Whether the model's optimizer holds moving averages of the weights (trained with the recipe)."""
    return ema.has_averages(model) and model.optimizer.built


def _averaged(model: keras.Model, use_ema: bool) -> keras.Model:
    """`model`, holding its moving averages from now on when `use_ema` and it has them."""
    if not use_ema:
        return model
    if has_moving_averages(model):
        ema.assign_ema_weights(model)
    else:
        logging.warning("Model %r has no moving averages of its weights (not trained with the "
                        "recipe's optimizer); using its weights as they are.", model.name)
    return model


def is_run_directory(path: PathLike) -> bool:
    return os.path.isfile(RunPaths(os.fspath(path)).config)


def final_weights_path(workdir: PathLike, use_ema: bool = True) -> str:
    """The `.weights.h5` file a finished run wrote (the averages unless use_ema=False)."""
    paths = RunPaths(os.fspath(workdir))
    return paths.final_weights if use_ema else paths.final_raw_weights


def _run_of_checkpoint(prefix: str) -> Optional[str]:
    """The run directory of `<run>/checkpoints/ckpt-N` (TF's prefix, or Keras' `.weights.h5`), if it is one."""
    from inception.training.keras_checkpoint import is_keras_checkpoint

    keras_format = is_keras_checkpoint(prefix) and os.path.isfile(prefix)
    if not (keras_format or os.path.isfile(prefix + ".index")):
        return None
    run = os.path.dirname(os.path.dirname(os.path.abspath(prefix)))
    return run if is_run_directory(run) else None


def run_directory_of(path: PathLike) -> Optional[str]:
    """The run directory `path` is, or whose training checkpoint it is; None for anything else."""
    path = os.fspath(path)
    if os.path.isdir(path):
        return path if is_run_directory(path) else None
    return _run_of_checkpoint(path)


def _from_training_checkpoint(run: str, prefix: str, use_ema: bool, model_fn: ModelFn) -> keras.Model:
    """The run's network with the weights (and averages) of one training checkpoint.

    The model is compiled with the run's recipe only to create the optimizer
    slots that hold the averages; the learning-rate schedule plays no part.
    """
    from inception.training.keras_checkpoint import is_keras_checkpoint
    from inception.training.recipe import recipe_from_config

    config = read_config(run)
    model = model_fn(config.model)
    model.compile(**recipe_from_config(config.recipe, steps_per_epoch=1, has_aux=has_aux(model)))
    model.optimizer.build(model.trainable_variables)
    if is_keras_checkpoint(prefix):  # written on JAX; any backend reads it
        model.load_weights(prefix)  # the model and its optimizer; the dropout RNG state is not needed
        return _averaged(model, use_ema)
    import tensorflow as tf

    # expect_partial: the checkpoint also holds the dropout RNG state, not needed here.
    tf.train.Checkpoint(model=model, optimizer=model.optimizer).restore(
        prefix).assert_existing_objects_matched().expect_partial()
    return _averaged(model, use_ema)


def load_final_weights(run: PathLike, use_ema: bool = True, model_fn: ModelFn = build_model) -> keras.Model:
    """A finished run's network built from its config.json, holding its final weights."""
    run = os.fspath(run)
    model = model_fn(read_config(run).model)
    model.load_weights(final_weights_path(run, use_ema))
    return model


def _from_run_directory(run: str, use_ema: bool, model_fn: ModelFn) -> keras.Model:
    """A finished run's final weights; an unfinished run's latest checkpoint."""
    if os.path.isfile(final_weights_path(run, use_ema)):
        return load_final_weights(run, use_ema, model_fn)
    from inception.training.checkpoint import latest_intact_checkpoint

    latest = latest_intact_checkpoint(RunPaths(run).checkpoints)
    if latest is None:
        final = os.path.basename(final_weights_path(run, use_ema))
        raise FileNotFoundError(f"The run {run!r} has neither final weights ({final}) nor checkpoints")
    logging.warning("The run %r has no final weights; using its latest checkpoint %s", run, latest)
    return _from_training_checkpoint(run, latest, use_ema, model_fn)


def load_trained_model(path: PathLike, use_ema: bool = True, *,
                       model_fn: ModelFn = build_model) -> keras.Model:
    """Loads a trained model (see the module docstring); with `use_ema`, holding the averages.

    `model_fn(model_config)` builds the network of a run (default
    `inception_v3`). A model without averages (imported weights, a plain
    optimizer) keeps its weights, with a warning.
    """
    path = os.fspath(path)
    if os.path.isdir(path):
        if not is_run_directory(path):
            raise FileNotFoundError(f"{path!r} is not a run directory (no config.json)")
        return _from_run_directory(path, use_ema, model_fn)
    if path.endswith(".keras") and os.path.isfile(path):
        return _averaged(keras.saving.load_model(path), use_ema)
    run = _run_of_checkpoint(path)
    if run is not None:
        return _from_training_checkpoint(run, path, use_ema, model_fn)
    if not os.path.exists(path) and not os.path.exists(path + ".index"):
        raise FileNotFoundError(f"No run directory, checkpoint or model file at {path!r}")
    raise ValueError(f"Cannot load {path!r}: pass a run directory, a training checkpoint "
                     "(<run>/checkpoints/ckpt-N) or a .keras file")
