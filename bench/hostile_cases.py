"""The cases ``bench.serve_hostile`` replays (the red team's table, docs/using.md "Limits"), each a function of
the ``Target`` that returns its clients' outcomes; ``bench.hostile_watch`` adds what the server did meanwhile."""
from __future__ import annotations

import itertools
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from harness import hostile_bodies as hb
from bench import hostile_clients as hc
from bench.hostile_watch import latency
from digits.serve import uploads

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "drawn_7.png"  # a small honest PNG inside bad bodies


@dataclass
class Target:
    """The server under test and what the cases need of it."""
    proc: subprocess.Popen
    port: int
    header_timeout: float
    body_timeout: float
    slowloris: int  # connections in the slowloris case
    honest: list[tuple[bytes, str | None]] = field(default_factory=list)  # (PNG, true class or None: not checked)

    @cached_property
    def png(self) -> bytes:
        return hb.stroke_png()


def summary(outcomes: list[hc.Outcome]) -> dict:
    """Clients, outcome counts, each status's first message, and how long clients took to their outcome."""
    messages: dict[str, str] = {}
    for o in outcomes:
        messages.setdefault(o.outcome, o.message)
    return {"clients": len(outcomes), "outcomes": dict(sorted(Counter(o.outcome for o in outcomes).items())),
            "messages": {k: v for k, v in sorted(messages.items()) if v and k != "200"},
            "client_seconds": {k.replace("_ms", "_s"): v and round(v / 1000, 3)
                               for k, v in latency([o.seconds for o in outcomes]).items()}}


def at_once(n: int, client: Callable[[], hc.Outcome]) -> tuple[list[threading.Thread], list[hc.Outcome]]:
    """``n`` threads each running ``client`` once, started; their outcomes fill the list as they end."""
    outcomes: list[hc.Outcome] = []
    threads = [threading.Thread(target=lambda: outcomes.append(client())) for _ in range(n)]
    for thread in threads:
        thread.start()
    return threads, outcomes


def clients_of(kind: str, t: Target) -> Callable[[], hc.Outcome]:
    """One hostile client of ``kind`` (all but slowloris, which is one flood)."""
    cap = uploads.MAX_BODY
    if kind == "stall":  # most of a full-size body, then silence until the server's body deadline
        stall = hb.head(cap) + bytes(cap)
        return lambda: hc.exchange(t.port, stall, upto=len(stall) - 1024, timeout=t.body_timeout + 15)
    request = {"png": lambda: hb.head(len(t.png)) + t.png,  # (made only for its case: the PNG takes a second)
               "boundary": lambda: hb.multipart_request(EXAMPLE.read_bytes(), "b" * 2000),
               "truncated": lambda: hb.multipart_request(EXAMPLE.read_bytes(), "bench", cut=len("\r\n--bench--\r\n")),
               "disconnect": lambda: hb.head(1000) + b"\x89PNG\r\n\x1a\n"}[kind]()
    if kind == "disconnect":
        return lambda: hc.exchange(t.port, request, leave=True)
    return lambda: hc.exchange(t.port, request, timeout=600)


def replay(kind: str, t: Target, n: int) -> dict:
    threads, outcomes = at_once(n, clients_of(kind, t))
    for thread in threads:
        thread.join()
    return summary(outcomes)


def slowloris(t: Target, n: int) -> dict:
    flood = hc.slowloris(t.port, n, t.header_timeout + 5)
    closed = [s for s in flood.closed_after if s != float("inf")]
    return {"clients": n, "outcomes": dict(sorted(Counter(flood.outcomes).items())),
            "connect_seconds": round(flood.connect_seconds, 2),
            "open_3s_after_last_connect": sum(s > 3 for s in flood.closed_after),
            "last_closed_after_s": round(max(closed), 2) if closed else None}


def honest(port: int, bodies: list[tuple[bytes, str | None]], busy: Callable[[], bool], threads: int = 4) -> dict:
    """``threads`` honest clients POSTing ``bodies`` (PNG, true class or None: unchecked), each request on a fresh
    connection, while ``busy()``: their outcomes and latency, and when (seconds after they began) the first and the
    last request that failed were sent (they retry at once: a brief refusal is many failed requests)."""
    records: list[tuple[hc.Outcome, bool]] = []
    failed: list[float] = []
    began = time.monotonic()

    def client(offset: int) -> None:
        for i in itertools.count(offset, threads):
            if not busy():
                return
            png, truth = bodies[i % len(bodies)]
            sent = time.monotonic() - began
            got = hc.exchange(port, hb.head(len(png)) + png, timeout=120)  # (a 200's message is its body's start)
            records.append((got, truth is None or got.outcome != "200" or f'"class":"{truth}"' in got.message))
            failed.extend([sent] if got.outcome != "200" else [])

    workers = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    ok = [got.seconds for got, _ in records if got.outcome == "200"]
    outcomes = summary([got for got, _ in records])
    return {"requests": outcomes.pop("clients"), **outcomes, "ok": len(ok), **latency(ok),
            "success_rate": round(len(ok) / max(len(records), 1), 3), "wrong_answers": sum(not r for _, r in records),
            "failed_sent_s": [round(min(failed), 2), round(max(failed), 2)] if failed else None,
            "seconds": round(time.monotonic() - began, 2)}


def mixed(t: Target, n: int) -> dict:
    """``n`` clients of every kind at once (slowloris included) while honest clients POST digits."""
    floods: dict = {}
    flood = threading.Thread(target=lambda: floods.update(slowloris=slowloris(t, n)))
    flood.start()
    kinds = {kind: at_once(n, clients_of(kind, t)) for kind in ("stall", "png", "boundary", "truncated", "disconnect")}
    threads = [flood, *(thread for ts, _ in kinds.values() for thread in ts)]
    result = {"honest": honest(t.port, t.honest, lambda: any(thread.is_alive() for thread in threads))}
    for thread in threads:
        thread.join()
    result["kinds"] = {**floods, **{kind: summary(outcomes) for kind, (_, outcomes) in kinds.items()}}
    result["clients"] = sum(k["clients"] for k in result["kinds"].values())
    total = sum((Counter(k["outcomes"]) for k in result["kinds"].values()), Counter())
    result["outcomes"] = dict(sorted(total.items()))
    return result


def sigterm(t: Target, n: int) -> dict:
    """One client has sent its headers and 3 of 1,000 body bytes; how long the server takes to exit on SIGTERM."""
    with socket.create_connection(("127.0.0.1", t.port), timeout=30) as sock:
        sock.sendall(hb.head(1000) + b"\x89PN")
        time.sleep(0.5)
        began = time.monotonic()
        t.proc.send_signal(signal.SIGTERM)
        try:
            code = t.proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            t.proc.kill()
            code = t.proc.wait()
        exit_seconds = time.monotonic() - began
        outcome, _ = hc.answer(sock, time.monotonic() + 5)
    return {"clients": 1, "outcomes": {outcome: 1}, "exit_seconds": round(exit_seconds, 2), "exit_code": code}


CASES: dict[str, Callable[[Target, int], dict]] = {
    "slowloris": lambda t, n: slowloris(t, t.slowloris),
    "stall": lambda t, n: replay("stall", t, n),
    "png24": lambda t, n: replay("png", t, 24),
    "png": lambda t, n: replay("png", t, n),
    "boundary": lambda t, n: replay("boundary", t, n),
    "truncated": lambda t, n: replay("truncated", t, n),
    "disconnect": lambda t, n: replay("disconnect", t, n),
    "mixed": mixed,
    "sigterm": sigterm,  # last: it stops the server
}
