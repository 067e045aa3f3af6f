"""Fine-tuning from pretrained weights on a folder of class sub-folders, in one call.

    result = inception.fine_tune.fine_tune("inception_v3.ckpt", "my_photos/", "runs/mine", epochs=5)
    result["export_path"]       # runs/mine/export/1, a SavedModel for TF Serving

`weights` is anything `inception.weights.load_pretrained` reads: a TF-slim
checkpoint, a keras.applications InceptionV3 `.h5` / `.keras` file or model.
The network keeps every pretrained layer; its classifier and the auxiliary
classifier's last layer (paper Figure 8) are new, sized for the folder's
classes (`inception.data.folder`: `train/<class>/...`, `eval/<class>/...`).
The run is an ordinary `train_and_evaluate` run (checkpointed, resumable,
moving averages of the weights for evaluation, paper section 8); after it,
the averaged network is evaluated and exported.

The weights' preprocessing is used throughout. Each source records it
(`inception.weights.WEIGHT_SOURCES`): the input size (the default image
size), the central crop of evaluation (the run's `DataConfig.eval_crop_fraction`,
and the export's `central_fraction`), the interpolation and the input range
(the input pipeline's bilinear resize to [-1, 1]; a source that needs
another is refused rather than fed the wrong pixels).

Batch normalization. By default the pretrained batch-norm layers are frozen
(`freeze_batch_norm=True`): they keep the statistics of the data the weights
were trained on and, being non-trainable, run in inference mode during
training too (Keras 3: a BatchNormalization with `trainable = False` uses its
moving statistics and does not update them). This avoids the classic
mismatch of Keras fine-tuning, where training normalizes with the
statistics of small, unrepresentative batches while evaluation uses moving
statistics that drift away from what the frozen-or-slowly-trained
convolutions expect. Layers with no pretrained values (the new classifiers,
and the auxiliary head's 5x5 layer when a small input shrinks it) train
normally. `freeze_trunk=True` also freezes every pretrained convolution, so
only the new layers learn (the quick first stage of two-stage fine-tuning).
"""

from __future__ import annotations

import json
import os
from typing import Dict, List, Optional, Sequence

import keras
import numpy as np
from absl import logging

from inception import export, loading
from inception import weights as weights_lib
from inception.config import (
    DataConfig,
    DistributeConfig,
    EvalConfig,
    ExperimentConfig,
    ModelConfig,
    RecipeConfig,
)
from inception.data import folder
from inception.model import inception_v3, minimum_input_size
from inception.training import trainer

# The layers sized by the number of classes: always new in a fine-tuned network.
CLASSIFIER_LAYERS = ("Logits.Conv2d_1c_1x1.Conv2D", "AuxLogits.Conv2d_2b_1x1.Conv2D")
# RMSProp as in the paper, at a rate for pretrained weights (the paper's 0.045 is for
# training from scratch; TF-slim's fine-tuning examples use 0.01 for a new head, 1e-4 after).
LEARNING_RATE = 0.001
# Fresh batch-norm layers must settle within a short run (the paper's 0.9997 needs thousands of steps).
BATCH_NORM_MOMENTUM = 0.99
SUMMARY_FILE = "fine_tune.json"
# What the input pipeline produces (`inception.data.preprocessing`).
PIPELINE_INPUT_RANGE = (-1.0, 1.0)
PIPELINE_INTERPOLATION = "bilinear"


def check_preprocessing(source: weights_lib.WeightSource) -> None:
    """Refuses a weight source whose input range or interpolation the input pipeline cannot give."""
    if tuple(source.input_range) != PIPELINE_INPUT_RANGE or source.interpolation != PIPELINE_INTERPOLATION:
        raise ValueError(
            f"The {source.name} weights expect {source.interpolation} resizes to "
            f"{tuple(source.input_range)}; the input pipeline gives {PIPELINE_INTERPOLATION} "
            f"to {PIPELINE_INPUT_RANGE}: extend inception.data.preprocessing for them first")


