"""tools/benchmark.py and `inception.benchmarking`: the helpers, and `--quick` end to end (no timings are checked)."""

import dataclasses
import json
import os
import time

import pytest

from inception import compat
from inception.benchmarking import inference, memory, phases, throughput, timing, training
from inception.benchmarking.settings import Settings
from tests.support import run_script


def test_candidates_run_in_alternation_and_steps_can_report_their_own_time():
    order = []
    calls = {"a": lambda: order.append("a"),
             "b": lambda: (order.append("b"), timing.StepTimes(wall=2.0, cpu=3.0))[1]}
    times = timing.interleaved(calls, repeats=3, warmup=1)
    assert order == ["a", "b"] * 4
    assert times["b"] == {"wall": [2.0] * 3, "cpu": [3.0] * 3}
    assert len(times["a"]["wall"]) == 3


def test_ratios_are_medians_of_neighbouring_calls():
    times = {"base": {"wall": [1.0, 4.0, 2.0], "cpu": [2.0, 8.0, 4.0]},
             "fast": {"wall": [0.5, 2.0, 1.0], "cpu": [1.0, 4.0, 2.0]}}
    summary = timing.summarize(times, {"base": 8, "fast": 8}, "base", "images")
    assert summary["fast"]["ratio_vs_baseline"] == 2.0  # every round, although the load varied 4x
    assert summary["fast"]["cpu_ratio_vs_baseline"] == 2.0
    assert summary["base"]["images_per_second"] == 4.0  # median of 8, 2, 4


def test_fraction_of_peak_counts_two_flops_per_multiply_add_and_three_passes_for_training():
    assert throughput.fraction_of_peak(10.0, 5_000_000_000, 100e9) == 1.0
    assert throughput.fraction_of_peak(10.0, 5_000_000_000, 300e9, passes=3) == 1.0


def test_ceiling_divides_the_ratio_by_the_fraction_of_its_own_number_types_peak():
    int8 = {"ratio_vs_baseline": 1.5, "fraction_of_fp32_matmul_peak": 1.1, "fraction_of_int8_matmul_peak": 0.75}
    fp32 = {"ratio_vs_baseline": 1.2, "fraction_of_fp32_matmul_peak": 0.8}
    assert throughput.ceiling_ratio(int8) == 2.0 and throughput.ceiling_ratio(fp32) == 1.5


def test_memory_figures_come_from_proc_status():
    if not os.path.exists("/proc/self/status"):
        pytest.skip("needs Linux /proc")
    block = bytearray(64 * 1024 * 1024)
    block[::4096] = b"x" * len(block[::4096])  # touch every page
    assert memory.status_mib("VmHWM") >= memory.status_mib("VmRSS") >= 64


def test_inference_paths_are_a_registry_filtered_by_what_this_process_can_run(tmp_path):
    assert list(inference.PATHS)[0] == inference.BASELINE
    assert inference.exported_names() == ("keras_exported", "folded_exported", "int8_exported")
    names = inference.InferenceModels(Settings.quick(), str(tmp_path)).names()
    assert "ours_mixed_bf16_predict_on_batch" not in names  # quick settings time no bfloat16
    assert ("int8" in names) == ("int8_exported" in names) == compat.onednn_enabled()
    with pytest.raises(ValueError, match="Unknown inference path 'nope'"):
        inference.InferenceModels(Settings.quick(), str(tmp_path)).call("nope")


def test_training_runs_keep_bfloat16_for_its_setting():
    assert training.TrainingRuns(Settings.quick()).names() == ["keras_fit", "ours_fit_full_recipe"]
    assert "ours_fit_full_recipe_mixed_bf16" in training.TrainingRuns(Settings()).names()


def test_a_phase_reads_its_settings_from_json_and_names_the_valid_phases():
    settings = Settings.quick()
    as_json = json.loads(json.dumps(dataclasses.asdict(settings)))  # the tuple becomes a list
    assert Settings(**as_json) == settings
    with pytest.raises(ValueError, match="valid: .*'compute'"):
        phases.run("nope", {"settings": as_json})


@pytest.mark.slow
def test_quick_benchmark_writes_every_figure(tmp_path):
    output = tmp_path / "benchmark.json"
    started = time.time()
    result = run_script("tools/benchmark.py", "--quick", f"--json={output}")
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-5000:]
    figures = json.loads(output.read_text())
    for key in ("inference_ratio_vs_keras", "exported_inference_ratio_vs_keras", "training_ratio_vs_keras",
                "inference_ceiling_ratio_vs_keras", "training_ceiling_ratio_vs_keras",
                "pipeline_images_per_second_per_core", "distribution_overhead", "machine", "inference",
                "training", "input_pipeline", "memory", "load_average", "command", "started_utc"):
        assert key in figures, key
    assert figures["inference_ratio_vs_keras"] > 0 and figures["training_ratio_vs_keras"] > 0
    paths = figures["inference"]["paths"]
    assert {"keras_predict_on_batch", "folded_predict_on_batch", "folded_exported"} <= set(paths)
    assert "int8" in paths and "int8_exported" in paths  # the phase runs with oneDNN
    assert set(figures["inference"]["matmul_ops_per_second"]) == {"matmul_fp32", "matmul_bf16", "matmul_int8"}
    assert figures["distribution_overhead"]["2"]["overhead_ratio"] > 0
    assert figures["memory"]["inference"]["int8_exported"]["peak_rss_mib"] > 0
    assert figures["memory"]["training"]["ours_fit_full_recipe"]["peak_over_idle_mib"] > 0
    print(f"quick benchmark: {time.time() - started:.0f} s")
