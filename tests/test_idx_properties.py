"""Property tests of the IDX parser (hypothesis): whatever the bytes, raw or gzip, it returns an array matching
its header or raises ValueError with a one-line message; never another exception, never a hang.

The default run keeps the example counts small (a few seconds); ``tests/fuzz_idx.py`` runs the same property on
``--examples`` inputs (docs/development.md's fuzz run: 100,000).
"""
from __future__ import annotations

import gzip
import math
import sys
import time
from datetime import timedelta

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support import idxfiles
from digits.data import idx
from tests.support.fuzzing import Hang, no_hang

PARSERS = {"images": idx.parse_images, "labels": idx.parse_labels}
NDIM = {"images": 3, "labels": 1}
HANG_SECONDS = 5  # a parse of a few KB takes microseconds; only a loop that never ends gets near this
# The machine is shared with training runs: the deadline catches slowness without flaking under load, and the
# health check that times data generation is off for the same reason.
FAST = settings(max_examples=200, deadline=timedelta(seconds=1), database=None,
                suppress_health_check=[HealthCheck.too_slow])


def check(kind: str, data: bytes) -> str:
    """Parse ``data`` as ``kind``; assert the outcome is one of the two allowed, and return which."""
    try:
        with no_hang(HANG_SECONDS):
            array = PARSERS[kind](data)
    except ValueError as err:
        assert str(err) and "\n" not in str(err), repr(str(err))
        return "rejected"
    raw = idx.decompress(data)  # accepted, so the stream (if gzip) is sound
    ndim = NDIM[kind]
    header = 4 + 4 * ndim
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim))
    assert int.from_bytes(raw[:4], "big") == 0x800 | ndim
    assert array.dtype == np.uint8 and array.shape == dims and dims[0] >= 1
    assert array.tobytes() == raw[header:] and len(raw) == header + math.prod(dims)
    if kind == "images":
        assert dims[1:] == (28, 28)
    else:
        assert int(array.max()) < idx.NUM_CLASSES
    return "parsed"


KINDS = st.sampled_from(sorted(PARSERS))
DIMS = st.sampled_from([0, 1, 2, 3, 27, 28, 29, 32]) | st.integers(0, 2**32 - 1)  # near 28, and anything


@st.composite
def any_bytes(draw) -> tuple[str, bytes]:
    return draw(KINDS), draw(st.binary(max_size=4096))


@st.composite
def gzip_wrapped(draw) -> tuple[str, bytes]:
    """Any bytes as a sound gzip stream, so the parser sees them past decompression."""
    return draw(KINDS), gzip.compress(draw(st.binary(max_size=4096)), mtime=0)


@st.composite
def near_valid(draw) -> tuple[str, bytes]:
    """A header with the right magic (mostly) and random dimensions (often the right ones), then about as many
    bytes as they imply: labels as often as not all in 0..9."""
    kind = draw(KINDS)
    ndim = NDIM[kind] if draw(st.integers(0, 9)) else draw(st.integers(0, 4))
    magic = 0x800 | ndim if draw(st.integers(0, 9)) else draw(st.integers(0, 2**32 - 1))
    dims = [draw(DIMS)] + [draw(st.just(28) | DIMS) for _ in range(ndim - 1)]
    size = max(min(math.prod(dims), 4096) + draw(st.sampled_from([0, 0, 0, -1, 1]) | st.integers(-8, 8)), 0)
    labels = st.lists(st.integers(0, idx.NUM_CLASSES - 1), min_size=size, max_size=size).map(bytes)
    body = draw(labels if kind == "labels" and size <= 256 and draw(st.booleans()) else
                st.binary(min_size=size, max_size=size))
    data = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims) + body
    return kind, gzip.compress(data, mtime=0) if draw(st.booleans()) else data


