"""Typed loader for ``params.yaml``: frozen dataclasses that reject unknown, missing and mistyped keys."""
from __future__ import annotations

import dataclasses
import fnmatch
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from stages.datasets import DATASETS

PARAMS_FILE = "params.yaml"
EXPORT_FORMATS = ("h5", "savedmodel", "tflite")
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


class ParamsError(ValueError):
    """A ``params.yaml`` problem; the message names the key and what was expected."""


@dataclass(frozen=True)
class Paths:
    dataset: str
    data: str
    models: str
    train_logs: str
    metrics: str
    predictions: str
    plots: str
    exports: str
    checkpoints: str
    timings: str


@dataclass(frozen=True)
class FetchConfig:
    mirrors: dict[str, tuple[str, ...]]  # dataset name -> base URLs or folders
    retries: int
    timeout: float


@dataclass(frozen=True)
class PrepareConfig:
    val_fraction: float
    train_limit: int | None
    test_limit: int | None
    copies: int  # training shards: the split, then shifted copies of it
    copy_shift: int  # pixels, either way, along each axis


@dataclass(frozen=True)
class AugmentConfig:
    """Random shifts, rotations and zoom, applied by Keras preprocessing layers during training only."""

    enabled: bool
    shift: float  # fraction of the image's height/width
    rotation: float  # degrees, either way
    zoom: float  # fraction, in or out


@dataclass(frozen=True)
class Recipe:
    """How a model is trained; shared by both models' sections."""

    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str
    label_smoothing: float
    augment: AugmentConfig
    input: str  # auto | memory | stream (stages/inputs.py)
    distribute: str  # none | mirrored | multiworker (stages/distribute.py)
    dtype_policy: str  # Keras dtype policy of the hidden layers: float32 | mixed_bfloat16 | mixed_float16
    steps_per_execution: int  # training steps per call of the compiled train function


@dataclass(frozen=True)
class DenseConfig(Recipe):
    hidden_units: tuple[int, ...]


@dataclass(frozen=True)
class CnnConfig(Recipe):
    conv_filters: tuple[int, ...]
    kernel_size: int
    dense_units: int


@dataclass(frozen=True)
class TrainConfig:
    dense: DenseConfig
    cnn: CnnConfig


@dataclass(frozen=True)
class EvaluateConfig:
    batch_size: int


@dataclass(frozen=True)
class PlotsConfig:
    grid_rows: int
    grid_cols: int
    dpi: int


@dataclass(frozen=True)
class ExportConfig:
    formats: tuple[str, ...]


@dataclass(frozen=True)
class Params:
    seed: int
    dataset: str
    models: tuple[str, ...]
    paths: Paths
    fetch: FetchConfig
    prepare: PrepareConfig
    train: TrainConfig
    evaluate: EvaluateConfig
    plots: PlotsConfig
    export: ExportConfig


# Checked after types: key pattern -> (predicate, allowed values as the error states them).
RANGES: dict[str, tuple[typing.Callable[[typing.Any], bool], str]] = {
    "dataset": (lambda v: v in DATASETS, "one of " + ", ".join(DATASETS)),
    "fetch.mirrors": (lambda v: set(v) <= set(DATASETS), "a mapping from dataset names (" + ", ".join(DATASETS) + ")"),
    "fetch.retries": (lambda v: v >= 1, "an integer >= 1"),
    "fetch.timeout": (lambda v: v > 0, "a number > 0"),
    "prepare.val_fraction": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "prepare.train_limit": (lambda v: v is None or v >= 1, "null or an integer >= 1"),
    "prepare.test_limit": (lambda v: v is None or v >= 1, "null or an integer >= 1"),
    "prepare.copies": (lambda v: v >= 1, "an integer >= 1"),
    "prepare.copy_shift": (lambda v: 0 <= v <= 8, "an integer in [0, 8]"),
    "train.*.epochs": (lambda v: v >= 1, "an integer >= 1"),
    "train.*.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "train.*.learning_rate": (lambda v: v > 0, "a number > 0"),
    "train.*.schedule": (lambda v: v in ("cosine", "constant"), "'cosine' or 'constant'"),
    "train.*.label_smoothing": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "train.*.input": (lambda v: v in ("auto", "memory", "stream"), "'auto', 'memory' or 'stream'"),
    "train.*.distribute": (lambda v: v in ("none", "mirrored", "multiworker"), "'none', 'mirrored' or 'multiworker'"),
    "train.*.dtype_policy": (lambda v: v in DTYPE_POLICIES, "one of " + ", ".join(DTYPE_POLICIES)),
    "train.*.steps_per_execution": (lambda v: v >= 1, "an integer >= 1"),
    "train.*.kernel_size": (lambda v: v >= 1, "an integer >= 1"),
    "train.*.augment.shift": (lambda v: 0 <= v < 0.5, "a number in [0, 0.5)"),
    "train.*.augment.rotation": (lambda v: 0 <= v <= 180, "degrees in [0, 180]"),
    "train.*.augment.zoom": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "evaluate.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "plots.*": (lambda v: v >= 1, "an integer >= 1"),
    "models": (lambda v: len(v) > 0 and set(v) <= {"dense", "cnn"}, "a list drawn from dense, cnn"),
    "export.formats": (lambda v: set(v) <= set(EXPORT_FORMATS), "a list drawn from " + ", ".join(EXPORT_FORMATS)),
}


