"""The readers of ``digits/export/formats.py``'s formats: ``load`` reads each with the runtime that would serve it
(Keras, ``tf.saved_model.load`` without Keras, the TFLite interpreter), as one function: N×28×28 float32 images
(``arrays.preprocess``'d) → N×classes probabilities. A file that exists but does not load is one line naming it.

What each runtime may do with a hostile file (docs/using.md, "Whose model files are safe"): Keras loads
``.keras`` and ``.h5`` in safe mode, which refuses Python code (Lambda layers): ``UnsafeModel``. The TFLite
interpreter of TensorFlow's package runs builtin ops only (a file with TensorFlow ops such as ``WriteFile`` fails
to load). A SavedModel is a TensorFlow graph, free to read and write files when loaded and run: ``load`` runs it,
so the caller decides whether its folder is trusted (``SAVEDMODEL_RISK``).
"""
from __future__ import annotations

import re
import warnings
from pathlib import Path
from typing import Callable

import keras
import numpy as np
import tensorflow as tf

from digits.export import formats
from digits.runtime import quiet

BATCH = 1000  # images per call for the runtimes that take whole tensors, to bound memory on large inputs

Predictor = Callable[[np.ndarray], np.ndarray]


def in_batches(run: Predictor, batch: int = BATCH) -> Predictor:
    return lambda x: np.concatenate([run(x[i:i + batch]) for i in range(0, len(x), batch)])


def load_keras(path: Path) -> Predictor:
    model = keras.models.load_model(path, compile=False)
    return lambda x: np.asarray(model.predict(x, batch_size=BATCH, verbose=0))


def load_savedmodel(path: Path) -> Predictor:
    serve = tf.saved_model.load(str(path)).signatures["serving_default"]
    # One input and one output (writers.Serving names them "images" and "probabilities").
    (name, spec), = serve.structured_input_signature[1].items()

    def run(x: np.ndarray) -> np.ndarray:
        (probs,) = serve(**{name: tf.constant(x, spec.dtype)}).values()
        return probs.numpy()

    return in_batches(run)


MAX_TFLITE_BYTES = 256 << 20  # these models take 2 MB; a bigger file is not one of ours


def load_tflite(path: Path) -> Predictor:
    # From bytes, not the path: the interpreter verifies a buffer's flatbuffer (a damaged file is a ValueError),
    # but maps a path unchecked, and a cut-off file then crashes the process.
    with path.open("rb") as f:
        content = f.read(MAX_TFLITE_BYTES + 1)
    if len(content) > MAX_TFLITE_BYTES:
        raise ValueError(f"larger than {MAX_TFLITE_BYTES >> 20} MB")
    with warnings.catch_warnings(), quiet.absl_lines_dropped():
        # TF 2.21 points to the separate ai-edge-litert package, which runs the same file; TF's copy still works.
        warnings.filterwarnings("ignore", r"\s*Warning: tf.lite.Interpreter is deprecated", UserWarning)
        interpreter = tf.lite.Interpreter(model_content=content)
        interpreter.allocate_tensors()  # where TFLite announces its XNNPACK delegate on stderr
    (inp,), (out,) = interpreter.get_input_details(), interpreter.get_output_details()

    def run(x: np.ndarray) -> np.ndarray:
        # The file was converted with a batch axis of -1; the interpreter needs it fixed before each size.
        if tuple(interpreter.get_input_details()[0]["shape"]) != x.shape:
            interpreter.resize_tensor_input(inp["index"], x.shape)
            interpreter.allocate_tensors()
        interpreter.set_tensor(inp["index"], x.astype(inp["dtype"]))
        interpreter.invoke()
        return interpreter.get_tensor(out["index"]).copy()

    return in_batches(run)


LOADERS: dict[str, Callable[[Path], Predictor]] = {
    "keras": load_keras, "h5": load_keras, "savedmodel": load_savedmodel, "tflite": load_tflite,
}


class CorruptModel(ValueError):
    """A model file that exists but cannot be loaded (cut off, overwritten, from another version)."""


class UnsafeModel(ValueError):
    """A model file that holds code, which its runtime's safe mode refused to load."""


SAVEDMODEL_RISK = "a SavedModel is a TensorFlow graph that may read and write files when it is loaded and run"


def load(path: str | Path, fmt: str) -> Predictor:
    """Load the model at ``path``, saved in format ``fmt`` (one of ``formats.FORMATS``), as a predictor. The predictor
    takes at least one image. A file that exists but does not load raises ``CorruptModel`` naming it."""
    if fmt not in LOADERS:
        raise ValueError(f"unknown model format {fmt!r}, expected one of {', '.join(formats.FORMATS)}")
    path = Path(path)
    if not path.exists():
        raise OSError(f"{path}: not found")
    try:
        return LOADERS[fmt](path)
    except Exception as err:
        raise damaged(path, fmt, err) from None


def damaged(path: Path, fmt: str, err: Exception, made_by: str | None = None) -> CorruptModel | UnsafeModel:
    """The one-line error for a model file that exists but does not load: each runtime fails its own way
    (zipfile.BadZipFile, h5py's OSError, protobuf's DecodeError, TFLite's RuntimeError, Keras' "File not
    found" for a zip it cannot read), all meaning the same. Keras' safe-mode refusal is not damage, and rerunning
    a stage is no answer to a file someone handed over: ``UnsafeModel``, saying what was refused."""
    if "arbitrary code execution" in str(err):  # Keras' safe mode, for a Lambda layer's Python code
        return UnsafeModel(f"{path}: refused: this {fmt} model holds Python code (a Lambda layer), which could do "
                           "anything when run, and Keras' safe mode does not load it; the models this project "
                           "trains hold none: use one made by `dvc repro`, or from someone you trust")
    flex = re.search(r"\((Flex\w+)\) failed to prepare", str(err))
    if flex:  # TensorFlow's TFLite interpreter runs builtin ops only: our exports never hold others
        return UnsafeModel(f"{path}: refused: this tflite model needs TensorFlow's own ops ({flex[1]}, ...), which "
                           "can read and write files; the TFLite interpreter here runs builtin ops only, as the "
                           "models this project exports use")
    reason = " ".join(str(err).split())[:200] or type(err).__name__
    rerun = f"; rerun `dvc repro {made_by}`" if made_by else ""
    return CorruptModel(f"{path}: cannot load the {fmt} model ({type(err).__name__}: {reason}){rerun}")


def load_keras_model(path: Path, made_by: str) -> keras.Model:
    """The Keras model at ``path`` without its training state; missing or damaged, one line naming the file and
    ``made_by``, the stage that makes it."""
    if not path.is_file():
        raise OSError(f"{path}: not found; run `dvc repro {made_by}` first")
    try:
        return keras.models.load_model(path, compile=False)
    except Exception as err:
        raise damaged(path, "keras", err, made_by) from None
