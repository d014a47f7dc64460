"""The web app of ``digits.serve``: the draw-a-digit page (``digits/static/``) and its JSON API, on Starlette.

``POST /api/predict?model=cnn`` answers one image (raw body or form field ``image``) with the object
``digits.reading.answer_image`` gives for it, plus ``seen``: the 28×28 image(s) the model was given, as a base64
PNG (several digits side by side), and ``top``: per digit, its five most probable classes. ``GET /api/health``
lists the models loaded. Every error is ``{"error": "..."}`` with its status; decoding and preprocessing run in
worker threads (``guards.DECODES`` at once), the model calls in one batching thread per model
(``digits.batching``), so the event loop only moves bytes. A client leaving mid-body is one log line.
"""
from __future__ import annotations

import base64
import io
import logging
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from digits import batching, bodies, formats, guards, images, imagefile, reading

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("digits.serve")
TOP = 5  # classes per digit in ``top``


@dataclass
class Models:
    """What the app serves: a batched predictor per model name, in one format, and the class names."""
    batchers: dict[str, batching.Batcher]
    fmt: str
    labels: tuple[str, ...]

    def pick(self, name: str | None) -> batching.Batcher:
        name = name or next(iter(self.batchers))  # serve's --model comes first
        if name not in self.batchers:
            raise bodies.ApiError(404, f"unknown model {name[:40]!r}; loaded: {', '.join(self.batchers)}")
        return self.batchers[name]


def seen_png(batches: list[np.ndarray]) -> str:
    """The model's inputs (N×28×28 floats 0..1) as one base64 PNG, the digits side by side."""
    pixels = np.concatenate([digit for x in batches for digit in x], axis=1)
    out = io.BytesIO()
    Image.fromarray(np.clip(np.rint(pixels * 255.0), 0, 255).astype(np.uint8)).save(out, "PNG")
    return base64.b64encode(out.getvalue()).decode("ascii")


def classify(name: str, data: bytes, batcher: batching.Batcher, labels: tuple[str, ...],
             slots: guards.DecodeSlots) -> dict:
    """``answer_image``'s object for one image in memory, plus ``seen``; the predictor records what it is given,
    so whatever ``answer_image`` makes of the image (one digit or several) is what the page shows. Decoding and
    preprocessing hold one of ``slots`` (their memory is what grows with the image); the model call does not, so
    requests waiting for it still share one batch."""
    seen: list[np.ndarray] = []
    probs: list[np.ndarray] = []
    with slots.hold() as release:
        try:
            gray = images.decode_bytes(name, data)
        except imagefile.NotAnImage as err:
            raise bodies.ApiError(415, str(err)) from None
        except ValueError as err:  # over the pixel or aspect cap, cut off, corrupt
            raise bodies.ApiError(400, str(err)) from None

        def recording(x: np.ndarray) -> np.ndarray:
            release()  # preprocessing is done: x is the model's small input
            seen.append(x)
            probs.append(batcher(x))
            return probs[-1]

        try:
            answer = reading.answer_image(name, gray, recording, labels)
        except ValueError as err:  # blank: the image's fault
            raise bodies.ApiError(400, str(err)) from None
    if not seen:
        return answer
    return {**answer, "seen": seen_png(seen), "top": top_classes(np.concatenate(probs), labels)}


def top_classes(probs: np.ndarray, labels: tuple[str, ...], k: int = TOP) -> list[list[dict]]:
    """Per digit the model saw, its ``k`` most probable classes, most probable first (the page's bar chart)."""
    return [[{"class": labels[i], "label": int(i), "probability": round(float(row[i]), 6)}
             for i in np.argsort(-row, kind="stable")[:k]] for row in probs]


def make_app(models: Models, limits: guards.Limits = guards.Limits()) -> Starlette:
    slots, budget = guards.DecodeSlots(limits.decodes), guards.Budget(limits.body_budget)

    async def page(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "format": models.fmt, "formats": list(formats.FORMATS),
                             "classes": list(models.labels),
                             "models": {name: {"model_calls": b.calls, "images": b.images}
                                        for name, b in models.batchers.items()}})

    async def predict_route(request: Request) -> JSONResponse:
        batcher = models.pick(request.query_params.get("model"))
        async with bodies.image_body(request, budget, limits.body_timeout) as (name, data):
            return JSONResponse(await run_in_threadpool(classify, name, data, batcher, models.labels, slots))

    routes = [Route("/", page), Route("/api/health", health), Route("/api/predict", predict_route, methods=["POST"]),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    return Starlette(routes=routes, exception_handlers={bodies.ApiError: api_error, HTTPException: http_error,
                                                        ClientDisconnect: client_gone, Exception: server_error})


def where(request: Request) -> str:
    client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
    return f"{request.method} {request.url.path[:100]} from {client}"


async def api_error(request: Request, err: bodies.ApiError) -> JSONResponse:
    if err.status == 408:  # a client's fault, but one worth a line: a slow link, or a client holding memory
        log.warning("serve: %s: %s", where(request), err)
    return JSONResponse({"error": str(err)}, status_code=err.status,
                        headers={"Connection": "close"} if err.close else None)


async def http_error(request: Request, err: HTTPException) -> JSONResponse:
    return JSONResponse({"error": err.detail}, status_code=err.status_code, headers=err.headers)


async def client_gone(request: Request, err: ClientDisconnect) -> Response:
    """One line, not the traceback Starlette's error middleware would have uvicorn log; nobody hears the answer."""
    log.warning("serve: %s: the connection closed before the whole body came (the client left, or the "
                "server is stopping)", where(request))
    return Response(status_code=400)


async def server_error(request: Request, err: Exception) -> JSONResponse:
    log.error("%s %s failed: %s: %s", request.method, request.url.path, type(err).__name__, err)
    return JSONResponse({"error": "internal error while answering; see the server's log"}, status_code=500)
