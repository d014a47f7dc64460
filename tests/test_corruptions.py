"""The MNIST-C style corruptions (digits/): deterministic from (seed, name), shape and dtype kept, each family
changing real test digits by its own kind of amount while leaving them recognisable in a cheap sense."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import ndimage

from digits.corrupt import geometry
from digits.corrupt.corruptions import CORRUPTIONS, DETERMINISTIC, corrupt, corrupted_test_set
from digits.data.idx import parse_images

NAMES = list(CORRUPTIONS)
GEOMETRIC = {"shear", "scale", "rotate", "translate"}
# Mean absolute change per pixel (0..255) on real test digits: a floor (it does something) and a ceiling (it is
# the moderate severity chosen, not a wiped image). Measured values sit about in the middle of each range.
CHANGE = {
    "shot_noise": (2, 8), "impulse_noise": (8, 20), "glass_blur": (10, 40), "motion_blur": (10, 40),
    "shear": (15, 60), "scale": (20, 80), "rotate": (20, 70), "brightness": (60, 110), "translate": (25, 80),
    "stripe": (20, 50), "fog": (40, 100), "spatter": (3, 15), "dotted_line": (2.5, 10), "zigzag": (6, 20),
    "canny_edges": (25, 80),
}
# Mean correlation with the clean digit for the families that keep it in place (measured 0.50 to 0.99).
CORRELATION = {
    "shot_noise": 0.95, "impulse_noise": 0.6, "glass_blur": 0.7, "motion_blur": 0.7, "brightness": 0.95,
    "stripe": 0.35, "fog": 0.65, "spatter": 0.8, "dotted_line": 0.8, "zigzag": 0.7,
}


@pytest.fixture(scope="module")
def digits(mnist_dir) -> np.ndarray:
    """The first 1,000 real MNIST test digits: enough for stable means, cheap enough for every family."""
    return parse_images((mnist_dir / "t10k-images-idx3-ubyte.gz").read_bytes())[:1000]


@pytest.fixture(scope="module")
def corrupted(digits) -> dict[str, np.ndarray]:
    return corrupted_test_set(digits, seed=7)


def correlation(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-image Pearson correlation of two batches."""
    a = a.reshape(len(a), -1).astype(float)
    b = b.reshape(len(b), -1).astype(float)
    a, b = a - a.mean(1, keepdims=True), b - b.mean(1, keepdims=True)
    return (a * b).sum(1) / np.sqrt((a * a).sum(1) * (b * b).sum(1) + 1e-12)


def centre_of_mass(images: np.ndarray) -> np.ndarray:
    """(N, 2) ink-weighted (y, x) centres."""
    ys, xs = np.mgrid[: images.shape[1], : images.shape[2]]
    mass = images.astype(float).sum((1, 2))
    return np.stack([(images * ys).sum((1, 2)) / mass, (images * xs).sum((1, 2)) / mass], -1)


def test_fifteen_families_of_mnist_c():
    assert len(NAMES) == 15 and set(CHANGE) == set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_shape_dtype_and_input_untouched(digits, name):
    before = digits.copy()
    out = corrupt(digits[:50], name, seed=1)
    assert out.shape == (50, 28, 28) and out.dtype == np.uint8
    assert np.array_equal(digits, before)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_bytes_other_seed_other_bytes(digits, name):
    batch = digits[:200]
    first, again = corrupt(batch, name, seed=3), corrupt(batch, name, seed=3)
    assert first.tobytes() == again.tobytes()
    other = corrupt(batch, name, seed=4)
    assert np.array_equal(first, other) == (name in DETERMINISTIC)


def test_a_family_does_not_depend_on_which_others_run_or_their_order(digits, corrupted):
    batch = digits
    alone = corrupted_test_set(batch, seed=7, names=list(reversed(NAMES))[:5])
    for name, images in alone.items():
        assert images.tobytes() == corrupted[name].tobytes()


@pytest.mark.parametrize("name", NAMES)
def test_each_family_changes_real_digits_by_its_amount(digits, corrupted, name):
    change = np.abs(corrupted[name].astype(int) - digits).mean()
    low, high = CHANGE[name]
    assert low <= change <= high, f"{name}: mean change {change:.1f} outside {CHANGE[name]}"
    assert (corrupted[name] != digits).any(axis=(1, 2)).mean() > 0.97  # nearly every digit is touched


@pytest.mark.parametrize("name", sorted(CORRELATION))
def test_in_place_families_stay_correlated_with_the_clean_digit(digits, corrupted, name):
    r = correlation(digits, corrupted[name])
    assert r.mean() >= CORRELATION[name], f"{name}: mean correlation {r.mean():.3f}"
    assert r.mean() < 0.995  # and it is not the clean digit


