"""Reading digits from images: an image's ink found, split into digits and brought to MNIST's form (``read``), then
answered from a model's probabilities (``answer_reading``) and the "not a digit" detector's logits where there is
one (``with_detector``); ``answer_image`` does both with one model call (``digits.read.streaming`` does it for many
files). Shared by ``digits.predict`` (the command) and ``digits.serve``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from digits.data import arrays
from digits.read import answers, choice, images, segment
from digits.read.answers import NOT_A_DIGIT

if TYPE_CHECKING:  # a type only: reading needs no TensorFlow (as_files's worker processes import it)
    from digits.export import loaders


def top(probs: np.ndarray, class_names: tuple[str, ...]) -> int:
    """The most probable class of one candidate's probabilities, checked against the data's classes."""
    if len(probs) != len(class_names):
        raise ValueError(f"the model has {len(probs)} outputs but the data {len(class_names)} classes; "
                         "rerun `dvc repro`")
    return int(probs.argmax())


def read(name: str, gray: np.ndarray) -> segment.Reading:
    """The candidate digits of one decoded image (``images.decode``'s grey levels) named ``name``; a blank image
    is a ValueError naming it."""
    try:
        n, found = segment.candidates(images.sheet_ink(gray))
        if not found:
            raise ValueError("blank image: no digit found")
        fields = np.stack([images.to_field(c.ink) for c in found])
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    return segment.Reading(name, n, found, fields, [int(gray.shape[1]), int(gray.shape[0])])




def split(out: np.ndarray, labels: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    """A predictor's output as (class probabilities, the detector's logits or None): ``with_detector``'s adds
    one column to the classes'."""
    return (out[:, :-1], out[:, -1]) if out.shape[1] == len(labels) + 1 else (out, None)


def with_detector(predict: loaders.Predictor, detect: loaders.Predictor | None) -> loaders.Predictor:
    """One predictor for the classifier and the "not a digit" detector (``digits.nondigit.detector``): the classes'
    probabilities, then the detector's logit as one more column; ``predict`` itself without a detector."""
    if detect is None:
        return predict
    return lambda x: np.concatenate([predict(x), np.asarray(detect(x), np.float32).reshape(len(x), -1)[:, :1]], 1)


# An image is "not a digit" when the detector doubts chosen candidates spanning at least this share of the chosen
# ones' width; otherwise only the doubted ones are dropped. Chosen on validation parts (docs/using.md): refusing
# only when all are refused let words through (their o, l, s look like digits); by width rather than by count, so a
# refused speck beside a digit never takes the digit with it.
REFUSED_WIDTH = 0.5
# A mark the detector refuses by at most ``MARGIN`` (logits) stands when the classifier reads it with at least
# ``CONFIDENT``: on validation parts (docs/using.md) this kept 4 in 10 of the refused MNIST digits and let about
# 1 in 500 non-digits more through; a wider margin or a lower bar let letters through by the dozen.
CONFIDENT = 0.99
MARGIN = 1.0


def doubted(probs: np.ndarray, nondigit: np.ndarray) -> np.ndarray:
    """Per candidate, whether the detector's logit refuses it: above 0, and not a mark the classifier reads with
    ``CONFIDENT`` probability that the logit refuses by ``MARGIN`` at most."""
    return (nondigit > 0) & ~((probs.max(axis=1) >= CONFIDENT) & (nondigit <= MARGIN))


# An image refused as read is still a number when the detector's doubt splits its reading into marks it takes for
# digits by at least ``SURE`` logits, each read with ``CONFIDENT``: touching digits, whose merged mark the detector
# learned to refuse. Chosen on validation parts with 600 touching numbers of training digits (docs/using.md).
SURE = 4.0
# In an image read as digits, a mark the detector doubts stands when it is at least ``AMONG`` × as tall as the
# tallest mark it takes for a digit: in a number, a digit written oddly; a speck or a stray stroke is shorter.
# Chosen on validation parts (docs/using.md): numbers with gaps lost a digit in 6 of 1,000; singles, photos of
# digits and non-digits read the same.
AMONG = 0.5


