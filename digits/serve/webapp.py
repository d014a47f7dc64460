"""The web app of ``digits.serve``: the draw-a-digit page (``digits/serve/static/``) and its JSON API, on Starlette.

``POST /api/predict?model=cnn`` answers one image (raw body or form field ``image``) with the object
``digits.read.answers.Answer`` it gets (``as_json``), plus ``seen``: the 28×28 image(s) the model was given, as a base64
PNG (several digits side by side), and ``top``: per digit, its five most probable classes. ``GET /api/health``
lists the models loaded. Every error is ``{"error": "..."}`` with its status; decoding and preprocessing run in
worker threads, each image in its lane once its header has been read (``digits.serve.answering``; small images never
wait behind large ones), the model calls in one batching thread per model (``digits.serve.batching``), so the event loop
only moves bytes. A client leaving mid-body is one log line.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import FileResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from digits.export import formats
from digits.serve import answering, batching, guards, shares, uploads

STATIC = Path(__file__).resolve().parent / "static"
log = logging.getLogger("digits.serve")


@dataclass
class Models:
    """What the app serves: a batched predictor per model name, in one format, and the class names."""
    batchers: dict[str, batching.Batcher]
    fmt: str
    labels: tuple[str, ...]

    def pick(self, name: str | None) -> batching.Batcher:
        name = name or next(iter(self.batchers))  # serve's --model comes first
        if name not in self.batchers:
            raise uploads.ApiError(404, f"unknown model {name[:40]!r}; loaded: {', '.join(self.batchers)}")
        return self.batchers[name]


def make_app(models: Models, limits: guards.Limits = guards.Limits()) -> Starlette:
    lanes = shares.Lanes(limits)
    budget = shares.Budget(limits.body_budget, limits.small_body, limits.max_connections * limits.small_body)

    async def page(request: Request) -> FileResponse:
        return FileResponse(STATIC / "index.html")

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok", "format": models.fmt, "formats": list(formats.FORMATS),
                             "classes": list(models.labels),
                             "models": {name: {"model_calls": b.calls, "images": b.images}
                                        for name, b in models.batchers.items()}})

    async def predict_route(request: Request) -> JSONResponse:
        batcher = models.pick(request.query_params.get("model"))
        async with uploads.image_body(request, budget, limits) as (name, data):
            return JSONResponse(await answering.answer(name, data, batcher, models.labels, lanes))

    async def icon(request: Request) -> FileResponse:  # browsers and tools ask for it whatever the page declares
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml")

    routes = [Route("/", page), Route("/favicon.ico", icon), Route("/api/health", health),
              Route("/api/predict", predict_route, methods=["POST"]),
              Mount("/static", StaticFiles(directory=STATIC), name="static")]
    return Starlette(routes=routes, exception_handlers={uploads.ApiError: api_error, HTTPException: http_error,
                                                        ClientDisconnect: client_gone, Exception: server_error})


def where(request: Request) -> str:
    client = f"{request.client.host}:{request.client.port}" if request.client else "a client"
    return f"{request.method} {request.url.path[:100]} from {client}"


async def api_error(request: Request, err: uploads.ApiError) -> JSONResponse:
    if err.status == 408:  # a client's fault, but one worth a line: a slow link, or a client holding memory
        log.warning("serve: %s: %s", where(request), err)
    headers = {**({"Connection": "close"} if err.close else {}), **({"Retry-After": "1"} if err.status == 503 else {})}
    return JSONResponse({"error": str(err)}, status_code=err.status, headers=headers)


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
