""""Not a digit" is an answer: the detector's column beside the classifier's (``reading.with_detector``), refused
candidates dropped from a reading and an image of nothing else answered "not a digit" (in ``--json``, the printed
line and the server's object), the threshold baked into the detector's last bias, and the refusal rates evaluate
reports. Fixed probabilities and constant detectors, so each case is decided by the rule alone."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image, ImageDraw

from conftest import ROOT, constant_detector
from digits.data import arrays
from digits.nondigit import detector, detector_data
from digits.read import answers, as_files, choice, reading, segment
from digits.serve import answering

LABELS = tuple("0123456789")


def two_bars(left: int = 8, tall: int = 60) -> segment.Reading:
    """A reading of two vertical bars far apart, the left one ``left`` pixels wide and ``tall`` high, the right 8
    by 60: candidates [left], [right] and [both]."""
    sheet = np.zeros((80, 160), np.uint8)
    sheet[70 - tall:70, 20:20 + left] = 255
    sheet[10:70, 120:128] = 255
    return reading.read("bars", sheet)


def output(found: segment.Reading, logits: list[float]) -> np.ndarray:
    """Every candidate read as a sure 1, with the detector's ``logits`` in candidate order."""
    probs = np.tile(np.eye(10, dtype=np.float32)[1], (len(found.candidates), 1))
    return np.concatenate([probs, np.array(logits, np.float32)[:, None]], axis=1)


def by_span(found: segment.Reading, spans: dict[tuple[int, int], float]) -> list[float]:
    return [spans[(c.start, c.stop)] for c in found.candidates]


def test_without_a_detector_every_chosen_candidate_is_a_digit():
    found = two_bars()
    probs = output(found, [0.0] * len(found.candidates))[:, :10]
    assert reading.with_detector(len, None) is len
    assert reading.answer_reading(found, probs, LABELS).text == "11"


@pytest.mark.parametrize("tall", [20, 29])
def test_refused_candidates_are_dropped_and_the_rest_still_read(tall):
    """A refused mark narrower and shorter than the rest (a speck beside a digit) is dropped; the digit stays."""
    found = two_bars(left=3, tall=tall)
    reply = reading.answer_reading(found, output(found, by_span(found, {(0, 1): 3.0, (1, 2): -3.0, (0, 2): 3.0})),
                                   LABELS).as_json()
    assert reply["class"] == "1" and len(reply["digits"]) == 1 and reply["digits"][0]["box"][0] > 100


@pytest.mark.parametrize("tall", [30, 60])
def test_a_refused_mark_as_tall_as_half_the_digits_beside_it_stands(tall):
    """In a number, a digit the detector doubts but as tall as ``reading.AMONG`` of the digits beside it is read
    (a 7 written oddly between two digits was dropped, and the number lost a digit)."""
    found = two_bars(left=3, tall=tall)
    assert tall >= reading.AMONG * 60
    reply = reading.answer_reading(found, output(found, by_span(found, {(0, 1): 3.0, (1, 2): -3.0, (0, 2): 3.0})),
                                   LABELS).as_json()
    assert reply["class"] == "11" and [d["box"][3] for d in reply["digits"]] == [tall, 60]


def test_refused_marks_spanning_half_the_width_refuse_the_image():
    """A word whose o or l passes for a digit is still not a number: refused marks of half the width or more
    refuse the image (``reading.REFUSED_WIDTH``)."""
    found = two_bars()
    reply = reading.answer_reading(found, output(found, by_span(found, {(0, 1): 3.0, (1, 2): -3.0, (0, 2): 3.0})),
                                   LABELS).as_json()
    assert reply["class"] == reading.NOT_A_DIGIT and reply["not_a_digit"]["score"] == pytest.approx(
        1 / (1 + np.exp(-3.0)), abs=1e-6)


