"""Which reading of an image's ink is chosen (segmentation by recognition, docs/using.md): the partition of its
parts into candidate digits (``segment.candidates``) with the best sum of the model's log-probabilities, a stated
prior on a digit's shape, and, where the "not a digit" detector is loaded, its doubt; a reading of two or more
digits is then chosen again by weights learned on MNIST's training split (``WEIGHTS``). Pure numpy; no model here.
"""
from __future__ import annotations



import numpy as np

from digits.read import segment


# The prior, in the units of the model's log-probabilities (natural log), that a reading's score adds to them;
# each digit adds its own log-probability (at most 0), so a reading with more digits must read its pieces better.
# Chosen on 10,000 single digits and 600 numbers each with gaps and touching, all made from MNIST's training
# images, never the test set (docs/using.md).
WIDE = 1.0  # a digit up to this × the ink's height wide costs nothing ...
WIDTH_COST = 2.0  # ... and this per height of width beyond
GAP_COST = 8.0  # per height of empty columns inside one digit: strokes of one digit touch or share columns
CUT_COST = 1.0  # per mean column of ink cut through where a digit ends inside a piece
TALL = 0.85  # a digit shorter than this × the ink's height ...
SHORT_COST = 5.0  # ... costs this per height short of it: a stroke's fragment read as a 1 or a 7


def prior(c: segment.Candidate) -> float:
    """The log-prior of ``c`` being one digit of the reading, whatever its class."""
    return -(WIDTH_COST * max(0.0, c.width - WIDE) + GAP_COST * c.gap + CUT_COST * c.cut
             + SHORT_COST * max(0.0, TALL - c.tall))


# Where the "not a digit" detector is loaded, each candidate's score also adds this × the log of its "a digit" odds
# by the detector (log sigmoid of minus its logit, whose 0 is the threshold): a fragment or a merged pair, which the
# detector doubts, loses to the reading whose marks it takes for digits. Chosen with the prior's sets (docs/using.md).
DETECTOR_COST = 2.0


# Where the reading chosen with the detector holds two or more digits, where they end is chosen again by learned
# weights (an averaged perceptron over numbers of MNIST's training split: ``python -m bench.chooser``, which prints
# them) on each candidate's ``FEATURES``. The single-or-number decision stays the stated prior's, so singles stay
# single; touching numbers of training digits read whole went from 78% to 83% (docs/using.md).
FEATURES = ("log top probability", "log top over second", "width", "width beyond 1", "tall", "tall short of 0.85",
            "gap", "cut", "merged", "detector logit", "detector softplus", "prior", "one")
WEIGHTS = (1.6164, 0.4873, -1.0607, -7.5894, 1.8790, 1.2779, -0.6894, 5.1401, 1.2467, 0.0917, -1.7460, 10.1643,
           -2.1497)


def features(reading: segment.Reading, probs: np.ndarray, nondigit: np.ndarray) -> np.ndarray:
    """Each candidate's ``FEATURES`` (N × 13): the model's probabilities, its shape, the detector's logit; "one"
    summed over a reading is its number of digits."""
    top = np.sort(probs, axis=1)
    logs = np.log(np.maximum(top[:, -2:], 1e-12))
    shape = np.array([[c.width, max(0.0, c.width - WIDE), c.tall, max(0.0, TALL - c.tall), c.gap, c.cut,
                       float(c.merged), prior(c)] for c in reading.candidates]).reshape(-1, 8)
    return np.column_stack([logs[:, 1], logs[:, 1] - logs[:, 0], shape[:, :7], nondigit,
                            np.logaddexp(0.0, nondigit), shape[:, 7], np.ones(len(probs))])


def choose(reading: segment.Reading, probs: np.ndarray, nondigit: np.ndarray | None = None,
           weights: tuple[float, ...] | None = None) -> list[int]:
    """The candidates (indices, left to right) of the best reading: the partition of the parts into consecutive
    runs maximizing the sum over its digits of the log of the model's top probability plus ``prior``, plus
    ``DETECTOR_COST`` × the detector's log-odds of a digit where its logits ``nondigit`` are given; then, if that
    reading is a number, the partition maximizing ``weights`` (default ``WEIGHTS``) · ``features`` summed over
    its digits."""
    score = np.log(np.maximum(probs.max(axis=1), 1e-12)) + [prior(c) for c in reading.candidates]
    if nondigit is None:
        return best_partition(reading, score)
    picked = best_partition(reading, score - DETECTOR_COST * np.logaddexp(0.0, nondigit))
    if len(picked) < 2:
        return picked
    learned = np.asarray(WEIGHTS if weights is None else weights)  # looked up here, so a test may set WEIGHTS
    return best_partition(reading, features(reading, probs, nondigit) @ learned)


def best_partition(reading: segment.Reading, score: np.ndarray) -> list[int]:
    """The candidates (indices, left to right) of the partition of the parts maximizing the sum of ``score``."""
    best = np.full(reading.parts + 1, -np.inf)
    best[0] = 0.0
    back = np.full(reading.parts + 1, -1)
    for k in sorted(range(len(reading.candidates)), key=lambda k: reading.candidates[k].stop):
        c = reading.candidates[k]
        if best[c.start] + score[k] > best[c.stop]:
            best[c.stop], back[c.stop] = best[c.start] + score[k], k
    picked, at = [], reading.parts
    while at > 0:
        picked.append(int(back[at]))
        at = reading.candidates[back[at]].start
    return picked[::-1]
