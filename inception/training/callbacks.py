"""Keras callbacks of a run: stop at a step, checkpoint, refuse NaN, log history.

In `fit`, one Keras "epoch" is one log interval of `log_every_steps` steps
(the trainer sets `steps_per_epoch` to it), so Keras' per-epoch machinery
(History, TensorBoard, the progress bar) reports per interval and a resumed
run restarts at an interval boundary.
"""

from __future__ import annotations

import json
import os
import time
from typing import Optional

import keras
from absl import logging

from inception.training.checkpoint import TrainingCheckpoint, all_finite
from inception.training.ema import ema_weights


class NonFiniteLossError(FloatingPointError):
    """The loss became NaN or Inf; the run stopped without saving."""


def _step(model) -> int:
    return int(model.optimizer.iterations.numpy())


class TerminateOnNonFiniteLoss(keras.callbacks.TerminateOnNaN):
    """TerminateOnNaN(raise_error=True), raising NonFiniteLossError with the step and last checkpoint.

    Raising (instead of `stop_training`) skips the epoch-end callbacks, so
    the checkpoint callback never sees the bad weights. Put it first.
    """

    def __init__(self, checkpoint: Optional[TrainingCheckpoint] = None):
        super().__init__(raise_error=True)
        self._checkpoint = checkpoint

    def on_batch_end(self, batch, logs=None):
        try:
            super().on_batch_end(batch, logs)
        except RuntimeError as error:
            latest = self._checkpoint.latest if self._checkpoint else None
            raise NonFiniteLossError(
                f"Loss is {(logs or {}).get('loss')} at step {_step(self.model)}; training stopped. "
                f"The last good checkpoint is untouched: {latest or 'none yet'}. "
                "Lower the learning rate or check the inputs, then rerun to resume.") from error


class HeldOutAccuracy(keras.callbacks.Callback):
    """Top-1 accuracy of the averaged weights on held-out images every `every_steps` steps.

    The paper's Figure 8 plots held-out accuracy against iterations; the
    paper evaluates "a running average of the parameters" (section 8). The
    images are held in memory and evaluated with the project's one
    evaluator; the result goes into the interval's logs as `heldout_top1`
    (so `StepHistory` and TensorBoard record it: put this callback first).
    """

    def __init__(self, batches, every_steps: int, use_ema: bool = True):
        super().__init__()
        self.batches = batches  # [(images, labels)] as numpy arrays
        self.every_steps = max(1, every_steps)
        self.use_ema = use_ema
        self._head = None
        self._done_block = 0

    def on_train_begin(self, logs=None):
        from inception.loading import classifier

        self._head = classifier(self.model)  # built once: its predict function is traced once
        self._done_block = _step(self.model) // self.every_steps

    def on_epoch_end(self, epoch, logs=None):
        block = _step(self.model) // self.every_steps
        if block == self._done_block or logs is None:
            return
        from inception import evaluation

        self._done_block = block
        with ema_weights(self.model, enabled=self.use_ema):
            result = evaluation.evaluate(self._head, self.batches, use_ema=False)
        logs["heldout_top1"] = 1.0 - result.top1_error


class StopAtStep(keras.callbacks.Callback):
    """Stop after the optimizer's `last_step`-th update (max_steps, fractional epochs)."""

    def __init__(self, last_step: int):
        super().__init__()
        self.last_step = last_step
        self._step = 0

    def on_train_begin(self, logs=None):
        self._step = _step(self.model)

    def on_train_batch_end(self, batch, logs=None):
        # Counted here, not read from the optimizer: on JAX reading the model
        # each batch would copy the training state back out of the step.
        self._step += 1
        if self._step >= self.last_step:
            self.model.stop_training = True


class PeriodicCheckpoint(keras.callbacks.Callback):
    """Save the training state at the end of the interval where a multiple of `every_steps` falls.

    Weights are checked to be finite first: a step can turn the weights NaN
    (an infinite gradient) while its loss is still finite, and such a state
    must never replace the last good checkpoint.
    """

    def __init__(self, checkpoint: TrainingCheckpoint, every_steps: int):
        super().__init__()
        self.checkpoint = checkpoint
        self.every_steps = max(1, every_steps)
        self._saved_block = None

    def on_train_begin(self, logs=None):
        self._saved_block = _step(self.model) // self.every_steps

    def on_epoch_end(self, epoch, logs=None):
        step = _step(self.model)
        if step // self.every_steps == self._saved_block:
            return
        if not all_finite(self.model):
            raise NonFiniteLossError(
                f"Weights are not finite at step {step}; not checkpointing. "
                f"The last good checkpoint is untouched: {self.checkpoint.latest}.")
        path = self.checkpoint.save()
        self._saved_block = step // self.every_steps
        logging.info("Step %d: saved %s", step, path)


class StepHistory(keras.callbacks.Callback):
    """Appends each interval's logs, its last step and the training time so far to a JSON-lines file.

    Unlike Keras' History it spans resumed runs: at the start it keeps only
    the records up to the step the run resumes from.
    """

    def __init__(self, path: Optional[str]):
        super().__init__()
        self.path = path
        self.records: list = []
        self._started = time.time()
        self._seconds_before = 0.0

    @property
    def train_seconds(self) -> float:
        return self.records[-1]["train_seconds"] if self.records else 0.0

    def on_train_begin(self, logs=None):
        start = _step(self.model)
        self.records = [r for r in read_history(self.path) if r["step"] <= start] if self.path else []
        self._seconds_before = self.train_seconds
        self._started = time.time()
        if self.path:
            with open(self.path, "w") as f:
                f.writelines(json.dumps(r) + "\n" for r in self.records)

    def on_epoch_end(self, epoch, logs=None):
        record = {"step": _step(self.model),
                  "learning_rate": float(self.model.optimizer.learning_rate),
                  "train_seconds": self._seconds_before + time.time() - self._started}
        record.update({k: float(v) for k, v in (logs or {}).items() if _is_number(v)})
        self.records.append(record)
        if self.path:
            with open(self.path, "a") as f:
                f.write(json.dumps(record) + "\n")


def _is_number(value) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def read_history(path: str) -> list:
    """The records StepHistory wrote ([] if the file does not exist)."""
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
