"""Skip image files that cannot be used, name each one with its reason, count them per pass.

Bad input (zero-byte, truncated or corrupt files) never stops a run.
tf.data has no "try" for one element, only `ignore_errors`, which drops
failed elements without saying which. So the work is one flat parallel map
followed by `ignore_errors` (`map_skipping_undecodable`), and each file's
name is set aside while it is in flight; when the pass has gone through,
the names left are the skipped files, and only those are looked at again
to find their reason. A good file costs an insertion into a hash table and
its removal; a skipped one, a second look. (Until 2026-12-04 every file was
tried inside one-element datasets of its own, `first_that_works`: about
1 ms of CPU per ImageNet-sized image, PERFORMANCE.md.)

A file is skipped for one of `REASONS`: it cannot be read (missing, a
folder, no permission), it is not an image (empty, or no known format's
signature: `inception.data.headers`), or it is an image that cannot be
decoded (truncated or corrupt). Each skipped file is named once per process,
with its reason, on stderr.

Counts live in `SkippedImages`, one per split and process (each worker of a
multi-worker run counts its own shard). The pipeline counts the files of a
pass while it reads them and the skipped ones when the pass ends, and keeps
the counts of the last *finished* pass apart: prefetching runs ahead into
the next pass, so only a finished pass has exact counts. At the end of every
pass it prints one line with that pass's counts; during `fit` the callback
`inception.data.SkippedImagesLogger` logs the passes that finished in each
epoch. One iterator at a time per pipeline: two iterating the same dataset
at once would share its in-flight names.
"""

from __future__ import annotations

import concurrent.futures
import dataclasses
import sys
from typing import Callable, Optional

import tensorflow as tf

from inception.data import decoding, headers

SPLITS = ("train", "eval")
# Index 1.. of the per-pass counts; 0 counts the files read.
REASONS = ("unreadable", "not an image", "undecodable")
_UNREADABLE, _NOT_AN_IMAGE, _UNDECODABLE = 1, 2, 3
_EXPLANATIONS = {
    _UNREADABLE: "unreadable (missing, a folder, or no permission to read it)",
    _NOT_AN_IMAGE: "not an image (empty, or no JPEG, PNG, GIF, BMP, WebP or JPEG XL signature)",
    _UNDECODABLE: "undecodable (truncated or corrupt image data)",
}


def _on_host(create: Callable[[], object]):
    """`create()` on the host CPU, outside any strategy scope.

    `tf.distribute` strategies turn variables created in their scope into
    mirrored (possibly GPU) variables, which a tf.data function running on
    the host cannot update. The creator hooks are thread-local, so creating
    on a helper thread gives a plain host resource.
    """

    def on_cpu():
        with tf.init_scope(), tf.device("/CPU:0"):
            return create()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as executor:
        return executor.submit(on_cpu).result()


def _counts_variable(size: Optional[int] = None) -> tf.Variable:
    shape = [] if size is None else [size]
    return _on_host(lambda: tf.Variable(tf.zeros(shape, tf.int64), trainable=False))


@dataclasses.dataclass(frozen=True)
class PassCounts:
    """Files read in one pass over a split, and those skipped, by reason."""

    files: int
    unreadable: int
    not_an_image: int
    undecodable: int

    @property
    def skipped(self) -> int:
        return self.unreadable + self.not_an_image + self.undecodable

    def __str__(self) -> str:
        return (f"{self.skipped} of {self.files} file(s) skipped ({self.unreadable} unreadable, "
                f"{self.not_an_image} not an image, {self.undecodable} undecodable)")


