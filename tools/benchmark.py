"""This Inception-v3 against keras.applications.InceptionV3, side by side, on this machine.

    python tools/benchmark.py [--json out.json] [--agreement_model RUN_DIR] [--quick]

Every speed figure is a ratio of two things timed in the same process, in
alternation (A, B, A, B, ...), with the median over the rounds reported: on a
machine shared with other work only such ratios are steady. Measured:

- inference images/s at batch 32, 299x299, of keras.applications (fp32,
  `predict_on_batch`; also through a plain tf.function, with XLA, and
  through our exporter) against ours: as built, batch norm folded into the
  convolutions (`inception.fast_inference.fold_batch_norm`; also as a graph
  with the weights frozen to constants), int8 (oneDNN), mixed bfloat16, and
  the exported SavedModels of the fast paths;
- training images/s: ours with the whole recipe (auxiliary head, clipping,
  EMA, label smoothing; `paper_recipe`) against keras.applications with
  plain RMSProp, both through `model.fit`; and ours in mixed bfloat16;
- the machine's matrix-multiply rate (fp32, bf16, int8) in the same rounds,
  so that every throughput is also a fraction of what the cores can do:
  images/s x multiply-adds x 2 (x 3 for training) / fp32 matmul FLOP/s;
- peak memory: the resident-set high-water mark (VmHWM) of a fresh process
  that builds one path and runs two batches through it, also over the same
  process's resident set before the build (a process per path: TensorFlow's
  allocators keep freed memory, which would hide later peaks in one process);
- the training input pipeline's images/s per core, and as a fraction of the
  JPEG decoder alone on the same files, one thread, in the same rounds
  (`tools.benchmark_input.measure_input_throughput`);
- with `--agreement_model`, the top-1 agreement of the fast paths with fp32 on
  the Fashion-MNIST test set, for a model trained by the small profile;
- distribution overhead: one global step on R logical CPU replicas against R
  single-replica steps, R = 2, 8, 50, for the test-sized model.

Phases run in child processes (their progress is relayed): the logical-device
split and TensorFlow's oneDNN switch (int8 needs TF_ENABLE_ONEDNN_OPTS=1) are
fixed when TensorFlow starts. Both models of a comparison always share one
process and so one TensorFlow configuration; a second phase with
TensorFlow's default (oneDNN off in this build) repeats the fp32 inference
comparisons. `run_benchmark` is the
importable entry point; `--json` writes every figure.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional

from absl import app, flags

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

ONEDNN_FLAG = "TF_ENABLE_ONEDNN_OPTS"  # also inception.fast_inference.ONEDNN_FLAG (imports TF)
BASELINE = "keras_predict_on_batch"
EXPORTED = ("keras_exported", "folded_exported", "int8_exported")  # served from a SavedModel


@dataclasses.dataclass(frozen=True)
class Settings:
    """What to run, and how big. `quick()` shrinks it to seconds."""

    batch_size: int = 32
    image_size: int = 299
    num_classes: int = 1000
    inference_repeats: int = 5
    train_steps: int = 3  # optimizer steps per `fit` call; all but the first are timed
    train_repeats: int = 3
    matmul_size: int = 2048
    calibration_images: int = 32  # int8 ranges for the speed runs (random weights)
    input_images: int = 256  # JPEGs for the input-pipeline measurement
    input_rounds: int = 5  # its timed rounds (pipeline, decoder alone, naive baseline in turn)
    bfloat16: bool = True  # also time mixed bfloat16 (emulated without AVX512-BF16)
    training: bool = True
    tf_default_phase: bool = True  # repeat the fp32 inference comparisons with TensorFlow's defaults
    distribution_replicas: tuple = (2, 8, 50)
    distribution_batch: int = 32  # per replica
    distribution_image_size: int = 28
    distribution_steps: int = 5  # global steps per `fit` call (the single replica runs R times more)
    distribution_repeats: int = 3
    agreement_examples: Optional[int] = None  # None: the whole test set
    agreement_calibration: int = 512

    @classmethod
    def quick(cls) -> "Settings":
        return cls(batch_size=2, image_size=75, inference_repeats=1, train_steps=2, train_repeats=1,
                   matmul_size=256, calibration_images=2, input_images=16, input_rounds=1, bfloat16=False,
                   tf_default_phase=False, distribution_replicas=(2,), distribution_batch=4,
                   distribution_steps=2, distribution_repeats=1, agreement_examples=256,
                   agreement_calibration=64)


# -- timing ------------------------------------------------------------------


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def interleaved(candidates: Dict[str, Callable[[], object]], repeats: int, warmup: int = 1) -> dict:
    """{name: {"wall": [s, ...], "cpu": [s, ...]}}: each candidate once per round, in turn.

    A candidate that returns a `StepTimes` reports its own (steady-state)
    seconds; otherwise the whole call is timed.
    """
    for call in candidates.values():
        for _ in range(warmup):
            call()
    times = {name: {"wall": [], "cpu": []} for name in candidates}
    for _ in range(repeats):
        for name, call in candidates.items():
            started_wall, started_cpu = time.perf_counter(), cpu_seconds()
            measured = call()
            if not isinstance(measured, StepTimes):
                measured = StepTimes(time.perf_counter() - started_wall, cpu_seconds() - started_cpu)
            times[name]["wall"].append(measured.wall)
            times[name]["cpu"].append(measured.cpu)
    return times


@dataclasses.dataclass
class StepTimes:
    """Seconds (wall and CPU) of the steps of one `fit` after its first."""

    wall: float = 0.0
    cpu: float = 0.0


def _step_timer(result: StepTimes):
    """A Keras callback timing from the end of the first step to the end of the last.

    The first step of each `fit` carries the call's own set-up (iterators,
    callbacks, distributing the dataset); the steps after it are the steady
    state that a long run sees.
    """
    import keras

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            now = time.perf_counter(), cpu_seconds()
            if batch == 0:
                self.start = now
            else:
                result.wall, result.cpu = now[0] - self.start[0], now[1] - self.start[1]

    return StepTimer()


def summarize(times: dict, work: Dict[str, float], baseline: str, unit: str) -> dict:
    """Per candidate: `unit`/s (wall, median), per CPU-second, and the ratio to `baseline`.

    `work[name]` is how many `unit`s one call does. The ratio is the median
    over rounds of (baseline seconds per unit / candidate seconds per unit),
    each from neighbouring calls, so slow drifts of the machine's load cancel.
    """
    summary = {}
    for name, t in times.items():
        rate = [work[name] / s for s in t["wall"]]
        base = [work[baseline] / s for s in times[baseline]["wall"]]
        base_cpu = [work[baseline] / s for s in times[baseline]["cpu"]]
        summary[name] = {
            f"{unit}_per_second": round(statistics.median(rate), 3),
            f"{unit}_per_cpu_second": round(statistics.median(work[name] / s for s in t["cpu"]), 3),
            "ratio_vs_baseline": round(statistics.median(r / b for r, b in zip(rate, base)), 3),
            "cpu_ratio_vs_baseline": round(statistics.median(
                (work[name] / c) / b for c, b in zip(t["cpu"], base_cpu)), 3),
            "seconds_per_call": [round(s, 3) for s in t["wall"]],
        }
    return summary


# -- memory ------------------------------------------------------------------


def _status_mib(field: str) -> float:
    """A field of /proc/self/status (VmRSS: resident now, VmHWM: resident at peak) in MiB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise KeyError(field)


