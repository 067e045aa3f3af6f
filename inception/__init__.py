"""Inception-v3 (Szegedy et al., 2015, "Rethinking the Inception Architecture
for Computer Vision") in Keras 3.

    import inception
    model = inception.inception_v3(num_classes=10, input_size=75)
    inception.count_multiply_adds(model)
    train_ds = inception.data.build_dataset(...)      # subpackages load on first use
    model.compile(**inception.training.paper_recipe(steps_per_epoch=...))

The network's builders are imported here; the subpackages and modules
(`inception.data`, `inception.training`, `inception.weights`, ...) are
imported the first time they are named (PEP 562), so `import inception`
does not pay for TensorFlow Datasets or the trainer.
"""

import importlib

from inception.complexity import count_multiply_adds
from inception.model import (
    STEMS,
    end_points,
    grid_sizes,
    inception_v3,
    minimum_input_size,
    without_aux,
)

# Submodules reachable as attributes of the package, each imported when first used.
SUBMODULES = (
    "benchmarking",
    "blocks",
    "color_distortion",
    "compat",
    "complexity",
    "config",
    "conv_unit",
    "curves",
    "data",
    "evaluation",
    "experiment",
    "export",
    "fast_inference",
    "fine_tune",
    "heads",
    "loading",
    "machine",
    "model",
    "profiles",
    "report",
    "results",
    "rows",
    "statistics",
    "training",
    "weights",
)

__all__ = [
    "STEMS",
    "count_multiply_adds",
    "end_points",
    "grid_sizes",
    "inception_v3",
    "minimum_input_size",
    "without_aux",
]


def __getattr__(name):
    if name in SUBMODULES:
        # import_module also sets the attribute on the package, so this runs once per name.
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | set(SUBMODULES))
