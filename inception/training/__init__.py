"""The training side: the paper's recipe (sections 7-8) as Keras pieces, and the run.

    model.compile(**inception.training.paper_recipe(steps_per_epoch=...))
    model.fit(ds)                                               # ds: (images, int labels)
    results = inception.training.train_and_evaluate(config, workdir)

Modules, one job each:
  optimizer.py   TF1RMSProp, TF1Momentum in keras.ops: TF1 update rules, clipping of the global gradient, TF1 EMA
  schedule.py    0.045 x 0.94^floor(epoch / 2), staircase
  losses.py      label-smoothed cross-entropy on integer labels (section 7)
  ema.py         the EMA's effective decay; `ema_weights(model)` swaps averages in for evaluation
  recipe.py      paper_recipe / recipe_from_config: model.compile arguments; targets_for
  distribute.py  strategies: GPUs, logical CPU replicas, multi-worker; BN statistics across replicas;
                 on JAX, keras.distribution.DataParallel over the local devices
  checkpoint.py  the whole training state on disk (model, optimizer, EMA, dropout RNG); either format
  keras_checkpoint.py  that state as Keras' ckpt-N.weights.h5 (the JAX path; TensorFlow reads it)
  callbacks.py   stop at a step, periodic checkpoint, NaN guard, averaged evaluation, step history
  workdir.py     what a run writes where; config.json
  trainer.py     train / evaluate / train_and_evaluate
  testing.py     a test-sized stand-in network with the same outputs

The names below are imported when first used, so that importing one module
(say `inception.training.ema`) does not import them all.
"""

import importlib

_EXPORTS = {
    "NonFiniteLossError": "callbacks",
    "TrainingCheckpoint": "checkpoint",
    "assign_ema_weights": "ema",
    "ema_weights": "ema",
    "tf1_decay": "ema",
    "SmoothedSparseCategoricalCrossentropy": "losses",
    "TF1Momentum": "optimizer",
    "TF1Optimizer": "optimizer",
    "TF1RMSProp": "optimizer",
    "build_optimizer": "recipe",
    "paper_recipe": "recipe",
    "recipe_from_config": "recipe",
    "targets_for": "recipe",
    "paper_learning_rate": "schedule",
    "TrainedRun": "trainer",
    "evaluate": "trainer",
    "train": "trainer",
    "train_and_evaluate": "trainer",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(_EXPORTS))
