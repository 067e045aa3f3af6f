"""tools/benchmark_backends.py: every variant in its own process, ratios to the first (no timings checked)."""

import pytest

from tests.support import run_script


def test_an_unknown_variant_names_the_valid_ones():
    done = run_script("tools/benchmark_backends.py", "--variants", "tensorflow,torch")
    assert done.returncode != 0
    assert "torch" in done.stderr and "tensorflow_onednn_off" in done.stderr and "jax" in done.stderr


@pytest.mark.slow
def test_each_variant_reports_its_step_time_and_ratio():
    done = run_script("tools/benchmark_backends.py", "--variants", "tensorflow,jax", "--batch", "2",
                      "--steps", "2", "--warmup", "1", check=True)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("CPU: ") and "cores" in lines[0]
    tensorflow, jax = (next(l for l in lines if l.strip().startswith(name + " ")) for name in ("tensorflow", "jax"))
    assert "time / tensorflow's: 1.00" in tensorflow and "ms/step" in jax
