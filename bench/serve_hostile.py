"""Hostile clients against ``python -m digits.serve``: the red team's cases replayed, with the server's memory.

``python -m bench.serve_hostile [--cases all|slowloris,stall,...] [--clients 200] [--slowloris 1100]
[--real --project DIR] [--header-timeout S] [--body-timeout S] [--server-files 1024]
[--out bench/results/serve_hostile.json]`` starts the server in a child process on a free loopback port (by
default the fake-model server, ``harness.fake_server``: the real app, limits and protocol, and no trained model
needed; ``--real``: ``digits.serve`` with the project's models), replays each case in turn and writes, per case,
the clients' outcomes, ``/api/health``'s latency meanwhile, the server's RSS before, at peak and after, its log
lines and whether any was a traceback (``bench.hostile_watch``). The cases (``bench.hostile_cases``): slowloris
(connections sending a request line only), stall (most of a 10 MB body, then silence), png24 and png (24 and
``--clients`` uploads at once of a 6,320×6,320 PNG), boundary (a 2,000-character multipart boundary), truncated (a
multipart body without its closing boundary), disconnect (a client leaving mid-body), mixed (``--clients`` of each
kind at once while honest clients POST digits), sigterm (exit time with a client stalled mid-body; always last).
The server keeps its real limits unless ``--header-timeout``/``--body-timeout`` are given (passed to it, recorded).
"""
from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

from bench import hostile_cases, hostile_watch
from harness.server import start
from digits.runtime import runner, storage
from digits.serve import guards

CASES = tuple(hostile_cases.CASES)
TARGET_MB = 1536  # the "≤ 1.5 GB RSS with 200 hostile clients of every kind" (MB as /proc's kB / 1024)
STACK = 512 * 1024  # bytes of stack per client thread: a thousand threads, each only waiting on a socket


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.serve_hostile", description=__doc__.splitlines()[0])
    parser.add_argument("--cases", default="all", help=f"all, or some of: {','.join(CASES)}")
    parser.add_argument("--clients", type=int, default=200, help="clients per case, and of each kind in mixed")
    parser.add_argument("--slowloris", type=int, default=1100, help="connections in the slowloris case")
    parser.add_argument("--real", action="store_true", help="digits.serve with --project's trained models")
    parser.add_argument("--project", type=Path, default=runner.PACKAGE_ROOT, help="project with trained models")
    parser.add_argument("--header-timeout", type=float, help="passed to the server (default: its own)")
    parser.add_argument("--body-timeout", type=float, help="passed to the server (default: its own)")
    parser.add_argument("--server-files", type=int, default=1024,
                        help="the server's open-file soft limit (default: 1024, the usual; 0: inherited)")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "serve_hostile.json")
    args = parser.parse_args(argv)
    names = CASES if args.cases == "all" else tuple(args.cases.split(","))
    if set(names) - set(CASES):
        parser.error(f"--cases: all, or some of {','.join(CASES)}")
    args.cases = tuple(c for c in CASES if c in names)  # in CASES' order, whatever the command's: sigterm last
    return args


def serve_options(args: argparse.Namespace) -> list[str]:
    return [*(["--header-timeout", str(args.header_timeout)] if args.header_timeout else []),
            *(["--body-timeout", str(args.body_timeout)] if args.body_timeout else [])]


def open_files_limits(pid: int, server_files: int) -> dict:
    """Raise this process's soft open-file limit to its hard one (a thousand sockets at once), after the server
    started (it keeps its own); set the server's soft limit to ``server_files`` (0: leave it)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if server_files:
        resource.prlimit(pid, resource.RLIMIT_NOFILE, (min(server_files, hard), hard))
    return {"bench": [hard, hard], "bench_was": [soft, hard],
            "server": list(resource.prlimit(pid, resource.RLIMIT_NOFILE))}


def honest_bodies(args: argparse.Namespace) -> list[tuple[bytes, str | None]]:
    """MNIST test digits with their classes for the real models; for the fake one, which answers 7 to anything,
    the examples' drawn digits, unchecked."""
    if args.real:
        from bench.serve_load import test_pngs

        return test_pngs(args.project, 100)
    return [(p.read_bytes(), None) for p in sorted((runner.PACKAGE_ROOT / "examples").glob("drawn_*.png"))]


def replay(args: argparse.Namespace, cwd: Path) -> tuple[dict, dict]:
    """Start the server, replay ``args.cases`` against it, stop it: (the cases' records, the open-file limits)."""
    project = args.project if args.real else cwd
    module = "digits.serve" if args.real else "harness.fake_server"
    server = start(project, cwd, cwd, *serve_options(args), module=module)
    log = hostile_watch.Log(server.proc.stderr)
    cases: dict = {}
    try:
        files = open_files_limits(server.proc.pid, args.server_files)
        target = hostile_cases.Target(server.proc, urllib.parse.urlsplit(server.url).port,
                                      args.header_timeout or guards.HEADER_TIMEOUT,
                                      args.body_timeout or guards.BODY_TIMEOUT, args.slowloris, honest_bodies(args))
        for name in args.cases:
            print(f"serve_hostile: {name}...", file=sys.stderr, flush=True)
            with hostile_watch.watching(server.proc, target.port, log) as record:
                record.update(hostile_cases.CASES[name](target, args.clients))
            cases[name] = record
    finally:
        if server.proc.poll() is None:
            server.proc.terminate()
            server.proc.wait(timeout=30)
        log.reader.join(timeout=10)
    return cases, files


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    threading.stack_size(STACK)
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as cwd:
        cases, files = replay(args, Path(cwd))
    peak = max(c["server_rss_mb"]["peak"] or 0 for c in cases.values())
    result = {"command": "python -m bench.serve_hostile " + " ".join(argv if argv is not None else sys.argv[1:]),
              "server": "digits.serve (real models)" if args.real else "harness.fake_server (fake model)",
              "serve_options": serve_options(args), "open_files_limit": files, "cpus": os.cpu_count(),
              "cases": cases, "peak_rss_mb": peak, "target_peak_rss_mb": TARGET_MB,
              "within_target": peak <= TARGET_MB, "seconds": round(time.monotonic() - began, 1)}
    storage.write_json(args.out, result)
    for name, case in cases.items():
        rss = case["server_rss_mb"]
        print(f"{name:10} clients {case['clients']:5}  {case['outcomes']}  health p50/max "
              f"{case['health']['p50_ms']}/{case['health']['max_ms']} ms  RSS {rss['before']} → {rss['peak']} → "
              f"{rss['after']} MB  log {case['log_lines']}{' TRACEBACK' if case['traceback'] else ''}  "
              f"{case['seconds']} s")
        if "honest" in case:
            print(f"{'':10} honest {case['honest']}")
    print(f"peak RSS {peak} MB (target {TARGET_MB}); {result['seconds']} s; written to {args.out}")
    return 0 if not any(c["traceback"] for c in cases.values()) else 1


if __name__ == "__main__":
    runner.exit_on_error(main)
