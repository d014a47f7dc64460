"""Reading digits from images: an image's ink found, split into digits and brought to MNIST's form (``read``), then
answered from a model's probabilities (``answer_reading``); ``answer_image`` does both with one model call, and
``answers`` does it for many files, decoding a few ahead on worker threads and calling the model once per chunk.
Shared by ``digits.predict`` (the command) and ``digits.serve``.
"""
from __future__ import annotations

import collections
import concurrent.futures
import signal
from typing import TYPE_CHECKING, Iterable, Iterator, NamedTuple

import numpy as np

from digits import data, images, numbers

if TYPE_CHECKING:  # a type only: reading needs no TensorFlow (readcheck's worker processes import it)
    from digits import loaders

def answer(path: str, probs: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """``{file, class, label, probability}`` for one image's probabilities, the most probable class."""
    if len(probs) != len(class_names):
        raise ValueError(f"the model has {len(probs)} outputs but the data {len(class_names)} classes; "
                         "rerun `dvc repro`")
    label = int(probs.argmax())
    return {"file": path, "class": class_names[label], "label": label, "probability": round(float(probs[label]), 6)}


class Reading(NamedTuple):
    """An image's candidate digits brought to MNIST's form, before any model sees them."""
    name: str
    parts: int  # pieces and slices of ink, left to right (``numbers.candidates``)
    candidates: list[numbers.Candidate]
    fields: np.ndarray  # N×28×28, one per candidate
    size: list[int]  # width, height of the grey levels read


def read(name: str, gray: np.ndarray) -> Reading:
    """The candidate digits of one decoded image (``images.decode``'s grey levels) named ``name``; a blank image
    is a ValueError naming it."""
    try:
        n, found = numbers.candidates(images.sheet_ink(gray))
        if not found:
            raise ValueError("blank image: no digit found")
        fields = np.stack([images.to_field(c.ink) for c in found])
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    return Reading(name, n, found, fields, [int(gray.shape[1]), int(gray.shape[0])])


# The prior, in the units of the model's log-probabilities (natural log), that a reading's score adds to them;
# each digit adds its own log-probability (at most 0), so a reading with more digits must read its pieces better.
# Chosen on 10,000 single digits and 600 numbers each with gaps and touching, all made from MNIST's training
# images, never the test set (docs/numbers.md).
WIDE = 1.0  # a digit up to this × the ink's height wide costs nothing ...
WIDTH_COST = 2.0  # ... and this per height of width beyond
GAP_COST = 8.0  # per height of empty columns inside one digit: strokes of one digit touch or share columns
CUT_COST = 1.0  # per mean column of ink cut through where a digit ends inside a piece
TALL = 0.85  # a digit shorter than this × the ink's height ...
SHORT_COST = 5.0  # ... costs this per height short of it: a stroke's fragment read as a 1 or a 7


def prior(c: numbers.Candidate) -> float:
    """The log-prior of ``c`` being one digit of the reading, whatever its class."""
    return -(WIDTH_COST * max(0.0, c.width - WIDE) + GAP_COST * c.gap + CUT_COST * c.cut
             + SHORT_COST * max(0.0, TALL - c.tall))


def choose(reading: Reading, probs: np.ndarray) -> list[int]:
    """The candidates (indices, left to right) of the best reading: the partition of the parts into consecutive
    runs maximizing the sum over its digits of the log of the model's top probability plus ``prior``."""
    score = np.log(np.maximum(probs.max(axis=1), 1e-12)) + [prior(c) for c in reading.candidates]
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


def answer_reading(reading: Reading, probs: np.ndarray, labels: tuple[str, ...]) -> dict:
    """The answer for a ``Reading`` given the model's probabilities for its fields (see ``answer_image``)."""
    picked = choose(reading, probs)
    each = [answer(reading.name, probs[k], labels) for k in picked]
    listed = [{"class": a["class"], "label": a["label"], "probability": a["probability"],
               "box": list(reading.candidates[k].box), "merged": reading.candidates[k].merged}
              for a, k in zip(each, picked)]
    if len(picked) == 1:
        return {**each[0], "digits": listed, "size": reading.size}
    number = ("" if all(len(a["class"]) == 1 for a in each) else " ").join(a["class"] for a in each)
    least = min(a["probability"] for a in each)
    return {"file": reading.name, "class": number, "number": number, "probability": least, "digits": listed,
            "size": reading.size}


def answer_image(name: str, gray: np.ndarray, predict: loaders.Predictor, labels: tuple[str, ...]) -> dict:
    """The answer for one decoded image (``images.decode``'s grey levels) named ``name``: what ``--json`` prints
    for it, and what the server returns. The model reads every candidate digit (``numbers.candidates``) in one
    call and ``choose`` picks the reading. One digit: ``answer``'s keys and ``digits``, a list of one
    ``{class, label, probability, box, merged}`` (box: x, y, width, height in the pixels of ``gray``, whose width
    and height are ``size``: the file as read, shrunk to at most ``imagefile.WORK`` pixels). A written number:
    ``{file, class, number, probability, digits, size}``, class and number the digits' classes joined,
    probability the least of the digits' (the number is as sure as its least sure digit; a product would fall
    with the length alone), digits left to right. A blank image is a ValueError naming ``name``."""
    reading = read(name, gray)
    return answer_reading(reading, predict(data.preprocess(reading.fields)), labels)


def line(reply: dict) -> str:
    """The printed answer: ``IMAGE: 7 (probability 0.912)``, or for a number ``IMAGE: 2026 (probability 0.970;
    digits 2 0.990, 0 0.980, 2 0.970, 6 0.990)``, a digit cut from touching ones marked ``(touching)``."""
    head = f"{reply['file']}: {reply['class']} (probability {reply['probability']:.3f}"
    if "number" not in reply:
        return head + ")"
    parts = [f"{d['class']} {d['probability']:.3f}" + (" (touching)" if d["merged"] else "") for d in reply["digits"]]
    return f"{head}; digits {', '.join(parts)})"


# Images decoded ahead and answered with one model call. Each decode holds at most one image within
# imagefile's caps (under 1 GB, docs/predict.md) while it runs, and only 28×28 fields after: so at most
# WORKERS decodes and 2 × CHUNK small readings are in memory, whatever the number of files.
CHUNK = 64
WORKERS = 2


def load(path: str) -> Reading | Exception:
    """``read`` of the file at ``path`` (``-``: standard input), or the ValueError/OSError naming it."""
    try:
        return read(path, images.decode(path))
    except (ValueError, OSError) as err:
        return err


def sigint_blocked() -> None:
    """A decoding thread's start: Ctrl-C is the main thread's to take, which alone can break a read of stdin."""
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, which has no per-thread masks
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def answers(paths: Iterable[str], predict: loaders.Predictor, labels: tuple[str, ...], chunk: int = CHUNK
            ) -> Iterator[dict | Exception]:
    """Each path's answer (``answer_image``'s dict) or its error, in the order given, as soon as its chunk is
    answered. Files are decoded on ``WORKERS`` threads, one chunk ahead of the model; standard input (``-``) is
    read on this thread, where Ctrl-C can interrupt it."""
    pool = concurrent.futures.ThreadPoolExecutor(WORKERS, "decode", initializer=sigint_blocked)
    pending: collections.deque = collections.deque()
    paths = iter(paths)
    try:
        while True:
            while len(pending) < 2 * chunk and (path := next(paths, None)) is not None:
                pending.append(path if path == "-" else pool.submit(load, path))
            if not pending:
                return
            # Standard input answers alone, and what came before it first: its read may wait for the user.
            batch = [pending.popleft()]
            while pending and len(batch) < chunk and not isinstance(batch[-1], str) and \
                    not isinstance(pending[0], str):
                batch.append(pending.popleft())
            done: list[Reading | Exception] = []
            try:
                done.extend(load(p) if isinstance(p, str) else p.result() for p in batch)
            finally:  # on Ctrl-C too: what was read before it is answered, then the interruption goes on
                yield from answer_chunk(done, predict, labels)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def answer_chunk(done: list[Reading | Exception], predict: loaders.Predictor, labels: tuple[str, ...]
                 ) -> Iterator[dict | Exception]:
    """The answers of a chunk of readings (errors passed through), from one model call for all their digits."""
    readings = [r for r in done if isinstance(r, Reading)]
    probs = iter(np.split(predict(data.preprocess(np.concatenate([r.fields for r in readings]))),
                          np.cumsum([len(r.fields) for r in readings])[:-1]) if readings else [])
    for r in done:
        yield answer_reading(r, next(probs), labels) if isinstance(r, Reading) else r
