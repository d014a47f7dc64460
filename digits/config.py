"""``params.yaml`` as frozen dataclasses, each field with its allowed values beside it (``digits/checks.py`` holds the
checks, ``digits/typed.py`` the conversion): unknown, missing, mistyped, out-of-range and duplicate keys are
refused with one line naming the key. Also the names declared once (``Literal``s) and the fixed paths."""
from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml

from digits import checks, typed
# ParamsError lives in checks, which raises it too; stages and tests catch it as config.ParamsError.
from digits.checks import UNITS, Check, ParamsError, allowed, integer, number, one_of, optional  # noqa: F401
from digits.datasets import DATASETS

PARAMS_FILE = "params.yaml"

# The names a key takes, declared once; everything else (argument checks, export files, loaders) derives from them.
ModelName = Literal["dense", "cnn"]
ExportFormat = Literal["h5", "savedmodel", "tflite"]
DtypePolicy = Literal["float32", "mixed_bfloat16", "mixed_float16"]
Distribute = Literal["none", "mirrored", "multiworker"]
InputKind = Literal["auto", "memory", "stream"]
Schedule = Literal["cosine", "constant"]
# digits.corruptions.CORRUPTIONS' names, spelled out so that loading params needs no image code (a test checks
# they agree): importing digits.corruptions here would make every stage depend on it in dvc.yaml.
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
    metrics: str = "artifacts/metrics"
    predictions: str = "artifacts/predictions"
    plots: str = "artifacts/plots"
    exports: str = "artifacts/export"
    corrupted: str = "artifacts/corrupted"  # the robustness suite: corrupted copies of the test set
    checkpoints: str = "artifacts/checkpoints"  # last completed epoch while training; not a DVC output
    timings: str = "artifacts/timings"  # seconds and images/second, apart from results; not a DVC output


PATHS = Paths()


@dataclass(frozen=True)
class FetchConfig:
    # dataset name -> base URLs or folders
    mirrors: dict[str, tuple[str, ...]] = allowed(Check(lambda v: set(v) <= set(DATASETS),
                                                        "a mapping from dataset names (" + ", ".join(DATASETS) + ")"))
    retries: int = allowed(integer(1, 100))
    timeout: float = allowed(number(0, 3600, "(]"))


@dataclass(frozen=True)
class PrepareConfig:
    val_fraction: float = allowed(number(0, 1))
    train_limit: int | None = allowed(optional(integer(1)))
    test_limit: int | None = allowed(optional(integer(1)))
    copies: int = allowed(integer(1, 100))  # training shards: the split, then shifted copies of it
    copy_shift: int = allowed(integer(0, 8))  # pixels, either way, along each axis


@dataclass(frozen=True)
class AugmentConfig:
    """Random shifts, rotations and zoom, applied by Keras preprocessing layers during training only."""

    enabled: bool
    shift: float = allowed(number(0, 0.5))  # fraction of the image's height/width
    rotation: float = allowed(number(0, 180, "[]", "degrees"))  # either way
    zoom: float = allowed(number(0, 1))  # fraction, in or out


@dataclass(frozen=True)
class Recipe:
    """How a model is trained; shared by both models' sections."""

    epochs: int = allowed(integer(1, 1000))
    batch_size: int = allowed(integer(1, 65536))
    learning_rate: float = allowed(Check(lambda v: v > 0, "a finite number > 0"))
    schedule: Schedule = allowed()
    label_smoothing: float = allowed(number(0, 1))
    augment: AugmentConfig = allowed()
    input: InputKind = allowed()  # digits/inputs.py
    distribute: Distribute = allowed()  # digits/distribute.py
    dtype_policy: DtypePolicy = allowed()  # Keras dtype policy of the hidden layers
    steps_per_execution: int = allowed(integer(1, 1000))  # training steps per call of the compiled train function


@dataclass(frozen=True)
class DenseConfig(Recipe):
    hidden_units: tuple[int, ...] = allowed(Check(lambda v: len(v) <= 8, "a list of at most 8 integers in [1, 65536]"),
                                            each=UNITS)


@dataclass(frozen=True)
class CnnConfig(Recipe):
    # Layer count and kernel size are bounded by the image (checks.check_cnn).
    conv_filters: tuple[int, ...] = allowed(each=UNITS)
    kernel_size: int = allowed(integer(1))
    dense_units: int = allowed(UNITS)


@dataclass(frozen=True)
class TrainConfig:
    dense: DenseConfig
    cnn: CnnConfig


@dataclass(frozen=True)
class EvaluateConfig:
    batch_size: int = allowed(integer(1, 65536))


@dataclass(frozen=True)
class RobustnessConfig:
    # Each at most once: a repeat would be scored twice and weigh double in the mean.
    corruptions: tuple[CorruptionName, ...] = allowed(
        Check(lambda v: len(v) and len(set(v)) == len(v),
              "a non-empty list, without repeats, drawn from " + ", ".join(CORRUPTION_NAMES)))
    images: int | None = allowed(optional(integer(1)))  # the first N test images; null = all (MNIST-C's 10,000)


@dataclass(frozen=True)
class PlotsConfig:
    # At most 20×20 images at 600 dpi: a 28×32-inch grid, 16,800×19,200 pixels (1.3 GB in memory).
    grid_rows: int = allowed(integer(1, 20))
    grid_cols: int = allowed(integer(1, 20))
    dpi: int = allowed(integer(1, 600))


@dataclass(frozen=True)
class ExportConfig:
    formats: tuple[ExportFormat, ...] = allowed()


@dataclass(frozen=True)
class Params:
    # keras.utils.set_random_seed takes 0 .. 2**32 - 1 (numpy's limit); beyond, it fails inside numpy.
    seed: int = allowed(integer(0, 2**32 - 1))
    dataset: str = allowed(one_of(DATASETS))
    models: tuple[ModelName, ...] = allowed(Check(len, "a list drawn from " + ", ".join(MODEL_NAMES)))
    fetch: FetchConfig = allowed()
    prepare: PrepareConfig = allowed()
    train: TrainConfig = allowed()
    evaluate: EvaluateConfig = allowed()
    robustness: RobustnessConfig = allowed()
    plots: PlotsConfig = allowed()
    export: ExportConfig = allowed()


def parse_params(raw: typing.Any) -> Params:
    """Validate a parsed ``params.yaml`` document into :class:`Params`: each key, then those that go together."""
    try:
        params = typed.build("", raw, Params)
    except ParamsError as err:
        if str(err).startswith("paths: unknown key"):  # output paths were params once
            raise ParamsError(f"{err}; paths are fixed in dvc.yaml and digits/config.py, not params") from None
        raise
    shape, classes = DATASETS[params.dataset].image_shape, len(DATASETS[params.dataset].class_names)
    checks.check_cnn(params.train.cnn, shape)
    for name in ("dense", "cnn"):
        checks.check_size(name, getattr(params.train, name), shape, classes)
    return params


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate ``params.yaml``; errors name the file and the key."""
    try:
        return parse_params(checks.read_yaml(Path(path)))
    except (ParamsError, yaml.YAMLError) as err:
        raise ParamsError(f"{path}: {err}".replace("\n", " ")) from None
