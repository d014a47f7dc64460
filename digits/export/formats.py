"""A trained model's formats: their names, where each lives, and their writers (``digits/export/loaders.py`` reads
them).

``keras`` is ``train``'s ``artifacts/models/<model>.keras``; ``h5`` (Keras' legacy HDF5, the seed's format),
``savedmodel`` (a TensorFlow SavedModel whose ``serving_default`` signature maps N×28×28 float32 pixels 0..1 to
N×classes probabilities) and ``tflite`` (TensorFlow Lite; same input and output) are ``export``'s files in
``artifacts/export/<model>/``. ``export`` writes them the same bytes for the same weights.
"""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from digits.config import fixed, schema
from digits.export import reproducible

# Format (``export.formats``) -> its file or folder in ``artifacts/export/<model>/``.
FILES: dict[str, str] = dict(zip(fixed.EXPORT_FORMATS, ("model.h5", "saved_model", "model.tflite"), strict=True))
FORMATS = ("keras", *fixed.EXPORT_FORMATS)

def export_path(folder: str | Path, fmt: str) -> Path:
    """Where format ``fmt`` lives in a model's export folder."""
    if fmt not in FILES:
        raise ValueError(f"unknown export format {fmt!r}, expected one of {', '.join(FILES)}")
    return Path(folder) / FILES[fmt]


def keras_path(model: str, root: Path = Path()) -> Path:
    """``train``'s model file, ``artifacts/models/<model>.keras`` (in project ``root``)."""
    return root / schema.PATHS.models / f"{model}.keras"


def model_path(model: str, fmt: str, root: Path = Path()) -> Path:
    """Where ``train`` (``keras``) or ``export`` (the others) writes ``model`` in format ``fmt``."""
    if fmt == "keras":
        return keras_path(model, root)
    return export_path(root / schema.PATHS.exports / model, fmt)


class Serving(tf.Module):
    """The model behind one ``serving_default`` signature: N×H×W float32 pixels 0..1 → N×classes probabilities.

    ``tf.saved_model.save`` of this module writes the same bytes for the same weights; Keras'
    ``model.export`` lists the variables in an order that changes from run to run."""

    def __init__(self, model: keras.Model):
        super().__init__()
        self.model = model
        self.serve = tf.function(lambda images: {"probabilities": self.model(images, training=False)},
                                 input_signature=[tf.TensorSpec((None, *model.input_shape[1:]), tf.float32,
                                                                name="images")])


def save_saved_model(model: keras.Model, folder: Path) -> None:
    serving = Serving(model)
    tf.saved_model.save(serving, str(folder), signatures={"serving_default": serving.serve})
    reproducible.saved_model_fingerprint(folder)


def export(model: keras.Model, folder: Path, formats: tuple[str, ...]) -> None:
    """Write ``model`` into the empty ``folder`` in each of ``formats``."""
    if "h5" in formats:
        # The .h5 suffix picks Keras' legacy HDF5 writer, which then logs that the format is legacy: asked for.
        absl = logging.getLogger("absl")
        level = absl.level
        absl.setLevel(logging.ERROR)
        try:
            model.save(export_path(folder, "h5"))
        finally:
            absl.setLevel(level)
    if "savedmodel" in formats:
        save_saved_model(model, export_path(folder, "savedmodel"))
    if "tflite" in formats:
        # From Keras' own SavedModel: the converter reads NaN weights from the plain tf.Module one. Keras'
        # variable order does not reach the .tflite file, which comes out the same bytes every run.
        keras_saved_model = folder / ".keras_saved_model"
        model.export(keras_saved_model, format="tf_saved_model", verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(str(keras_saved_model))
        export_path(folder, "tflite").write_bytes(converter.convert())
        shutil.rmtree(keras_saved_model)
