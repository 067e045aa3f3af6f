"""The whole training recipe as `model.compile` arguments (paper sections 7-8).

    model = inception.inception_v3()
    model.compile(**inception.training.paper_recipe(steps_per_epoch=800))
    model.fit(ds)

`ds` yields (images, integer labels), as `inception.data.build_dataset`
makes it. The model with its auxiliary head has two outputs, `logits` and
`aux_logits`, each trained against the same label; `inception_v3` returns an
`AuxiliaryHeadModel`, which gives each output the label itself. For another
model with those two outputs (a plain `keras.Model` of your own),
`ds.map(targets_for(model))` copies the label for each output.

Weight decay (4e-5 with TF `l2_loss` semantics) is not here: the model's
convolution kernels carry it as Keras regularizers (`model.losses`), which
`fit` adds to the loss.
"""

from __future__ import annotations

import dataclasses

import keras

from inception.config import RecipeConfig
from inception.training.losses import SmoothedSparseCategoricalCrossentropy
from inception.training.optimizer import TF1Momentum, TF1RMSProp
from inception.training.schedule import paper_learning_rate

LOGITS = "logits"
AUX_LOGITS = "aux_logits"


def build_optimizer(recipe: RecipeConfig, steps_per_epoch: float) -> keras.optimizers.Optimizer:
    """The optimizer of `recipe`, with the staircase schedule, clipping and averaging."""
    common = dict(
        learning_rate=paper_learning_rate(
            steps_per_epoch, recipe.learning_rate, recipe.learning_rate_decay,
            recipe.learning_rate_decay_epochs),
        global_clipnorm=recipe.clip_global_norm,
        ema_decay=recipe.ema_decay,
    )
    if recipe.optimizer == "rmsprop":
        return TF1RMSProp(decay=recipe.rmsprop_decay, momentum=recipe.momentum,
                          epsilon=recipe.epsilon, **common)
    if recipe.optimizer == "momentum":
        return TF1Momentum(momentum=recipe.momentum, **common)
    raise ValueError(f"Unknown optimizer {recipe.optimizer!r}; use 'rmsprop' or 'momentum'.")


def accuracy_metrics():
    """Top-1 and top-5 accuracy (error = 1 - accuracy) on integer labels."""
    return [
        keras.metrics.SparseCategoricalAccuracy(name="top1"),
        keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5"),
    ]


def recipe_from_config(recipe: RecipeConfig, steps_per_epoch: float, has_aux: bool = True) -> dict:
    """`model.compile` keyword arguments for the recipe.

    With `has_aux` the losses are keyed by the outputs `logits` (weight 1) and
    `aux_logits` (weight `recipe.aux_loss_weight`, 0.4), both label-smoothed;
    the accuracy metrics are on `logits` only.
    """
    loss = SmoothedSparseCategoricalCrossentropy(recipe.label_smoothing)
    compile_kwargs = dict(optimizer=build_optimizer(recipe, steps_per_epoch))
    if has_aux:
        aux_loss = SmoothedSparseCategoricalCrossentropy(recipe.label_smoothing, name="aux_crossentropy")
        compile_kwargs.update(
            loss={LOGITS: loss, AUX_LOGITS: aux_loss},
            loss_weights={LOGITS: 1.0, AUX_LOGITS: recipe.aux_loss_weight},
            metrics={LOGITS: accuracy_metrics()},
        )
    else:
        compile_kwargs.update(loss=loss, metrics=accuracy_metrics())
    return compile_kwargs


def paper_recipe(steps_per_epoch: float, *, has_aux: bool = True, **overrides) -> dict:
    """`model.compile` arguments for the paper's recipe; overrides are RecipeConfig fields.

        model.compile(**paper_recipe(steps_per_epoch=100, optimizer="momentum"))
    """
    return recipe_from_config(dataclasses.replace(RecipeConfig(), **overrides),
                              steps_per_epoch, has_aux=has_aux)


def targets_for(model: keras.Model):
    """`Dataset.map` function from (images, labels) to what `model.fit` needs.

    For the two-output model it repeats the label for each output:
    (images, {"logits": labels, "aux_logits": labels}); otherwise identity.
    """
    if isinstance(model.output, dict):
        names = tuple(model.output)

        def per_output(images, labels):
            return images, {name: labels for name in names}

        return per_output

    def identity(images, labels):
        return images, labels

    return identity
