"""Calibration metrics against figures worked out by hand: the expected calibration error (15 equal-width bins of
the top probability), the Brier score and the reliability bins ``evaluate`` writes for DVC's plot."""
from __future__ import annotations

import numpy as np
import pytest

from digits.evaluate import metrics

# Four images, two classes. Top probabilities 0.9 (right), 0.9 (wrong), 0.7 (right), 0.62 (right): bins (lo, hi]
# of width 1/15 put 0.9 in bin 14 (0.867, 0.933], 0.7 in bin 11 (0.667, 0.733], 0.62 in bin 10 (0.6, 0.667].
PROBS = np.array([[0.9, 0.1], [0.9, 0.1], [0.3, 0.7], [0.62, 0.38]])
LABELS = np.array([0, 1, 1, 0])


def test_expected_calibration_error_by_hand():
    # bin 14: 2 images, accuracy 0.5, confidence 0.9 → 2/4 · 0.4 = 0.2; bin 11: 1/4 · |1 − 0.7| = 0.075;
    # bin 10: 1/4 · |1 − 0.62| = 0.095. Total 0.37.
    assert metrics.expected_calibration_error(PROBS, LABELS) == pytest.approx(0.37)


def test_expected_calibration_error_zero_when_confidence_matches_accuracy():
    probs = np.tile([0.8, 0.2], (10, 1))  # ten answers of class 0 at 0.8, eight of them right
    assert metrics.expected_calibration_error(probs, np.array([0] * 8 + [1] * 2)) == pytest.approx(0.0)
    assert metrics.expected_calibration_error(probs, np.zeros(10, int)) == pytest.approx(0.2)  # underconfident


def test_brier_score_by_hand():
    # (0.1² + 0.1²) + (0.9² + 0.9²) + (0.3² + 0.3²) + (0.38² + 0.38²) = 0.02 + 1.62 + 0.18 + 0.2888 = 2.1088; / 4
    assert metrics.brier_score(PROBS, LABELS) == pytest.approx(0.5272)
    assert metrics.brier_score(np.eye(3), np.arange(3)) == 0.0
    assert metrics.brier_score(np.eye(3), np.array([1, 2, 0])) == pytest.approx(2.0)  # sure and wrong: worst


def test_reliability_bins_and_csv():
    confidence, accuracy, count = metrics.reliability_bins(PROBS, LABELS)
    assert count.tolist() == [0] * 9 + [1, 1, 0, 0, 2, 0]
    assert confidence[13] == pytest.approx(0.9) and accuracy[13] == 0.5
    assert confidence[9] == pytest.approx(0.62) and accuracy[9] == 1.0
    assert np.isnan(accuracy[0])
    rows = metrics.reliability_csv(PROBS, LABELS).decode().splitlines()
    assert rows[0] == "bin,confidence,accuracy,count" and len(rows) == 16
    assert rows[14] == "14,0.900000,0.500000,2"
    assert rows[1] == "1,0.033333,0.033333,0"  # empty: on the diagonal, at the bin's middle


def test_top_probability_of_one_falls_in_the_last_bin():
    _, _, count = metrics.reliability_bins(np.array([[1.0, 0.0]]), np.array([0]))
    assert count[-1] == 1


def test_calibration_metrics_keys():
    scores = metrics.calibration_metrics(LABELS, PROBS, PROBS, 1.0)
    assert set(scores) == {"ece", "brier", "ece_uncalibrated", "nll_uncalibrated", "brier_uncalibrated",
                           "temperature"}
    assert scores["ece"] == scores["ece_uncalibrated"] == pytest.approx(0.37)
    # −(ln 0.9 + ln 0.1 + ln 0.7 + ln 0.62) / 4
    assert metrics.nll(PROBS, LABELS) == pytest.approx(-(np.log(0.9) + np.log(0.1) + np.log(0.7) + np.log(0.62)) / 4)
