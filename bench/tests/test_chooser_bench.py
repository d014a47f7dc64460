"""bench/chooser.py, which fits ``digits.read.choice.WEIGHTS``: its numbers, the right partition it finds for each, and
the perceptron, on a few real MNIST test digits with fixed probabilities: no trained model, a few seconds."""
from __future__ import annotations

import numpy as np
import pytest

from bench import chooser, readings
from digits.read import choice


@pytest.fixture(scope="module")
def made(mnist_dir):
    x, _ = readings.load_mnist(mnist_dir, "test")
    return chooser.numbers(x[:500], {"singles": 4, "gaps": 4, "touching": 4})


def test_numbers_are_reproducible_with_one_box_per_digit(mnist_dir, made):
    x, _ = readings.load_mnist(mnist_dir, "test")
    again = chooser.numbers(x[:500], {"singles": 4, "gaps": 4, "touching": 4})
    assert [(n, f, b) for n, _, f, b in made] == [(n, f, b) for n, _, f, b in again]
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(made, again))
    lengths = {name.split()[0]: [] for name, *_ in made}
    for name, grey, fmt, boxes in made:
        lengths[name.split()[0]].append(len(boxes))
        assert fmt == ("JPEG" if name.startswith("touching") else "PNG") and grey.dtype == np.uint8
    assert lengths["singles"] == [1] * 4 and all(2 <= n <= 6 for n in lengths["gaps"] + lengths["touching"])


def test_the_right_partition_lies_where_the_digits_were_written(made):
    for name, grey, fmt, boxes in made:
        if name.startswith("touching"):
            continue  # their digits may share columns no vertical cut separates
        found = chooser.read_one((name, grey, fmt))
        right = chooser.truth(found, boxes)
        assert right is not None and len(right) == len(boxes)
        assert [found.candidates[k].box[0] for k in right] == sorted(found.candidates[k].box[0] for k in right)
        assert chooser.truth(found, boxes[:-1]) is None  # a digit short: no partition fits


def test_the_perceptron_starts_from_the_stated_prior_and_chooses_at_least_as_well(made):
    """One weight per feature, the prior's own without examples; fitted on numbers (every candidate read as a sure
    3, the detector taking each for a digit), it chooses the right partition at least as often as the prior."""
    examples = []
    for name, grey, fmt, boxes in made:
        found = chooser.read_one((name, grey, fmt))
        probs = np.full((len(found.candidates), 10), 0.01)
        probs[:, 3] = 0.91
        feats = choice.features(found, probs, np.full(len(found.candidates), -5.0))
        if (right := chooser.truth(found, boxes)) is not None:
            examples.append((found, feats, right))
    prior = chooser.prior_weights()
    assert np.array_equal(chooser.perceptron([], 1), prior) and prior.shape == (len(choice.FEATURES),)
    fitted = chooser.perceptron(examples, 2)
    assert sum(choice.best_partition(f, x @ fitted) == r for f, x, r in examples) >= \
        sum(choice.best_partition(f, x @ prior) == r for f, x, r in examples)
