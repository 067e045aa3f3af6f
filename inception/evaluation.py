"""The one evaluator: top-1 / top-5 error of a model or an ensemble, over one crop or many.

Every table uses it: single crop (Tables 2 and 3) is the one-crop case of
the multi-crop evaluation of Table 4, and one model the one-model case of
Table 5's ensembles. The paper averages the softmax over the crops of an
image (12 or 144, built by `inception.data`) and, for ensembles, over
models. The data side yields all crops of an image together ([batch, crops,
H, W, 3]), so averaging here is a reshape and a mean. Keras metrics have no
notion of crops or ensembles; this loop is the small piece no library
provides. Per-image correctness is kept for the bootstrap intervals over
images (`inception.statistics`).
"""

from __future__ import annotations

import contextlib
import dataclasses
from typing import Iterable, Sequence

import numpy as np
import keras

from inception.loading import classifier
from inception.training.ema import ema_weights


@dataclasses.dataclass(frozen=True)
class EvalResult:
    """Errors over `examples` images, and which images each model got right (top-1, top-5)."""

    top1_error: float
    top5_error: float
    examples: int
    crops: int
    models: int
    correct_top1: np.ndarray = dataclasses.field(repr=False, compare=False, default=None)
    correct_top5: np.ndarray = dataclasses.field(repr=False, compare=False, default=None)


def average_probabilities(models: Sequence[keras.Model], images: np.ndarray, chunk: int = 256) -> np.ndarray:
    """Softmax averaged over models and crops.

    `images` is [batch, H, W, 3] or [batch, crops, H, W, 3]; returns
    [batch, classes]. Crops are run `chunk` at a time to bound memory (144
    crops of one 299x299 image are already 150 MB).
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, None]
    batch, crops = images.shape[:2]
    flat = images.reshape((batch * crops,) + images.shape[2:])
    total = None
    for model in models:
        logits = np.concatenate([keras.ops.convert_to_numpy(model.predict_on_batch(flat[i:i + chunk]))
                                 for i in range(0, len(flat), chunk)])
        probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(logits, axis=-1))
        probabilities = probabilities.reshape(batch, crops, -1).mean(axis=1)
        total = probabilities if total is None else total + probabilities
    return total / len(models)


def top_k_correct(probabilities: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Whether each label is among the k most probable classes."""
    k = min(k, probabilities.shape[-1])
    top = np.argpartition(-probabilities, k - 1, axis=-1)[:, :k]
    return (top == np.asarray(labels)[:, None]).any(axis=-1)


def evaluate(
    models: Sequence[keras.Model] | keras.Model,
    dataset: Iterable,
    *,
    use_ema: bool = True,
    chunk: int = 256,
) -> EvalResult:
    """Top-1 and top-5 error of a model or an ensemble over `dataset`.

    `dataset` yields (images, labels) with images [B, H, W, 3] (one crop) or
    [B, crops, H, W, 3]. With `use_ema`, each model holds its exponential
    moving average of the weights during the pass (the paper's evaluation
    weights), when its optimizer keeps one.
    """
    if isinstance(models, keras.Model):
        models = [models]
    if not models:
        raise ValueError("evaluate needs at least one model.")
    top1, top5 = [], []
    crops = 1
    with contextlib.ExitStack() as stack:
        for model in models:
            stack.enter_context(ema_weights(model, enabled=use_ema))
        heads = [classifier(m) for m in models]
        for images, labels in dataset:
            images = np.asarray(images)
            labels = np.asarray(labels)
            crops = images.shape[1] if images.ndim == 5 else 1
            probabilities = average_probabilities(heads, images, chunk=chunk)
            top1.append(top_k_correct(probabilities, labels, 1))
            top5.append(top_k_correct(probabilities, labels, 5))
    if not top1:
        raise ValueError("The evaluation dataset yielded no examples.")
    top1, top5 = np.concatenate(top1), np.concatenate(top5)
    return EvalResult(
        top1_error=float(1.0 - top1.mean()),
        top5_error=float(1.0 - top5.mean()),
        examples=int(top1.size),
        crops=crops,
        models=len(models),
        correct_top1=top1,
        correct_top5=top5,
    )
