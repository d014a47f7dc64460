"""One image's answer in ``digits.serve``: its header read for its cost (``imagefile.cost``) in a worker thread, a turn
in its decode lane (``shares.Lanes``) taken on the event loop, so a request waiting for one holds no thread, then
decoding, preprocessing and the model call in a worker thread; the turn is given back before the model call.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import numpy as np
from PIL import Image
from starlette.concurrency import run_in_threadpool

from digits.read import imagefile, images, reading
from digits.serve import batching, shares, uploads
from digits.data import arrays

TOP = 5  # classes per digit in ``top``


@contextmanager
def refusals() -> Iterator[None]:
    """An image's own faults as the API's: 415 for no image at all, 400 for one over the pixel or aspect cap, cut
    off or corrupt."""
    try:
        yield
    except imagefile.NotAnImage as err:
        raise uploads.ApiError(415, str(err)) from None
    except ValueError as err:
        raise uploads.ApiError(400, str(err)) from None


def cost(name: str, data: bytes) -> tuple[int, int]:
    """``imagefile.cost`` of a request's image (its header only), with the API's refusals."""
    with refusals():
        return imagefile.cost(name, data)


def classify(name: str, data: bytes, batcher: batching.Batcher, labels: tuple[str, ...],
             release: Callable[[], None]) -> dict:
    """``answers.Answer.as_json`` for one image in memory, plus ``seen`` and ``top`` for the digits read (the
    answer's ``chosen`` and ``read`` candidates: for "not a digit", ``seen`` shows what was refused and ``top`` is
    empty). Decoding and finding the candidates hold the caller's decode
    turn (their memory is what grows with the image); ``release`` gives it back before the model call, so requests
    waiting for the model still share one batch."""
    with refusals():
        gray = images.decode_bytes(name, data)
        found = reading.read(name, gray)  # a blank image is its fault: 400
    release()  # the candidates' 28×28 fields are the model's small input
    x = arrays.preprocess(found.fields)
    out = batcher(x)  # the classes' probabilities, and the detector's logit where there is one
    answer = reading.answer_reading(found, out, labels)
    return {**answer.as_json(), "seen": seen_png([x[list(answer.chosen)]]),
            "top": top_classes(reading.split(out, labels)[0][list(answer.read)], labels)}


async def answer(name: str, data: bytes, batcher: batching.Batcher, labels: tuple[str, ...],
                 lanes: shares.Lanes) -> dict:
    """``classify`` in a worker thread once the image's lane has room: 400 for an image whose decoding alone would
    need more memory than the large lane has, 503 when too many large ones wait already."""
    pixels, need = await run_in_threadpool(cost, name, data)
    if need > lanes.room:
        raise uploads.ApiError(400, f"{name}: {pixels:,} pixels, too many for its format, whose decoder needs "
                                   f"{need // pixels} times a PNG's memory; send a PNG or JPEG, or a smaller image")
    try:
        async with lanes.hold(pixels, need) as release:
            return await run_in_threadpool(classify, name, data, batcher, labels, release)
    except shares.Full as full:
        raise uploads.ApiError(503, f"busy: {full}; try again shortly") from None


def top_classes(probs: np.ndarray, labels: tuple[str, ...], k: int = TOP) -> list[list[dict]]:
    """Per digit the model saw, its ``k`` most probable classes, most probable first (the page's bar chart)."""
    return [[{"class": labels[i], "label": int(i), "probability": round(float(row[i]), 6)}
             for i in np.argsort(-row, kind="stable")[:k]] for row in probs]


def seen_png(batches: list[np.ndarray]) -> str:
    """The model's inputs (N×28×28 floats 0..1) as one base64 PNG, the digits side by side."""
    pixels = np.concatenate([digit for x in batches for digit in x], axis=1)
    out = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")