def measure_memory(section: str, name: str, settings: Settings, saved_model: Optional[str] = None) -> dict:
    """Peak resident memory of this (fresh) process running path `name` on two batches.

    The process builds the path (a training run, or an inference model with
    the models it is derived from), or, given `saved_model`, only loads and
    serves that SavedModel, as a server would. `peak_rss_mib` is the
    process's high-water mark (VmHWM): TensorFlow, the weights, the graph and
    one batch's working memory. `peak_over_idle_mib` subtracts the resident
    set before the build or load (TensorFlow started, the input batch made).
    Each path gets its own process because TensorFlow's allocators keep
    freed memory, so in a shared process one path's peak would hide the next.
    """
    import tensorflow as tf

    builder = InferencePaths if section == "inference" else TrainingRuns
    paths = builder(settings, tempfile.mkdtemp())
    tf.constant(0.0).numpy()  # start TensorFlow's runtime before the idle reading
    idle = _status_mib("VmRSS")
    call = paths.served(saved_model) if saved_model else paths.call(name)
    call()
    call()
    peak = _status_mib("VmHWM")
    return {"peak_rss_mib": round(peak), "peak_over_idle_mib": round(peak - idle), "idle_rss_mib": round(idle)}


# -- the machine ---------------------------------------------------------------


def machine() -> dict:
    """`inception.machine.describe()` (CPU, instruction sets, cores, versions) and TF's thread pools."""
    import tensorflow as tf

    from inception import machine as machine_description

    return dict(machine_description.describe(),
                intra_op_threads=tf.config.threading.get_intra_op_parallelism_threads(),
                inter_op_threads=tf.config.threading.get_inter_op_parallelism_threads())


def matmul_candidates(size: int, int8: bool) -> Dict[str, tuple]:
    """{name: (call, operations per call)}: square fp32 and bf16 matmuls; int8 as a 1x1 convolution.

    The int8 GEMM goes through the same oneDNN kernel as the int8 network
    (an [M, K] x [K, N] product is a 1x1 convolution over M pixels).
    """
    import numpy as np
    import tensorflow as tf

    rng = np.random.default_rng(0)
    a = tf.constant(rng.normal(size=(size, size)), tf.float32)
    candidates = {}
    for name, dtype in (("matmul_fp32", tf.float32), ("matmul_bf16", tf.bfloat16)):
        x = tf.cast(a, dtype)
        product = tf.function(lambda x=x: tf.reduce_sum(tf.cast(tf.matmul(x, x), tf.float32)))
        candidates[name] = (lambda product=product: product().numpy(), 2.0 * size ** 3)
    if int8:
        candidates["matmul_int8"] = (_int8_gemm(size, rng), 2.0 * size ** 3)
    return candidates


