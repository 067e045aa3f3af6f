"""The training runs of the benchmark, a registry name -> builder, and their interleaved timing.

Theirs: keras.applications.InceptionV3, plain RMSProp, cross-entropy.
Ours: `inception.inception_v3` with the auxiliary head and the whole recipe
(`paper_recipe`: TF1 RMSProp, clipping, EMA, label smoothing, aux loss,
weight decay), in float32 and in mixed bfloat16. Both through `model.fit`.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List

from inception.benchmarking import matmul, throughput, timing
from inception.benchmarking.progress import progress
from inception.benchmarking.settings import Settings, random_images

BASELINE = "keras_fit"


@dataclasses.dataclass(frozen=True)
class TrainingRun:
    """`build(settings)` gives a compiled model; `bfloat16` runs only with `Settings.bfloat16`."""

    build: Callable[[Settings], object]
    bfloat16: bool = False


def _keras_applications(settings: Settings):
    import keras

    theirs = keras.applications.InceptionV3(weights=None, classes=settings.num_classes,
                                            input_shape=(settings.image_size,) * 2 + (3,))
    theirs.compile(optimizer=keras.optimizers.RMSprop(), loss="sparse_categorical_crossentropy")
    return theirs


def _ours_with_recipe(dtype_policy: str) -> Callable[[Settings], object]:
    def build(settings: Settings):
        import inception
        from inception.training import paper_recipe

        model = inception.inception_v3(num_classes=settings.num_classes,
                                       input_size=settings.image_size, dtype_policy=dtype_policy)
        model.compile(**paper_recipe(steps_per_epoch=1000))
        return model

    return build


# The order is the report's.
RUNS: Dict[str, TrainingRun] = {
    BASELINE: TrainingRun(_keras_applications),
    "ours_fit_full_recipe": TrainingRun(_ours_with_recipe("float32")),
    "ours_fit_full_recipe_mixed_bf16": TrainingRun(_ours_with_recipe("mixed_bfloat16"), bfloat16=True),
}


class TrainingRuns:
    """The models to train, each built when first asked for, on one fixed random batch, repeated."""

    def __init__(self, settings: Settings):
        import numpy as np
        import tensorflow as tf

        self.settings = settings
        images = random_images(settings)
        labels = np.random.default_rng(2).integers(0, settings.num_classes, settings.batch_size)
        self.batches = tf.data.Dataset.from_tensors((images, labels.astype("int32"))).repeat()
        self._built = {}

    def names(self) -> List[str]:
        return [name for name, run in RUNS.items() if self.settings.bfloat16 or not run.bfloat16]

    def model(self, name: str):
        """The compiled model of run `name`, built once."""
        if name not in RUNS:
            raise ValueError(f"Unknown training run {name!r}; valid: {sorted(RUNS)}.")
        if name not in self._built:
            from inception import compat

            model = RUNS[name].build(self.settings)
            # As the trainer does: one trace of the training step, not two (both models alike).
            compat.prebuild_compiled_state(model, self.batches.element_spec)
            self._built[name] = model
        return self._built[name]

    def call(self, name: str) -> Callable[[], object]:
        """One optimizer step of `fit` (for memory)."""
        return timing.one_step(self.model(name), self.batches)

    def multiply_adds(self, name: str) -> int:
        import inception

        return inception.count_multiply_adds(self.model(name))


def measure_training(settings: Settings) -> dict:
    """Training images/s of keras.applications (plain RMSProp) and ours (whole recipe), interleaved.

    Each model first takes one step (tracing the training function); then
    rounds of `train_steps`-step fits alternate, timing all steps but the
    first of each.
    """
    runs = TrainingRuns(settings)
    for name in runs.names():
        progress(f"training: building and tracing {name}")
        runs.call(name)()
    calls = {name: timing.fit_call(runs.model(name), runs.batches, settings.train_steps)
             for name in runs.names()}
    multiply_adds = {name: runs.multiply_adds(name) for name in calls}
    images = settings.batch_size * (settings.train_steps - 1)  # the first step is not timed
    figures = throughput.time_beside_matmuls(
        "training", calls, images, multiply_adds, matmul.matmul_candidates(settings.matmul_size, int8=False),
        BASELINE, settings.train_repeats, warmup=0, passes=3)
    return dict(figures, timed_steps_per_call=settings.train_steps - 1)