class SkippedImages:
    """The files the pipelines of one split left out, and why.

    `total` counts skipped files since creation (or `reset()`), of every
    pass that ended, run-ahead included; `last_pass` the skipped files of
    the last pass that ended; `finished_passes` and `last_finished_pass` (a
    `PassCounts`) the passes read to their end, exact whatever the
    prefetching. Read them eagerly, after or between passes.
    """

    def __init__(self, split: str):
        self.split = split
        self._total = _counts_variable()
        self._this_pass = _counts_variable(1 + len(REASONS))
        self._last_finished = _counts_variable(1 + len(REASONS))
        self._finished_passes = _counts_variable()
        # Files already named on stderr: each is named once per process.
        self._named = _on_host(lambda: tf.lookup.experimental.MutableHashTable(
            tf.string, tf.int64, default_value=0))

    @property
    def total(self) -> int:
        return int(self._total.numpy())

    @property
    def last_pass(self) -> int:
        return self.last_finished_pass.skipped

    @property
    def finished_passes(self) -> int:
        return int(self._finished_passes.numpy())

    @property
    def last_finished_pass(self) -> PassCounts:
        return PassCounts(*(int(n) for n in self._last_finished.numpy()))

    def reset(self) -> None:
        for variable in (self._total, self._this_pass, self._last_finished, self._finished_passes):
            variable.assign(tf.zeros_like(variable))
        self._named.remove(self._named.export()[0])

    # In-graph updates, called from tf.data functions.

    def count_file(self) -> tf.Operation:
        """Counts one file read in this pass."""
        return self._this_pass.assign_add(tf.one_hot(0, 1 + len(REASONS), dtype=tf.int64))

    def count_skipped(self, status: tf.Tensor) -> tf.Operation:
        """Counts one file skipped for REASONS[status - 1] (status >= 1)."""
        reason = tf.one_hot(status, 1 + len(REASONS), dtype=tf.int64)
        return tf.group(self._this_pass.assign_add(reason), self._total.assign_add(1))

    def name_once(self, name: tf.Tensor, status: tf.Tensor) -> tf.Tensor:
        """Prints the skipped file `name` and its reason, the first time it is skipped."""
        # The status is part of the condition, so nothing is recorded before it is known.
        first_time = tf.logical_and(status > 0, tf.equal(self._named.lookup(name), 0))
        explanation = tf.gather(tf.constant([""] + [_EXPLANATIONS[k] for k in sorted(_EXPLANATIONS)]),
                                status)

        def report():
            remember = self._named.insert(name, tf.constant(1, tf.int64))
            message = tf.print(tf.strings.join(["inception.data: skipping ", name, ": ", explanation]),
                               output_stream=sys.stderr)
            with tf.control_dependencies([remember, message]):
                return tf.constant(True)

        return tf.cond(first_time, report, lambda: tf.constant(False))

    def start_pass(self) -> tf.Operation:
        return tf.group(self._this_pass.assign(tf.zeros_like(self._this_pass)))

    def finish_pass(self) -> tf.Operation:
        counts = self._this_pass.read_value()
        saved = tf.group(self._last_finished.assign(counts), self._finished_passes.assign_add(1))
        with tf.control_dependencies([saved]):
            numbers = [tf.reduce_sum(counts[1:]), *tf.unstack(counts), self._total.read_value()]
            return tf.print(tf.strings.format(
                f"inception.data: {self.split} pass finished: {{}} of {{}} file(s) skipped "
                "({} unreadable, {} not an image, {} undecodable), {} since start", numbers),
                output_stream=sys.stderr)

    def __repr__(self) -> str:
        return (f"SkippedImages(split={self.split!r}, last_pass={self.last_pass}, "
                f"total={self.total}, finished_passes={self.finished_passes})")


_COUNTERS: dict[str, SkippedImages] = {}


def skipped_images(split: str) -> SkippedImages:
    """The process-wide counter of skipped images for "train" or "eval"."""
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if split not in _COUNTERS:
        _COUNTERS[split] = SkippedImages(split)
    return _COUNTERS[split]


# -- why a file cannot be used


def _status_of_readable(encoded: tf.Tensor) -> tf.Tensor:
    """The reason (as a status) that bytes which were read but not decoded give."""
    return tf.where(tf.equal(headers.image_format(encoded), ""),
                    tf.constant(_NOT_AN_IMAGE, tf.int64), tf.constant(_UNDECODABLE, tf.int64))


def why_unusable(path: str) -> Optional[str]:
    """Eagerly: None if the file at `path` decodes as the pipeline decodes it, else its reason."""
    try:
        encoded = tf.io.read_file(path)
    except tf.errors.OpError:
        return _EXPLANATIONS[_UNREADABLE]
    try:
        decoding.decode_rgb(encoded)
    except tf.errors.OpError:
        return _EXPLANATIONS[int(_status_of_readable(encoded))]
    return None


def first_that_works(element, *functions: Callable) -> tf.data.Dataset:
    """One element: the result of the first of `functions` that does not fail on `element`.

    The last function must not fail. Errors are InvalidArgument and friends
    raised when the function runs (a decoder's, an assertion's); the
    functions after the first that works are never run.
    """
    attempts = [tf.data.Dataset.from_tensors(element).map(fn).ignore_errors() for fn in functions[:-1]]
    last = tf.data.Dataset.from_tensors(element).map(functions[-1])
    dataset = attempts[0] if attempts else last
    for attempt in attempts[1:] + ([last] if attempts else []):
        dataset = dataset.concatenate(attempt)
    return dataset.take(1)


# -- the pipeline step


