"""bench/readings.py's scoring, on a few real MNIST test images read through ``digits.read.streaming.answers`` with a
fake model that answers 7 for every digit: no trained model, a few seconds."""
from __future__ import annotations

import json

import numpy as np
import pytest

from bench import readings
from digits.read import answers

LABELS = tuple(str(d) for d in range(10))


def always_7(fields: np.ndarray) -> np.ndarray:
    """What ``streaming.answers`` calls: ``arrays.preprocess``'d N×28×28 float32 fields in, N×10 probabilities out."""
    assert fields.dtype == np.float32 and fields.shape[1:] == (28, 28)
    return np.tile(np.eye(10, dtype=np.float32)[7], (len(fields), 1))


@pytest.fixture(scope="module")
def test_set(mnist_dir) -> tuple[np.ndarray, np.ndarray]:
    return readings.load_mnist(mnist_dir, "test")


def test_singles_are_scored_against_their_labels(test_set):
    x, y = test_set
    got = readings.singles(x, y, always_7, LABELS, limit=40)
    assert got["images"] == 40 and got["errors"] == 0
    as_number = {n["index"] for n in got["read_as_numbers"]}
    assert len(as_number) == round(got["as_number"] * 40)
    singles = [i for i in range(40) if i not in as_number]
    assert got["right"] == round(sum(y[i] == 7 for i in singles) / 40, 4) > 0  # the 7s among those read as one
    assert got["wrong_single"] == round(sum(y[i] != 7 for i in singles) / 40, 4)


def reply(*classes: str) -> answers.Answer:
    """An answer reading ``classes``, each digit sure, boxes made up."""
    digits = tuple(answers.Digit(c, int(c), 1.0, (10 * i, 0, 8, 8), False) for i, c in enumerate(classes))
    return answers.Answer("x.png", "".join(classes), 1.0, digits, (40, 8))


def test_numbers_are_scored_whole_by_count_and_digit_by_digit():
    truth = [list("12"), list("345"), list("67"), list("890")]
    replies = [reply("1", "2"), reply("3", "4"), reply("6", "1"), ValueError("blank")]
    got = readings.score_numbers(truth, replies)
    assert got == {"images": 4, "number": 0.25, "count": 0.5, "digit": 0.3, "errors": 1, "not_a_digit": 0.0,  # 1, 2, 6
                   "by_length": {"2": 0.5, "3": 0.0}}


def test_number_sets_are_reproducible_and_in_range(test_set):
    x, y = test_set
    first = readings.numbers(x, y, always_7, LABELS, 5, "touching", seed=3)
    assert first == readings.numbers(x, y, always_7, LABELS, 5, "touching", seed=3)
    cases = readings.number_cases(x, y, 5, (2, 6), np.random.default_rng([3, readings.SETS["gaps"]]))
    gaps = readings.numbers(x, y, always_7, LABELS, 5, "gaps", seed=3)
    for got in (first, gaps):
        assert got["images"] == 5 and got["errors"] == 0
        assert all(0 <= got[k] <= 1 for k in ("number", "count", "digit"))
        assert set(got["by_length"]) <= {"2", "3", "4", "5", "6"}
    assert all(2 <= len(t) <= 6 for t, _ in cases)
    sevens = sum(t.count(7) for t, _ in cases) / sum(len(t) for t, _ in cases)
    assert gaps["digit"] <= round(sevens, 4)  # only the 7s can be right
    assert gaps["number"] == 0 or any(set(t) == {7} for t, _ in cases)


def test_results_are_written_whole(tmp_path):
    out = tmp_path / "deep" / "readings.json"
    readings.write_json(out, {"b": 1, "a": {"seconds": 0.5}})
    assert json.loads(out.read_text()) == {"a": {"seconds": 0.5}, "b": 1}
    assert out.read_text().index('"a"') < out.read_text().index('"b"')
    assert [p.name for p in out.parent.iterdir()] == ["readings.json"]
