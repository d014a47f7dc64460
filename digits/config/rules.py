"""The allowed values of ``params.yaml``'s keys, declared beside their fields in ``digits/config/schema.py``, and the
checks that span several keys (CNN geometry, model size). Each error is one line naming the key."""
from __future__ import annotations

import dataclasses
import typing
from dataclasses import dataclass
from pathlib import Path

import yaml


class ParamsError(ValueError):
    """A ``params.yaml`` problem; the message names the key and what was expected."""


@dataclass(frozen=True)
class Check:
    ok: typing.Callable[[typing.Any], bool]
    allowed: str  # as the error states it: "an integer in [1, 1000]"


def allowed(check: Check | None = None, each: Check | None = None) -> typing.Any:
    """A dataclass field that takes ``check`` (and, for a list, ``each`` item); errors state their ``allowed``."""
    return dataclasses.field(metadata={"check": check, "each": each})


def integer(lo: int, hi: int | None = None) -> Check:
    if hi is None:
        return Check(lambda v: v >= lo, f"an integer >= {lo}")
    return Check(lambda v: lo <= v <= hi, f"an integer in [{lo}, {hi}]")


def number(lo: float, hi: float, closed: str = "[)", unit: str = "a number") -> Check:
    """``lo`` to ``hi``, each end open or closed as in ``closed`` ("[)", "(]", "[]"). NaN fails every comparison."""
    low = (lambda v: v >= lo) if closed[0] == "[" else (lambda v: v > lo)
    high = (lambda v: v <= hi) if closed[1] == "]" else (lambda v: v < hi)
    return Check(lambda v: low(v) and high(v), f"{unit} in {closed[0]}{lo}, {hi}{closed[1]}")


def one_of(values: typing.Iterable[str], text: str | None = None) -> Check:
    values = tuple(values)
    return Check(lambda v: v in values, text or "one of " + ", ".join(values))


def optional(check: Check) -> Check:
    return Check(lambda v: v is None or check.ok(v), "null or " + check.allowed)


# Budgets for what scales memory: Adam keeps two more copies of every weight, so 1e8 weights take 1.2 GB.
MAX_WEIGHTS = 100_000_000
UNITS = integer(1, 65536)


def pooled_sides(shape: tuple[int, int], convs: int) -> list[tuple[int, int]]:
    """The feature map each of ``convs`` conv layers sees, then the last pooling's output: 'same' padding keeps
    the size (digits/train/models.py build_cnn), each 2×2 max pooling halves it, rounding down."""
    sides = [shape]
    for _ in range(convs):
        sides.append((sides[-1][0] // 2, sides[-1][1] // 2))
    return sides


def check_cnn(cfg: typing.Any, shape: tuple[int, int]) -> None:
    """Enough image for every conv layer and its kernel: five 2×2 poolings reduce 28×28 to nothing."""
    most, (h, w) = min(shape).bit_length() - 1, shape  # halvings that leave the shorter side >= 1
    if len(cfg.conv_filters) > most:
        sides = ", ".join(str(s[0]) for s in pooled_sides(shape, most)[1:])
        raise ParamsError(f"train.cnn.conv_filters: expected at most {most} conv layers for {h}×{w} images "
                          f"(each 2×2 pooling halves the side: {sides}), got {len(cfg.conv_filters)}")
    last = pooled_sides(shape, max(len(cfg.conv_filters) - 1, 0))[-1]
    if cfg.kernel_size > min(last):
        raise ParamsError(f"train.cnn.kernel_size: expected an integer in [1, {min(last)}] (the last conv layer "
                          f"sees {last[0]}×{last[1]} of the {h}×{w} image), got {cfg.kernel_size}")


def weights(name: str, cfg: typing.Any, shape: tuple[int, int], classes: int) -> int:
    """Model ``name``'s weight count, biases included, as digits/train/models.py builds it."""
    if name == "dense":
        sizes = [shape[0] * shape[1], *cfg.hidden_units, classes]
        return sum((a + 1) * b for a, b in zip(sizes, sizes[1:]))
    channels = [1, *cfg.conv_filters]
    convs = sum((cfg.kernel_size ** 2 * a + 1) * b for a, b in zip(channels, channels[1:]))
    h, w = pooled_sides(shape, len(cfg.conv_filters))[-1]
    return convs + (h * w * channels[-1] + 1) * cfg.dense_units + (cfg.dense_units + 1) * classes


def check_size(name: str, cfg: typing.Any, shape: tuple[int, int], classes: int) -> None:
    count = weights(name, cfg, shape, classes)
    if count > MAX_WEIGHTS:
        key = "train.dense.hidden_units" if name == "dense" else "train.cnn (conv_filters, kernel_size, dense_units)"
        raise ParamsError(f"{key}: expected a model of at most {MAX_WEIGHTS:,} weights "
                          f"({MAX_WEIGHTS * 12 / 1e9:.1f} GB with Adam's state), got {count:,}")


def read_yaml(path: Path) -> typing.Any:
    """``path`` parsed as YAML, refusing what PyYAML would otherwise let through: bytes that are not UTF-8 (a
    traceback naming no file), and a duplicate key (PyYAML keeps the last silently; DVC refuses the file)."""
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as err:
        raise ParamsError(f"not UTF-8 text (byte 0x{err.object[err.start]:02x} at offset {err.start}); "
                          "save the file as UTF-8") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _refuse_duplicates(node, "")
        return loader.construct_document(node)
    finally:
        loader.dispose()


def _refuse_duplicates(node: yaml.Node, prefix: str) -> None:
    if isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _refuse_duplicates(item, f"{prefix}[{i}]")
    elif isinstance(node, yaml.MappingNode):
        first: dict[str, int] = {}
        for key, value in node.value:
            dotted, line = f"{prefix}.{key.value}" if prefix else str(key.value), key.start_mark.line + 1
            if key.value in first:
                raise ParamsError(f"{dotted}: duplicate key on line {line} (first on line {first[key.value]}); "
                                  "keep one")
            first[key.value] = line
            _refuse_duplicates(value, dotted)