def _check_range(key: str, value: typing.Any) -> None:
    for pattern, (ok, allowed) in RANGES.items():
        if fnmatch.fnmatchcase(key, pattern) and not ok(value):
            shown = f"keys {', '.join(sorted(map(str, value)))}" if isinstance(value, dict) else repr(value)
            raise ParamsError(f"{key}: expected {allowed}, got {shown}")


def _expected(key: str, tp: typing.Any) -> str:
    """What ``key`` takes, as its errors state it: its range where it has one (more use than a bare type)."""
    allowed = [allowed for pattern, (_, allowed) in RANGES.items() if fnmatch.fnmatchcase(key, pattern)]
    if allowed:
        return allowed[0]
    if dataclasses.is_dataclass(tp):
        return "a mapping with keys " + ", ".join(typing.get_type_hints(tp))
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return "null or " + _expected(key, next(t for t in args if t is not type(None)))
    if origin is dict:
        return "a mapping"
    if origin is tuple:
        return f"a list of {args[0].__name__}"
    return tp.__name__


def _convert(key: str, value: typing.Any, tp: typing.Any) -> typing.Any:
    """Return ``value`` as type ``tp``, or raise ParamsError naming ``key``."""
    if dataclasses.is_dataclass(tp):
        return _build(key, value, tp)
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in typing.get_args(tp):
            return None
        inner = [t for t in typing.get_args(tp) if t is not type(None)]
        return _convert(key, value, inner[0])
    if origin is dict:
        if not isinstance(value, dict):
            raise ParamsError(f"{key}: expected {_expected(key, tp)}, got {type(value).__name__} {value!r}")
        return {str(k): _convert(f"{key}.{k}", v, typing.get_args(tp)[1]) for k, v in value.items()}
    if origin is tuple:
        if not isinstance(value, list):
            raise ParamsError(f"{key}: expected {_expected(key, tp)}, got {type(value).__name__} {value!r}")
        return tuple(_convert(f"{key}[{i}]", v, typing.get_args(tp)[0]) for i, v in enumerate(value))
    # bool is an int in Python; a YAML `true` is never a valid count or rate, nor 1 a valid switch.
    ok = isinstance(value, tp) and (tp is bool) == isinstance(value, bool)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ParamsError(f"{key}: expected {_expected(key, tp)}, got {type(value).__name__} {value!r}")
    return value


def _build(prefix: str, raw: typing.Any, cls: type) -> typing.Any:
    where = prefix or "top level"
    if not isinstance(raw, dict):
        raise ParamsError(f"{where}: expected a mapping, got {type(raw).__name__}")
    hints = typing.get_type_hints(cls)
    dotted = (prefix + ".") if prefix else ""
    unknown = sorted(set(raw) - set(hints))
    if unknown:
        raise ParamsError(f"{dotted}{unknown[0]}: unknown key (allowed under {where}: {', '.join(hints)})")
    missing = [k for k in hints if k not in raw]
    if missing:
        key = dotted + missing[0]
        raise ParamsError(f"{key}: missing key (expected {_expected(key, hints[missing[0]])})")
    values = {}
    for name, tp in hints.items():
        values[name] = _convert(dotted + name, raw[name], tp)
        _check_range(dotted + name, values[name])
    return cls(**values)


def parse_params(raw: typing.Any) -> Params:
    """Validate a parsed ``params.yaml`` document into :class:`Params`."""
    return _build("", raw, Params)


def load_params(path: str | Path = PARAMS_FILE) -> Params:
    """Read and validate ``params.yaml``; errors name the file and the key."""
    try:
        raw = yaml.safe_load(Path(path).read_text())
        return parse_params(raw)
    except (ParamsError, yaml.YAMLError) as err:
        raise ParamsError(f"{path}: {err}".replace("\n", " ")) from None
