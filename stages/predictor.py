"""A trained model in any of its formats, loaded as one function: N×28×28 float32 images (``data.preprocess``'d)
→ N×classes probabilities. Used by ``stages.predict`` and by the tests that hold each export to the Keras model.

``keras`` is ``train``'s ``artifacts/models/<model>.keras``; ``h5``, ``savedmodel`` and ``tflite`` are
``export``'s files in ``artifacts/export/<model>/``. Each is read with the runtime that would serve it:
Keras for ``.keras``/``.h5``, ``tf.saved_model.load`` (no Keras) for the SavedModel, the TFLite interpreter
for ``.tflite``.
"""
from __future__ import annotations

import warnings
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from stages import config, export

FORMATS = ("keras", *export.FILES)
BATCH = 1000  # images per call for the runtimes that take whole tensors, to bound memory on large inputs

Predictor = Callable[[np.ndarray], np.ndarray]


def model_path(paths: config.Paths, model: str, fmt: str) -> Path:
    """Where ``train`` (``keras``) or ``export`` (the others) writes ``model`` in format ``fmt``."""
    if fmt == "keras":
        return Path(paths.models) / f"{model}.keras"
    return export.export_path(Path(paths.exports) / model, fmt)


def in_batches(run: Predictor, batch: int = BATCH) -> Predictor:
    return lambda x: np.concatenate([run(x[i:i + batch]) for i in range(0, len(x), batch)])


def load_keras(path: Path) -> Predictor:
    model = keras.models.load_model(path, compile=False)
    return lambda x: np.asarray(model.predict(x, batch_size=BATCH, verbose=0))


def load_savedmodel(path: Path) -> Predictor:
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    # One input and one output (stages.export names them "images" and "probabilities").
    (name, spec), = serve.structured_input_signature[1].items()

    def run(x: np.ndarray) -> np.ndarray:
        (probs,) = serve(**{name: tf.constant(x, spec.dtype)}).values()
        return probs.numpy()

    return in_batches(run)


def load_tflite(path: Path) -> Predictor:
    with warnings.catch_warnings():
        # TF 2.21 points to the separate ai-edge-litert package, which runs the same file; TF's copy still works.
        warnings.filterwarnings("ignore", r"\s*Warning: tf.lite.Interpreter is deprecated", UserWarning)
        interpreter = tf.lite.Interpreter(model_path=str(path))
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()

    def run(x: np.ndarray) -> np.ndarray:
        # The file was converted with a batch axis of -1; the interpreter needs it fixed before each size.
        if tuple(interpreter.get_input_details()[0]["shape"]) != x.shape:
            interpreter.resize_tensor_input(inp["index"], x.shape)
            interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(out["index"]).copy()

    interpreter.allocate_tensors()
    return in_batches(run)


LOADERS: dict[str, Callable[[Path], Predictor]] = {
    "keras": load_keras, "h5": load_keras, "savedmodel": load_savedmodel, "tflite": load_tflite,
}


class CorruptModel(ValueError):
    """A model file that exists but cannot be loaded (cut off, overwritten, from another version)."""


def load(path: str | Path, fmt: str) -> Predictor:
    """Load the model at ``path``, saved in format ``fmt`` (one of ``FORMATS``), as a predictor. The predictor
    takes at least one image. A file that exists but does not load raises ``CorruptModel`` naming it."""
    if fmt not in LOADERS:
        raise ValueError(f"unknown model format {fmt!r}, expected one of {', '.join(FORMATS)}")
    path = Path(path)
    if not path.exists():
        raise OSError(f"{path}: not found")
    try:
        return LOADERS[fmt](path)
    # Each runtime fails its own way on a damaged file (zipfile.BadZipFile, h5py's OSError, protobuf's
    # DecodeError, a RuntimeError from TFLite, Keras' "File not found" for a zip it cannot read): all mean the same.
    except Exception as err:
        reason = " ".join(str(err).split())[:200] or type(err).__name__
        raise CorruptModel(f"{path}: cannot load the {fmt} model ({type(err).__name__}: {reason})") from None