def _zeros_like_spec(spec):
    return tf.nest.map_structure(lambda s: tf.zeros(s.shape, s.dtype), spec)


def _run_once(effect: Callable[[], tf.Operation], element_spec) -> tf.data.Dataset:
    """A dataset that runs `effect` when iterated and yields no element."""

    def run(_):
        with tf.control_dependencies([effect()]):
            return _zeros_like_spec(element_spec)

    return tf.data.Dataset.from_tensors(0).map(run).filter(lambda *_: False)


class _InFlight:
    """The files of this pass handed to the map and not yet back from it, by their index in the pass.

    Each entry is [name, source]: the source is the path for files that the
    map reads, or the first bytes (enough for `headers.image_format`) of
    bytes already in memory. Once the pass has gone through the map, the
    entries left are exactly the files on which it failed.
    """

    def __init__(self):
        self._table = _on_host(lambda: tf.lookup.experimental.MutableHashTable(
            tf.int64, tf.string, default_value=tf.constant(["", ""])))

    def add(self, index: tf.Tensor, name: tf.Tensor, source: tf.Tensor) -> tf.Operation:
        return self._table.insert(index, tf.stack([name, source]))

    def remove(self, index: tf.Tensor) -> tf.Operation:
        return self._table.remove(tf.reshape(index, [1]))

    def clear(self) -> tf.Operation:
        return self._table.remove(self._table.export()[0])

    def left(self) -> tf.data.Dataset:
        """(name, source) of each entry, in the order of the pass; read when iterated."""

        def entries(_):
            indices, values = self._table.export()
            return tf.data.Dataset.from_tensor_slices(tf.gather(values, tf.argsort(indices)))

        return tf.data.Dataset.from_tensors(0).flat_map(entries).map(lambda v: (v[0], v[1]))


def map_skipping_undecodable(
    dataset: tf.data.Dataset,
    fn: Callable[[dict], tuple[tf.Tensor, tf.Tensor]],
    output_spec: tuple[tf.TensorSpec, tf.TensorSpec],
    counter: SkippedImages,
    deterministic: bool | None = None,
) -> tf.data.Dataset:
    """`dataset.map(fn)` in parallel, leaving out elements on which `fn` fails.

    `dataset` yields dicts with "encoded" bytes or a "path" to read, and an
    optional "name" (file name or path) printed when the element is skipped.
    `fn` gets the dict with "encoded" bytes and returns (image, label)
    matching `output_spec` (static shapes). Skipped files are counted in
    `counter`, and the pass's counts are printed when the pass ends.

    One flat parallel map does the work and `ignore_errors` drops the
    elements on which it fails; what they were is kept aside while they are
    in flight (`_InFlight`), so that after the pass each one is named, its
    reason found (only skipped files are looked at twice) and counted.
    """
    reads_files = "encoded" not in dataset.element_spec
    in_flight = _InFlight()

    def with_bytes(element):
        if "encoded" in element:
            return element
        return {**element, "encoded": tf.io.read_file(element["path"])}

    def decoded(index, element):
        # The table and the counter are thread-safe; the file is set aside before it is decoded
        # and taken back once its image exists, so a failure leaves it in the table.
        name = element.get("name", element.get("path", tf.constant("(unnamed)")))
        source = element["path"] if reads_files else tf.strings.substr(element["encoded"], 0, 64)
        with tf.control_dependencies([in_flight.add(index, name, source), counter.count_file()]):
            image, label = fn(with_bytes(element))
        image = tf.ensure_shape(image, output_spec[0].shape)
        with tf.control_dependencies([image, label]):
            taken_back = in_flight.remove(index)
        with tf.control_dependencies([taken_back]):
            return tf.identity(image), tf.identity(label)

    kept = (dataset.enumerate()
            .map(decoded, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
            .ignore_errors())

    def status_of(name, source):
        if not reads_files:
            return tf.data.Dataset.from_tensors((name, _status_of_readable(source)))
        return first_that_works(
            source,
            lambda path: (name, _status_of_readable(tf.io.read_file(path))),
            lambda path: (name, tf.constant(_UNREADABLE, tf.int64)))

    def skipped(name, status):
        with tf.control_dependencies([counter.name_once(name, status), counter.count_skipped(status)]):
            return _zeros_like_spec(output_spec)

    left_out = in_flight.left().flat_map(status_of).map(skipped).filter(lambda *_: False)
    start = _run_once(lambda: tf.group(counter.start_pass(), in_flight.clear()), kept.element_spec)
    end = _run_once(counter.finish_pass, kept.element_spec)
    return start.concatenate(kept).concatenate(left_out).concatenate(end)