def kept(reading: segment.Reading, out: np.ndarray, labels: tuple[str, ...]) -> tuple[list[int], list[int]]:
    """(the candidates ``choice.choose`` picks, those of them that are read as digits: all without a detector;
    else, the reading chosen again with the detector's doubt, and its marks not ``doubted``, or none when the
    doubted marks of the classifier's own reading span ``REFUSED_WIDTH`` of its width, unless the second reading
    is ``SURE`` marks); of the doubted marks beside digits, those ``AMONG`` × as tall as they stand)."""
    probs, nondigit = split(out, labels)
    picked = choice.choose(reading, probs)
    if nondigit is None:
        return picked, picked
    doubt, again = doubted(probs, nondigit), choice.choose(reading, probs, nondigit)
    refused = [k for k in picked if doubt[k]]
    width = [reading.candidates[k].box[2] for k in picked]
    if sum(reading.candidates[k].box[2] for k in refused) >= REFUSED_WIDTH * sum(width):
        sure = len(again) > 1 and all(nondigit[k] <= -SURE and probs[k].max() >= CONFIDENT for k in again)
        return (again, again) if sure else (picked, [])
    digits = [k for k in again if not doubt[k]]
    tallest = max((reading.candidates[k].box[3] for k in digits), default=0)
    return again, [k for k in again if not doubt[k] or digits and reading.candidates[k].box[3] >= AMONG * tallest]


def answer_reading(reading: segment.Reading, out: np.ndarray, labels: tuple[str, ...]) -> answers.Answer:
    """The answer for a ``segment.Reading`` given the predictor's output for its fields (see ``answer_image``)."""
    (probs, nondigit), (picked, read) = split(out, labels), kept(reading, out, labels)
    if not read:
        return refused(reading, probs[picked], nondigit[picked], labels, tuple(map(int, picked)))
    read = tuple(map(int, read))
    classes = [top(probs[k], labels) for k in read]
    digits = tuple(answers.Digit(labels[c], c, round(float(probs[k, c]), 6), tuple(reading.candidates[k].box),
                                 reading.candidates[k].merged) for k, c in zip(read, classes))
    return answers.Answer(reading.name, joined([d.text for d in digits]), min(d.probability for d in digits),
                          digits, tuple(reading.size), read=read, chosen=read)


def joined(classes: list[str]) -> str:
    """Classes as a number reads them: digits run together ("2026"), longer class names ("Sneaker") spaced."""
    return ("" if all(len(c) == 1 for c in classes) else " ").join(classes)


def refused(reading: segment.Reading, probs: np.ndarray, nondigit: np.ndarray, labels: tuple[str, ...],
            chosen: tuple[int, ...]) -> answers.Answer:
    """The answer for an image the detector refuses (``kept``): "not a digit", with the detector's score of the
    candidate it refuses most and what the classifier alone would read."""
    score = round(float(1 / (1 + np.exp(-nondigit.max()))), 6)
    why = answers.Refusal(score, joined([labels[i] for i in probs.argmax(1)]), round(float(probs.max(1).min()), 6))
    return answers.Answer(reading.name, NOT_A_DIGIT, None, (), tuple(reading.size), why, chosen=chosen)


def answer_image(name: str, gray: np.ndarray, predict: loaders.Predictor, labels: tuple[str, ...]
                 ) -> answers.Answer:
    """The answer for one decoded image (``images.decode``'s grey levels) named ``name``: the model reads every
    candidate digit (``segment.candidates``) in one call and ``choice.choose`` picks the reading, digits left to
    right; boxes are in the pixels of ``gray`` (the file as read, shrunk to at most ``imagefile.WORK`` pixels). A
    blank image is a ValueError naming ``name``."""
    reading = read(name, gray)
    return answer_reading(reading, predict(arrays.preprocess(reading.fields)), labels)
