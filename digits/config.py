"""Typed loader for ``params.yaml``: frozen dataclasses that reject unknown, missing, mistyped and out-of-range
keys (allowed values beside each field; ``digits/checks.py`` holds the checks), and duplicate keys."""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from typing import Literal
from pathlib import Path

import yaml

from digits import checks
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


def _choices(values: tuple[str, ...]) -> str:
    quoted = [repr(v) for v in values]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def _expected(tp: typing.Any, check: Check | None = None) -> str:
    """What a key takes, as its errors state it: its allowed values where it has them (more use than a type)."""
    if check:
        return check.allowed
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is Literal:
        return _choices(args)
    if origin is tuple and typing.get_origin(args[0]) is Literal:
        return "a list drawn from " + ", ".join(typing.get_args(args[0]))
    if dataclasses.is_dataclass(tp):
        return "a mapping with keys " + ", ".join(typing.get_type_hints(tp))
    if origin in (typing.Union, types.UnionType):
        return "null or " + _expected(next(t for t in args if t is not type(None)))
    if origin is dict:
        return "a mapping"
    if origin is tuple:
        return f"a list of {args[0].__name__}"
    return tp.__name__


def _convert(key: str, value: typing.Any, tp: typing.Any, check: Check | None = None,
             each: Check | None = None) -> typing.Any:
    """Return ``value`` as type ``tp``, passing ``check`` (and ``each`` item), or raise ParamsError naming ``key``."""
    if dataclasses.is_dataclass(tp):
        return _build(key, value, tp)
    origin, args, expected = typing.get_origin(tp), typing.get_args(tp), _expected(tp, check)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        return _convert(key, value, next(t for t in args if t is not type(None)), check)
    wrong = f"{key}: expected {expected}, got {type(value).__name__} {value!r}"
    if origin is dict:
        if not isinstance(value, dict):
            raise ParamsError(wrong)
        value = {str(k): _convert(f"{key}.{k}", v, args[1]) for k, v in value.items()}
    elif origin is tuple:
        names = typing.get_args(args[0]) if typing.get_origin(args[0]) is Literal else None
        if not isinstance(value, list) or names and not all(isinstance(v, str) and v in names for v in value):
            raise ParamsError(wrong)
        value = tuple(value) if names else tuple(_convert(f"{key}[{i}]", v, args[0], each)
                                                  for i, v in enumerate(value))
    elif origin is Literal:
        if not (isinstance(value, str) and value in args):
            raise ParamsError(f"{key}: expected {expected}, got {value!r}")
    else:
        # bool is an int in Python; a YAML `true` is never a valid count or rate, nor 1 a valid switch.
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, tp) or (tp is bool) != isinstance(value, bool):
            raise ParamsError(wrong)
    # .inf and .nan are YAML floats, and no key takes them (a NaN learning rate trains a NaN model).
    if (tp is float and not math.isfinite(value)) or (check and not check.ok(value)):
        shown = f"keys {', '.join(sorted(map(str, value)))}" if isinstance(value, dict) else repr(value)
        raise ParamsError(f"{key}: expected {expected}, got {shown}")
    return value


def _build(prefix: str, raw: typing.Any, cls: type) -> typing.Any:
    where = prefix or "top level"
    if not isinstance(raw, dict):
        raise ParamsError(f"{where}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    rules = {f.name: f.metadata for f in dataclasses.fields(cls)}
    dotted = (prefix + ".") if prefix else ""
    unknown = sorted(set(raw) - set(hints), key=str)
    if unknown:
        hint = "; paths are fixed in dvc.yaml and digits/config.py, not params" if dotted + unknown[0] == "paths" else ""
        raise ParamsError(f"{dotted}{unknown[0]}: unknown key (allowed under {where}: {', '.join(hints)}){hint}")
    missing = [k for k in hints if k not in raw]
    if missing:
        name = missing[0]
        raise ParamsError(f"{dotted}{name}: missing key (expected {_expected(hints[name], rules[name].get('check'))})")
    return cls(**{name: _convert(dotted + name, raw[name], tp, rules[name].get("check"), rules[name].get("each"))
                  for name, tp in hints.items()})


def parse_params(raw: typing.Any) -> Params:
    """Validate a parsed ``params.yaml`` document into :class:`Params`: each key, then those that go together."""
    params = _build("", raw, Params)
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
