"""Draw a digit: a web page that classifies what you draw or upload, and the JSON API behind it.

``python -m digits.serve [--host 127.0.0.1] [--port 8000] [--model cnn] [--format keras|h5|savedmodel|tflite]
[--project DIR] [--trust-model] [--access-log] [--header-timeout 10] [--body-timeout 30] [--max-connections 100]``

Loads the project's trained models once (every one of params.yaml's models whose file exists in ``--format``;
``--model`` is the page's default), then serves ``digits.serve.webapp`` with uvicorn and prints one line saying where.
``--port 0`` takes a free port (the line tells which). Ctrl-C or SIGTERM stops it, within ``guards.SHUTDOWN_TIMEOUT``
seconds whatever clients do. The limits against hostile clients are ``digits.serve.guards``' (and the modules it names).
"""
from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

from digits import project
from digits.config import schema
from digits.export import formats, loaders
from digits.read import reading
from digits.serve import batching, guards


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m digits.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this "
                        "machine only; the server has no authentication, so think twice before 0.0.0.0)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000; 0: any free port)")
    project.add_options(parser, "the model the API uses when a request names none")
    parser.add_argument("--access-log", action="store_true", help="log every request (default: errors only)")
    parser.add_argument("--header-timeout", type=float, default=guards.HEADER_TIMEOUT, metavar="S",
                        help="seconds a connection has to send a request's headers (default: %(default)g)")
    parser.add_argument("--body-timeout", type=float, default=guards.BODY_TIMEOUT, metavar="S",
                        help="seconds a request has to send its whole body, else 408 (default: %(default)g)")
    parser.add_argument("--max-connections", type=int, default=guards.MAX_CONNECTIONS, metavar="N",
                        help="open connections (past it, those idle longest are closed) and requests at once "
                             "(503 beyond; default: %(default)d)")
    args = parser.parse_args(argv)
    if min(args.header_timeout, args.body_timeout) <= 0 or args.max_connections < 1:
        parser.error("--header-timeout and --body-timeout must be above 0, --max-connections at least 1")
    return args


def limits(args: argparse.Namespace) -> guards.Limits:
    return guards.Limits(header_timeout=args.header_timeout, body_timeout=args.body_timeout,
                         max_connections=args.max_connections)


def load_models(folder: Path, fmt: str, default: str, trust: bool = False) -> dict[str, loaders.Predictor]:
    """Each of params.yaml's models that exists in ``fmt``, ``default`` first; OSError if there is none. A
    SavedModel from another project's folder only with ``trust`` (``project.load_model``)."""
    params = schema.load_params(folder / schema.PARAMS_FILE)
    project.check_model(params, default)
    names = sorted(params.models, key=lambda name: name != default)
    present = [name for name in names if formats.model_path(name, fmt, folder).exists()]
    if not present:
        raise OSError(f"no {fmt} model in {folder}: run `dvc repro`"
                      + ("" if fmt == "keras" else f" with {fmt} under export.formats in params.yaml"))
    detect = project.load_detector(folder)
    return {name: reading.with_detector(project.load_model(params, folder, name, fmt, trust), detect)
            for name in present}


def server(app, args: argparse.Namespace, bounds: guards.Limits):
    """A uvicorn server for ``app`` (a Starlette app, ``webapp.make_app``'s), behind ``admission.Guard`` and with
    ``connections``' protocol within ``bounds``, that prints where it listens once it does (so ``--port 0`` is
    usable)."""
    import uvicorn

    from digits.serve import admission, connections

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            asyncio.get_running_loop().set_exception_handler(connections.quiet_loop_errors)
            await super().startup(sockets)
            if self.started:
                host, port = self.servers[0].sockets[0].getsockname()[:2]
                shown = f"[{host}]" if ":" in host else host
                print(f"serve: http://{shown}:{port}/ (models: {', '.join(app.state.models)})", flush=True)

    guarded = admission.Guard(app, guards.allowed_hosts(args.host), bounds.max_connections)
    # Uvicorn's own start-up lines and per-request log are noise here: warnings and errors only, unless asked.
    settings = uvicorn.Config(guarded, host=args.host, port=args.port, log_level="warning",
                              access_log=args.access_log, server_header=False, http=connections.protocol_class(bounds),
                              backlog=guards.BACKLOG, timeout_graceful_shutdown=bounds.shutdown_timeout)
    if args.access_log:  # (the Config just set every uvicorn logger to log_level)
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    # python-multipart logs each malformed body it meets; the client gets that message in its 400 already.
    logging.getLogger("python_multipart").setLevel(logging.ERROR)
    return Server(settings)


def run(models, args: argparse.Namespace, bounds: guards.Limits | None = None) -> None:
    """Serve ``models`` (``webapp.Models``) as ``args`` say (and within ``bounds``: default, the options' limits)
    until Ctrl-C or SIGTERM; close their batchers after."""
    from digits.serve import webapp

    guards.return_large_frees()
    bounds = bounds or limits(args)
    app = webapp.make_app(models, bounds)
    app.state.models = list(models.batchers)
    try:
        server(app, args, bounds).run()
    finally:
        for batcher in models.batchers.values():
            batcher.close()


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digits.serve import webapp  # after the arguments: --help answers without loading Starlette

    folder = project.folder(args.project)
    labels = project.class_names(folder)  # before the models load: a missing test split fails at once
    loaded = load_models(folder, args.format, args.model, args.trust_model)
    batchers = {name: batching.Batcher(p) for name, p in loaded.items()}
    run(webapp.Models(batchers, args.format, labels), args)
    return 0

