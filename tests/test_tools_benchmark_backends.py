"""tools/benchmark_backends.py and inception.benchmarking.backends: each variant in its own process,
ratios to the first (no timings checked)."""

import json

import pytest

from inception.benchmarking import backends
from tests.support import run_script


def test_an_unknown_variant_names_the_valid_ones():
    done = run_script("tools/benchmark_backends.py", "--variants", "tensorflow,torch")
    assert done.returncode != 0
    assert "torch" in done.stderr and "tensorflow_onednn_off" in done.stderr and "jax" in done.stderr


def test_ratios_are_medians_of_each_rounds_ratio():
    # Round 1: jax 2x slower; round 2 (the machine twice as busy): 4x slower. Median 3x.
    def figures(seconds, cpu):
        return {"seconds_per_step": seconds, "cpu_seconds_per_step": cpu, "batch": 8, "warmup_seconds": 1.0}

    rounds = [{"tensorflow": figures(0.1, 0.2), "jax": figures(0.2, 0.4)},
              {"tensorflow": figures(0.2, 0.2), "jax": figures(0.8, 0.8)}]
    summary = backends.summarize_rounds(rounds, "tensorflow")
    assert summary["tensorflow"]["ratio_vs_baseline"] == 1.0
    assert summary["jax"]["ratio_vs_baseline"] == pytest.approx((0.5 + 0.25) / 2)
    assert summary["jax"]["cpu_ratio_vs_baseline"] == pytest.approx((0.5 + 0.25) / 2)
    assert summary["jax"]["ms_per_step"] == pytest.approx(500.0)
    assert summary["tensorflow"]["images_per_second"] == pytest.approx((8 / 0.1 + 8 / 0.2) / 2)


@pytest.mark.slow
def test_each_variant_reports_its_step_time_and_ratio(tmp_path):
    done = run_script("tools/benchmark_backends.py", "--variants", "tensorflow_mixed_bfloat16,jax", "--batch", "2",
                      "--steps", "2", "--warmup", "1", "--json", tmp_path / "out.json", check=True)
    lines = done.stdout.splitlines()
    assert lines[0].startswith("CPU: ") and "cores" in lines[0]
    # Two processes (each traces the whole network): float32 on JAX, mixed bfloat16 on TensorFlow.
    bfloat16, jax = (next(l for l in lines if l.strip().startswith(name + " "))
                     for name in ("tensorflow_mixed_bfloat16", "jax"))
    assert "time / tensorflow_mixed_bfloat16's: 1.00" in bfloat16 and "ms/step" in jax
    written = json.loads((tmp_path / "out.json").read_text())
    assert [r["jax"]["backend"] for r in written["rounds"]] == ["jax"]
    assert [r["tensorflow_mixed_bfloat16"]["backend"] for r in written["rounds"]] == ["tensorflow"]
    # The child builds the network in the variant's dtype policy, not Keras' global one.
    computed = {name: figures["compute_dtype"] for name, figures in written["rounds"][0].items()}
    assert computed == {"tensorflow_mixed_bfloat16": "bfloat16", "jax": "float32"}