def test_an_image_of_nothing_but_refused_ink_is_not_a_digit():
    found = two_bars()
    answer = reading.answer_reading(found, output(found, [2.0] * len(found.candidates)), LABELS)
    reply = answer.as_json()
    assert reply["class"] == reading.NOT_A_DIGIT and reply["digits"] == [] and reply["label"] is None
    assert reply["not_a_digit"] == {"score": pytest.approx(1 / (1 + np.exp(-2.0)), abs=1e-6), "guess": "11",
                                    "guess_probability": 1.0}
    assert answers.line(answer) == "bars: not a digit (detector 0.881; the model alone: 11, probability 1.000)"


@pytest.mark.parametrize(("top", "logit", "refused"), [
    (0.995, 0.5, False),  # refused within the margin, read surely: a digit
    (0.995, reading.MARGIN + 0.5, True),  # beyond the margin, however surely read
    (0.9, 0.5, True),  # within the margin, but the classifier unsure
    (0.3, -0.5, False),  # the detector passes it: a digit, however unsure the classifier
])
def test_a_surely_read_mark_the_detector_barely_refuses_stands(top, logit, refused):
    """``reading.doubted``: the classifier's ``CONFIDENT`` reading outweighs a refusal by at most ``MARGIN``."""
    sheet = np.zeros((80, 80), np.uint8)
    sheet[10:70, 36:44] = 255
    found = reading.read("bar", sheet)
    probs = np.tile(np.eye(10, dtype=np.float32)[1] * (top - (1 - top) / 9) + (1 - top) / 9, (len(found.candidates), 1))
    out = np.concatenate([probs, np.full((len(found.candidates), 1), logit, np.float32)], axis=1)
    reply = reading.answer_reading(found, out, LABELS).as_json()
    assert (reply["class"] == reading.NOT_A_DIGIT) == refused, reply


def pair(p_piece: float, p_whole: float, piece_logit: float, whole_logit: float) -> tuple[segment.Reading, np.ndarray]:
    """Two full-height strokes a fifth of their height apart, each piece read as a 1 with ``p_piece`` and both
    together as a 0 with ``p_whole``, with the detector's logits for a piece and for the whole."""
    sheet = np.full((160, 300), 255, np.uint8)
    sheet[30:120, 60:70] = sheet[30:120, 90:100] = 0
    found = reading.read("pair", sheet)
    rows = [(np.eye(10)[1] * p_piece + (1 - p_piece) / 10, piece_logit) if c.stop - c.start == 1 else
            (np.eye(10)[0] * p_whole + (1 - p_whole) / 10, whole_logit) for c in found.candidates]
    return found, np.array([[*probs, logit] for probs, logit in rows], np.float32)


def test_the_detector_decides_where_one_digit_ends():
    """Pieces the classifier reads well but the detector doubts (a broken 0's halves read as 1s) lose to the whole
    it takes for a digit: its log-odds enter ``choice.choose`` (``DETECTOR_COST``)."""
    found, out = pair(0.99, 0.99, piece_logit=-0.2, whole_logit=-10.0)
    assert reading.answer_reading(found, out[:, :10], LABELS).text == "11"  # the classifier alone: two digits
    reply = reading.answer_reading(found, out, LABELS).as_json()
    assert reply["class"] == "0" and len(reply["digits"]) == 1 and reply["digits"][0]["box"][2] >= 40


def test_whether_an_image_is_a_digit_is_decided_before_the_detector_shapes_the_reading():
    """The refusal is judged on the classifier's own reading, so a non-digit cannot escape by being read as
    pieces the detector lets pass: here the classifier reads the whole, which the detector refuses."""
    found, out = pair(0.05, 0.99, piece_logit=-10.0, whole_logit=3.0)
    assert choice.choose(found, out[:, :10], out[:, 10]) != choice.choose(found, out[:, :10])  # pieces with it
    assert reading.answer_reading(found, out, LABELS).text == reading.NOT_A_DIGIT


