"""tools/benchmark_input.py and `inception.benchmarking.input_pipeline`: the figures, on a tiny run (no timings are checked)."""

import numpy as np
import pytest
import tensorflow as tf

from inception.benchmarking import input_pipeline
from tools import benchmark_input


def test_every_figure_is_reported_with_the_machine_and_the_decoder_reference():
    result = input_pipeline.measure_input_throughput(images=8, image_size=32, batch_size=4, rounds=1)
    for name in ("pipeline", "decoder", "baseline", "colour_on_accelerator", "colour_on_accelerator_not_skipping",
                 "colour_on_accelerator_whole_passes"):
        assert result[f"{name}_images_per_second"] > 0 and result[f"{name}_images_per_cpu_second"] > 0
    assert result["pipeline_images_per_second_per_core"] > 0 and result["fraction_of_decoder_rate"] > 0
    assert result["colour_on_accelerator_fraction_of_decoder_rate"] > 0
    assert set(result["machine"]["isa"]) >= {"avx2", "avx512f"}
    lines = benchmark_input.summary_lines(result)
    assert result["machine"]["cpu"] in lines[0] and "decoder only" in lines[2] and "pipeline / decoder" in lines[3]
    assert "on the accelerator" in lines[4] and "without skipping" in lines[4]
    assert "two whole passes" in lines[5]


def test_the_steady_state_is_timed_inside_one_pass():
    # timed_pass warms up 2 batches: 2 + steady batches stay inside the pass.
    for images, batch_size in [(512, 32), (256, 32), (64, 16)]:
        assert 2 + input_pipeline.steady_batches(images, batch_size) <= images // batch_size


def test_the_colour_layers_cost_is_reported():
    result = input_pipeline.measure_color_layer_cost(image_size=16, batch_size=4, rounds=2)
    assert result["images_per_cpu_second"] > 0 and result["cpu_microseconds_per_image"] > 0
    assert "us/image" in benchmark_input.color_layer_line(result)


def test_a_timed_pass_uses_a_fresh_iterator_each_call():
    # A left-over iterator would keep filling its buffers while others are timed.
    # Three batches in all: a reused iterator would run out in the second call.
    call = input_pipeline.timed_pass(tf.data.Dataset.range(12).batch(4), batches=2, warmup=1)
    first, second = call(), call()
    assert first.wall > 0 and second.wall > 0 and second.cpu >= 0


def test_every_stage_reports_its_cost_and_what_it_adds_to_the_one_before():
    result = input_pipeline.measure_stage_costs(images=8, image_size=32, batch_size=4, rounds=1)
    stages = result["stages"]
    assert list(stages) == ["decode_whole", "decode_window", "flip_resize", "clip_scale", "colour"]
    assert all(figures["images_per_cpu_second"] > 0 for figures in stages.values())
    assert stages["decode_whole"]["added_cpu_microseconds"] is None
    # The added costs telescope: their sum is the whole preprocessing's minus the window decode's.
    added = sum(stages[s]["added_cpu_microseconds"] for s in ("flip_resize", "clip_scale", "colour"))
    assert added == pytest.approx(stages["colour"]["cpu_microseconds_per_image"]
                                  - stages["decode_window"]["cpu_microseconds_per_image"], abs=0.5)
    lines = benchmark_input.stage_lines(result)
    assert "colour" in lines[-1] and "us/image" in lines[-1]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_the_staged_flip_and_resize_are_the_pipelines_own(seed):
    # The staged flip-and-resize, clipped and scaled, is the pipeline's preprocessing without
    # colour for the same bytes and seed (the same window, the same flip draw).
    image = np.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=np.uint8)
    encoded = tf.io.encode_jpeg(image)
    seed = tf.constant([seed, 0], tf.int64)
    resized = input_pipeline.STAGES["flip_resize"](encoded, seed, 16)
    clipped = input_pipeline.STAGES["clip_scale"](encoded, seed, 16)
    np.testing.assert_allclose(clipped.numpy(), np.clip(resized.numpy() * (2 / 255) - 1, -1, 1), atol=1e-6)
