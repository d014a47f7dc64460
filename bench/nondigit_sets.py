"""The images ``bench.nondigits`` scores, read into 28×28 fields exactly as ``digits.predict`` reads a file
(``reading.read``: decode, find the pieces, one field each), with which image each field came from: non-digits
(``digits.nondigit.nondigits``), ``digits.synthetic.photos``'s digits, MNIST's test digits as 28×28 grey images, and
four-digit numbers of MNIST digits (``bench.numbers.mnist_cases``). The detector's training fields are
``digits.nondigit.detector_data``'s.
"""
from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np

from bench import numbers as number_bench
from digits.nondigit import nondigits
from digits.read import images, reading
from digits.synthetic import photos

POLICIES = ("any", "all")  # an image is refused when any of its pieces is / only when all of them are


class Pieces(NamedTuple):
    """Images read as ``predict`` reads them: every piece's field and the image it belongs to."""
    fields: np.ndarray  # N×28×28 uint8
    owner: np.ndarray  # N, the image of each field
    unread: np.ndarray  # images, the reading's own refusal: "" (read), "blank", or another error's text
    meta: dict[str, np.ndarray]  # per image: kind, detail, set, condition, ...


def read_all(greys: Iterable[np.ndarray], meta: dict[str, list]) -> Pieces:
    """``reading.read`` of each grey image; a ValueError (a blank sheet, or any other refusal) is kept as text."""
    fields, owner, unread = [], [], []
    for i, grey in enumerate(greys):
        try:
            found = reading.read(str(i), grey).fields
        except ValueError as err:
            unread.append("blank" if "blank image" in str(err) else str(err).split(": ", 1)[-1])
            continue
        unread.append("")
        fields.append(found)
        owner += [i] * len(found)
    empty = np.zeros((0, images.SIZE, images.SIZE), np.uint8)
    return Pieces(np.concatenate(fields) if fields else empty, np.array(owner, int), np.array(unread),
                  {k: np.array(v) for k, v in meta.items()})


def decoded(payloads: Iterable[bytes]) -> Iterable[np.ndarray]:
    return (images.decode_bytes("bench", p) for p in payloads)


def nondigit_photos(per_kind: int, seed: int) -> Pieces:
    items = nondigits.every(per_kind, seed)
    meta = {"kind": [i.kind for i in items], "detail": [i.detail for i in items],
            "condition": [i.condition for i in items],
            "lookalike": [nondigits.lookalike(i.kind, i.detail) for i in items]}
    return read_all(decoded(i.payload for i in items), meta)


def wild_photos(per_class: int, seed: int) -> Pieces:
    """``bench.wild``'s sets: both sources under every condition."""
    cases = [(name, condition, label, payload) for name in photos.SETS for condition in photos.CONDITIONS
             for label, payload, _ in photos.photos(name, condition, per_class, seed)]
    meta = {"set": [c[0] for c in cases], "condition": [c[1] for c in cases], "label": [c[2] for c in cases]}
    return read_all(decoded(c[3] for c in cases), meta)


def mnist_read(x: np.ndarray, y: np.ndarray) -> Pieces:
    """MNIST digits as 28×28 grey images (light on dark, as stored), through the whole reading."""
    return read_all(iter(x), {"label": list(y)})


def number_photos(x: np.ndarray, y: np.ndarray, count: int, seed: int) -> Pieces:
    """Four MNIST test digits written as one number with gaps, as PNG (``bench.numbers``' first set)."""
    cases = number_bench.mnist_cases(x, y, count, (2, 7), "PNG", seed)
    return read_all((grey for _, grey in cases), {"number": [t for t, _ in cases]})


def refused(flags: np.ndarray, pieces: Pieces, policy: str) -> np.ndarray:
    """Per image, whether it is refused: by the reading itself, or by ``flags`` (one per piece) under
    ``policy``."""
    n = len(pieces.unread)
    if policy == "any":
        out = np.zeros(n, bool)
        np.logical_or.at(out, pieces.owner, flags)
    else:
        out = np.ones(n, bool)
        np.logical_and.at(out, pieces.owner, flags)
    return out | (pieces.unread != "")
