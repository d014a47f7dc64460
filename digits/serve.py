"""Draw a digit: a web page that classifies what you draw or upload, and the JSON API behind it.

``python -m digits.serve [--host 127.0.0.1] [--port 8000] [--model cnn] [--format keras|h5|savedmodel|tflite]
[--project DIR] [--access-log]``

Loads the project's trained models once (every one of params.yaml's models whose file exists in ``--format``;
``--model`` is the page's default), then serves ``digits.webapp`` with uvicorn and prints one line saying where.
``--port 0`` takes a free port (the line tells which). Ctrl-C or SIGTERM stops it.
"""
from __future__ import annotations

import argparse
import logging
from pathlib import Path

from digits import batching, config, data, formats, loaders, predict, runner


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m digits.serve", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this "
                        "machine only; the server has no authentication, so think twice before 0.0.0.0)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default: 8000; 0: any free port)")
    parser.add_argument("--model", default="cnn", help="the model the API uses when a request names none "
                        "(default: cnn)")
    parser.add_argument("--format", default="keras", choices=formats.FORMATS,
                        help="keras: the trained models; the others: export's files (default: keras)")
    parser.add_argument("--project", type=Path, default=None,
                        help="the project folder holding params.yaml and artifacts/ (default: as for "
                             "python -m digits.predict)")
    parser.add_argument("--access-log", action="store_true", help="log every request (default: errors only)")
    return parser.parse_args(argv)


def load_models(project: Path, fmt: str, default: str) -> dict[str, loaders.Predictor]:
    """Each of params.yaml's models that exists in ``fmt``, ``default`` first; OSError if there is none."""
    params = config.load_params(project / config.PARAMS_FILE)
    if default not in params.models:
        raise ValueError(f"--model {default}: not one of params.yaml's models ({', '.join(params.models)})")
    names = sorted(params.models, key=lambda name: name != default)
    present = [name for name in names if formats.model_path(name, fmt, project).exists()]
    if not present:
        raise OSError(f"no {fmt} model in {project}: run `dvc repro`"
                      + ("" if fmt == "keras" else f" with {fmt} under export.formats in params.yaml"))
    return {name: predict.load_model(params, project, name, fmt) for name in present}


def server(app, args: argparse.Namespace):
    """A uvicorn server for ``app`` that prints where it listens once it does (so ``--port 0`` is usable)."""
    import uvicorn

    class Server(uvicorn.Server):
        async def startup(self, sockets=None) -> None:
            await super().startup(sockets)
            if self.started:
                host, port = self.servers[0].sockets[0].getsockname()[:2]
                shown = f"[{host}]" if ":" in host else host
                print(f"serve: http://{shown}:{port}/ (models: {', '.join(app.state.models)})", flush=True)

    # Uvicorn's own start-up lines and per-request log are noise here: warnings and errors only, unless asked.
    settings = uvicorn.Config(app, host=args.host, port=args.port, log_level="warning",
                              access_log=args.access_log, server_header=False)
    if args.access_log:  # (the Config just set every uvicorn logger to log_level)
        logging.getLogger("uvicorn.access").setLevel(logging.INFO)
    return Server(settings)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    from digits import webapp  # after the arguments: --help answers without loading Starlette

    project = predict.project_folder(args.project)
    labels = data.load_class_names(data.split_path(project / config.PATHS.data, "test"))
    batchers = {name: batching.Batcher(p) for name, p in load_models(project, args.format, args.model).items()}
    app = webapp.make_app(webapp.Models(batchers, args.format, labels))
    app.state.models = list(batchers)
    try:
        server(app, args).run()
    finally:
        for batcher in batchers.values():
            batcher.close()
    return 0


if __name__ == "__main__":
    runner.exit_on_error(main)
