"""The inference paths of the benchmark, a registry name -> builder, and their interleaved timing.

keras.applications (fp32: `predict_on_batch`, a plain tf.function, with
XLA, and through our exporter) against ours: as built, batch norm folded
into the convolutions (`inception.fast_inference.fold_batch_norm`; also as
a graph with the weights frozen to constants), int8 (oneDNN), mixed
bfloat16, and the exported SavedModels of the fast paths. A new path is one
`register` call.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import tempfile
from typing import Callable, Dict, List, Optional

from inception.benchmarking import matmul, throughput
from inception.benchmarking.settings import Settings, random_images

BASELINE = "keras_predict_on_batch"
SAVED_MODELS = "saved_models"  # the result's key for the kept SavedModels (not a figure)

Call = Callable[[], object]


@dataclasses.dataclass(frozen=True)
class InferencePath:
    """How to build one path's call from the shared models, and when it runs.

    `network` says whose multiply-adds it does ("keras": keras.applications,
    "ours"); `needs_onednn` paths run only where TensorFlow's oneDNN is on
    (int8); `bfloat16` paths only with `Settings.bfloat16`. An exported path
    has an `exporter` writing its SavedModel, and is timed served from it.
    """

    build: Callable[["InferenceModels"], Call]
    network: str = "ours"
    needs_onednn: bool = False
    bfloat16: bool = False
    exporter: Optional[Callable[["InferenceModels", str], str]] = None


PATHS: Dict[str, InferencePath] = {}


def register(name: str, build: Callable[["InferenceModels"], Call], **options) -> None:
    PATHS[name] = InferencePath(build, **options)


def register_exported(name: str, exporter: Callable[["InferenceModels", str], str], **options) -> None:
    """A path served from the SavedModel that `exporter(models, folder)` writes."""
    register(name, lambda models: models.served(models.export(name)), exporter=exporter, **options)


def exported_names() -> tuple:
    return tuple(name for name, path in PATHS.items() if path.exporter)


class InferenceModels:
    """The models every path is made from, on one fixed batch, each built only when first asked for.

    `call(name)` gives a function running one batch through that path, so a
    child process can build a single path (for its memory) or all of them.
    """

    def __init__(self, settings: Settings, folder: str):
        import tensorflow as tf

        self.settings, self.folder = settings, folder
        self.exported: Dict[str, str] = {}  # path name -> SavedModel directory
        self.images = random_images(settings)
        self.tensor = tf.constant(self.images)

    def names(self) -> List[str]:
        """The registered paths that run here: int8 needs oneDNN, bfloat16 its setting."""
        from inception import fast_inference

        onednn = fast_inference.onednn_enabled()
        return [name for name, path in PATHS.items()
                if (onednn or not path.needs_onednn) and (self.settings.bfloat16 or not path.bfloat16)]

    @functools.cached_property
    def theirs(self):
        import keras

        return keras.applications.InceptionV3(weights=None, input_shape=self.images.shape[1:],
                                              classes=self.settings.num_classes)

    def ours_in(self, dtype_policy: str):
        import inception

        return inception.without_aux(inception.inception_v3(
            num_classes=self.settings.num_classes, input_size=self.settings.image_size, dtype_policy=dtype_policy))

    @functools.cached_property
    def ours(self):
        return self.ours_in("float32")

    @functools.cached_property
    def folded(self):
        from inception import fast_inference

        return fast_inference.fold_batch_norm(self.ours)

    @functools.cached_property
    def int8(self):
        from inception import fast_inference

        calibration = random_images(self.settings, self.settings.calibration_images)
        return fast_inference.Int8Classifier(self.folded, calibration)

    def call(self, name: str) -> Call:
        if name not in PATHS:
            raise ValueError(f"Unknown inference path {name!r}; valid: {sorted(PATHS)}.")
        return PATHS[name].build(self)

    def export(self, name: str) -> str:
        """Writes the SavedModel of exported path `name` under the folder; returns its directory."""
        self.exported[name] = PATHS[name].exporter(self, os.path.join(self.folder, name))
        return self.exported[name]

    def served(self, path: str) -> Call:
        """One batch through the `predict_images` signature of the SavedModel at `path`."""
        import tensorflow as tf

        from inception import export

        signature = tf.saved_model.load(path).signatures[export.IMAGES_SIGNATURE]
        return lambda: signature(images=self.tensor)["probabilities"].numpy()

    def multiply_adds(self, name: str) -> int:
        import inception

        return inception.count_multiply_adds(self.theirs if PATHS[name].network == "keras" else self.ours)


def _predict_on_batch(model: str) -> Callable[[InferenceModels], Call]:
    return lambda models: functools.partial(getattr(models, model).predict_on_batch, models.images)


def _keras_tf_function(jit_compile: bool) -> Callable[[InferenceModels], Call]:
    def build(models: InferenceModels) -> Call:
        import tensorflow as tf

        function = tf.function(lambda x: models.theirs(x, training=False), jit_compile=jit_compile)
        return lambda: function(models.tensor).numpy()

    return build


def _folded_frozen_constants(models: InferenceModels) -> Call:
    from inception import fast_inference

    frozen = fast_inference.frozen_function(models.folded)
    return lambda: frozen(models.tensor).numpy()


def _mixed_bfloat16(models: InferenceModels) -> Call:
    bf16 = models.ours_in("mixed_bfloat16")
    return lambda: bf16.predict_on_batch(models.images)


def _export_keras_model(model: str) -> Callable[[InferenceModels, str], str]:
    """keras.applications and the folded model go through this project's exporter (`inception.export`)."""
    def exporter(models: InferenceModels, folder: str) -> str:
        from inception import export

        return export.export_savedmodel(getattr(models, model), folder, use_ema=False)

    return exporter


