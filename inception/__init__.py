"""Inception-v3 (Szegedy et al., 2015, "Rethinking the Inception Architecture
for Computer Vision") in Keras 3.

    model = inception.inception_v3(num_classes=10, input_size=75)
    inception.count_multiply_adds(model)
"""

from inception.complexity import count_multiply_adds
from inception.model import (
    STEMS,
    end_points,
    grid_sizes,
    inception_v3,
    minimum_input_size,
    without_aux,
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
