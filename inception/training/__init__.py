"""The training side: the paper's recipe (sections 7-8) as Keras pieces, and the run.

    model.compile(**inception.training.paper_recipe(steps_per_epoch=...))
    model.fit(ds.map(inception.training.targets_for(model)))
    results = inception.training.train_and_evaluate(config, workdir)
"""

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
    evaluate,
    final_weights_path,
    load_trained_model,
    train,
    train_and_evaluate,
)
