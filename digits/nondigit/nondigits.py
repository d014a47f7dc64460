"""Deterministic sets of things that are not digits, as photo-like images: what ``predict`` must answer "not a
digit" for, photographed as ``digits.synthetic.photos`` photographs digits (``photos.photograph``: its conditions, its
paper).

``KINDS``, each balanced over its ``DETAILS`` (the i-th item of a kind is detail i mod their number):

- ``letters``: A-Z and a-z typed in Debian's handwriting fonts (``fonts.font_mask``, as the ``fonts`` digits);
- ``drawn_letters``: capitals drawn with pen strokes (``marks.DRAWN``, as the ``drawn`` digits);
- ``words``: short words typed in the handwriting fonts;
- ``blank``: empty paper, plain, ruled, textured, unevenly lit, a phone photo of it, a grey photo;
- ``lines``: a bar, a long rule, a vertical or diagonal stroke, an equals sign, a wavy line;
- ``shapes``: square, triangle, star, cross, spiral, scribble;
- ``noise``: dust specks, ink blotches, dots, a smudge, grain, hatching.

Some of these are digits to any reader: O and o a 0, I and l a 1, S and s a 5, Z and z a 2, b a 6, g and q a 9,
B an 8, and a vertical stroke a 1. ``LOOKALIKES`` names them, so results can be given with and without them.
Each item is a function of (seed, kind, index): the same arguments give the same bytes.
"""
from __future__ import annotations

import string
from pathlib import Path
from typing import NamedTuple

import numpy as np

from digits.nondigit import marks
from digits.synthetic import fonts, photos

KINDS = ("letters", "drawn_letters", "words", "blank", "lines", "shapes", "noise")
WORDS = ("hello", "the", "cat", "dog", "yes", "no", "and", "pen", "note", "hi", "ok", "Hello", "THE", "word")
BLANKS = {"plain": "clean", "ruled": "paper", "textured": None, "uneven": "lighting", "photo": "photo",
          "grey": "noise"}  # the condition each blank sheet is photographed under (None: any)
DETAILS: dict[str, tuple[str, ...]] = {
    "letters": tuple(string.ascii_uppercase + string.ascii_lowercase), "drawn_letters": tuple(marks.DRAWN),
    "words": WORDS, "blank": tuple(BLANKS), "lines": tuple(marks.LINES), "shapes": tuple(marks.SHAPES),
    "noise": marks.NOISE,
}
LOOKALIKES = {("letters", c): d for c, d in zip("OoIlSsZzbgqB", "001155226998")} | {("lines", "vertical"): "1"}


class Item(NamedTuple):
    kind: str
    detail: str  # the letter, word, blank sheet, line, shape or noise
    condition: str  # one of wild.CONDITIONS
    payload: bytes  # the encoded photo
    suffix: str  # png or jpg


def lookalike(kind: str, detail: str) -> bool:
    """Whether a reader would take this mark for a digit (``LOOKALIKES``)."""
    return (kind, detail) in LOOKALIKES


def sheet(kind: str, rng: np.random.Generator) -> tuple[int, int]:
    """The sheet's height and width: 96-200 pixels a side as ``wild``'s, a word's sheet twice as wide or more."""
    h, w = (int(n) for n in rng.integers(96, 201, 2))
    return (h, max(w, int(h * rng.uniform(2.0, 3.0)))) if kind == "words" else (h, w)


def mask(kind: str, detail: str, size: tuple[int, int], rng: np.random.Generator, faces: list[Path]) -> np.ndarray:
    """The ink coverage 0..1 (H×W) of one item."""
    if kind == "letters":
        # font_mask types its label as a digit, but only ever renders str(label): a letter is typed the same way.
        return fonts.font_mask(detail, size, rng, faces[int(rng.integers(len(faces)))])  # type: ignore[arg-type]
    if kind == "words":
        return marks.text(detail, size, rng, faces[int(rng.integers(len(faces)))])
    if kind == "drawn_letters":
        return marks.pen(marks.DRAWN[detail], size, rng)
    if kind == "lines":
        return marks.pen(marks.LINES[detail], size, rng)
    if kind == "shapes":
        return marks.pen(marks.SHAPES[detail] or marks.scribble(rng), size, rng)
    if kind == "noise":
        return marks.noise(detail, size, rng)
    if detail == "grey":  # a sheet photographed grey all over: half-covered, unevenly
        return 0.35 + 0.3 * marks.field(size, rng, rng.uniform(10, 40))
    return marks.texture(size, rng) if detail in ("textured", "photo") else np.zeros(size)


class Draft(NamedTuple):
    kind: str
    detail: str
    condition: str
    coverage: np.ndarray  # the ink's coverage 0..1 of the sheet, before it is photographed
    scene: dict  # wild.scene's choices for the photo


def drafts(kind: str, per_kind: int = 60, seed: int = 0, faces: list[Path] | None = None) -> list[Draft]:
    """``per_kind`` sheets of ``kind``, its details in turn (``draft``). Letters and words are typed in ``faces``
    (default: the installed handwriting fonts, ``fonts.available``)."""
    faces = typefaces(kind, faces)
    return [draft(kind, i, seed, faces) for i in range(per_kind)]


def typefaces(kind: str, faces: list[Path] | None) -> list[Path]:
    """The fonts ``kind`` is typed in: ``faces``, by default the installed handwriting fonts; none for drawings."""
    faces = (fonts.available() if faces is None else faces) if kind in ("letters", "words") else []
    if kind in ("letters", "words") and not faces:
        raise OSError(f"no handwriting fonts installed: apt-get install {' '.join(fonts.FONTS)}")
    return faces


def draft(kind: str, i: int, seed: int, faces: list[Path]) -> Draft:
    """The ``i``-th sheet of ``kind``, not yet photographed, under a condition drawn from its own stream (blank
    sheets: the one ``BLANKS`` names); a function of its arguments alone."""
    rng = np.random.default_rng([seed, KINDS.index(kind), i, 2])
    detail = DETAILS[kind][i % len(DETAILS[kind])]
    condition = photos.CONDITIONS[int(rng.integers(len(photos.CONDITIONS)))]
    if kind == "blank":
        condition = BLANKS[detail] or condition
    coverage = np.clip(mask(kind, detail, sheet(kind, rng), rng, faces), 0.0, 1.0)
    scene = photos.scene(np.random.default_rng([seed, KINDS.index(kind), i, 3]))
    return Draft(kind, detail, condition, coverage, scene)


def items(kind: str, per_kind: int = 60, seed: int = 0, faces: list[Path] | None = None) -> list[Item]:
    """``drafts`` photographed (``photos.photograph``): what a camera gives ``predict``."""
    return [Item(d.kind, d.detail, d.condition, *photos.photograph(d.coverage, d.condition, d.scene))
            for d in drafts(kind, per_kind, seed, faces)]


def every(per_kind: int = 60, seed: int = 0) -> list[Item]:
    """``items`` of every kind, kinds in ``KINDS``' order."""
    return [item for kind in KINDS for item in items(kind, per_kind, seed)]
