"""The test set read as ``python -m digits.predict`` reads files: each image written as a PNG, decoded and read
(``reading.read``: its candidate digits) exactly as predict does, then answered with a model's probabilities
(``reading.answer_reading``). Stage ``read`` finds the candidates once (``read_all``, on worker processes) and
stores them (``pack``); ``evaluate@<model>`` answers them with its model and scores the answers (``score``), so the
accuracy a user gets from predict stands beside the model's own.
"""
from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from digits.data import arrays
from digits.read import answers, images, reading, segment
from digits.runtime import pool



def read_png(named: tuple[str, np.ndarray]) -> segment.Reading:
    """One image (H×W uint8) as predict reads it from a PNG file, its candidates' ink dropped (only fields and
    geometry are needed to answer)."""
    name, pixels = named
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    found = reading.read(name, images.decode_bytes(name, buffer.getvalue()))
    return found._replace(candidates=[c._replace(ink=None) for c in found.candidates])


def read_bytes(named: tuple[str, bytes]) -> segment.Reading | None:
    """One encoded image (PNG, JPEG) as predict reads its file, or None where predict reads nothing (a blank
    sheet: its one error line)."""
    name, payload = named
    try:
        found = reading.read(name, images.decode_bytes(name, payload))
    except ValueError:
        return None
    return found._replace(candidates=[c._replace(ink=None) for c in found.candidates])


def read_all(x: np.ndarray, workers: int | None = None) -> list[segment.Reading]:
    """``read_png`` of every image (H×W uint8), in order, on ``workers`` processes (``pool.in_pool``)."""
    return pool.in_pool(read_png, [(f"test image {i}", pixels) for i, pixels in enumerate(x)], workers)


GEOMETRY = ("start", "stop", "width", "tall", "gap", "cut", "merged")


def pack(readings: list[segment.Reading]) -> dict[str, np.ndarray]:
    """The readings as arrays for one ``.npz``: every candidate's field, box and geometry, and per image its
    number of parts, candidates and size."""
    cands = [c for r in readings for c in r.candidates]
    return {"fields": np.concatenate([r.fields for r in readings]),
            "boxes": np.array([c.box for c in cands], np.int64).reshape(-1, 4),
            **{key: np.array([getattr(c, key) for c in cands]) for key in GEOMETRY},
            "parts": np.array([r.parts for r in readings], np.int64),
            "candidates": np.array([len(r.candidates) for r in readings], np.int64),
            "sizes": np.array([r.size for r in readings], np.int64).reshape(-1, 2)}


def unpack(packed: dict[str, np.ndarray]) -> list[segment.Reading]:
    """``pack``'s arrays back as readings (candidates without their ink)."""
    ends = np.cumsum(packed["candidates"])
    cands = [segment.Candidate(int(s), int(e), tuple(int(v) for v in box), None, float(w), float(t), float(g),
                               float(c), bool(m))
             for s, e, box, w, t, g, c, m in zip(*(packed[k] for k in ("start", "stop", "boxes", "width", "tall",
                                                                        "gap", "cut", "merged")))]
    return [segment.Reading(f"test image {i}", int(n), cands[end - k:end], packed["fields"][end - k:end],
                            [int(v) for v in size])
            for i, (n, k, end, size) in enumerate(zip(packed["parts"], packed["candidates"], ends, packed["sizes"]))]


def load(path: Path) -> list[segment.Reading]:
    """Stage ``read``'s readings; a missing or damaged file is one error naming it and the stage that makes it."""
    with arrays.npz_arrays(path, "read", "those of as_files.pack") as npz:
        return unpack({key: npz[key] for key in npz.files})


def pack_check(readings: list[segment.Reading | None], kinds: list[str]) -> dict[str, np.ndarray]:
    """``pack`` of held-out non-digit images' readings, with each image's kind and whether it was read at all."""
    return {**pack([r for r in readings if r is not None]), "kinds": np.array(kinds),
            "unread": np.array([r is None for r in readings])}


def load_check(path: Path) -> tuple[list[segment.Reading | None], np.ndarray]:
    """``pack_check``'s file back: the readings (None where nothing was read) and the kinds."""
    with arrays.npz_arrays(path, "read", "those of as_files.pack_check") as npz:
        packed = {key: npz[key] for key in npz.files}
    found = iter(unpack(packed))
    return [None if unread else next(found) for unread in packed["unread"]], packed["kinds"]


def answered(readings: list[segment.Reading], out: np.ndarray, class_names: tuple[str, ...]
             ) -> list[answers.Answer]:
    """Each reading's answer from the predictor's output for every candidate, in order (``with_detector``'s)."""
    ends = np.cumsum([len(r.candidates) for r in readings])
    return [reading.answer_reading(r, out[end - len(r.candidates):end], class_names)
            for r, end in zip(readings, ends)]


def score(readings: list[segment.Reading], out: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...]
          ) -> dict:
    """How predict answers each image, given the predictor's output for every candidate (in order): the share
    read as the right single digit, as one wrong digit, as a number of several digits and as "not a digit"; the
    images read as numbers, by index, with what they were read as (the first 20)."""
    replies = answered(readings, out, class_names)
    single = np.array([len(a.digits) == 1 for a in replies])
    refused = np.array([a.refusal is not None for a in replies])
    right = np.array([a.text == class_names[y] for a, y in zip(replies, labels)]) & single
    n = len(readings)
    as_numbers = [{"index": i, "read": a.text} for i, a in enumerate(replies) if a.is_number]
    return {"images": n, "right": round(float(right.mean()), 4),
            "wrong_single": round(float((single & ~right).mean()), 4), "not_a_digit": round(float(refused.mean()), 4),
            "as_number": round(float(1 - single.mean() - refused.mean()), 4), "read_as_numbers": as_numbers[:20]}


def score_refusals(readings: list[segment.Reading | None], kinds: np.ndarray, out: np.ndarray,
                   class_names: tuple[str, ...]) -> dict:
    """The share of non-digit images refused, in all and by kind: read as "not a digit", or nothing read at all
    (None: a blank sheet, which predict answers with an error line)."""
    found = [r for r in readings if r is not None]
    replies = iter(answered(found, out, class_names))
    refused = np.array([r is None or next(replies).refusal is not None for r in readings])
    return {"images": len(readings), "refused": round(float(refused.mean()), 4),
            "by_kind": {k: round(float(refused[kinds == k].mean()), 4) for k in sorted(set(kinds.tolist()))}}
