"""A trained model's formats: their names and where each lives (``digits.export.writers`` writes them,
``digits.export.loaders`` reads them).

``keras`` is ``train``'s ``artifacts/models/<model>.keras``; ``h5`` (Keras' legacy HDF5, the seed's format),
``savedmodel`` (a TensorFlow SavedModel whose ``serving_default`` signature maps N×28×28 float32 pixels 0..1 to
N×classes probabilities) and ``tflite`` (TensorFlow Lite; same input and output) are ``export``'s files in
``artifacts/export/<model>/``. ``export`` writes them the same bytes for the same weights.
"""
from __future__ import annotations

from pathlib import Path

from digits.config import fixed, schema

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
