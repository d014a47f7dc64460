"""Typed loader for ``params.yaml``: frozen dataclasses that reject unknown, missing and mistyped keys."""
from __future__ import annotations

import dataclasses
import fnmatch
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

PARAMS_FILE = "params.yaml"


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


@dataclass(frozen=True)
class FetchConfig:
    mirrors: tuple[str, ...]
    retries: int
    timeout: float


@dataclass(frozen=True)
class PrepareConfig:
    val_fraction: float
    train_limit: int | None
    test_limit: int | None


@dataclass(frozen=True)
class Recipe:
    """How a model is trained; shared by both models' sections."""

    epochs: int
    batch_size: int
    learning_rate: float
    schedule: str
    label_smoothing: float


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
class Params:
    seed: int
    models: tuple[str, ...]
    paths: Paths
    fetch: FetchConfig
    prepare: PrepareConfig
    train: TrainConfig
    evaluate: EvaluateConfig
    plots: PlotsConfig


# Checked after types: key pattern -> (predicate, allowed values as the error states them).
RANGES: dict[str, tuple[typing.Callable[[typing.Any], bool], str]] = {
    "fetch.retries": (lambda v: v >= 1, "an integer >= 1"),
    "fetch.timeout": (lambda v: v > 0, "a number > 0"),
    "prepare.val_fraction": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "prepare.train_limit": (lambda v: v is None or v >= 1, "null or an integer >= 1"),
    "prepare.test_limit": (lambda v: v is None or v >= 1, "null or an integer >= 1"),
    "train.*.epochs": (lambda v: v >= 1, "an integer >= 1"),
    "train.*.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "train.*.learning_rate": (lambda v: v > 0, "a number > 0"),
    "train.*.schedule": (lambda v: v in ("cosine", "constant"), "'cosine' or 'constant'"),
    "train.*.label_smoothing": (lambda v: 0 <= v < 1, "a number in [0, 1)"),
    "train.*.kernel_size": (lambda v: v >= 1, "an integer >= 1"),
    "evaluate.batch_size": (lambda v: v >= 1, "an integer >= 1"),
    "plots.*": (lambda v: v >= 1, "an integer >= 1"),
    "models": (lambda v: len(v) > 0 and set(v) <= {"dense", "cnn"}, "a list drawn from dense, cnn"),
}


def _check_range(key: str, value: typing.Any) -> None:
    for pattern, (ok, allowed) in RANGES.items():
        if fnmatch.fnmatchcase(key, pattern) and not ok(value):
            raise ParamsError(f"{key}: expected {allowed}, got {value!r}")


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
    if origin is tuple:
        if not isinstance(value, list):
            raise ParamsError(f"{key}: expected a list, got {type(value).__name__} {value!r}")
        return tuple(_convert(f"{key}[{i}]", v, typing.get_args(tp)[0]) for i, v in enumerate(value))
    # bool is an int in Python; a YAML `true` is never a valid count or rate.
    ok = isinstance(value, tp) and not isinstance(value, bool)
    if tp is float and isinstance(value, int) and not isinstance(value, bool):
        return float(value)
    if not ok:
        raise ParamsError(f"{key}: expected {tp.__name__}, got {type(value).__name__} {value!r}")
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
        raise ParamsError(f"{dotted}{missing[0]}: missing key")
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