def _int8_gemm(size: int, rng):
    import numpy as np
    import tensorflow as tf

    from inception.fast_inference import WEIGHT_LEVELS

    pixels = tf.bitcast(tf.constant(rng.integers(0, 256, (1, size, 1, size), dtype=np.uint8)), tf.quint8)
    weights = rng.integers(-WEIGHT_LEVELS, WEIGHT_LEVELS + 1, (1, 1, size, size), dtype=np.int8)

    @tf.function
    def product():
        result = tf.raw_ops.QuantizedConv2DWithBiasAndReluAndRequantize(
            input=pixels, filter=tf.bitcast(tf.constant(weights), tf.qint8),
            bias=tf.zeros([size]), min_input=tf.constant(0.0), max_input=tf.constant(1.0),
            min_filter=tf.constant(-1.0), max_filter=tf.constant(1.0),
            min_freezed_output=tf.constant(0.0), max_freezed_output=tf.constant(1.0),
            strides=[1, 1, 1, 1], padding="SAME", out_type=tf.quint8)
        return tf.reduce_sum(tf.cast(tf.bitcast(result[0], tf.uint8), tf.int32))

    return lambda: product().numpy()


def fraction_of_peak(images_per_second: float, multiply_adds: int, flops: float, passes: int = 1) -> float:
    """images/s x multiply-adds x 2 (x 3 for a training step) / measured matmul FLOP/s."""
    return round(images_per_second * multiply_adds * 2 * passes / flops, 3)


# -- inference -----------------------------------------------------------------


def _random_images(settings: Settings, count: Optional[int] = None):
    import numpy as np

    shape = (count or settings.batch_size, settings.image_size, settings.image_size, 3)
    return np.random.default_rng(1).uniform(-1, 1, shape).astype("float32")


class InferencePaths:
    """Every inference path on one fixed batch, each built only when first asked for.

    `call(name)` gives a function running one batch through that path, so a
    child process can build a single path (for its memory) or all of them.
    """

    def __init__(self, settings: Settings, folder: str):
        import tensorflow as tf

        self.settings, self.folder = settings, folder
        self.images = _random_images(settings)
        self.tensor = tf.constant(self.images)

    def names(self) -> List[str]:
        from inception import fast_inference

        names = [BASELINE, "keras_tf_function", "keras_tf_function_xla", "keras_exported",
                 "ours_predict_on_batch", "folded_predict_on_batch", "folded_frozen_constants",
                 "folded_exported"]
        if fast_inference.onednn_enabled():
            names += ["int8", "int8_exported"]
        if self.settings.bfloat16:
            names.append("ours_mixed_bf16_predict_on_batch")
        return names

    @functools.cached_property
    def theirs(self):
        import keras

        return keras.applications.InceptionV3(weights=None, input_shape=self.images.shape[1:],
                                              classes=self.settings.num_classes)

    def _ours(self, dtype_policy: str = "float32"):
        import inception

        return inception.without_aux(inception.inception_v3(
            num_classes=self.settings.num_classes, input_size=self.settings.image_size, dtype_policy=dtype_policy))

    @functools.cached_property
    def ours(self):
        return self._ours()

    @functools.cached_property
    def folded(self):
        from inception import fast_inference

        return fast_inference.fold_batch_norm(self.ours)

    @functools.cached_property
    def int8(self):
        from inception import fast_inference

        calibration = _random_images(self.settings, self.settings.calibration_images)
        return fast_inference.Int8Classifier(self.folded, calibration)

    def call(self, name: str) -> Callable[[], object]:
        import tensorflow as tf

        from inception import fast_inference

        images, tensor = self.images, self.tensor
        if name == BASELINE:
            return lambda: self.theirs.predict_on_batch(images)
        if name in ("keras_tf_function", "keras_tf_function_xla"):
            function = tf.function(lambda x: self.theirs(x, training=False), jit_compile=name.endswith("xla"))
            return lambda: function(tensor).numpy()
        if name in EXPORTED:
            return self.served(self.export(name))
        if name == "ours_predict_on_batch":
            return lambda: self.ours.predict_on_batch(images)
        if name == "folded_predict_on_batch":
            return lambda: self.folded.predict_on_batch(images)
        if name == "folded_frozen_constants":
            frozen = fast_inference.frozen_function(self.folded)
            return lambda: frozen(tensor).numpy()
        if name == "int8":
            return lambda: self.int8(tensor).numpy()
        if name == "ours_mixed_bf16_predict_on_batch":
            bf16 = self._ours("mixed_bfloat16")
            return lambda: bf16.predict_on_batch(images)
        raise ValueError(f"Unknown inference path {name!r}")

    def export(self, name: str) -> str:
        """Writes the SavedModel of exported path `name` under the folder; returns its directory.

        keras.applications and the folded model go through this project's
        exporter (`inception.export`); int8 through `fast_inference.save_int8`,
        which writes the same `predict_images` outputs.
        """
        from inception import export, fast_inference

        folder = os.path.join(self.folder, name)
        if name == "int8_exported":
            return fast_inference.save_int8(self.int8, folder)
        model = self.theirs if name == "keras_exported" else self.folded
        return export.export_savedmodel(model, folder, use_ema=False)

    def served(self, path: str) -> Callable[[], object]:
        """One batch through the `predict_images` signature of the SavedModel at `path`."""
        import tensorflow as tf

        from inception import export

        signature = tf.saved_model.load(path).signatures[export.IMAGES_SIGNATURE]
        return lambda: signature(images=self.tensor)["probabilities"].numpy()

    def multiply_adds(self, name: str) -> int:
        import inception

        return inception.count_multiply_adds(self.theirs if name.startswith("keras") else self.ours)


