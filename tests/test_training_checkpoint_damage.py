"""A damaged latest checkpoint: the run resumes from the newest intact one.

Three checkpoints are written at steps 1, 2, 3, each with its own weights;
then the latest is damaged on disk as a crash or a full disk would leave it.
Restoring names the damaged file in the log, takes step 2, and deletes or
rewrites nothing.
"""

import glob
import logging
import os

import numpy as np
import pytest

from inception.config import ModelConfig
from inception.training import paper_recipe
from inception.training.checkpoint import (TrainingCheckpoint, latest_intact_checkpoint,
                                           unreadable_reason)
from inception.training.testing import tiny_model


def compiled_model():
    model = tiny_model(ModelConfig(num_classes=5, input_size=8))
    model.compile(**paper_recipe(steps_per_epoch=10))
    return model


def marked_kernel(model):
    return model.get_layer("logits").kernel


def three_checkpoints(directory):
    """ckpt-1..3; the logits kernel of checkpoint N is filled with N."""
    model = compiled_model()
    checkpoint = TrainingCheckpoint(model, directory)
    for step in (1, 2, 3):
        model.optimizer.iterations.assign(step)
        kernel = marked_kernel(model)
        kernel.assign(np.full(kernel.shape, float(step), "float32"))
        checkpoint.save()


def truncate_data_file(prefix):
    (data_file,) = glob.glob(prefix + ".data-*")
    with open(data_file, "rb") as f:
        data = f.read()
    with open(data_file, "wb") as f:
        f.write(data[: len(data) // 2])
    return data_file


def overwrite_index_file(prefix):
    with open(prefix + ".index", "wb") as f:
        f.write(b"not a checkpoint index " * 20)
    return prefix + ".index"


def snapshot(directory):
    """Every file's name and bytes."""
    files = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name), "rb") as f:
            files[name] = f.read()
    return files


@pytest.mark.parametrize("damage", [truncate_data_file, overwrite_index_file],
                         ids=["truncated data file", "garbage index file"])
def test_resumes_from_the_newest_intact_checkpoint(damage, tmp_path, caplog):
    directory = str(tmp_path)
    three_checkpoints(directory)
    damaged_file = damage(os.path.join(directory, "ckpt-3"))
    before = snapshot(directory)

    model = compiled_model()  # a fresh process's model: step 0, its own initial weights
    checkpoint = TrainingCheckpoint(model, directory)
    caplog.set_level(logging.WARNING)
    assert checkpoint.restore_latest() == 2
    assert checkpoint.restored == os.path.join(directory, "ckpt-2")
    np.testing.assert_array_equal(marked_kernel(model).numpy(), 2.0)

    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("ckpt-3" in message and damaged_file in message and "damaged" in message
               for message in warnings), warnings
    assert snapshot(directory) == before  # nothing deleted, nothing rewritten


def test_reasons_name_the_damaged_file(tmp_path):
    directory = str(tmp_path)
    three_checkpoints(directory)
    prefixes = [os.path.join(directory, f"ckpt-{n}") for n in (1, 2, 3)]
    data_file = truncate_data_file(prefixes[2])
    index_file = overwrite_index_file(prefixes[1])
    assert unreadable_reason(prefixes[0]) is None
    assert unreadable_reason(prefixes[1]).startswith(index_file + ": ")
    assert unreadable_reason(prefixes[2]).startswith(data_file + ": ")
    assert latest_intact_checkpoint(directory) == prefixes[0]


def test_every_checkpoint_damaged_restores_nothing(tmp_path, caplog):
    directory = str(tmp_path)
    three_checkpoints(directory)
    for n in (1, 2, 3):
        truncate_data_file(os.path.join(directory, f"ckpt-{n}"))
    before = snapshot(directory)
    model = compiled_model()
    checkpoint = TrainingCheckpoint(model, directory)
    caplog.set_level(logging.WARNING)
    assert checkpoint.restore_latest() == 0 and checkpoint.restored is None
    assert int(model.optimizer.iterations.numpy()) == 0
    damaged = [m for m in (r.getMessage() for r in caplog.records) if " is damaged " in m]
    assert len(damaged) == 3
    assert any("None of the 3 checkpoints" in r.getMessage() and "step 0" in r.getMessage()
               for r in caplog.records)
    assert snapshot(directory) == before
