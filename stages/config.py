"""Typed loader for ``params.yaml``: frozen dataclasses that reject unknown, missing, mistyped and out-of-range
keys (allowed values beside each field; ``stages/checks.py`` holds the checks), and duplicate keys."""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml

from stages import checks
# ParamsError lives in checks, which raises it too; stages and tests catch it as config.ParamsError.
from stages.checks import UNITS, Check, ParamsError, allowed, integer, number, one_of, optional  # noqa: F401
from stages.datasets import DATASETS

PARAMS_FILE = "params.yaml"
EXPORT_FORMATS = ("h5", "savedmodel", "tflite")
DTYPE_POLICIES = ("float32", "mixed_bfloat16", "mixed_float16")


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
    schedule: str = allowed(one_of(("cosine", "constant"), "'cosine' or 'constant'"))
    label_smoothing: float = allowed(number(0, 1))
    augment: AugmentConfig = allowed()
    input: str = allowed(one_of(("auto", "memory", "stream"), "'auto', 'memory' or 'stream'"))  # stages/inputs.py
    distribute: str = allowed(one_of(("none", "mirrored", "multiworker"), "'none', 'mirrored' or 'multiworker'"))
    dtype_policy: str = allowed(one_of(DTYPE_POLICIES))  # Keras dtype policy of the hidden layers
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
class PlotsConfig:
    # At most 20×20 images at 600 dpi: a 28×32-inch grid, 16,800×19,200 pixels (1.3 GB in memory).
    grid_rows: int = allowed(integer(1, 20))
    grid_cols: int = allowed(integer(1, 20))
    dpi: int = allowed(integer(1, 600))


@dataclass(frozen=True)
class ExportConfig:
    formats: tuple[str, ...] = allowed(Check(lambda v: set(v) <= set(EXPORT_FORMATS),
                                             "a list drawn from " + ", ".join(EXPORT_FORMATS)))


@dataclass(frozen=True)
class Params:
    # keras.utils.set_random_seed takes 0 .. 2**32 - 1 (numpy's limit); beyond, it fails inside numpy.
    seed: int = allowed(integer(0, 2**32 - 1))
    dataset: str = allowed(one_of(DATASETS))
    models: tuple[str, ...] = allowed(Check(lambda v: len(v) > 0 and set(v) <= {"dense", "cnn"},
                                            "a list drawn from dense, cnn"))
    paths: Paths = allowed()
    fetch: FetchConfig = allowed()
    prepare: PrepareConfig = allowed()
    train: TrainConfig = allowed()
    evaluate: EvaluateConfig = allowed()
    plots: PlotsConfig = allowed()
    export: ExportConfig = allowed()


def _expected(tp: typing.Any, check: Check | None = None) -> str:
    """What a key takes, as its errors state it: its allowed values where it has them (more use than a type)."""
    if check:
        return check.allowed
    if dataclasses.is_dataclass(tp):
        return "a mapping with keys " + ", ".join(typing.get_type_hints(tp))
    origin, args = typing.get_origin(tp), typing.get_args(tp)
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
        if not isinstance(value, list):
            raise ParamsError(wrong)
        value = tuple(_convert(f"{key}[{i}]", v, args[0], each) for i, v in enumerate(value))
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
        raise ParamsError(f"{dotted}{unknown[0]}: unknown key (allowed under {where}: {', '.join(hints)})")
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