def data_config(source: weights_lib.WeightSource, data_dir: str, **fields) -> DataConfig:
    """The image folder as a `DataConfig` with `source`'s evaluation crop; `fields` override."""
    check_preprocessing(source)
    return DataConfig(source="folder", data_dir=data_dir,
                      eval_crop_fraction=source.crop_fraction, **fields)


def _checked_folder(data_dir: str, batch_size: int, train_examples: Optional[int]) -> tuple:
    """The class names; FileNotFoundError / ValueError naming the fix for an unusable folder."""
    if not os.path.isdir(data_dir):
        raise FileNotFoundError(f"No image folder at {data_dir!r}: pass a folder with train/<class>/ "
                                "and eval/<class>/ sub-folders of images")
    names = folder.class_names(data_dir)
    folder.split_dir(data_dir, "eval")  # evaluation needs it: fail now, not after training
    count = len(folder.list_images(data_dir, "train")[0])
    count = count if train_examples is None else min(count, train_examples)
    if count < batch_size:
        raise ValueError(f"{count} training images in {data_dir!r} do not fill one batch of "
                         f"{batch_size}: pass a batch size of at most {count}")
    return names


def pretrained_layer_weights(model: keras.Model) -> Dict[str, List[np.ndarray]]:
    """{layer name: its weights} for every layer with weights but the class-sized classifiers."""
    return {layer.name: layer.get_weights() for layer in model.layers
            if layer.weights and layer.name not in CLASSIFIER_LAYERS}


def transfer(pretrained: Dict[str, List[np.ndarray]], model: keras.Model) -> List[str]:
    """Copies each pretrained layer into `model`'s layer of the same name and shapes.

    Returns the names filled. The auxiliary head's 5x5 layer changes shape
    (and name) when a small input shrinks its grid below 5x5; like the new
    classifiers it keeps its initialisation.
    """
    filled = []
    for layer in model.layers:
        values = pretrained.get(layer.name)
        if values is not None and [v.shape for v in values] == [tuple(w.shape) for w in layer.weights]:
            layer.set_weights(values)
            filled.append(layer.name)
    return filled


def freeze(model: keras.Model, pretrained_layers: Sequence[str], *, trunk: bool,
           batch_norm: bool) -> None:
    """Makes pretrained layers non-trainable: all of them (`trunk`) or their batch norms."""
    for name in pretrained_layers:
        layer = model.get_layer(name)
        if trunk or (batch_norm and isinstance(layer, keras.layers.BatchNormalization)):
            layer.trainable = False


def fine_tune_config(source: weights_lib.WeightSource, data_dir: str, num_classes: int, *,
                     epochs: float, image_size: Optional[int], batch_size: int, learning_rate: float,
                     include_aux: bool, max_steps: Optional[int], train_examples: Optional[int],
                     eval_examples: Optional[int], seed: int) -> ExperimentConfig:
    """The run: the folder's classes at the weights' input size and crop, the paper's recipe at `learning_rate`."""
    size = source.input_size if image_size is None else image_size
    if size < minimum_input_size():
        raise ValueError(f"image_size {size} is below the network's minimum {minimum_input_size()}")
    return ExperimentConfig(
        name="fine_tune",
        description=f"fine-tuned from {source.name} weights",
        model=ModelConfig(num_classes=num_classes, input_size=size, include_aux=include_aux,
                          batch_norm_momentum=BATCH_NORM_MOMENTUM),
        data=data_config(source, data_dir, train_examples=train_examples, eval_examples=eval_examples),
        recipe=RecipeConfig(learning_rate=learning_rate),
        distribute=DistributeConfig(per_replica_batch=batch_size),
        evaluation=EvalConfig(batch_size=batch_size),
        epochs=epochs, max_steps=max_steps, seed=seed)


