"""The building blocks of Inception-v3, one function per figure of the paper (5, 6, 7, 9, 10).

Every block takes a Keras tensor and returns one, made of convolution units
(`inception.conv_unit.ConvUnits`: Conv2D, BatchNorm, ReLU named after the
TF-slim scope) and pooling layers, named likewise. The classifier heads
(Figure 8 and the final one) are in `inception.heads`.

Only Keras layers are used, so the blocks build under any Keras 3 backend.
"""

from __future__ import annotations

from typing import Sequence

from keras import layers

from inception.conv_unit import ConvUnits, layer_name
# The heads and the unit were defined here once; kept importable as `blocks.<name>`.
from inception.heads import auxiliary_classifier, classifier  # noqa: F401


def _avg_pool_3x3(x, scope: str):
    # TensorFlow's SAME average pooling divides by the number of real (not
    # padded) cells in each window; Keras' AveragePooling2D does the same.
    return layers.AveragePooling2D(3, strides=1, padding="same", name=layer_name(scope))(x)


def _max_pool_3x3_stride_2(x, scope: str):
    return layers.MaxPooling2D(3, strides=2, padding="valid", name=layer_name(scope))(x)


def _concat(tensors, scope: str):
    return layers.Concatenate(axis=-1, name=layer_name(scope))(list(tensors))


def _square_or_asymmetric(x, conv: ConvUnits, filters: int, n: int, scope: str, *,
                          asymmetric: bool, first_of_pair: bool = False):
    """An nxn convolution unit, or (section 3.2's control) 1xn then nx1 with the same filters.

    The asymmetric pair is named after the square unit it replaces, with
    `_1xn` and `_nx1` suffixes. `first_of_pair` marks a unit that is itself
    the first of a factorized pair (its linear variant, Figure 2).
    """
    if not asymmetric:
        make = conv.factorized_first if first_of_pair else conv
        return make(x, filters, (n, n), scope)
    x = conv.factorized_first(x, filters, (1, n), f"{scope}_1x{n}")
    return conv(x, filters, (n, 1), f"{scope}_{n}x1")


def factorized_5x5_block(
    x,
    conv: ConvUnits,
    scope: str,
    pool_filters: int,
    *,
    variant: str = "released",
    branch_1_names: Sequence[str] = ("Conv2d_0a_1x1", "Conv2d_0b_5x5"),
):
    """Figure 5: the 35x35 Inception module with 5x5 factorized into two 3x3.

    Released network (Mixed_5b/5c/5d), four branches concatenated:
      Branch_0: 1x1 64
      Branch_1: 1x1 48 -> 5x5 64
      Branch_2: 1x1 64 -> 3x3 96 -> 3x3 96
      Branch_3: 3x3 average pool -> 1x1 `pool_filters` (32 for 5b, 64 after)

    Difference from the figure: the released block keeps an unfactorized 5x5
    branch (Branch_1) beside the factorized double-3x3 one; Figure 5 has only
    factorized convolutions. `variant="figure5"` builds the figure: Branch_1
    becomes 1x1 48 -> 3x3 64 -> 3x3 64 (the 5x5 factorized into a pair).
    `variant="asymmetric"` is section 3.2's control: every nxn of the
    released block becomes 1xn -> nx1 (Figure 6's factorization), which the
    paper found "does not work well on early layers" such as this 35x35 grid.
    `branch_1_names` carries TF-slim's irregular scope names in Mixed_5c.
    """
    s = scope
    asymmetric = variant == "asymmetric"
    b0 = conv(x, 64, (1, 1), f"{s}/Branch_0/Conv2d_0a_1x1")
    if variant == "figure5":
        b1 = conv(x, 48, (1, 1), f"{s}/Branch_1/Conv2d_0a_1x1")
        b1 = conv.factorized_first(b1, 64, (3, 3), f"{s}/Branch_1/Conv2d_0b_3x3")
        b1 = conv(b1, 64, (3, 3), f"{s}/Branch_1/Conv2d_0c_3x3")
    else:
        b1 = conv(x, 48, (1, 1), f"{s}/Branch_1/{branch_1_names[0]}")
        b1 = _square_or_asymmetric(b1, conv, 64, 5, f"{s}/Branch_1/{branch_1_names[1]}",
                                   asymmetric=asymmetric)
    b2 = conv(x, 64, (1, 1), f"{s}/Branch_2/Conv2d_0a_1x1")
    b2 = _square_or_asymmetric(b2, conv, 96, 3, f"{s}/Branch_2/Conv2d_0b_3x3",
                               asymmetric=asymmetric, first_of_pair=True)
    b2 = _square_or_asymmetric(b2, conv, 96, 3, f"{s}/Branch_2/Conv2d_0c_3x3",
                               asymmetric=asymmetric)
    b3 = _avg_pool_3x3(x, f"{s}/Branch_3/AvgPool_0a_3x3")
    b3 = conv(b3, pool_filters, (1, 1), f"{s}/Branch_3/Conv2d_0b_1x1")
    return _concat([b0, b1, b2, b3], s)


