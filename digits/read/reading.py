"""Reading digits from images: an image's ink found, split into digits and brought to MNIST's form (``read``), then
answered from a model's probabilities (``answer_reading``) and the "not a digit" detector's logits where there is
one (``with_detector``); ``answer_image`` does both with one model call (``digits.read.streaming`` does it for many
files). Shared by ``digits.predict`` (the command) and ``digits.serve``.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from digits.data import arrays
from digits.read import choice, images, segment

if TYPE_CHECKING:  # a type only: reading needs no TensorFlow (as_files's worker processes import it)
    from digits.export import loaders


def answer(path: str, probs: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """``{file, class, label, probability}`` for one image's probabilities, the most probable class."""
    if len(probs) != len(class_names):
        raise ValueError(f"the model has {len(probs)} outputs but the data {len(class_names)} classes; "
                         "rerun `dvc repro`")
    label = int(probs.argmax())
    return {"file": path, "class": class_names[label], "label": label, "probability": round(float(probs[label]), 6)}


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


NOT_A_DIGIT = "not a digit"  # the class of an image the detector refuses


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


def answer_reading(reading: segment.Reading, out: np.ndarray, labels: tuple[str, ...]) -> dict:
    """The answer for a ``segment.Reading`` given the predictor's output for its fields (see ``answer_image``)."""
    (probs, nondigit), (picked, digits) = split(out, labels), kept(reading, out, labels)
    if not digits:
        return refused(reading, probs[picked], nondigit[picked], labels)
    each = [answer(reading.name, probs[k], labels) for k in digits]
    listed = [{"class": a["class"], "label": a["label"], "probability": a["probability"],
               "box": list(reading.candidates[k].box), "merged": reading.candidates[k].merged}
              for a, k in zip(each, digits)]
    if len(digits) == 1:
        return {**each[0], "digits": listed, "size": reading.size}
    number = ("" if all(len(a["class"]) == 1 for a in each) else " ").join(a["class"] for a in each)
    least = min(a["probability"] for a in each)
    return {"file": reading.name, "class": number, "number": number, "probability": least, "digits": listed,
            "size": reading.size}


def refused(reading: segment.Reading, probs: np.ndarray, nondigit: np.ndarray, labels: tuple[str, ...]) -> dict:
    """The answer for an image the detector refuses (``kept``): "not a digit", with the detector's score of the
    candidate it refuses most (its logit's sigmoid: above 0.5 refuses) and what the classifier alone would read."""
    classes = [labels[i] for i in probs.argmax(1)]
    guess = ("" if all(len(c) == 1 for c in classes) else " ").join(classes)
    return {"file": reading.name, "class": NOT_A_DIGIT, "label": None, "probability": None, "digits": [],
            "not_a_digit": {"score": round(float(1 / (1 + np.exp(-nondigit.max()))), 6), "guess": guess,
                            "guess_probability": round(float(probs.max(1).min()), 6)},
            "size": reading.size}


def answer_image(name: str, gray: np.ndarray, predict: loaders.Predictor, labels: tuple[str, ...]) -> dict:
    """The answer for one decoded image (``images.decode``'s grey levels) named ``name``: what ``--json`` prints
    for it, and what the server returns. The model reads every candidate digit (``segment.candidates``) in one
    call and ``choose`` picks the reading. One digit: ``answer``'s keys and ``digits``, a list of one
    ``{class, label, probability, box, merged}`` (box: x, y, width, height in the pixels of ``gray``, whose width
    and height are ``size``: the file as read, shrunk to at most ``imagefile.WORK`` pixels). A written number:
    ``{file, class, number, probability, digits, size}``, class and number the digits' classes joined,
    probability the least of the digits' (the number is as sure as its least sure digit; a product would fall
    with the length alone), digits left to right. A blank image is a ValueError naming ``name``."""
    reading = read(name, gray)
    return answer_reading(reading, predict(arrays.preprocess(reading.fields)), labels)


def line(reply: dict) -> str:
    """The printed answer: ``IMAGE: 7 (probability 0.912)``, or for a number ``IMAGE: 2026 (probability 0.970;
    digits 2 0.990, 0 0.980, 2 0.970, 6 0.990)``, a digit cut from touching ones marked ``(touching)``, or
    ``IMAGE: not a digit (detector 0.981; the model alone: 4, probability 0.977)``."""
    if reply["class"] == NOT_A_DIGIT:
        why = reply["not_a_digit"]
        return (f"{reply['file']}: {NOT_A_DIGIT} (detector {why['score']:.3f}; the model alone: {why['guess']}, "
                f"probability {why['guess_probability']:.3f})")
    head = f"{reply['file']}: {reply['class']} (probability {reply['probability']:.3f}"
    if "number" not in reply:
        return head + ")"
    parts = [f"{d['class']} {d['probability']:.3f}" + (" (touching)" if d["merged"] else "") for d in reply["digits"]]
    return f"{head}; digits {', '.join(parts)})"
