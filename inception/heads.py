"""The two classifier heads of Inception-v3: the auxiliary classifier (Figure 8) and the final one.

Both end in logits squeezed to [batch, num_classes], in float32 under a
mixed dtype policy too. Only Keras layers are used.
"""

from __future__ import annotations

import keras
from keras import layers

from inception.conv_unit import ConvUnits, layer_name


def _squeezed_logits(x, name: str):
    # float32 under a mixed dtype policy too: softmax, losses and top-k metrics read it.
    return layers.Flatten(name=name, dtype="float32")(x)



def auxiliary_classifier(
    x,
    conv: ConvUnits,
    num_classes: int,
    *,
    batch_norm: bool = True,
    scope: str = "AuxLogits",
    output_name: str = "aux_logits",
):
    """Figure 8: the auxiliary classifier on top of the last 17x17 layer.

    5x5/3 average pool VALID -> 1x1 128 -> 5x5 768 VALID (the side head's
    "fully connected" layer, truncated-normal init stddev 0.01) -> linear
    1x1 to `num_classes` (stddev 0.001), squeezed to [batch, num_classes].

    `batch_norm=True` is the paper's "BN-auxiliary" (Table 3's last row; the
    released network): the 1x1 and 5x5 layers are batch-normalized. Without
    it they are convolution + bias + ReLU, as in Table 3's earlier rows.

    Difference from the figure: Figure 8 draws a fully connected layer; the
    released head realises it as a 5x5 VALID convolution over the 5x5 grid.
    For inputs smaller than the paper's, where the 17x17 grid shrinks below
    5x5, both the pool and the 5x5 are cut to the grid (TF-slim cuts the 5x5;
    its pool would fail), and the scope name follows the kernel as in TF-slim.
    """
    s = scope
    size = min(5, x.shape[1], x.shape[2])
    x = layers.AveragePooling2D(size, strides=3, padding="valid", name=layer_name(f"{s}/AvgPool_1a_5x5"))(x)
    x = conv(x, 128, (1, 1), f"{s}/Conv2d_1b_1x1", batch_norm=batch_norm)
    kernel = (min(5, x.shape[1]), min(5, x.shape[2]))
    x = conv(
        x, 768, kernel, f"{s}/Conv2d_2a_{kernel[0]}x{kernel[1]}",
        padding="valid", batch_norm=batch_norm,
        initializer=keras.initializers.TruncatedNormal(stddev=0.01),
    )
    x = conv(
        x, num_classes, (1, 1), f"{s}/Conv2d_2b_1x1",
        batch_norm=False, activation=False, scale_depth=False,
        initializer=keras.initializers.TruncatedNormal(stddev=0.001),
    )
    return _squeezed_logits(x, output_name)


def classifier(
    x,
    conv: ConvUnits,
    num_classes: int,
    *,
    dropout_keep_prob: float = 0.8,
    scope: str = "Logits",
    output_name: str = "logits",
):
    """The final classifier (Table 1's last rows): pool, dropout, linear.

    Average pool over the whole final grid (8x8 at 299; TF-slim's
    `AvgPool_1a_8x8` is cut to the grid for smaller inputs, which is the same
    as pooling globally), dropout with keep probability 0.8, a 1x1
    convolution with bias to `num_classes` (TF-slim's `Conv2d_1c_1x1`; the
    same as keras.applications' Dense "predictions"), squeezed.
    """
    s = scope
    x = layers.GlobalAveragePooling2D(keepdims=True, name=layer_name(f"{s}/AvgPool_1a_8x8"))(x)
    x = layers.Dropout(1.0 - dropout_keep_prob, name=layer_name(f"{s}/Dropout_1b"))(x)
    x = conv(
        x, num_classes, (1, 1), f"{s}/Conv2d_1c_1x1",
        batch_norm=False, activation=False, scale_depth=False,
    )
    return _squeezed_logits(x, output_name)
