"""What is fixed rather than a param, declared once: the names a key of ``params.yaml`` takes (``Literal``s; argument
checks, export files and loaders derive from them) and the paths every stage reads and writes."""
from __future__ import annotations

import typing
from dataclasses import dataclass
from typing import Literal

# The names a key takes, declared once; everything else (argument checks, export files, loaders) derives from them.
ModelName = Literal["dense", "cnn"]
ExportFormat = Literal["h5", "savedmodel", "tflite"]
DtypePolicy = Literal["auto", "float32", "mixed_bfloat16", "mixed_float16"]
Distribute = Literal["none", "mirrored", "multiworker"]
InputKind = Literal["auto", "memory", "stream"]
Schedule = Literal["cosine", "constant"]
# The corruption families' names (digits.corrupt.corruptions names each family by its function; a test checks they
# agree): spelled out here so that loading params needs no image code, and no stage depends on digits/corrupt/ for it.
CorruptionName = Literal["shot_noise", "impulse_noise", "glass_blur", "motion_blur", "shear", "scale", "rotate",
                         "brightness", "translate", "stripe", "fog", "spatter", "dotted_line", "zigzag", "canny_edges"]
MODEL_NAMES: tuple[str, ...] = typing.get_args(ModelName)
EXPORT_FORMATS: tuple[str, ...] = typing.get_args(ExportFormat)
CORRUPTION_NAMES: tuple[str, ...] = typing.get_args(CorruptionName)


@dataclass(frozen=True)
class Paths:
    """Where every stage reads and writes, relative to the project. Not params: DVC deletes a stage's outputs
    before running it, so an output path a params value could point at ``examples/`` or a folder outside the
    repository would cost its contents. dvc.yaml spells the same paths out (tests/test_dvc_yaml.py checks)."""

    dataset: str = "dataset"
    data: str = "artifacts/data"
    models: str = "artifacts/models"
    train_logs: str = "artifacts/train"
    headline: str = "metrics"  # <model>.json: the handful of figures DVC shows (top level: see docs/pipeline.md)
    metrics: str = "artifacts/metrics"  # the detail: per class, calibration, per corruption
    predictions: str = "artifacts/predictions"
    plots: str = "artifacts/plots"
    exports: str = "artifacts/export"
    corrupted: str = "artifacts/corrupted"  # the robustness suite: corrupted copies of the test set
    read: str = "artifacts/read"  # the test set as predict reads image files: candidate digits (stage read)
    checkpoints: str = "artifacts/checkpoints"  # last completed epoch while training; not a DVC output
    timings: str = "artifacts/timings"  # seconds and images/second, apart from results; not a DVC output


PATHS = Paths()
