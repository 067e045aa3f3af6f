"""Top-1 agreement of the fast inference paths (folded, int8) with fp32, on the Fashion-MNIST test set."""

from __future__ import annotations

import os
from typing import Optional

from inception.benchmarking.settings import Settings


def _fashion_mnist_batches(split: str, image_size: int, examples: Optional[int], batch_size: int):
    from inception.config import DataConfig
    from inception.data import build_dataset

    field = "train_examples" if split == "train" else "eval_examples"
    data = DataConfig(source="fashion_mnist", **{field: examples})
    return build_dataset(data, split=split, image_size=image_size, batch_size=batch_size, training=False)


def _fast_paths(classifier, settings: Settings) -> dict:
    """{name: predict(images) -> logits} for fp32, folded and (with oneDNN) int8."""
    from inception import fast_inference

    paths = {"fp32": classifier.predict_on_batch}
    folded = fast_inference.fold_batch_norm(classifier)
    paths["folded"] = folded.predict_on_batch
    if fast_inference.onednn_enabled():
        # int8 ranges come from training images (eval preprocessing), never from the test set.
        calibration, _ = next(iter(_fashion_mnist_batches(
            "train", classifier.input_shape[1], settings.agreement_calibration, settings.agreement_calibration)))
        int8 = fast_inference.Int8Classifier(folded, calibration.numpy())
        paths["int8"] = lambda x: int8(x).numpy()
    return paths


def measure_agreement(model_path: str, settings: Settings) -> dict:
    """Top-1 agreement of the folded and int8 paths with fp32 on the Fashion-MNIST test set.

    The model (a run directory or `.keras` file, `inception.loading`) holds
    its evaluation (moving-average) weights.
    """
    import numpy as np

    from inception import loading

    classifier = loading.classifier(loading.load_trained_model(model_path))
    size = classifier.input_shape[1]
    paths = _fast_paths(classifier, settings)
    predictions = {name: [] for name in paths}
    labels = []
    for images, batch_labels in _fashion_mnist_batches("eval", size, settings.agreement_examples, 250):
        labels.append(batch_labels.numpy())
        for name, predict in paths.items():
            predictions[name].append(np.argmax(predict(images), axis=-1))
    labels = np.concatenate(labels)
    top1 = {name: np.concatenate(p) for name, p in predictions.items()}
    return {
        "model": os.path.abspath(model_path),
        "examples": int(len(labels)),
        "input_size": int(size),
        "top1_accuracy": {name: round(float(np.mean(p == labels)), 4) for name, p in top1.items()},
        "top1_agreement_with_fp32": {name: round(float(np.mean(p == top1["fp32"])), 4)
                                     for name, p in top1.items() if name != "fp32"},
    }
