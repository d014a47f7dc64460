"""bench/read_gap.py's table: each answer as read crossed with the model's answer on the raw image."""
from __future__ import annotations

import numpy as np

from bench import read_gap
from digits.read import answers


def answer(text: str, refused: bool = False) -> answers.Answer:
    digits = () if refused else tuple(answers.Digit(c, int(c), 1.0, (10 * i, 0, 8, 8), False)
                                      for i, c in enumerate(text))
    why = answers.Refusal(0.9, "1", 0.5) if refused else None
    return answers.Answer("x.png", answers.NOT_A_DIGIT if refused else text, None if refused else 1.0, digits,
                          (40, 8), why)


def test_each_image_lands_in_one_cell_of_outcome_and_raw_correctness():
    replies = [answer("7"), answer("1"), answer("12"), answer("", refused=True), answer("7")]
    table = read_gap.crossed(replies, np.array([True, True, True, True, False]), ["7", "7", "1", "4", "7"])
    assert table == {"as_number, raw right": {"images": 1, "first": [2]},
                     "not_a_digit, raw right": {"images": 1, "first": [3]},
                     "right, raw right": {"images": 1, "first": [0]},
                     "right, raw wrong": {"images": 1, "first": [4]},
                     "wrong_single, raw right": {"images": 1, "first": [1]}}