MUTATIONS = st.one_of(
    st.tuples(st.just("set"), st.integers(0, 2**16), st.integers(0, 255)),
    st.tuples(st.just("cut"), st.integers(0, 2**16)),
    st.tuples(st.just("insert"), st.integers(0, 2**16), st.binary(min_size=1, max_size=16)),
    st.tuples(st.just("delete"), st.integers(0, 2**16), st.integers(1, 16)),
    st.tuples(st.just("dim"), st.integers(0, 2), DIMS),
)


def _mutate(data: bytes, ops: list[tuple]) -> bytes:
    out = bytearray(data)
    for op, at, *arg in ops:
        if op == "dim":  # rewrite a dimension of the header (where there is one)
            out[4 + 4 * at: 8 + 4 * at] = arg[0].to_bytes(4, "big")
            continue
        at %= len(out) + 1
        if op == "set" and at < len(out):
            out[at] = arg[0]
        elif op == "cut":
            del out[at:]
        elif op == "insert":
            out[at:at] = arg[0]
        elif op == "delete":
            del out[at: at + arg[0]]
    return bytes(out)


@st.composite
def mutated_valid(draw) -> tuple[str, bytes]:
    """A valid file (raw or gzip), then a few edits: bytes set, cut, inserted or deleted, dimensions rewritten."""
    kind = draw(KINDS)
    n = draw(st.integers(1, 3 if kind == "images" else 40))
    shape = (n, 28, 28) if kind == "images" else (n,)
    array = np.frombuffer(draw(st.binary(min_size=math.prod(shape), max_size=math.prod(shape))), np.uint8)
    data = idxfiles.encode(array.reshape(shape) if kind == "images" else array % idx.NUM_CLASSES)
    ops = draw(st.lists(MUTATIONS, min_size=1, max_size=4))
    if draw(st.booleans()):  # edit the gzip stream itself, or gzip an edited file
        return kind, _mutate(gzip.compress(data, mtime=0), ops)
    return kind, gzip.compress(_mutate(data, ops), mtime=0) if draw(st.booleans()) else _mutate(data, ops)


SOURCES = {"any-bytes": any_bytes(), "gzip-wrapped": gzip_wrapped(), "near-valid": near_valid(),
           "mutated-valid": mutated_valid()}


@FAST
@given(any_bytes())
def test_any_bytes(case):
    check(*case)


@FAST
@given(gzip_wrapped())
def test_any_gzip_stream(case):
    check(*case)


@FAST
@given(near_valid())
def test_near_valid_headers(case):
    check(*case)


@FAST
@given(mutated_valid())
def test_mutated_valid_files(case):
    check(*case)


@settings(FAST, max_examples=50)
@given(KINDS, st.integers(1, 5), st.booleans(), st.data())
def test_valid_files_parse_back(kind, n, compress, draw):
    shape = (n, 28, 28) if kind == "images" else (n,)
    array = np.frombuffer(draw.draw(st.binary(min_size=math.prod(shape), max_size=math.prod(shape))), np.uint8)
    array = array.reshape(shape) if kind == "images" else array % idx.NUM_CLASSES
    data = idxfiles.encode(array)
    assert check(kind, gzip.compress(data) if compress else data) == "parsed"
    np.testing.assert_array_equal(PARSERS[kind](data), array)


def test_check_fails_a_parser_that_breaks_the_rules(monkeypatch):
    """The property is not vacuous: another exception, a wrong shape or a hang fails it."""
    monkeypatch.setitem(PARSERS, "labels", lambda data: data[1_000_000])
    with pytest.raises(IndexError):
        check("labels", b"")
    monkeypatch.setitem(PARSERS, "labels", lambda data: np.zeros(2, np.uint8))
    with pytest.raises(AssertionError):
        check("labels", idxfiles.encode(np.zeros(3, np.uint8)))
    monkeypatch.setitem(PARSERS, "labels", lambda data: time.sleep(30))
    monkeypatch.setattr(sys.modules[__name__], "HANG_SECONDS", 0.1)
    with pytest.raises(Hang):
        check("labels", b"")
