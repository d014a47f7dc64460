"""The test set read as ``python -m digits.predict`` reads files: each image written as a PNG, decoded and read
(``reading.read``: its candidate digits) exactly as predict does, then answered with a model's probabilities
(``reading.answer_reading``). Stage ``read`` finds the candidates once (``read_all``, on worker processes) and
stores them (``pack``); ``evaluate@<model>`` answers them with its model and scores the answers (``score``), so the
accuracy a user gets from predict stands beside the model's own.
"""
from __future__ import annotations

import concurrent.futures
import io
import multiprocessing
import os
from pathlib import Path

import numpy as np
from PIL import Image

from digits import data, images, numbers, reading

CHUNK = 250  # images per task sent to a worker process
MAX_WORKERS = 4  # reading is numpy on small images: more processes than this gain little and cost memory


def read_png(named: tuple[str, np.ndarray]) -> reading.Reading:
    """One image (H×W uint8) as predict reads it from a PNG file, its candidates' ink dropped (only fields and
    geometry are needed to answer)."""
    name, pixels = named
    buffer = io.BytesIO()
    Image.fromarray(pixels).save(buffer, "PNG")
    found = reading.read(name, images.decode_bytes(name, buffer.getvalue()))
    return found._replace(candidates=[c._replace(ink=None) for c in found.candidates])


def read_all(x: np.ndarray, workers: int | None = None) -> list[reading.Reading]:
    """``read_png`` of every image, in order, on ``workers`` processes (default: one per core, at most
    ``MAX_WORKERS``). Spawned, not forked: the parent may hold TensorFlow's threads."""
    workers = workers or min(os.cpu_count() or 1, MAX_WORKERS)
    named = [(f"test image {i}", pixels) for i, pixels in enumerate(x)]
    if workers == 1:
        return [read_png(item) for item in named]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(read_png, named, chunksize=CHUNK))


GEOMETRY = ("start", "stop", "width", "tall", "gap", "cut", "merged")


def pack(readings: list[reading.Reading]) -> dict[str, np.ndarray]:
    """The readings as arrays for one ``.npz``: every candidate's field, box and geometry, and per image its
    number of parts, candidates and size."""
    cands = [c for r in readings for c in r.candidates]
    return {"fields": np.concatenate([r.fields for r in readings]),
            "boxes": np.array([c.box for c in cands], np.int64).reshape(-1, 4),
            **{key: np.array([getattr(c, key) for c in cands]) for key in GEOMETRY},
            "parts": np.array([r.parts for r in readings], np.int64),
            "candidates": np.array([len(r.candidates) for r in readings], np.int64),
            "sizes": np.array([r.size for r in readings], np.int64).reshape(-1, 2)}


def unpack(arrays: dict[str, np.ndarray]) -> list[reading.Reading]:
    """``pack``'s arrays back as readings (candidates without their ink)."""
    ends = np.cumsum(arrays["candidates"])
    cands = [numbers.Candidate(int(s), int(e), tuple(int(v) for v in box), None, float(w), float(t), float(g),
                               float(c), bool(m))
             for s, e, box, w, t, g, c, m in zip(*(arrays[k] for k in ("start", "stop", "boxes", "width", "tall",
                                                                        "gap", "cut", "merged")))]
    return [reading.Reading(f"test image {i}", int(n), cands[end - k:end], arrays["fields"][end - k:end],
                            [int(v) for v in size])
            for i, (n, k, end, size) in enumerate(zip(arrays["parts"], arrays["candidates"], ends, arrays["sizes"]))]


def load(path: Path) -> list[reading.Reading]:
    """Stage ``read``'s readings; a missing or damaged file is one error naming it and the stage that makes it."""
    with data.npz_arrays(path, "read", "those of readcheck.pack") as npz:
        return unpack({key: npz[key] for key in npz.files})


def score(readings: list[reading.Reading], probs: np.ndarray, labels: np.ndarray, class_names: tuple[str, ...]
          ) -> dict:
    """How predict answers each image, given the model's probabilities for every candidate (in order): the share
    read as the right single digit, as one wrong digit, and as a number of several digits; the images read as
    numbers, by index, with what they were read as (the first 20)."""
    ends = np.cumsum([len(r.candidates) for r in readings])
    answers = [reading.answer_reading(r, probs[end - len(r.candidates):end], class_names)
               for r, end in zip(readings, ends)]
    single = np.array([len(a["digits"]) == 1 for a in answers])
    right = np.array([a["class"] == class_names[y] for a, y in zip(answers, labels)]) & single
    n = len(readings)
    as_numbers = [{"index": i, "read": a["class"]} for i, a in enumerate(answers) if len(a["digits"]) > 1]
    return {"images": n, "right": round(float(right.mean()), 4),
            "wrong_single": round(float((single & ~right).mean()), 4),
            "as_number": round(float(1 - single.mean()), 4), "read_as_numbers": as_numbers[:20]}
