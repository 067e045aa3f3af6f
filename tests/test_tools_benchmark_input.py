"""tools/benchmark_input.py and `inception.benchmarking.input_pipeline`: the figures, on a tiny run (no timings are checked)."""

import tensorflow as tf

from inception.benchmarking import input_pipeline
from tools import benchmark_input


def test_every_figure_is_reported_with_the_machine_and_the_decoder_reference():
    result = input_pipeline.measure_input_throughput(images=8, image_size=32, batch_size=4, rounds=1)
    for name in ("pipeline", "decoder", "baseline"):
        assert result[f"{name}_images_per_second"] > 0 and result[f"{name}_images_per_cpu_second"] > 0
    assert result["pipeline_images_per_second_per_core"] > 0 and result["fraction_of_decoder_rate"] > 0
    assert set(result["machine"]["isa"]) >= {"avx2", "avx512f"}
    lines = benchmark_input.summary_lines(result)
    assert result["machine"]["cpu"] in lines[0] and "decoder only" in lines[2] and "pipeline / decoder" in lines[3]


def test_a_timed_pass_uses_a_fresh_iterator_each_call():
    # A left-over iterator would keep filling its buffers while others are timed.
    # Three batches in all: a reused iterator would run out in the second call.
    call = input_pipeline.timed_pass(tf.data.Dataset.range(12).batch(4), batches=2, warmup=1)
    first, second = call(), call()
    assert first.wall > 0 and second.wall > 0 and second.cpu >= 0
