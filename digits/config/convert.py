"""Parsed YAML → frozen dataclasses, checked by type and by the allowed values declared beside each field
(``rules.allowed``): what ``digits.config.schema`` loads ``params.yaml`` with. Every error names the dotted key."""
from __future__ import annotations

import dataclasses
import math
import types
import typing
from typing import Literal

from digits.config.rules import Check, ParamsError


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
        return build(key, value, tp)
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


def build(prefix: str, raw: typing.Any, cls: type) -> typing.Any:
    """``raw`` (parsed YAML) as frozen dataclass ``cls``: unknown, missing, mistyped, non-finite or disallowed
    values refused with one ``ParamsError`` naming the dotted key under ``prefix``."""
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