def touching(piece_logit: float) -> tuple[segment.Reading, np.ndarray]:
    """Two touching digits as the reader sees them: two halves split by a cut through much ink (its prior's cost,
    ``choice.CUT_COST`` × 1.5), each read as a 1 with 0.995, and the whole read as an 8 with 0.999 (so the
    classifier alone takes the whole), which the detector refuses (logit 3); the halves' logits ``piece_logit``."""
    def mark(start, stop, x, width, cut):
        return segment.Candidate(start, stop, (x, 0, width, 50), np.zeros((50, width)), width / 50, 1.0, 0.0, cut,
                                 cut > 0)
    found = segment.Reading("touching", 2, [mark(0, 1, 0, 25, 1.5), mark(1, 2, 25, 25, 0.0), mark(0, 2, 0, 50, 0.0)],
                            np.zeros((3, 28, 28), np.uint8), [50, 50])
    probs = [np.eye(10)[1] * 0.995 + 0.005 / 10, np.eye(10)[1] * 0.995 + 0.005 / 10, np.eye(10)[8] * 0.999 + 0.0001]
    return found, np.array([[*p, logit] for p, logit in zip(probs, [piece_logit, piece_logit, 3.0])], np.float32)


def test_touching_digits_the_detector_refuses_as_one_mark_are_read_as_their_digits():
    """A mark the classifier reads as one digit but the detector refuses (two digits merged) is still a number
    when, read again with the detector's doubt, its pieces are sure digits (``reading.SURE``); not otherwise."""
    found, out = touching(-reading.SURE - 1)
    assert choice.choose(found, out[:, :10]) == [2]  # the classifier alone: one digit
    assert reading.answer_reading(found, out, LABELS).text == "11"
    found, out = touching(-reading.SURE + 1)  # the halves not sure enough
    assert reading.answer_reading(found, out, LABELS).text == reading.NOT_A_DIGIT


def test_the_server_shows_what_was_refused_without_bars():
    sheet = Image.new("L", (160, 80), 255)
    ImageDraw.Draw(sheet).rectangle([20, 10, 28, 70], fill=0)
    buffer = io.BytesIO()
    sheet.save(buffer, "PNG")
    refuse = reading.with_detector(lambda x: np.tile(np.eye(10, dtype=np.float32)[7], (len(x), 1)),
                                   lambda x: np.full((len(x), 1), 4.0, np.float32))
    reply = answering.classify("bar.png", buffer.getvalue(), refuse, LABELS, lambda: None)
    assert reply["class"] == reading.NOT_A_DIGIT and reply["top"] == [] and reply["seen"]


def test_the_threshold_is_baked_into_the_last_bias():
    model = detector.build()
    fields = np.random.default_rng(0).integers(0, 256, (400, 28, 28)).astype(np.uint8)
    before = detector.score(model, fields)
    cut = detector.threshold(before, 90.0)
    after = detector.score(detector.with_threshold(model, cut), fields)
    assert after == pytest.approx(before - cut, abs=1e-5)
    assert abs(np.mean(after > 0) - 0.10) <= 0.01


def test_refusal_rates_count_unread_blanks_as_refused():
    found = two_bars()
    n = len(found.candidates)
    out = np.concatenate([output(found, [5.0] * n), output(found, [-5.0] * n)])
    got = as_files.score_refusals([found, None, found], np.array(["lines", "blank", "shapes"]), out, LABELS)
    assert got == {"images": 3, "refused": pytest.approx(0.6667), "by_kind": {"blank": 1.0, "lines": 1.0,
                                                                             "shapes": 0.0}}


@pytest.mark.slow  # predict processes with a real CNN (trained_project)
@pytest.mark.parametrize(("logit", "refused"), [(5.0, True), (-5.0, False)])
def test_predict_says_not_a_digit_when_the_detector_refuses(trained_project, tmp_path, logit, refused):
    project = tmp_path / "project"
    shutil.copytree(trained_project, project, symlinks=True, ignore=shutil.ignore_patterns("export"))
    constant_detector(project / "artifacts/models/nondigit.keras", logit)
    images, _ = arrays.load_split(project / "artifacts/data/test.npz")
    Image.fromarray(images[0]).save(tmp_path / "digit.png")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "digits.predict", "--project", str(project), "digit.png"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.startswith("digit.png: not a digit (detector 0.993; the model alone: ") == refused, done.stdout
    json_done = subprocess.run([sys.executable, "-m", "digits.predict", "--project", str(project), "--json",
                                "digit.png"], cwd=tmp_path, capture_output=True, text=True, timeout=300, env=env)
    (reply,) = json.loads(json_done.stdout)
    assert (reply["class"] == "not a digit") == refused and ("not_a_digit" in reply) == refused


