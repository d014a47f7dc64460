"""Load on ``python -m digits.serve``: many concurrent clients POST MNIST test digits, bounded in count and time.

``python -m bench.serve_load [--clients 16] [--requests 400] [--seconds 60] [--project DIR] [--format keras]
[--out bench/results/serve.json]`` starts the server on a free loopback port in a child process, has ``--clients``
threads (each with its own keep-alive connection) send ``--requests`` PNGs (MNIST test digits, dark on light, made
in memory) within ``--seconds``, and writes throughput, p50/p99 latency, errors (must be 0), wrong answers, the
server's memory (VmRSS) after warm-up and at the end, and its model calls per request (the batching) to ``--out``.
The same is timed for ``GET /api/health`` alone, which is the framework's own cost per request.
"""
from __future__ import annotations

import argparse
import http.client
import io
import itertools
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from PIL import Image

from digits.config import schema
from digits.data import arrays
from digits.runtime import runner
from harness.server import request, start


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_load", description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=16, help="concurrent clients (default: 16)")
    parser.add_argument("--requests", type=int, default=400, help="requests in all (default: 400)")
    parser.add_argument("--seconds", type=float, default=60, help="stop sending after this long (default: 60)")
    parser.add_argument("--project", type=Path, default=runner.PACKAGE_ROOT, help="project with trained models")
    parser.add_argument("--format", default="keras", help="the model format the server loads (default: keras)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "serve.json")
    return parser.parse_args(argv)


def test_pngs(project: Path, count: int = 200) -> list[tuple[bytes, str]]:
    """(PNG bytes, true class) for MNIST's first test digits, dark ink on white as a drawing would be."""
    path = arrays.split_path(project / schema.PATHS.data, "test")
    digits, labels = arrays.load_split(path)
    names = arrays.load_class_names(path)
    out = []
    for digit, label in zip(digits[:count], labels[:count]):
        buffer = io.BytesIO()
        Image.fromarray(255 - digit).resize((112, 112), Image.Resampling.BILINEAR).save(buffer, "PNG")
        out.append((buffer.getvalue(), names[label]))
    return out


def load(url: str, path: str, bodies: list[tuple[bytes, str]], clients: int, total: int, seconds: float) -> dict:
    """Send up to ``total`` requests from ``clients`` threads within ``seconds``; latencies and failures."""
    host, port = url.split("/")[2].rsplit(":", 1)
    tickets, lock = itertools.count(), threading.Lock()
    latencies, errors, wrong = [], [], 0
    deadline = time.monotonic() + seconds

    def client() -> None:
        nonlocal wrong
        conn = http.client.HTTPConnection(host, int(port), timeout=60)
        while time.monotonic() < deadline and (i := next(tickets)) < total:
            body, truth = bodies[i % len(bodies)] if bodies else (None, None)
            started = time.perf_counter()
            try:
                conn.request("POST" if body else "GET", path, body=body)
                response = conn.getresponse()
                answer = json.loads(response.read())
            except (OSError, http.client.HTTPException, ValueError) as err:
                with lock:
                    errors.append(f"{type(err).__name__}: {err}")
                conn.close()
                continue
            with lock:
                latencies.append(time.perf_counter() - started)
                if response.status != 200:
                    errors.append(f"HTTP {response.status}: {answer}")
                wrong += bool(body) and answer.get("class") != truth
        conn.close()

    began = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    ms = np.array(latencies) * 1000
    return {"requests": len(latencies), "seconds": round(wall, 2), "requests_per_second": round(len(ms) / wall, 1),
            "p50_ms": round(float(np.percentile(ms, 50)), 1) if len(ms) else None,
            "p99_ms": round(float(np.percentile(ms, 99)), 1) if len(ms) else None,
            "errors": len(errors), "first_errors": errors[:5], "wrong_answers": wrong}


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    bodies = test_pngs(args.project)
    with tempfile.TemporaryDirectory() as cwd, tempfile.TemporaryDirectory() as tmp:
        server = start(args.project, Path(cwd), Path(tmp), "--format", args.format)
        try:
            load(server.url, "/api/predict", bodies, 4, 40, args.seconds)  # warm-up: first calls build graphs
            rss_start, calls_start = server.rss_mb(), request(server.url + "api/health")[1]["models"]["cnn"]
            predict = load(server.url, "/api/predict", bodies, args.clients, args.requests, args.seconds)
            rss_end, calls_end = server.rss_mb(), request(server.url + "api/health")[1]["models"]["cnn"]
            health = load(server.url, "/api/health", [], args.clients, args.requests, args.seconds)
        finally:
            server.stop()
    calls = calls_end["model_calls"] - calls_start["model_calls"]
    result = {"command": "python -m bench.serve_load " + " ".join(argv if argv is not None else sys.argv[1:]),
              "clients": args.clients, "format": args.format, "predict": predict, "health": health,
              "model_calls": calls, "images_per_model_call": round(predict["requests"] / max(calls, 1), 2),
              "server_rss_mb": {"start": round(rss_start, 1), "end": round(rss_end, 1)}}
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 1 if predict["errors"] or health["errors"] else 0


if __name__ == "__main__":
    runner.exit_on_error(main)
