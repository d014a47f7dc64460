"""The hostile clients of ``bench.serve_hostile``, over raw sockets so that each stops where a hostile one would:
mid-headers, mid-body, or gone (the honest clients use ``exchange`` too). Every client ends in one outcome: the
answer's HTTP status ("400", "503", ...; an answer sent before a reset is still read), or "closed" (the server
closed without answering), "reset" (it closed without answering, the request unread, so the kernel reset the
connection), "timeout", "left" (the client hung up itself) or "connect_failed"."""
from __future__ import annotations

import json
import selectors
import socket
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from harness.hostile_bodies import SLOW_HEAD

PIECE = 64 * 1024  # bytes sent between looks for an early answer (a 503 comes before the body is read)


@dataclass
class Outcome:
    outcome: str
    seconds: float
    message: str = ""  # the error message of an answer, if any


@dataclass
class Flood:
    """What happened to a flood of slowloris connections (``slowloris``)."""
    outcomes: list[str] = field(default_factory=list)
    closed_after: list[float] = field(default_factory=list)  # seconds after the last connect; inf: still open
    connect_seconds: float = 0.0


def exchange(port: int, request: bytes, upto: int | None = None, leave: bool = False,
             timeout: float = 60.0) -> Outcome:
    """Send ``request`` (or its first ``upto`` bytes), then hang up (``leave``) or wait up to ``timeout`` s for
    the answer; stop sending as soon as the server answers early."""
    began = time.monotonic()
    try:
        sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    except OSError:
        return Outcome("connect_failed", time.monotonic() - began)
    with sock:
        data = memoryview(request)[:upto]
        try:
            for start in range(0, len(data), PIECE):
                if _readable(sock):
                    break
                sock.sendall(data[start:start + PIECE])
        except OSError:  # the server closed or reset while we sent: its answer may still be readable
            pass
        if leave:
            time.sleep(0.3)
            return Outcome("left", time.monotonic() - began)
        outcome, message = answer(sock, began + timeout)
    return Outcome(outcome, time.monotonic() - began, message)


def _readable(sock: socket.socket) -> bool:
    with selectors.DefaultSelector() as sel:
        sel.register(sock, selectors.EVENT_READ)
        return bool(sel.select(0))


def answer(sock: socket.socket, deadline: float) -> tuple[str, str]:
    """(status or how it ended, the body's text) of the answer on ``sock``, read until whole, closed or
    ``deadline`` (monotonic)."""
    data = b""
    while not whole(data):
        sock.settimeout(max(deadline - time.monotonic(), 0.001))
        try:
            chunk = sock.recv(65536)
        except TimeoutError:
            return status_of(data) or "timeout", ""
        except OSError:
            return status_of(data) or "reset", ""
        if not chunk:
            break
        data += chunk
    return status_of(data) or "closed", error_of(data.partition(b"\r\n\r\n")[2])


def error_of(body: bytes) -> str:
    """The message of an ``{"error": ...}`` answer; else the body's start."""
    try:
        return str(json.loads(body)["error"])[:200]
    except (ValueError, KeyError, TypeError):
        return body[:200].decode("utf-8", "replace")


def status_of(data: bytes) -> str | None:
    return data[9:12].decode() if data.startswith(b"HTTP/1.1 ") and len(data) >= 12 else None


def whole(data: bytes) -> bool:
    headers, sep, body = data.partition(b"\r\n\r\n")
    if not sep:
        return False
    lengths = [line[15:] for line in headers.lower().split(b"\r\n") if line.startswith(b"content-length:")]
    return bool(lengths) and len(body) >= int(lengths[0])


def slowloris(port: int, count: int, watch: float, workers: int = 32) -> Flood:
    """Open ``count`` connections that each send ``SLOW_HEAD`` only, then watch them up to ``watch`` s after the
    last one opened: how and when each was closed."""
    flood, began = Flood(), time.monotonic()

    def one(_: int) -> socket.socket | None:
        try:
            sock = socket.create_connection(("127.0.0.1", port), timeout=30)
            sock.sendall(SLOW_HEAD)
            return sock
        except OSError:
            return None

    with ThreadPoolExecutor(workers) as pool:
        socks = list(pool.map(one, range(count)))
    opened = time.monotonic()
    flood.connect_seconds = opened - began
    flood.outcomes = ["connect_failed"] * socks.count(None)
    with selectors.DefaultSelector() as sel:
        for sock in filter(None, socks):
            sock.setblocking(False)
            sel.register(sock, selectors.EVENT_READ)
        while sel.get_map() and time.monotonic() < opened + watch:
            for key, _ in sel.select(timeout=0.2):
                try:
                    data = key.fileobj.recv(65536)
                    flood.outcomes.append(status_of(data) or "closed")
                except OSError:
                    flood.outcomes.append("reset")
                flood.closed_after.append(time.monotonic() - opened)
                sel.unregister(key.fileobj)
                key.fileobj.close()
        for key in list(sel.get_map().values()):
            flood.outcomes.append("open")
            flood.closed_after.append(float("inf"))
            key.fileobj.close()
    return flood