def _reduce_grid(x, scope: str, variant: str, branches):
    """Halve the grid with `branches(x, stride, padding)` the three ways of Figures 9 and 10.

    "parallel" (Figure 10, released): each branch ends in a stride-2 VALID
    layer and the branches are concatenated. "pool_first" (Figure 9, left):
    a 3x3/2 max pool, then the branches at stride 1 SAME on the reduced
    grid: cheaper, but the grid shrinks before the filters expand (a
    representational bottleneck). "conv_first" (Figure 9, right): the
    branches at stride 1 SAME on the full grid, then the 3x3/2 max pool:
    no bottleneck, several times the cost.
    """
    if variant == "parallel":
        return _concat(branches(x, 2, "valid"), scope)
    if variant == "pool_first":
        x = _max_pool_3x3_stride_2(x, f"{scope}/MaxPool_0a_3x3")
        return _concat(branches(x, 1, "same"), scope)
    if variant == "conv_first":
        x = _concat(branches(x, 1, "same"), f"{scope}/concat")
        return _max_pool_3x3_stride_2(x, scope)
    raise ValueError(f"Unknown grid_reduction {variant!r}; valid: parallel, pool_first, conv_first.")


def _pool_branch(x, stride: int, scope: str):
    """The pooling branch of a grid reduction: 3x3 max pool, at the reduction's stride."""
    if stride == 2:
        return _max_pool_3x3_stride_2(x, scope)
    return layers.MaxPooling2D(3, strides=1, padding="same", name=layer_name(scope))(x)


def grid_reduction_35_to_17(x, conv: ConvUnits, scope: str = "Mixed_6a", *, variant: str = "parallel"):
    """Figure 10: reduce the grid 35x35 -> 17x17 while expanding the filters.

    Parallel stride-2 branches, concatenated (288 -> 768 channels):
      Branch_0: 3x3/2 384 VALID
      Branch_1: 1x1 64 -> 3x3 96 -> 3x3/2 96 VALID
      Branch_2: 3x3/2 max pool VALID

    Difference from the figure: Figure 10's single-3x3 branch is
    1x1 -> 3x3/2; the released Branch_0 is a lone 3x3/2 convolution.
    TF-slim names both stride-2 convolutions `Conv2d_1a_1x1` although they
    are 3x3; the names are kept so that checkpoints map. `variant` builds
    Figure 9's alternatives from the same branches (`_reduce_grid`).
    """
    s = scope

    def branches(x, stride, padding):
        b0 = conv(x, 384, (3, 3), f"{s}/Branch_0/Conv2d_1a_1x1", strides=stride, padding=padding)
        b1 = conv(x, 64, (1, 1), f"{s}/Branch_1/Conv2d_0a_1x1")
        b1 = conv.factorized_first(b1, 96, (3, 3), f"{s}/Branch_1/Conv2d_0b_3x3")
        b1 = conv(b1, 96, (3, 3), f"{s}/Branch_1/Conv2d_1a_1x1", strides=stride, padding=padding)
        return [b0, b1, _pool_branch(x, stride, f"{s}/Branch_2/MaxPool_1a_3x3")]

    return _reduce_grid(x, s, variant, branches)


def asymmetric_7x7_block(x, conv: ConvUnits, scope: str, channels: int):
    """Figure 6 with n = 7: the 17x17 module with n x n factorized into 1xn, nx1.

    Released network (Mixed_6b..6e, `channels` c = 128, 160, 160, 192):
      Branch_0: 1x1 192
      Branch_1: 1x1 c -> 1x7 c -> 7x1 192
      Branch_2: 1x1 c -> 7x1 c -> 1x7 c -> 7x1 c -> 1x7 192
      Branch_3: 3x3 average pool -> 1x1 192

    Difference from the figure: Figure 6 shows the single-factorized branch as
    1x1 -> 1xn -> nx1 and the double one as 1x1 -> 1xn -> nx1 -> 1xn -> nx1;
    the released double branch starts with 7x1 (order of the pairs swapped).
    """
    s, c = scope, channels
    b0 = conv(x, 192, (1, 1), f"{s}/Branch_0/Conv2d_0a_1x1")
    b1 = conv(x, c, (1, 1), f"{s}/Branch_1/Conv2d_0a_1x1")
    b1 = conv.factorized_first(b1, c, (1, 7), f"{s}/Branch_1/Conv2d_0b_1x7")
    b1 = conv(b1, 192, (7, 1), f"{s}/Branch_1/Conv2d_0c_7x1")
    b2 = conv(x, c, (1, 1), f"{s}/Branch_2/Conv2d_0a_1x1")
    b2 = conv.factorized_first(b2, c, (7, 1), f"{s}/Branch_2/Conv2d_0b_7x1")
    b2 = conv(b2, c, (1, 7), f"{s}/Branch_2/Conv2d_0c_1x7")
    b2 = conv.factorized_first(b2, c, (7, 1), f"{s}/Branch_2/Conv2d_0d_7x1")
    b2 = conv(b2, 192, (1, 7), f"{s}/Branch_2/Conv2d_0e_1x7")
    b3 = _avg_pool_3x3(x, f"{s}/Branch_3/AvgPool_0a_3x3")
    b3 = conv(b3, 192, (1, 1), f"{s}/Branch_3/Conv2d_0b_1x1")
    return _concat([b0, b1, b2, b3], s)