def measure_inference(settings: Settings) -> dict:
    """Images/s of every inference path and the matmul rates, interleaved."""
    from inception import fast_inference

    with tempfile.TemporaryDirectory() as folder:
        paths = InferencePaths(settings, folder)
        calls = {name: paths.call(name) for name in paths.names()}
        multiply_adds = {name: paths.multiply_adds(name) for name in calls}
        matmuls = matmul_candidates(settings.matmul_size, fast_inference.onednn_enabled())
        candidates = dict(calls, **{name: call for name, (call, _) in matmuls.items()})
        _progress(f"inference: timing {len(candidates)} candidates, {settings.inference_repeats} rounds")
        times = interleaved(candidates, settings.inference_repeats)
    work = dict({name: settings.batch_size for name in calls},
                **{name: ops for name, (_, ops) in matmuls.items()})
    summary = summarize(times, work, BASELINE, "images")
    rates = {name: summary.pop(name)["images_per_second"] for name in matmuls}  # ops/s, not images
    for name, figures in summary.items():
        figures.update(_peak_fractions(name, figures["images_per_second"], multiply_adds[name], rates))
        figures["multiply_adds_per_image"] = multiply_adds[name]
    return {"paths": summary, "matmul_ops_per_second": {k: round(v / 1e9, 1) for k, v in rates.items()},
            "matmul_unit": "GFLOP/s (int8: G int-ops/s)"}


# -- training ------------------------------------------------------------------


def _fit_call(model, dataset, steps: int):
    """A call running `steps` optimizer steps of `fit`, returning the time of all but the first."""
    if steps < 2:
        raise ValueError("Time at least 2 steps per fit call: the first one is not timed.")

    def call() -> StepTimes:
        times = StepTimes()
        model.fit(dataset, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[_step_timer(times)])
        return times

    return call


def _one_step(model, dataset):
    return lambda: model.fit(dataset, epochs=1, steps_per_epoch=1, verbose=0)


class TrainingRuns:
    """The models to train, each with its batches, built when first asked for.

    Theirs: keras.applications.InceptionV3, plain RMSProp, cross-entropy.
    Ours: `inception.inception_v3` with the auxiliary head and the whole
    recipe (`paper_recipe`: TF1 RMSProp, clipping, EMA, label smoothing,
    aux loss, weight decay). The batches are one fixed random batch, repeated.
    """

    def __init__(self, settings: Settings, folder: Optional[str] = None):
        import numpy as np
        import tensorflow as tf

        self.settings = settings
        images = _random_images(settings)
        labels = np.random.default_rng(2).integers(0, settings.num_classes, settings.batch_size)
        self.batches = tf.data.Dataset.from_tensors((images, labels.astype("int32"))).repeat()
        self._built = {}

    def names(self) -> List[str]:
        extra = ["ours_fit_full_recipe_mixed_bf16"] if self.settings.bfloat16 else []
        return ["keras_fit", "ours_fit_full_recipe"] + extra

    def run(self, name: str) -> tuple:
        """(compiled model, its batches), built once."""
        if name not in self._built:
            self._built[name] = self._build(name)
        return self._built[name]

    def _build(self, name: str) -> tuple:
        import keras

        if name == "keras_fit":
            theirs = keras.applications.InceptionV3(weights=None, classes=self.settings.num_classes,
                                                    input_shape=(self.settings.image_size,) * 2 + (3,))
            theirs.compile(optimizer=keras.optimizers.RMSprop(), loss="sparse_categorical_crossentropy")
            return theirs, self.batches
        if name == "ours_fit_full_recipe":
            return self._ours_with_recipe()
        if name == "ours_fit_full_recipe_mixed_bf16":
            return self._ours_with_recipe("mixed_bfloat16")
        raise ValueError(f"Unknown training run {name!r}")

    def _ours_with_recipe(self, dtype_policy: str = "float32") -> tuple:
        import inception
        from inception.training import paper_recipe

        model = inception.inception_v3(num_classes=self.settings.num_classes,
                                       input_size=self.settings.image_size, dtype_policy=dtype_policy)
        model.compile(**paper_recipe(steps_per_epoch=1000))
        return model, self.batches

    def call(self, name: str) -> Callable[[], object]:
        """One optimizer step of `fit` (for memory)."""
        return _one_step(*self.run(name))

    def multiply_adds(self, name: str) -> int:
        import inception

        return inception.count_multiply_adds(self.run(name)[0])


