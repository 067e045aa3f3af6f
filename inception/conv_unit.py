"""The convolution unit every layer of Inception-v3 is made of, named after the TF-slim scopes.

Layers are named after the TF-slim scopes of the released network
(`inception_v3.py` in tensorflow/models research/slim), with "." in place of
"/", because Keras layer names cannot contain "/". A convolution unit with
scope S is three layers: `S.Conv2D` (no bias), `S.BatchNorm` (no scale) and
`S`, the ReLU whose output TF-slim records as the end point S. A checkpoint
variable `InceptionV3/S/weights` therefore belongs to layer `S.Conv2D`
(see `inception/weights.py`).

Only Keras layers are used, so the units build under any Keras 3 backend.
"""

from __future__ import annotations

import dataclasses
from typing import Tuple

import keras
from keras import layers

Kernel = Tuple[int, int]


def layer_name(scope: str) -> str:
    """The Keras layer name of TF-slim scope `scope` ("/" becomes ".")."""
    return scope.replace("/", ".")


@dataclasses.dataclass(frozen=True)
class ConvUnits:
    """How every convolution of the network is made, from a `ModelConfig`.

    Conv2D without bias -> BatchNormalization(scale=False, epsilon 0.001,
    momentum 0.9997 as released) -> ReLU, He-initialised, with weight decay
    in TF's `l2_loss` semantics (`weight_decay * sum(w**2) / 2`, i.e. Keras
    L2 with half the factor). `depth` applies TF-slim's `depth_multiplier`
    and `min_depth` to a filter count. `linear_first_of_pair` is Figure 2's
    control (see `factorized_first`).
    """

    depth_multiplier: float
    min_depth: int
    batch_norm_momentum: float
    batch_norm_epsilon: float
    weight_decay: float
    linear_first_of_pair: bool = False

    @classmethod
    def of(cls, config) -> "ConvUnits":
        """The units of an `inception.config.ModelConfig`."""
        return cls(config.depth_multiplier, config.min_depth, config.batch_norm_momentum,
                   config.batch_norm_epsilon, config.weight_decay,
                   linear_first_of_pair=config.factorized_first_activation == "linear")

    def depth(self, filters: int) -> int:
        return max(int(filters * self.depth_multiplier), self.min_depth)

    def regularizer(self):
        if not self.weight_decay:
            return None
        return keras.regularizers.L2(self.weight_decay / 2.0)

    def __call__(
        self,
        x,
        filters: int,
        kernel: Kernel,
        scope: str,
        *,
        strides: int = 1,
        padding: str = "same",
        batch_norm: bool = True,
        activation: bool = True,
        scale_depth: bool = True,
        initializer="he_normal",
    ):
        """One convolution unit named `scope` (see the module docstring).

        Without batch norm the convolution carries a bias instead (the aux head
        of Table 3's early rows, and the two classifier layers).
        """
        name = layer_name(scope)
        x = layers.Conv2D(
            self.depth(filters) if scale_depth else filters,
            kernel,
            strides=strides,
            padding=padding,
            use_bias=not batch_norm,
            kernel_initializer=initializer,
            kernel_regularizer=self.regularizer(),
            name=f"{name}.Conv2D",
        )(x)
        if batch_norm:
            x = layers.BatchNormalization(
                scale=False,
                momentum=self.batch_norm_momentum,
                epsilon=self.batch_norm_epsilon,
                name=f"{name}.BatchNorm",
            )(x)
        if activation:
            x = layers.ReLU(name=name)(x)
        return x

    def factorized_first(self, x, filters: int, kernel: Kernel, scope: str, **kwargs):
        """The first layer of a factorized pair (two 3x3 for a 5x5; 1xn then nx1).

        Section 3.1 and Figure 2: with a ReLU (released), or linear, batch
        norm kept, when `linear_first_of_pair`. The linear unit still ends in
        a layer named `scope` (an identity), so the end points stay the same.
        """
        if not self.linear_first_of_pair:
            return self(x, filters, kernel, scope, **kwargs)
        x = self(x, filters, kernel, scope, activation=False, **kwargs)
        return layers.Identity(name=layer_name(scope))(x)