def test_the_detector_config_holds_no_memory_address():
    """Layers sharing Keras' global dtype policy make config.json record its id(): other bytes on every save."""
    assert "shared_object_id" not in json.dumps(detector.build().get_config())


def test_merged_pairs_are_two_digits_in_one_field():
    """``detector_data.merged_pairs``: one field per pair, a function of the seed, each holding both digits' ink
    squeezed into the field's 20-pixel box (wider than either digit there)."""
    x = np.zeros((2, 28, 28), np.uint8)
    x[:, 4:24, 12:16] = 255  # two bars, each a 1: four columns wide, twenty tall
    fields = detector_data.merged_pairs(x, 5, seed=3)
    assert fields.shape == (5, 28, 28) and fields.dtype == np.uint8
    assert np.array_equal(fields, detector_data.merged_pairs(x, 5, seed=3))
    for field in fields:
        columns = np.flatnonzero(field.max(0) > 0)
        assert columns[-1] - columns[0] + 1 >= 6  # the pair's ink spans both bars: never one bar's width
    assert detector_data.merged_pairs(x, 0, seed=3).shape == (0, 28, 28)


def test_the_learned_weights_read_the_same_features_as_the_stated_prior():
    """``choice.features`` in ``FEATURES``' order: weights 1 on log probability and prior and -``DETECTOR_COST`` on
    the detector's softplus give the stated prior's own score, so the learned weights read what they were fit on."""
    found, out = pair(0.9, 0.6, piece_logit=-1.0, whole_logit=2.0)
    probs, nondigit = out[:, :10], out[:, 10]
    feats = choice.features(found, probs, nondigit)
    assert feats.shape == (len(found.candidates), len(choice.FEATURES)) == (3, len(choice.WEIGHTS))
    w = np.zeros(len(choice.FEATURES))
    for name, value in (("log top probability", 1.0), ("prior", 1.0), ("detector softplus", -choice.DETECTOR_COST)):
        w[choice.FEATURES.index(name)] = value
    stated = (np.log(probs.max(1)) + [choice.prior(c) for c in found.candidates]
              - choice.DETECTOR_COST * np.logaddexp(0, nondigit))
    assert feats @ w == pytest.approx(stated, abs=1e-5)
    assert feats[:, choice.FEATURES.index("one")].tolist() == [1.0, 1.0, 1.0]


def test_only_a_reading_of_two_or_more_digits_is_chosen_again_by_the_learned_weights(monkeypatch):
    """The learned weights (``choice.WEIGHTS``) move where a number's digits end, never make one digit a number:
    weights that would split anything leave a reading of one digit alone, and weights that would merge anything
    merge a reading of two."""
    one = choice.FEATURES.index("one")
    splitting, merging = np.zeros(len(choice.FEATURES)), np.zeros(len(choice.FEATURES))
    splitting[one], merging[one] = 100.0, -100.0
    whole, out = pair(0.99, 0.99, piece_logit=-0.2, whole_logit=-10.0)  # the prior reads one digit, a 0
    monkeypatch.setattr(choice, "WEIGHTS", tuple(splitting))
    assert [(whole.candidates[k].start, whole.candidates[k].stop)
            for k in choice.choose(whole, out[:, :10], out[:, 10])] == [(0, 2)]
    apart, out = pair(0.99, 0.3, piece_logit=-10.0, whole_logit=-10.0)  # the prior reads two digits, 11
    assert len(choice.choose(apart, out[:, :10], out[:, 10])) == 2
    monkeypatch.setattr(choice, "WEIGHTS", tuple(merging))
    assert [(apart.candidates[k].start, apart.candidates[k].stop)
            for k in choice.choose(apart, out[:, :10], out[:, 10])] == [(0, 2)]