def _export_int8(models: InferenceModels, folder: str) -> str:
    """`fast_inference.save_int8` writes the same `predict_images` outputs as the exporter."""
    from inception import fast_inference

    return fast_inference.save_int8(models.int8, folder)


# The order is the report's.
register(BASELINE, _predict_on_batch("theirs"), network="keras")
register("keras_tf_function", _keras_tf_function(jit_compile=False), network="keras")
register("keras_tf_function_xla", _keras_tf_function(jit_compile=True), network="keras")
register_exported("keras_exported", _export_keras_model("theirs"), network="keras")
register("ours_predict_on_batch", _predict_on_batch("ours"))
register("folded_predict_on_batch", _predict_on_batch("folded"))
register("folded_frozen_constants", _folded_frozen_constants)
register_exported("folded_exported", _export_keras_model("folded"))
register("int8", lambda models: lambda: models.int8(models.tensor).numpy(), needs_onednn=True)
register_exported("int8_exported", _export_int8, needs_onednn=True)
register("ours_mixed_bf16_predict_on_batch", _mixed_bfloat16, bfloat16=True)


def measure_inference(settings: Settings, export_folder: Optional[str] = None) -> dict:
    """Images/s of every inference path and the matmul rates, interleaved.

    The exported paths' SavedModels are written under `export_folder`, and
    kept there for the memory processes to serve (then `SAVED_MODELS` of the
    result: {path name: directory}), or in a temporary folder.
    """
    from inception import fast_inference

    with contextlib.ExitStack() as stack:
        folder = export_folder or stack.enter_context(tempfile.TemporaryDirectory())
        models = InferenceModels(settings, folder)
        calls = {name: models.call(name) for name in models.names()}
        multiply_adds = {name: models.multiply_adds(name) for name in calls}
        matmuls = matmul.matmul_candidates(settings.matmul_size, fast_inference.onednn_enabled())
        figures = throughput.time_beside_matmuls(
            "inference", calls, settings.batch_size, multiply_adds, matmuls, BASELINE,
            settings.inference_repeats, warmup=1)
    kept = {SAVED_MODELS: dict(models.exported)} if export_folder else {}
    return dict(figures, matmul_unit="GFLOP/s (int8: G int-ops/s)", **kept)