@pytest.mark.parametrize("name", sorted(GEOMETRIC))
def test_geometric_families_keep_the_digit_in_the_field(digits, corrupted, name):
    out = corrupted[name]
    ink = out.astype(float).sum((1, 2)) / digits.astype(float).sum((1, 2))
    low = 0.3 if name == "scale" else 0.7  # shrinking to 60% keeps 36% of the ink; shifts crop a little
    assert ink.min() >= low and ink.max() <= 2.1
    com = centre_of_mass(out)
    assert ((com >= 4) & (com <= 23)).all()


def test_translate_moves_the_digit_by_its_fixed_length(digits, corrupted):
    moved = np.linalg.norm(centre_of_mass(corrupted["translate"]) - centre_of_mass(digits), axis=1)
    assert 4.0 <= np.median(moved) <= 6.0


@pytest.mark.parametrize("name,undo", [
    ("rotate", lambda a: geometry.rotation(np.array([np.deg2rad(a)]))),
    ("shear", lambda s: np.broadcast_to(np.array([[1.0, 0.0], [s, 1.0]]), (1, 2, 2))),
])
def test_rotate_and_shear_are_undone_by_their_inverse(digits, corrupted, name, undo):
    """Warping back by the family's fixed amount, in the better of the two directions, recovers the digit: the
    warp is the one claimed, not some other damage."""
    out, amount = corrupted[name][:300], geometry.ROTATE_DEG if name == "rotate" else geometry.SHEAR
    back = [geometry.warp(out, np.broadcast_to(undo(sign * amount), (len(out), 2, 2))) for sign in (-1, 1)]
    best = np.maximum(correlation(digits[:300], back[0]), correlation(digits[:300], back[1]))
    assert best.mean() > 0.85 and correlation(digits[:300], out).mean() < 0.6


def test_canny_edges_outline_the_ink(digits, corrupted):
    edges = corrupted["canny_edges"] > 0
    near_ink = ndimage.binary_dilation(digits > 0, structure=np.ones((1, 5, 5), bool))
    assert edges.any(axis=(1, 2)).all()
    assert (edges & near_ink).sum() / edges.sum() > 0.98
    assert set(np.unique(corrupted["canny_edges"])) <= {0, 255}


def test_all_families_on_a_thousand_digits(digits):
    """Every family handles a thousand real digits at another seed, shape and dtype kept. How fast is a figure,
    not an assertion here (a shared machine): ``python -m bench.corruption_speed``."""
    for name in NAMES:
        out = corrupt(digits, name, seed=0)
        assert out.shape == digits.shape and out.dtype == np.uint8, name


def test_bad_calls_are_refused(digits):
    with pytest.raises(ValueError, match="unknown corruption"):
        corrupt(digits, "snow", 0)
    with pytest.raises(ValueError, match="uint8"):
        corrupt(digits.astype(np.float32), "fog", 0)
    with pytest.raises(ValueError, match="uint8"):
        corrupt(digits[0], "fog", 0)
    with pytest.raises(ValueError, match="non-negative"):
        corrupt(digits, "fog", -1)


@settings(max_examples=40, deadline=None)
@given(images=hnp.arrays(np.uint8, st.tuples(st.integers(0, 3), st.integers(8, 40), st.integers(8, 40))),
       name=st.sampled_from(NAMES), seed=st.integers(0, 2**32))
def test_any_uint8_batch_comes_back_the_same_shape_and_dtype(images, name, seed):
    out = corrupt(images, name, seed)
    assert out.shape == images.shape and out.dtype == np.uint8


@settings(max_examples=30, deadline=None)
@given(n=st.integers(0, 3), value=st.sampled_from([0, 255]), name=st.sampled_from(NAMES))
def test_blank_and_saturated_digits_do_not_break_anything(n, value, name):
    out = corrupt(np.full((n, 28, 28), value, np.uint8), name, seed=0)
    assert out.shape == (n, 28, 28) and out.dtype == np.uint8


@pytest.mark.parametrize("name", sorted(DETERMINISTIC))
def test_deterministic_families_treat_each_image_alone(digits, name):
    """An image's result must not depend on its neighbours in the batch (a filter that also runs along the
    batch axis would blend them)."""
    batch = corrupt(digits[:20], name, seed=0)
    for i in range(20):
        assert np.array_equal(batch[i], corrupt(digits[i : i + 1], name, seed=0)[0]), i