def measure_training(settings: Settings) -> dict:
    """Training images/s of keras.applications (plain RMSProp) and ours (whole recipe), interleaved.

    Each model first takes one step (tracing the training function); then
    rounds of `train_steps`-step fits alternate, timing all steps but the
    first of each.
    """
    runs = TrainingRuns(settings)
    for name in runs.names():
        _progress(f"training: building and tracing {name}")
        runs.call(name)()
    calls = {name: _fit_call(*runs.run(name), settings.train_steps) for name in runs.names()}
    multiply_adds = {name: runs.multiply_adds(name) for name in calls}
    matmuls = matmul_candidates(settings.matmul_size, int8=False)
    candidates = dict(calls, **{name: call for name, (call, _) in matmuls.items()})
    _progress(f"training: timing {len(candidates)} candidates, {settings.train_repeats} rounds")
    times = interleaved(candidates, settings.train_repeats, warmup=0)
    images = settings.batch_size * (settings.train_steps - 1)  # the first step is not timed
    work = dict({name: images for name in calls}, **{name: ops for name, (_, ops) in matmuls.items()})
    summary = summarize(times, work, "keras_fit", "images")
    rates = {name: summary.pop(name)["images_per_second"] for name in matmuls}
    for name, figures in summary.items():
        figures.update(_peak_fractions(name, figures["images_per_second"], multiply_adds[name], rates, 3))
        figures["multiply_adds_per_image"] = multiply_adds[name]
    return {"paths": summary, "matmul_ops_per_second": {k: round(v / 1e9, 1) for k, v in rates.items()},
            "timed_steps_per_call": settings.train_steps - 1}


def _peak_fractions(name: str, images_per_second: float, multiply_adds: int, rates: dict,
                    passes: int = 1) -> dict:
    """The fraction of the fp32 matmul rate; for bf16 and int8 paths also of their own type's."""
    fractions = {"fraction_of_fp32_matmul_peak": fraction_of_peak(
        images_per_second, multiply_adds, rates["matmul_fp32"], passes)}
    for kind in ("bf16", "int8"):
        if kind in name and f"matmul_{kind}" in rates:
            fractions[f"fraction_of_{kind}_matmul_peak"] = fraction_of_peak(
                images_per_second, multiply_adds, rates[f"matmul_{kind}"], passes)
    return fractions


# -- accuracy of the fast paths --------------------------------------------------


def _fashion_mnist_batches(split: str, image_size: int, examples: Optional[int], batch_size: int):
    from inception.config import DataConfig
    from inception.data import build_dataset

    field = "train_examples" if split == "train" else "eval_examples"
    data = DataConfig(source="fashion_mnist", **{field: examples})
    return build_dataset(data, split=split, image_size=image_size, batch_size=batch_size, training=False)


def load_trained_classifier(path: str):
    """The logits-only model of a trained run, with its evaluation (moving-average) weights."""
    from inception import loading

    return loading.classifier(loading.load_trained_model(path))


def measure_agreement(model_path: str, settings: Settings) -> dict:
    """Top-1 agreement of the folded and int8 paths with fp32 on the Fashion-MNIST test set.

    The model holds its evaluation (moving-average) weights. int8 ranges are
    calibrated on training images (eval preprocessing), never on the test set.
    """
    import numpy as np

    from inception import fast_inference

    classifier = load_trained_classifier(model_path)
    size = classifier.input_shape[1]
    paths = {"fp32": classifier.predict_on_batch}
    folded = fast_inference.fold_batch_norm(classifier)
    paths["folded"] = folded.predict_on_batch
    if fast_inference.onednn_enabled():
        calibration, _ = next(iter(_fashion_mnist_batches("train", size, settings.agreement_calibration,
                                                         settings.agreement_calibration)))
        int8 = fast_inference.Int8Classifier(folded, calibration.numpy())
        paths["int8"] = lambda x: int8(x).numpy()
    predictions = {name: [] for name in paths}
    labels = []
    for images, batch_labels in _fashion_mnist_batches("eval", size, settings.agreement_examples, 250):
        labels.append(batch_labels.numpy())
        for name, predict in paths.items():
            predictions[name].append(np.argmax(predict(images), axis=-1))
    labels = np.concatenate(labels)
    top1 = {name: np.concatenate(p) for name, p in predictions.items()}
    return {
        "model": os.path.abspath(model_path),
        "examples": int(len(labels)),
        "input_size": int(size),
        "top1_accuracy": {name: round(float(np.mean(p == labels)), 4) for name, p in top1.items()},
        "top1_agreement_with_fp32": {name: round(float(np.mean(p == top1["fp32"])), 4)
                                     for name, p in top1.items() if name != "fp32"},
    }


# -- distribution ------------------------------------------------------------------


