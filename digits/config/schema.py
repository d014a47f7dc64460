"""``params.yaml`` as frozen dataclasses, each field with its allowed values beside it (``digits/config/rules.py`` holds
the checks, ``digits/config/convert.py`` the conversion): unknown, missing, mistyped, out-of-range and duplicate keys
are refused with one line naming the key. The names a key takes and the fixed paths are in
``digits/config/fixed.py``."""
from __future__ import annotations

import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from digits.config import convert, rules
from digits.config.catalog import DATASETS
# PATHS is re-exported, read as schema.PATHS.
from digits.config.fixed import (CORRUPTION_NAMES, MODEL_NAMES, PATHS, CorruptionName, Distribute,  # noqa: F401
                                 DtypePolicy, ExportFormat, InputKind, ModelName, Schedule)
# ParamsError lives in rules, which raises it too; stages and tests catch it as schema.ParamsError.
from digits.config.rules import UNITS, Check, ParamsError, allowed, integer, number, one_of, optional  # noqa: F401

PARAMS_FILE = "params.yaml"

@dataclass(frozen=True)
class FetchConfig:
    # dataset name -> base URLs or folders
    mirrors: dict[str, tuple[str, ...]] = allowed(Check(lambda v: set(v) <= set(DATASETS),
                                                        "a mapping from dataset names (" + ", ".join(DATASETS) + ")"))
    retries: int = allowed(integer(1, 100))
    timeout: float = allowed(number(0, 3600, "(]"))


# Validation images needed to calibrate: the temperature is one number fitted by NLL; on a few dozen mostly right
# answers it is noise, and a handful of confident ones drive it toward over-confidence. Tests' tiny projects (600
# images, 10%: 60) sit just above.
MIN_VAL = 50


@dataclass(frozen=True)
class PrepareConfig:
    # Above 0: the validation split fits each model's temperature, and every probability is calibrated on it.
    val_fraction: float = allowed(number(0, 1, "()"))
    train_limit: int | None = allowed(optional(integer(1)))
    test_limit: int | None = allowed(optional(integer(1)))
    copies: int = allowed(integer(1, 100))  # training shards: the split, then shifted copies of it
    copy_shift: int = allowed(integer(0, 8))  # pixels, either way, along each axis


@dataclass(frozen=True)
class AugmentConfig:
    """Random changes to training images, by Keras preprocessing layers active in training only: geometric (shift,
    rotation, zoom) and photometric (brightness, contrast, noise, blur). A size of 0 leaves its layer out."""

    enabled: bool
    shift: float = allowed(number(0, 0.5))  # fraction of the image's height/width
    rotation: float = allowed(number(0, 180, "[]", "degrees"))  # either way
    zoom: float = allowed(number(0, 1))  # fraction, in or out
    brightness: float = allowed(number(0, 1))  # at most this much (of full scale) added to every pixel
    contrast: float = allowed(number(0, 1))  # contrast scaled by a factor in [1 - contrast, 1 + contrast]
    noise: float = allowed(number(0, 1))  # standard deviation of Gaussian noise added to every pixel
    blur: float = allowed(number(0, 5, "[]", "pixels"))  # half the images blurred, Gaussian sigma up to this


@dataclass(frozen=True)
class Recipe:
    """How a model is trained; shared by both models' sections."""

    epochs: int = allowed(integer(1, 1000))
    batch_size: int = allowed(integer(1, 65536))
    learning_rate: float = allowed(Check(lambda v: v > 0, "a finite number > 0"))
    schedule: Schedule = allowed()
    label_smoothing: float = allowed(number(0, 1))
    augment: AugmentConfig = allowed()
    input: InputKind = allowed()  # digits/train/inputs.py
    distribute: Distribute = allowed()  # digits/train/distribute.py
    dtype_policy: DtypePolicy = allowed()  # Keras dtype policy of the hidden layers; auto: digits/runtime/hardware.py
    threads: int = allowed(integer(0, 1024))  # TensorFlow's intra-op threads; 0 = one per core
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
class NondigitConfig:
    """The "not a digit" detector beside the classifiers (``digits.nondigit``)."""

    epochs: int = allowed(integer(1, 100))
    batch_size: int = allowed(integer(1, 65536))
    learning_rate: float = allowed(number(0, 1, "(]"))
    per_kind: int = allowed(integer(1, 5000))  # synthetic non-digits of each kind to train on (typed letters: 3x)
    per_class: int = allowed(integer(1, 1000))  # synthetic digits per class and source to train on
    pairs: int = allowed(integer(0, 100_000))  # merged pairs of training digits, non-digits to train on
    quantile: float = allowed(number(50, 100, "[)", "a percentile"))  # of validation digits kept under the threshold
    check: int = allowed(integer(1, 1000))  # held-out non-digit photos per kind, read by stage read
    threads: int = allowed(integer(0, 1024))  # as train's: the bytes depend on it


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
    nondigit: NondigitConfig = allowed()


def parse_params(raw: typing.Any) -> Params:
    """Validate a parsed ``params.yaml`` document into :class:`Params`: each key, then those that go together."""
    try:
        params = convert.build("", raw, Params)
    except ParamsError as err:
        if str(err).startswith("paths: unknown key"):  # output paths were params once
            raise ParamsError(f"{err}; paths are fixed in dvc.yaml and digits/config/fixed.py, not params") from None
        raise
    shape, classes = DATASETS[params.dataset].image_shape, len(DATASETS[params.dataset].class_names)
    rules.check_cnn(params.train.cnn, shape)
    for name in MODEL_NAMES:
        rules.check_size(name, getattr(params.train, name), shape, classes)
    return params


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate ``params.yaml``; errors name the file and the key."""
    try:
        return parse_params(rules.read_yaml(Path(path)))
    except (ParamsError, yaml.YAMLError) as err:
        raise ParamsError(f"{path}: {err}".replace("\n", " ")) from None
