"""Stage ``export@<model>``: the trained model in the formats other runtimes load.

Inputs: ``artifacts/models/<model>.keras``, params ``export.formats``.
Outputs: ``artifacts/export/<model>/`` with, per listed format: ``model.h5`` (``h5``: Keras' legacy HDF5, the
seed's format), ``saved_model/`` (``savedmodel``: a TensorFlow SavedModel whose ``serving_default`` signature
maps N×28×28 float32 pixels 0..1 to N×classes probabilities) and ``model.tflite`` (``tflite``: TensorFlow Lite,
converted from that SavedModel; same input and output). The folder is built beside its place and swapped in
whole, so it never holds a mix of two runs or a format no longer listed.
Command: ``python -m stages.export dense|cnn``. ``stages.predictor`` loads every format back.
"""
from __future__ import annotations

import logging
import shutil
import sys
from pathlib import Path

import keras
import tensorflow as tf

from stages import config, reproducible
from stages.common import atomic_dir, run_stage

# Format (``export.formats``) -> its file or folder in ``artifacts/export/<model>/``.
FILES = {"h5": "model.h5", "savedmodel": "saved_model", "tflite": "model.tflite"}


def export_path(folder: str | Path, fmt: str) -> Path:
    """Where format ``fmt`` lives in a model's export folder."""
    if fmt not in FILES:
        raise ValueError(f"unknown export format {fmt!r}, expected one of {', '.join(FILES)}")
    return Path(folder) / FILES[fmt]


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


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1 or not args[0].isidentifier():
        raise ValueError(f"usage: python -m stages.export MODEL, e.g. dense or cnn (got {' '.join(args)!r})")
    name, params = args[0], config.load_params()
    source = Path(params.paths.models) / f"{name}.keras"
    if not source.is_file():
        raise OSError(f"{source}: not found; run `dvc repro train@{name}` first")
    # No optimizer state or loss: the exports are for inference only.
    model = keras.models.load_model(source, compile=False)
    formats = tuple(dict.fromkeys(params.export.formats))
    target = Path(params.paths.exports) / name
    with atomic_dir(target) as tmp:
        export(model, tmp, formats)
    print(f"export: {name}: {', '.join(str(export_path(target, f)) for f in formats) or 'no formats listed'}")


if __name__ == "__main__":
    run_stage(main)
