"""tools/compare_runs.py: runs side by side (curves, errors, dtype policy)."""

import json

import pytest

from inception.config import ExperimentConfig, ModelConfig
from inception.training.workdir import RunPaths, write_config
from tools import compare_runs


def fake_run(directory, top1_error, dtype_policy="float32"):
    """A finished run's files as the trainer writes them (config, history, results)."""
    run = RunPaths(str(directory))
    write_config(ExperimentConfig(name="r", model=ModelConfig(dtype_policy=dtype_policy)), run.workdir)
    with open(run.history, "w") as f:
        for step, accuracy in ((50, 0.2), (100, 0.6)):
            f.write(json.dumps({"step": step, "logits_top1": accuracy, "loss": 1.0}) + "\n")
    with open(run.results, "w") as f:
        json.dump({"steps": 100, "top1_error": top1_error, "top5_error": 0.01, "train_seconds": 120.0}, f)
    return run.workdir


def test_table_lists_each_run_and_the_spread_per_policy(tmp_path):
    runs = [("a", fake_run(tmp_path / "a", 0.25)), ("b", fake_run(tmp_path / "b", 0.23)),
            ("bf16", fake_run(tmp_path / "c", 0.24, "mixed_bfloat16"))]
    text = compare_runs.markdown([compare_runs.summary(*run) for run in runs])

    assert "| a | float32 | 100 | 60.0% | 25.00% | 1.00% | 2.0 min |" in text
    assert "| bf16 | mixed_bfloat16 |" in text
    assert "float32: 2 run(s), mean test top-1 error 24.00%, SD 1.41 points." in text
    assert "mixed_bfloat16: 1 run(s), mean test top-1 error 24.00%." in text


def test_curves_are_plotted(tmp_path):
    run = fake_run(tmp_path / "a", 0.25)
    out = tmp_path / "curves.png"
    histories = {"a": [compare_runs.read_history(RunPaths(run).history)]}
    assert compare_runs.curves.plot(histories, str(out), "t")
    assert out.read_bytes().startswith(b"\x89PNG")


def test_bad_run_arguments_say_what_is_expected(tmp_path):
    with pytest.raises(ValueError, match="LABEL=RUN_DIR"):
        compare_runs.parse_run("just/a/path")
    with pytest.raises(ValueError, match="no results.json"):
        compare_runs.parse_run(f"x={tmp_path}")
