"""Non-digits for "not a digit": ``digits.nondigit.nondigits`` is deterministic, balanced and gives a photo of every
kind; ``digits.nondigit.ood``'s scores rank what is far from the training digits above what is near."""
from __future__ import annotations

import collections
import io

import numpy as np
from PIL import Image

from conftest import optional_part
from digits.nondigit import nondigits, ood
from digits.synthetic import fonts, photos


def test_every_kind_is_deterministic_balanced_and_a_photo():
    if fonts.missing():
        optional_part(f"handwriting fonts not installed: apt-get install {' '.join(fonts.missing())}")
    first = nondigits.every(per_kind=6, seed=3)
    assert first == nondigits.every(per_kind=6, seed=3)
    assert first != nondigits.every(per_kind=6, seed=4)
    assert collections.Counter(item.kind for item in first) == {kind: 6 for kind in nondigits.KINDS}
    for kind in nondigits.KINDS:  # details in turn: the first six of each kind, each once
        assert [i.detail for i in first if i.kind == kind] == list(nondigits.DETAILS[kind][:6])
    for item in first:
        img = Image.open(io.BytesIO(item.payload))
        assert img.mode == "RGB" and img.format == {"jpg": "JPEG", "png": "PNG"}[item.suffix]
        assert item.condition in photos.CONDITIONS and min(img.size) >= 96
        grey = np.asarray(img.convert("L"))
        if item.kind not in ("blank", "noise"):  # a mark with ink on it: dark strokes on the paper
            assert grey.min() < 120 < np.median(grey), (item.kind, item.detail)


def test_lookalikes_name_generated_details():
    for kind, detail in nondigits.LOOKALIKES:
        assert detail in nondigits.DETAILS[kind]
    assert nondigits.lookalike("letters", "O") and not nondigits.lookalike("letters", "A")


def test_scores_rank_far_fields_above_near_ones():
    rng = np.random.default_rng(0)
    labels = np.repeat(np.arange(3), 200)
    centres = np.eye(3, 8) * 5
    h = centres[labels] + rng.normal(size=(600, 8))
    fields = np.zeros((600, 28, 28))
    fields[:, 4:24, 12:16] = rng.uniform(0.8, 1.0, (600, 20, 4))  # every training field a vertical bar
    stats = ood.fit(h, labels, fields, bank=300, components=5)
    near, far = centres[:1] + 0.1, centres[:1] + 8.0
    bar, blob = fields[:1], np.zeros((1, 28, 28))
    blob[0, 2:10, 2:26] = 1.0
    assert ood.mahalanobis(far, stats)[0] > ood.mahalanobis(near, stats)[0]
    assert ood.knn(np.array([[-1.0] * 8]), stats)[0] > ood.knn(near, stats)[0]
    assert ood.pixels(blob, stats)[0] > ood.pixels(bar, stats)[0]
    assert ood.energy(np.array([[0.0, 0.0, 0.0]]))[0] > ood.energy(np.array([[9.0, 0.0, 0.0]]))[0]
    assert ood.max_probability(np.array([[0.0, 0.0]]))[0] > ood.max_probability(np.array([[9.0, 0.0]]))[0]
