"""The images ``bench.nondigits`` scores, read into 28×28 fields exactly as ``digits.predict`` reads a file
(``reading.read``: decode, find the pieces, one field each), with which image each field came from: non-digits
(``digits.nondigits``), ``digits.wild``'s digits, MNIST's test digits as 28×28 grey images, and four-digit
numbers of MNIST digits (``bench.numbers.mnist_cases``). Also the detector's training fields, from the same
generators' drawings without the photo (``mask_fields``: faster, and other seeds than any set measured).
"""
from __future__ import annotations

from typing import Iterable, NamedTuple

import numpy as np

from bench import numbers as number_bench
from digits import compose, images, nondigits, numbers, reading, wild

POLICIES = ("any", "all")  # an image is refused when any of its pieces is / only when all of them are
LETTERS = 3  # typed letters are the hardest kind (52 shapes, 10 fonts): the detector sees this many times more


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
    cases = [(name, condition, label, payload) for name in wild.SETS for condition in wild.CONDITIONS
             for label, payload, _ in wild.photos(name, condition, per_class, seed)]
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


def mask_fields(coverage: np.ndarray) -> np.ndarray:
    """A drawing's ink coverage → the field of its candidate made of all its ink (``numbers.candidates``: the
    reading's "one digit" candidate, which needs no model), on a photo of it without the photo (the ink is
    already clean); nothing for a blank sheet or one the reading refuses."""
    none = np.zeros((0, images.SIZE, images.SIZE), np.uint8)
    if coverage.max() <= 0:
        return none
    ink = coverage / coverage.max()
    ink[ink < images.NOISE] = 0.0
    try:
        parts, found = numbers.candidates(ink)
        whole = next(c for c in found if (c.start, c.stop) == (0, parts))
        return images.to_field(whole.ink)[None]
    except (ValueError, StopIteration):
        return none


def detector_fields(per_kind: int, per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Training fields for a non-digit detector: (non-digit pieces, synthetic digit pieces), ``LETTERS`` times as
    many typed letters as other kinds. Words are left out, so that one kind is never seen in training; so are the
    marks a reader takes for digits (``LOOKALIKES``)."""
    negative = [mask_fields(d.coverage) for kind in nondigits.KINDS if kind != "words"
                for d in nondigits.drafts(kind, per_kind * (LETTERS if kind == "letters" else 1), seed)
                if not nondigits.lookalike(kind, d.detail)]
    positive = [mask_fields(m) for name in wild.SETS for _, m in wild.digits(name, per_class, seed)]
    return np.concatenate(negative), np.concatenate(positive)


def enlarged(x: np.ndarray, seed: int) -> np.ndarray:
    """MNIST digits as a photo's or a number's digits reach the field: enlarged 2-6 times (anti-aliased), their
    ink stretched and cleared below ``images.NOISE`` as ``images.sheet_ink`` does, then fitted back to 20 pixels."""
    scales = np.random.default_rng([seed, 11]).integers(2, 7, len(x))
    out = np.empty_like(x)
    for i, (digit, scale) in enumerate(zip(x, scales)):
        ink = compose.tight(digit.astype(np.float64) / 255.0)
        big = compose.resize(ink, (ink.shape[0] * scale, ink.shape[1] * scale))
        big /= big.max()
        big[big < images.NOISE] = 0.0
        out[i] = images.to_field(big)
    return out