def fine_tune(
    weights,
    data_dir: str,
    workdir: str,
    *,
    epochs: float = 5.0,
    freeze_trunk: bool = False,
    freeze_batch_norm: bool = True,
    include_aux: bool = True,
    image_size: Optional[int] = None,
    batch_size: int = 32,
    learning_rate: float = LEARNING_RATE,
    max_steps: Optional[int] = None,
    train_examples: Optional[int] = None,
    eval_examples: Optional[int] = None,
    export_dir: Optional[str] = None,
    seed: int = 0,
    verbose="auto",
) -> dict:
    """Fine-tunes pretrained Inception-v3 weights on an image folder; evaluates and exports.

    Args:
      weights: a TF-slim checkpoint, keras.applications `.h5`/`.keras` file or model.
      data_dir: `train/<class>/<image>` and `eval/<class>/<image>` folders.
      workdir: the run directory (resumed if it holds checkpoints).
      epochs: passes over the training images (fractions allowed); `max_steps` caps it.
      freeze_trunk: train only the new layers (see the module docstring).
      freeze_batch_norm: keep the pretrained batch norms in inference mode (the default; see above).
      include_aux: train with a new auxiliary classifier (paper Figure 8) as well.
      image_size: the input side; default the weights' own (299).
      export_dir: where the SavedModel goes (`<export_dir>/<version>`); default `<workdir>/export`.

    Returns:
      The run's results (`train_and_evaluate`: top1_error, top5_error, history,
      ...) with `export_path`, `class_names` and `weight_source`; also written
      to `<workdir>/fine_tune.json`.

    Raises:
      FileNotFoundError, ValueError: unusable weights or folder, before any training.
    """
    class_names = _checked_folder(data_dir, batch_size, train_examples)
    pretrained = weights_lib.load_pretrained(weights)
    source = pretrained.source
    config = fine_tune_config(
        source, data_dir, len(class_names), epochs=epochs, image_size=image_size,
        batch_size=batch_size, learning_rate=learning_rate, include_aux=include_aux,
        max_steps=max_steps, train_examples=train_examples, eval_examples=eval_examples, seed=seed)
    model_fn = _pretrained_model_fn(pretrained_layer_weights(pretrained.model), source, class_names,
                                    freeze_trunk=freeze_trunk, freeze_batch_norm=freeze_batch_norm)
    del pretrained  # only its weights are needed
    results = trainer.train_and_evaluate(config, workdir, model_fn=model_fn, verbose=verbose)
    model = loading.load_trained_model(workdir)  # the averaged weights
    export_path = export.export_savedmodel(
        model, export_dir or os.path.join(workdir, "export"), class_names=class_names,
        central_fraction=source.crop_fraction)
    results.update(export_path=export_path, class_names=list(class_names),
                   weight_source=source.name)
    _write_summary(workdir, results, source)
    return results


def _pretrained_model_fn(layer_weights, source: weights_lib.WeightSource, class_names, *,
                         freeze_trunk: bool, freeze_batch_norm: bool):
    """The trainer's `model_fn`: the network with the pretrained weights it can take, frozen as asked."""
    def model_fn(model_config: ModelConfig) -> keras.Model:
        model = inception_v3(model_config)
        filled = transfer(layer_weights, model)
        freeze(model, filled, trunk=freeze_trunk, batch_norm=freeze_batch_norm)
        _log_plan(model, filled, source, class_names)
        return model

    return model_fn


def _log_plan(model: keras.Model, filled: Sequence[str], source: weights_lib.WeightSource,
              class_names) -> None:
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    fresh = [layer.name for layer in model.layers if layer.weights and layer.name not in filled]
    logging.info("Fine-tuning %s weights for %d classes %s: %d layers pretrained, new: %s; "
                 "%s of %s parameters trainable.", source.name, len(class_names),
                 list(class_names)[:10], len(filled), fresh, f"{trainable:,}",
                 f"{model.count_params():,}")


def _write_summary(workdir: str, results: dict, source: weights_lib.WeightSource) -> None:
    summary = {key: results[key] for key in ("top1_error", "top5_error", "eval_examples", "steps",
                                            "export_path", "class_names", "weight_source")}
    summary["preprocessing"] = {"input_size": source.input_size, "crop_fraction": source.crop_fraction,
                                "interpolation": source.interpolation,
                                "input_range": list(source.input_range)}
    with open(os.path.join(workdir, SUMMARY_FILE), "w") as f:
        json.dump(summary, f, indent=2)
