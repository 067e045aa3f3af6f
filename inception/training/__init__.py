"""The training side: the paper's recipe (sections 7-8) as Keras pieces, and the run.

    model.compile(**inception.training.paper_recipe(steps_per_epoch=...))
    model.fit(ds.map(inception.training.targets_for(model)))    # ds: (images, int labels)
    results = inception.training.train_and_evaluate(config, workdir)

Modules, one job each:
  optimizer.py   TF1RMSProp, TF1Momentum: TF1 update rules, clipping after the all-reduce, TF1 EMA
  schedule.py    0.045 x 0.94^floor(epoch / 2), staircase
  losses.py      label-smoothed cross-entropy on integer labels (section 7)
  ema.py         the EMA's effective decay; `ema_weights(model)` swaps averages in for evaluation
  recipe.py      paper_recipe / recipe_from_config: model.compile arguments; targets_for
  distribute.py  strategies: GPUs, logical CPU replicas, multi-worker; BN statistics across replicas
  checkpoint.py  the whole training state on disk (model, optimizer, EMA, dropout RNG)
  callbacks.py   stop at a step, periodic checkpoint, NaN guard, step history
  workdir.py     what a run writes where; config.json
  trainer.py     train / evaluate / train_and_evaluate; load_trained_model for evaluation and export
  testing.py     a test-sized stand-in network with the same outputs
"""

from inception.training.callbacks import NonFiniteLossError
from inception.training.checkpoint import TrainingCheckpoint
from inception.training.ema import assign_ema_weights, ema_weights, tf1_decay
from inception.training.losses import SmoothedSparseCategoricalCrossentropy
from inception.training.optimizer import TF1Momentum, TF1Optimizer, TF1RMSProp
from inception.training.recipe import (
    build_optimizer,
    paper_recipe,
    recipe_from_config,
    targets_for,
)
from inception.training.schedule import paper_learning_rate
from inception.training.trainer import (
    TrainedRun,
    evaluate,
    final_weights_path,
    load_trained_model,
    train,
    train_and_evaluate,
)
