"""``digits.serve``'s limits against clients that stall, flood or lie: the figures, and the parts that need no
server: the security headers, which Host names a loopback server answers to, ``Budget`` (request bodies held in
memory, all requests together), ``DecodeSlots`` (images decoded at once) and ``return_large_frees`` (memory
freed goes back to the system). ``digits.connections`` applies the rest: deadlines, connection cap, Host check.
"""
from __future__ import annotations

import ctypes
import ipaddress
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# Why each figure (docs/serve.md, "Limits", says the same):
# A browser or curl sends its request line and headers in one packet, milliseconds after connecting; 10 s leaves a
# slow mobile link room, and a connection that dribbles its headers (slowloris) holds its slot 10 s at most.
HEADER_TIMEOUT = 10.0
# 10 MB (bodies.MAX_BODY) in 30 s is 2.7 Mbit/s, a slow mobile uplink; a stalled body holds memory 30 s at most.
BODY_TIMEOUT = 30.0
# One file descriptor each (plus up to 64 KB that uvicorn buffers): far below the usual limit of 1,024 beside
# TensorFlow's own files, and far above a browser's 6 or the load benchmark's 16 clients.
MAX_CONNECTIONS = 100
# Bodies in memory, all requests together: six full-size (10 MB) photos at once, or thousands of the page's drawings
# (~5 KB); 100 stalled 10 MB bodies took 1.3 GB before this budget.
BODY_BUDGET = 64 * 2**20
# A 40-megapixel RGBA PNG peaks at 310 MB while Pillow decodes it (measured: docs/serve.md); two at once bound that
# to ~620 MB, and two cores decode no faster with more.
DECODES = 2
# A request already in a model call finishes in well under a second (p99 0.8 s under load); 5 s is also inside the
# 10 s that docker and systemd wait after SIGTERM before they kill.
SHUTDOWN_TIMEOUT = 5.0
# Connections waiting in the kernel for Python to accept them: a burst as large as the connection cap waits there;
# a flood beyond it is refused by the kernel (clients retry) instead of queueing.
BACKLOG = MAX_CONNECTIONS
# glibc's malloc keeps freed blocks for reuse, per thread, and after the first large free it raises the size from
# which blocks are mapped (and unmapped when freed) to 32 MB: two slots of 24 uploads of a 40 MP PNG then took
# 1.7 GB, not 0.6 GB, and kept it. Blocks of 1 MB and more (decoded images, whole bodies) go back when freed.
MMAP_THRESHOLD = 2**20
M_MMAP_THRESHOLD = -3  # mallopt's parameter number, from glibc's malloc.h

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})
# The page loads only its own script and style sheet; `seen` arrives as a data: URL and an upload is shown from a
# blob: URL; fetch goes to the server itself. Nothing may frame it, and no form or <base> may point elsewhere.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; "
       "base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
HEADERS = [(b"content-security-policy", CSP.encode()), (b"x-content-type-options", b"nosniff"),
           (b"x-frame-options", b"DENY"), (b"referrer-policy", b"no-referrer")]


@dataclass(frozen=True)
class Limits:
    """The figures one server runs with (``serve``'s options set the first three; tests shorten them)."""
    header_timeout: float = HEADER_TIMEOUT
    body_timeout: float = BODY_TIMEOUT
    max_connections: int = MAX_CONNECTIONS
    body_budget: int = BODY_BUDGET
    decodes: int = DECODES
    shutdown_timeout: float = SHUTDOWN_TIMEOUT


def is_loopback(host: str) -> bool:
    try:
        return host.lower() == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def allowed_hosts(bound: str) -> frozenset[str] | None:
    """The Host names a server listening on ``bound`` answers to: the loopback names and ``bound`` itself; None
    (any) off loopback, where the operator chose to be reached under whatever name points at the machine."""
    if not is_loopback(bound):
        return None
    return LOOPBACK_NAMES | {(f"[{bound}]" if ":" in bound else bound).lower()}


def host_name(header: str) -> str:
    """A Host header without its port, lower-cased: ``localhost:8000`` → ``localhost``, ``[::1]:80`` → ``[::1]``."""
    header = header.strip().lower()
    if header.startswith("["):
        name, _, rest = header.partition("]")
        return name + "]" if rest == "" or (rest[:1] == ":" and rest[1:].isdigit()) else header
    name, colon, port = header.rpartition(":")
    return name if colon and port.isdigit() else header


class Budget:
    """Request-body bytes held in memory by all requests together, at most ``limit`` (event loop's thread only)."""

    def __init__(self, limit: int):
        self.limit, self.held = limit, 0

    def take(self, n: int) -> bool:
        if self.held + n > self.limit:
            return False
        self.held += n
        return True

    def give(self, n: int) -> None:
        self.held -= n


class Claim:
    """One request's share of a ``Budget``: ``grow_to(n)`` if the budget allows, all of it given back by ``close``."""

    def __init__(self, budget: Budget):
        self.budget, self.bytes = budget, 0

    def grow_to(self, n: int) -> bool:
        if n > self.bytes and not self.budget.take(n - self.bytes):
            return False
        self.bytes = max(self.bytes, n)
        return True

    def close(self) -> None:
        self.budget.give(self.bytes)
        self.bytes = 0


class DecodeSlots:
    """At most ``n`` images decoded and preprocessed at once, across worker threads."""

    def __init__(self, n: int):
        self.slots = threading.BoundedSemaphore(n)

    @contextmanager
    def hold(self) -> Iterator[Callable[[], None]]:
        """A slot until the block ends, or until the function it yields is called (once is enough)."""
        self.slots.acquire()
        held = [True]  # (released in the thread that holds it: no lock)

        def release() -> None:
            if held[0]:
                held[0] = False
                self.slots.release()

        try:
            yield release
        finally:
            release()


def return_large_frees() -> None:
    """Have glibc's malloc map blocks of ``MMAP_THRESHOLD`` bytes and more, so freeing them returns the memory."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): their own malloc, left as it is
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