def measure_distribution_overhead(replicas: int, settings: Settings) -> dict:
    """One global step on `replicas` logical CPU replicas / `replicas` single-replica steps.

    Must run in a fresh process (the CPU is split before TensorFlow starts).
    The model is the test-sized stand-in (`inception.training.testing.tiny_model`)
    with the whole recipe; a ratio of 1 means replication costs nothing, above
    1 is the overhead of mirroring variables and all-reducing gradients.
    """
    import numpy as np
    import tensorflow as tf

    from inception.config import DistributeConfig, ModelConfig
    from inception.training import distribute, paper_recipe, targets_for
    from inception.training.testing import tiny_model

    strategy = distribute.build_strategy(DistributeConfig(cpu_replicas=replicas))
    spec = ModelConfig(num_classes=10, input_size=settings.distribution_image_size)
    with strategy.scope():
        replicated = tiny_model(spec)
        replicated.compile(**paper_recipe(steps_per_epoch=1000))
    single = tiny_model(spec)
    single.compile(**paper_recipe(steps_per_epoch=1000))

    def batches(count):
        rng = np.random.default_rng(0)
        size = settings.distribution_image_size
        images = rng.uniform(-1, 1, (count, size, size, 3)).astype("float32")
        labels = rng.integers(0, 10, count).astype("int32")
        return tf.data.Dataset.from_tensors((images, labels)).repeat().map(targets_for(single))

    per_replica, steps = settings.distribution_batch, settings.distribution_steps
    calls = {"global_step": _fit_call(replicated, batches(per_replica * replicas), steps),
             "single_replica_steps": _fit_call(single, batches(per_replica), (steps - 1) * replicas + 1)}
    times = interleaved(calls, settings.distribution_repeats)
    # Both timed parts hold the same images: steps - 1 global steps, or R times as many single ones.
    ratios = [g / s for g, s in zip(times["global_step"]["wall"], times["single_replica_steps"]["wall"])]
    return {
        "replicas": strategy.num_replicas_in_sync,
        "per_replica_batch": per_replica,
        "image_size": settings.distribution_image_size,
        "global_step_seconds": round(statistics.median(times["global_step"]["wall"]) / (steps - 1), 4),
        "single_replica_step_seconds": round(
            statistics.median(times["single_replica_steps"]["wall"]) / ((steps - 1) * replicas), 4),
        "overhead_ratio": round(statistics.median(ratios), 3),
    }


# -- phases in child processes ---------------------------------------------------------

PROGRESS = "[benchmark] "  # child stdout lines with this prefix are relayed by the parent
MEMORY_PATHS = {"inference": (BASELINE, "ours_predict_on_batch") + EXPORTED,
                "training": ("keras_fit", "ours_fit_full_recipe")}


def _progress(message: str) -> None:
    print(PROGRESS + message, flush=True)


