"""Digits in the wild: ``digits.synthetic.photos``'s sets are deterministic and balanced, and ``digits.read.images``
reads a digit through what a phone photo adds (uneven light, ruled paper, specks, a mark at the edge, an off-centre
digit)."""
from __future__ import annotations

import collections
import io

import numpy as np
import pytest
from PIL import Image

from conftest import optional_part
from digits.synthetic import fonts, photos
from digits.read import images


def need_fonts() -> None:
    if fonts.missing():
        optional_part(f"handwriting fonts not installed: apt-get install {' '.join(fonts.missing())}")


@pytest.mark.slow  # renders every set twice
@pytest.mark.parametrize("name", photos.SETS)
def test_sets_are_deterministic_balanced_and_bounded(name):
    if name == "fonts":
        need_fonts()
    first = photos.photos(name, "photo", per_class=3, seed=5)
    assert first == photos.photos(name, "photo", per_class=3, seed=5)
    assert first != photos.photos(name, "photo", per_class=3, seed=6)
    assert collections.Counter(label for label, _, _ in first) == {d: 3 for d in range(10)}
    for _, payload, suffix in first:
        img = Image.open(io.BytesIO(payload))
        assert img.mode == "RGB" and img.format == {"jpg": "JPEG", "png": "PNG"}[suffix]
        assert all(96 <= side <= 200 for side in img.size)


def test_conditions_share_the_digit_and_clean_is_even_white_paper():
    clean = [np.asarray(Image.open(io.BytesIO(p)).convert("L")) for _, p, _ in photos.photos("drawn", "clean", 1)]
    lit = [np.asarray(Image.open(io.BytesIO(p)).convert("L")) for _, p, _ in photos.photos("drawn", "lighting", 1)]
    for a, b in zip(clean, lit):
        assert a.shape == b.shape and np.median(a) == photos.PAPER[0] - 1  # (245, 244, 238) in grey
        assert np.median(b) < np.median(a) - 20  # the shadow is there
        assert a.max() - a.min() > 150


def seven(shape=(160, 200), top=40, left=60) -> np.ndarray:
    """Ink coverage (0/1) of a 7: a bar and a stroke down, 70 tall, on a sheet of ``shape``."""
    ink = np.zeros(shape)
    ink[top:top + 8, left:left + 50] = 1
    ink[top:top + 70, left + 42:left + 50] = 1
    return ink


def photo(ink: np.ndarray, light: np.ndarray | float = 1.0, lines: np.ndarray | float = 0.0) -> np.ndarray:
    """Grey levels of white paper (245) with black ink (30), printed lines (190) and light falling on it."""
    paper = 245.0 * (1 - lines) + 190.0 * lines
    return np.rint((paper * (1 - ink) + 30.0 * ink) * light).astype(np.uint8)


def shadow(shape) -> np.ndarray:
    """A gradient from left to right (1 → 0.7) and the lower-right corner down to a third of the light."""
    v, u = np.mgrid[0:1:shape[0] * 1j, 0:1:shape[1] * 1j]
    return (1 - 0.3 * u) * (1 - 0.65 * np.exp(-((u - 1) ** 2 + (v - 1) ** 2) / 0.4 ** 2))


def assert_same_digit(out: np.ndarray, clean: np.ndarray) -> None:
    rows, cols = np.flatnonzero(out.any(1)), np.flatnonzero(out.any(0))
    ref_rows, ref_cols = np.flatnonzero(clean.any(1)), np.flatnonzero(clean.any(0))
    assert abs(rows[0] - ref_rows[0]) + abs(rows[-1] - ref_rows[-1]) <= 1
    assert abs(cols[0] - ref_cols[0]) + abs(cols[-1] - ref_cols[-1]) <= 1
    assert np.corrcoef(out.ravel(), clean.ravel())[0, 1] > 0.97


def test_lighting_gradient_and_dark_corner_are_paper_not_ink():
    ink = seven()
    lit = photo(ink, shadow(ink.shape))
    assert lit[-1, -1] < 245 / 2.5 < lit[0, 0]  # the corner is darker than the ink's contrast allows for
    flat = images.ink(lit)
    assert not flat[ink == 0].any()  # the background is flat: no shadow left as ink
    assert flat[ink == 1].min() > 0.5
    assert_same_digit(images.to_mnist(lit), images.to_mnist(photo(ink)))


@pytest.mark.parametrize("squared", [False, True])
def test_ruled_lines_fainter_than_ink_are_taken_away(squared):
    ink = seven()
    lines = np.zeros(ink.shape)
    lines[5::16] = 1
    if squared:
        lines[:, 9::16] = 1
    ruled = photo(ink, shadow(ink.shape), lines)
    assert not images.ink(ruled)[ink == 0].any()
    assert_same_digit(images.to_mnist(ruled), images.to_mnist(photo(ink)))


def test_off_centre_digit_found_among_a_speck_and_an_edge_mark():
    ink = seven(top=10, left=15)
    marked = ink.copy()
    marked[130:135, 150:155] = 1  # a speck
    marked[40:160, 185:192] = 1  # the table's edge at the bottom, more ink than the digit
    flat = images.ink(photo(marked))
    assert not flat[130:135, 150:155].any() and not flat[:, 185:].any()
    assert np.array_equal(images.to_mnist(photo(marked)), images.to_mnist(photo(ink)))
    out = images.to_mnist(photo(marked))
    ys, xs = np.indices(out.shape)
    assert abs((ys * out).sum() / out.sum() - 14) <= 0.6 and abs((xs * out).sum() / out.sum() - 14) <= 0.6


def test_broken_stroke_kept_with_its_digit_and_tight_crop_kept():
    ink = seven()
    broken = ink.copy()
    broken[40:48, 85:89] = 0  # a gap in the bar: two pieces, one digit
    assert np.count_nonzero(images.ink(photo(broken))) == np.count_nonzero(broken)
    tight = photo(ink)[40:115, 55:115]  # cropped to the digit's top: its bar touches the edge
    assert np.count_nonzero(images.ink(tight)) == np.count_nonzero(ink)
    assert_same_digit(images.to_mnist(tight), images.to_mnist(photo(ink)))
