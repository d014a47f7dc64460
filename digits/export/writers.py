"""``export``'s writers: a trained model saved in each of ``digits.export.formats``' formats, the same bytes for
the same weights."""
from __future__ import annotations

import logging
import shutil
from pathlib import Path

import keras
import tensorflow as tf

from digits.export import reproducible
from digits.export.formats import export_path


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