def load_average() -> Optional[List[float]]:
    """1, 5 and 15-minute load averages: how busy the shared machine was."""
    return [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None


def compute_phase(settings: Settings, agreement_model: Optional[str], input_pipeline: bool) -> dict:
    """Inference, training, matmul rates (and input pipeline, agreement) in this process."""
    from tools.benchmark_input import measure_input_throughput

    sections = {"inference": lambda: measure_inference(settings)}
    if settings.training:
        sections["training"] = lambda: measure_training(settings)
    if input_pipeline:
        sections["input_pipeline"] = lambda: measure_input_throughput(
            images=settings.input_images, image_size=settings.image_size,
            batch_size=min(settings.batch_size, settings.input_images), rounds=settings.input_rounds)
    if agreement_model:
        sections["agreement"] = lambda: measure_agreement(agreement_model, settings)
    result = {"machine": machine(), "section_seconds": {}, "load_average": {}}
    for name, measure in sections.items():
        _progress(f"{name} ...")
        started = time.perf_counter()
        result["load_average"][f"{name}_start"] = load_average()
        result[name] = measure()
        result["section_seconds"][name] = round(time.perf_counter() - started)
    result["load_average"]["end"] = load_average()
    return result


def _child(phase: str, arguments: str, output: str) -> None:
    """Entry point of a child process: runs one phase, writes its JSON to `output`."""
    args = json.loads(arguments)
    settings = Settings(**dict(args["settings"], distribution_replicas=tuple(
        args["settings"]["distribution_replicas"])))
    if phase == "compute":
        result = compute_phase(settings, args.get("agreement_model"), args.get("input_pipeline", True))
    elif phase == "memory":
        result = measure_memory(args["section"], args["name"], settings, args.get("saved_model"))
    elif phase == "export":
        result = {"path": InferencePaths(settings, args["folder"]).export(args["name"])}
    elif phase == "distribution":
        result = measure_distribution_overhead(args["replicas"], settings)
    else:
        raise ValueError(f"Unknown phase {phase!r}")
    with open(output, "w") as f:
        json.dump(result, f)


def run_phase(phase: str, settings: Settings, onednn: bool, log: Callable[[str], None] = print,
              **arguments) -> dict:
    """Runs `phase` in a fresh Python process with oneDNN on or off; returns its figures."""
    payload = json.dumps(dict(arguments, settings=dataclasses.asdict(settings)))
    env = dict(os.environ, PYTHONPATH=REPO, TF_CPP_MIN_LOG_LEVEL="2", **{ONEDNN_FLAG: "1" if onednn else "0"})
    code = "import sys; from tools import benchmark; benchmark._child(*sys.argv[1:])"
    with tempfile.TemporaryDirectory() as folder:
        output, errors = os.path.join(folder, "result.json"), os.path.join(folder, "stderr.txt")
        with open(errors, "w") as stderr:
            process = subprocess.Popen([sys.executable, "-c", code, phase, payload, output], cwd=REPO,
                                       env=env, stdout=subprocess.PIPE, stderr=stderr, text=True)
            for line in process.stdout:
                if line.startswith(PROGRESS):
                    log("  " + line[len(PROGRESS):].rstrip())
            process.wait()
        if process.returncode != 0:
            with open(errors) as f:
                raise RuntimeError(f"benchmark phase {phase!r} failed:\n{f.read()[-4000:]}")
        with open(output) as f:
            return json.load(f)


def ceiling_ratio(path: dict) -> float:
    """The ratio to the baseline this path would reach at 100% of its number type's matmul rate.

    ratio / fraction of peak: a path now at ratio 1.5 using 75% of the
    int8 matmul rate could reach 2.0 at most, however its kernels improved,
    without fewer multiply-adds or a faster number type. The rate is that of
    a large square matrix product measured in the same rounds (`matmul_candidates`).
    """
    kind = next((k for k in ("int8", "bf16") if f"fraction_of_{k}_matmul_peak" in path), "fp32")
    return round(path["ratio_vs_baseline"] / path[f"fraction_of_{kind}_matmul_peak"], 2)


def headline(results: dict) -> dict:
    """The figures the issue asks for, picked from the detailed ones."""
    paths = results["inference"]["paths"]
    training = results["training"]["paths"]
    fast = "int8" if "int8" in paths else "folded_predict_on_batch"
    exported = "int8_exported" if "int8_exported" in paths else "folded_exported"
    figures = {
        "fast_inference_path": fast,
        "inference_ratio_vs_keras": paths[fast]["ratio_vs_baseline"],
        "inference_ratio_vs_keras_tf_function": round(
            paths[fast]["ratio_vs_baseline"] / paths["keras_tf_function"]["ratio_vs_baseline"], 3),
        "exported_inference_ratio_vs_keras": paths[exported]["ratio_vs_baseline"],
        "exported_inference_ratio_vs_keras_exported": round(
            paths[exported]["ratio_vs_baseline"] / paths["keras_exported"]["ratio_vs_baseline"], 3),
        "fp32_folded_inference_ratio_vs_keras": paths["folded_predict_on_batch"]["ratio_vs_baseline"],
        "training_ratio_vs_keras": training["ours_fit_full_recipe"]["ratio_vs_baseline"],
        # What the hardware allows: see `ceiling_ratio`.
        "inference_ceiling_ratio_vs_keras": ceiling_ratio(paths[fast]),
        "fp32_inference_ceiling_ratio_vs_keras": ceiling_ratio(paths["folded_predict_on_batch"]),
        "training_ceiling_ratio_vs_keras": ceiling_ratio(training["ours_fit_full_recipe"]),
    }
    if "tf_default" in results:
        figures["tf_default_fp32_folded_inference_ratio_vs_keras"] = results["tf_default"]["inference"][
            "paths"]["folded_predict_on_batch"]["ratio_vs_baseline"]
    if "input_pipeline" in results:
        for key in ("pipeline_images_per_second_per_core", "pipeline_images_per_cpu_second",
                    "decoder_images_per_cpu_second", "fraction_of_decoder_rate"):
            figures[key] = results["input_pipeline"][key]
    if "agreement" in results:
        figures["top1_agreement_with_fp32"] = results["agreement"]["top1_agreement_with_fp32"]
    return figures


def measure_all_memory(settings: Settings, log: Callable[[str], None] = print) -> dict:
    """{section: {path: peak memory}}, each path in its own process; SavedModels exported first."""
    memory = {}
    with tempfile.TemporaryDirectory() as folder:
        for section, names in MEMORY_PATHS.items():
            if section == "training" and not settings.training:
                continue
            for name in names:
                log(f"memory: {section} {name}, in its own process")
                saved_model = None
                if name in EXPORTED:  # exported by one process, served by another
                    saved_model = run_phase("export", settings, onednn=True, log=log, name=name,
                                            folder=folder)["path"]
                memory.setdefault(section, {})[name] = run_phase(
                    "memory", settings, onednn=True, log=log, section=section, name=name,
                    saved_model=saved_model)
    return memory


def run_benchmark(settings: Settings = Settings(), agreement_model: Optional[str] = None,
                  log: Callable[[str], None] = print) -> dict:
    """Every phase; returns all figures, the headline ones at the top level."""
    started = datetime.datetime.now(datetime.timezone.utc)
    log("compute phase (oneDNN on): inference, training, matmul, input pipeline, agreement")
    results = run_phase("compute", settings, onednn=True, log=log, agreement_model=agreement_model)
    if settings.tf_default_phase:
        log("compute phase (TensorFlow defaults, oneDNN off): fp32 inference")
        default = dataclasses.replace(settings, bfloat16=False, training=False)
        results["tf_default"] = run_phase("compute", default, onednn=False, log=log, input_pipeline=False)
    results["memory"] = measure_all_memory(settings, log)
    results["distribution_overhead"] = {}
    for replicas in settings.distribution_replicas:
        log(f"distribution overhead, {replicas} replicas")
        results["distribution_overhead"][str(replicas)] = run_phase(
            "distribution", settings, onednn=True, log=log, replicas=replicas)
    results.update(headline(results))
    results["settings"] = dataclasses.asdict(settings)
    results["started_utc"] = started.isoformat(timespec="seconds")
    results["seconds"] = round((datetime.datetime.now(datetime.timezone.utc) - started).total_seconds())
    return results


# -- command line ------------------------------------------------------------------------

FLAGS = flags.FLAGS


def define_flags() -> None:
    """The command line. Defined only when run as a script: tools/benchmark_input.py, which the
    child processes import, defines --json and --quick of its own at import."""
    flags.DEFINE_string("json", None, "Write every figure to this JSON file.")
    flags.DEFINE_bool("quick", False, "One tiny repetition (batch 2, 75x75, 2 replicas): for tests.")
    flags.DEFINE_string("agreement_model", None,
                        "A run directory or .keras file of a model trained by the small profile: "
                        "measure the fast paths' top-1 agreement with fp32 on the Fashion-MNIST test set.")
    flags.DEFINE_integer("batch_size", None, "Images per batch (default 32).")
    flags.DEFINE_integer("image_size", None, "Input side (default 299).")
    flags.DEFINE_list("replicas", None, "Replica counts for the distribution overhead (default 2,8,50).")
    flags.DEFINE_bool("tf_default_phase", None, "Also repeat the fp32 comparisons with oneDNN off.")


def settings_from_flags() -> Settings:
    settings = Settings.quick() if FLAGS.quick else Settings()
    changes = {"batch_size": FLAGS.batch_size, "image_size": FLAGS.image_size,
               "tf_default_phase": FLAGS.tf_default_phase}
    if FLAGS.replicas:
        changes["distribution_replicas"] = tuple(int(r) for r in FLAGS.replicas)
    return dataclasses.replace(settings, **{k: v for k, v in changes.items() if v is not None})


def report(results: dict) -> str:
    """A few lines for the terminal; the JSON has everything."""
    from inception.machine import isa_summary

    machine_ = results["machine"]
    lines = [f"{machine_['cpu']} ({isa_summary(machine_)}), {machine_['cores']} cores, "
             f"TensorFlow {machine_.get('tensorflow')}, oneDNN on; load average {results['load_average']}"]
    for section in ("inference", "training"):
        for name, f in results[section]["paths"].items():
            lines.append(f"{section:9s} {name:34s} {f['images_per_second']:7.2f} images/s  "
                         f"x{f['ratio_vs_baseline']:.2f} (CPU-time x{f['cpu_ratio_vs_baseline']:.2f})  "
                         f"{100 * f['fraction_of_fp32_matmul_peak']:5.1f}% of fp32 matmul")
        lines.append(f"{section:9s} matmul G ops/s: {results[section]['matmul_ops_per_second']}")
    for section, paths in results.get("memory", {}).items():
        for name, m in paths.items():
            lines.append(f"memory    {section} {name}: peak {m['peak_rss_mib']} MiB "
                         f"({m['peak_over_idle_mib']} MiB over an idle TensorFlow process)")
    for key in ("inference_ratio_vs_keras", "exported_inference_ratio_vs_keras", "training_ratio_vs_keras",
                "inference_ceiling_ratio_vs_keras", "fp32_inference_ceiling_ratio_vs_keras",
                "training_ceiling_ratio_vs_keras",
                "tf_default_fp32_folded_inference_ratio_vs_keras", "pipeline_images_per_second_per_core",
                "pipeline_images_per_cpu_second", "decoder_images_per_cpu_second", "fraction_of_decoder_rate",
                "top1_agreement_with_fp32"):
        if key in results:
            lines.append(f"{key}: {results[key]}")
    overhead = {r: d["overhead_ratio"] for r, d in results["distribution_overhead"].items()}
    lines.append(f"distribution overhead (global step / R single steps): {overhead}")
    return "\n".join(lines)


def main(argv):
    del argv
    results = run_benchmark(settings_from_flags(), FLAGS.agreement_model)
    results["command"] = " ".join(["python", "tools/benchmark.py"] + sys.argv[1:])
    print(report(results))
    if FLAGS.json:
        with open(FLAGS.json, "w") as f:
            json.dump(results, f, indent=2, sort_keys=True)


if __name__ == "__main__":
    define_flags()
    app.run(main)