def grid_reduction_17_to_8(x, conv: ConvUnits, scope: str = "Mixed_7a", *, variant: str = "parallel"):
    """Figure 10: reduce the grid 17x17 -> 8x8 while expanding the filters.

    Parallel stride-2 branches, concatenated (768 -> 1280 channels):
      Branch_0: 1x1 192 -> 3x3/2 320 VALID
      Branch_1: 1x1 192 -> 1x7 192 -> 7x1 192 -> 3x3/2 192 VALID
      Branch_2: 3x3/2 max pool VALID

    Difference from the figure: Figure 10's right-hand branch is
    1x1 -> 3x3 -> 3x3/2; the released one factorizes its 7x7 context as
    1x7 -> 7x1 before the stride-2 3x3. `variant` builds Figure 9's
    alternatives from the same branches (`_reduce_grid`).
    """
    s = scope

    def branches(x, stride, padding):
        b0 = conv(x, 192, (1, 1), f"{s}/Branch_0/Conv2d_0a_1x1")
        b0 = conv(b0, 320, (3, 3), f"{s}/Branch_0/Conv2d_1a_3x3", strides=stride, padding=padding)
        b1 = conv(x, 192, (1, 1), f"{s}/Branch_1/Conv2d_0a_1x1")
        b1 = conv.factorized_first(b1, 192, (1, 7), f"{s}/Branch_1/Conv2d_0b_1x7")
        b1 = conv(b1, 192, (7, 1), f"{s}/Branch_1/Conv2d_0c_7x1")
        b1 = conv(b1, 192, (3, 3), f"{s}/Branch_1/Conv2d_1a_3x3", strides=stride, padding=padding)
        return [b0, b1, _pool_branch(x, stride, f"{s}/Branch_2/MaxPool_1a_3x3")]

    return _reduce_grid(x, s, variant, branches)


def expanded_filter_bank_block(
    x,
    conv: ConvUnits,
    scope: str,
    *,
    branch_1_split_names: Sequence[str] = ("Conv2d_0b_1x3", "Conv2d_0b_3x1"),
):
    """Figure 7: the 8x8 module with expanded filter bank outputs.

    Released network (Mixed_7b, 7c; output 2048 channels):
      Branch_0: 1x1 320
      Branch_1: 1x1 384 -> [1x3 384 || 3x1 384]
      Branch_2: 1x1 448 -> 3x3 384 -> [1x3 384 || 3x1 384]
      Branch_3: 3x3 average pool -> 1x1 192

    Difference from the figure: the figure's branches have no filter counts
    and its pooling branch is drawn without saying which pooling; the counts
    and the average pool are the released network's. `branch_1_split_names`
    carries TF-slim's irregular scope names in Mixed_7c.
    """
    s = scope
    b0 = conv(x, 320, (1, 1), f"{s}/Branch_0/Conv2d_0a_1x1")
    b1 = conv(x, 384, (1, 1), f"{s}/Branch_1/Conv2d_0a_1x1")
    b1 = layers.Concatenate(axis=-1, name=layer_name(f"{s}/Branch_1/concat"))([
        conv(b1, 384, (1, 3), f"{s}/Branch_1/{branch_1_split_names[0]}"),
        conv(b1, 384, (3, 1), f"{s}/Branch_1/{branch_1_split_names[1]}"),
    ])
    b2 = conv(x, 448, (1, 1), f"{s}/Branch_2/Conv2d_0a_1x1")
    b2 = conv(b2, 384, (3, 3), f"{s}/Branch_2/Conv2d_0b_3x3")
    b2 = layers.Concatenate(axis=-1, name=layer_name(f"{s}/Branch_2/concat"))([
        conv(b2, 384, (1, 3), f"{s}/Branch_2/Conv2d_0c_1x3"),
        conv(b2, 384, (3, 1), f"{s}/Branch_2/Conv2d_0d_3x1"),
    ])
    b3 = _avg_pool_3x3(x, f"{s}/Branch_3/AvgPool_0a_3x3")
    b3 = conv(b3, 192, (1, 1), f"{s}/Branch_3/Conv2d_0b_1x1")
    return _concat([b0, b1, b2, b3], s)
