"""The fixed-order pipeline: determinism, batching, repetition."""

import numpy as np
import pytest
import tensorflow as tf

from inception.data import pipeline


def in_memory_examples(n=10):
    """Decoded images whose label is their index and whose pixels say so too."""
    images = np.stack([np.full((12, 14, 3), 20 * i, np.uint8) for i in range(n)])
    labels = np.arange(n, dtype=np.int32)
    return tf.data.Dataset.from_tensor_slices({"image": images, "label": labels})


def encoded_examples(n=10):
    def encode(element):
        return {"encoded": tf.io.encode_png(element["image"]), "label": element["label"]}

    return in_memory_examples(n).map(encode)


def batches(dataset, count):
    return [(x.numpy(), y.numpy()) for x, y in dataset.take(count)]


@pytest.mark.parametrize("make", [in_memory_examples, encoded_examples])
def test_deterministic_gives_the_same_order_and_pixels_twice(make):
    def run():
        dataset = pipeline.assemble(
            make(), split="train", image_size=16, batch_size=4, training=True, seed=3,
            deterministic=True, repeat=True,
        )  # fmt: skip
        return batches(dataset, 6)

    first, second = run(), run()
    for (x1, y1), (x2, y2) in zip(first, second):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(x1, x2)
    assert np.concatenate([y for _, y in first])[:10].tolist() != list(range(10))  # shuffled


def test_a_different_seed_gives_a_different_order():
    def order(seed):
        dataset = pipeline.assemble(
            in_memory_examples(), split="train", image_size=8, batch_size=10, training=True,
            seed=seed, deterministic=True,
        )  # fmt: skip
        return batches(dataset, 1)[0][1].tolist()

    assert order(1) != order(2)


def test_training_repeats_reshuffles_and_drops_the_remainder():
    dataset = pipeline.assemble(in_memory_examples(), split="train", image_size=8, batch_size=4,
                                training=True, seed=0, deterministic=True, repeat=True)  # fmt: skip
    assert dataset.element_spec[0].shape == (4, 8, 8, 3)
    labels = [y for _, y in batches(dataset, 5)]  # 20 images: two passes
    epoch_orders = np.concatenate(labels)
    assert sorted(epoch_orders[:10].tolist()) == list(range(10))  # first pass, within 8 + 2
    assert epoch_orders[:10].tolist() != epoch_orders[10:].tolist()


def test_eval_is_one_pass_in_order_and_keeps_the_short_batch():
    dataset = pipeline.assemble(encoded_examples(), split="eval", image_size=8, batch_size=4,
                                training=False, deterministic=True)  # fmt: skip
    shapes = [x.shape[0] for x, _ in batches(dataset, 10)]
    assert shapes == [4, 4, 2]
    labels = np.concatenate([y for _, y in batches(dataset, 10)])
    assert labels.tolist() == list(range(10))


def test_eval_pixels_are_the_inputs_pixels():
    dataset = pipeline.assemble(in_memory_examples(3), split="eval", image_size=8, batch_size=3,
                                training=False, deterministic=True)  # fmt: skip
    images, labels = batches(dataset, 1)[0]
    for image, label in zip(images, labels):
        np.testing.assert_allclose(image, (20 * label / 255.0 - 0.5) * 2, atol=1e-6)


def test_not_skipping_gives_the_skipping_pipelines_batches_and_stops_at_a_bad_file():
    def run(examples, skip):
        return pipeline.assemble(examples, split="train", image_size=16, batch_size=4, training=True, seed=3,
                                 deterministic=True, repeat=True, skip_undecodable=skip)

    for (x1, y1), (x2, y2) in zip(batches(run(encoded_examples(), True), 5),
                                  batches(run(encoded_examples(), False), 5)):
        np.testing.assert_array_equal(y1, y2)
        np.testing.assert_array_equal(x1, x2)
    broken = encoded_examples().map(lambda element: {**element, "encoded": tf.strings.substr(element["encoded"], 0, 20)})
    with pytest.raises(tf.errors.InvalidArgumentError):
        batches(run(broken, False), 1)


def test_evaluation_keeps_the_examples_order_whatever_the_flag():
    labels = list(range(64))
    examples = tf.data.Dataset.from_tensor_slices(
        {"image": np.zeros([64, 8, 8, 3], np.uint8), "label": np.array(labels, np.int32)})
    dataset = pipeline.assemble(examples, split="eval", image_size=8, batch_size=16, training=False,
                                deterministic=False)
    assert [int(y) for _, y in dataset.unbatch()] == labels
