"""What the benchmark runs, and how big: `Settings`, and `Settings.quick()` for tests."""

from __future__ import annotations

import dataclasses
from typing import Optional


@dataclasses.dataclass(frozen=True)
class Settings:
    """What to run, and how big. `quick()` shrinks it to seconds."""

    batch_size: int = 32
    image_size: int = 299
    num_classes: int = 1000
    inference_repeats: int = 5
    train_steps: int = 3  # optimizer steps per `fit` call; all but the first are timed
    train_repeats: int = 3
    matmul_size: int = 2048
    calibration_images: int = 32  # int8 ranges for the speed runs (random weights)
    input_images: int = 512  # JPEGs for the input-pipeline measurement (one pass)
    input_rounds: int = 5  # its timed rounds (pipeline, decoder alone, naive baseline in turn)
    bfloat16: bool = True  # also time mixed bfloat16 (emulated without AVX512-BF16)
    training: bool = True
    tf_default_phase: bool = True  # repeat the fp32 inference comparisons with TensorFlow's defaults
    distribution_replicas: tuple = (2, 8, 50)
    distribution_batch: int = 32  # per replica
    distribution_image_size: int = 28
    distribution_steps: int = 5  # global steps per `fit` call (the single replica runs R times more)
    distribution_repeats: int = 3
    agreement_examples: Optional[int] = None  # None: the whole test set
    agreement_calibration: int = 512

    def __post_init__(self):
        # JSON (the child processes' arguments) gives a list.
        object.__setattr__(self, "distribution_replicas", tuple(self.distribution_replicas))

    @classmethod
    def quick(cls) -> "Settings":
        return cls(batch_size=2, image_size=75, inference_repeats=1, train_steps=2, train_repeats=1,
                   matmul_size=256, calibration_images=2, input_images=16, input_rounds=1, bfloat16=False,
                   tf_default_phase=False, distribution_replicas=(2,), distribution_batch=4,
                   distribution_steps=2, distribution_repeats=1, agreement_examples=256,
                   agreement_calibration=64)


def random_images(settings: Settings, count: Optional[int] = None):
    """A fixed batch of `count` (default: the batch size) images in [-1, 1]."""
    import numpy as np

    shape = (count or settings.batch_size, settings.image_size, settings.image_size, 3)
    return np.random.default_rng(1).uniform(-1, 1, shape).astype("float32")
