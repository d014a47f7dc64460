"""What reading one image gives (``digits.read.reading``): an ``Answer`` (a digit, a written number, or "not a digit"),
the same object for ``digits.predict`` and ``digits.serve``; ``as_json`` is the object ``--json`` prints and the
server returns, ``line`` the line predict prints.
"""
from __future__ import annotations

from dataclasses import dataclass

NOT_A_DIGIT = "not a digit"  # the class of an image the detector refuses


@dataclass(frozen=True)
class Digit:
    """One digit read: its class name and index, the model's probability, its box (x, y, width, height in the pixels
    of the image as read) and whether it was cut from touching ink (``segment.Candidate.merged``)."""
    text: str
    label: int
    probability: float
    box: tuple[int, int, int, int]
    merged: bool

    def as_json(self) -> dict:
        return {"class": self.text, "label": self.label, "probability": self.probability, "box": list(self.box),
                "merged": self.merged}


@dataclass(frozen=True)
class Refusal:
    """Why an image is "not a digit": the detector's score of the candidate it refuses most (its logit's sigmoid:
    above 0.5 refuses), and what the classifier alone would read, with its least probability."""
    score: float
    guess: str
    guess_probability: float


@dataclass(frozen=True)
class Answer:
    """One image's answer. ``text`` is the digit's class, the number (the digits' classes joined, left to right) or
    ``NOT_A_DIGIT``; ``probability`` the digit's, or a number's least (it is as sure as its least sure digit; a
    product would fall with the length alone), None when refused. ``size`` is the image as read (width, height).
    ``read`` are the candidates (``segment.Reading.candidates``) read as ``digits``, ``chosen`` those the reading
    rests on: the same, or for a refusal the ones refused."""
    file: str
    text: str
    probability: float | None
    digits: tuple[Digit, ...]
    size: tuple[int, int]
    refusal: Refusal | None = None
    read: tuple[int, ...] = ()
    chosen: tuple[int, ...] = ()

    @property
    def is_number(self) -> bool:
        return len(self.digits) > 1

    def as_json(self) -> dict:
        """A digit: ``{file, class, label, probability, digits, size}`` (digits a list of one ``Digit``); a number:
        ``{file, class, number, probability, digits, size}``; "not a digit": ``{file, class, label: null,
        probability: null, digits: [], not_a_digit: {score, guess, guess_probability}, size}``."""
        out = {"file": self.file, "class": self.text, "probability": self.probability,
               "digits": [d.as_json() for d in self.digits], "size": list(self.size)}
        if self.refusal is not None:
            r = self.refusal
            return {**out, "label": None, "not_a_digit": {"score": r.score, "guess": r.guess,
                                                          "guess_probability": r.guess_probability}}
        return {**out, "number": self.text} if self.is_number else {**out, "label": self.digits[0].label}


def line(answer: Answer) -> str:
    """The printed answer: ``IMAGE: 7 (probability 0.912)``, or for a number ``IMAGE: 2026 (probability 0.970;
    digits 2 0.990, 0 0.980, 2 0.970, 6 0.990)``, a digit cut from touching ones marked ``(touching)``, or
    ``IMAGE: not a digit (detector 0.981; the model alone: 4, probability 0.977)``."""
    if answer.refusal is not None:
        why = answer.refusal
        return (f"{answer.file}: {NOT_A_DIGIT} (detector {why.score:.3f}; the model alone: {why.guess}, "
                f"probability {why.guess_probability:.3f})")
    head = f"{answer.file}: {answer.text} (probability {answer.probability:.3f}"
    if not answer.is_number:
        return head + ")"
    parts = [f"{d.text} {d.probability:.3f}" + (" (touching)" if d.merged else "") for d in answer.digits]
    return f"{head}; digits {', '.join(parts)})"
