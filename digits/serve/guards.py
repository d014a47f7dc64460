"""``digits.serve``'s limits against clients that stall, flood or lie: the figures, and the parts that need no
server: the security headers, which Host names a loopback server answers to, and ``return_large_frees`` (memory
freed goes back to the system). ``digits.serve.shares`` applies the body budget and the decode lanes,
``digits.serve.uploads`` the body's deadline and rate, ``digits.serve.connections`` the rest: header deadline,
connection cap, Host check.
"""
from __future__ import annotations

import ctypes
import ipaddress
from dataclasses import dataclass

from digits.read import imagefile

# Why each figure (docs/using.md, "Limits", says the same):
# A browser or curl sends its request line and headers in one packet, milliseconds after connecting; 10 s leaves a
# slow mobile link room, and a connection that dribbles its headers (slowloris) holds its slot 10 s at most.
HEADER_TIMEOUT = 10.0
# 10 MB (bodies.MAX_BODY) in 30 s is 2.7 Mbit/s, a slow mobile uplink.
BODY_TIMEOUT = 30.0
# A slow 3G uplink sends ~50 KB/s: a body arriving at a third of that is still arriving, while a stalled one (a lost
# link, or a client holding memory) is cut with a 408 and gives its share of the budget back within one window.
BODY_MIN_RATE = 16 * 2**10
# Over how long the rate is measured: a mobile link's lost packet is resent after 1, 2, then 4 s, so one such pause
# is no stall; the first window is also a slow start's grace.
BODY_WINDOW = 5.0
# One file descriptor each (plus up to 64 KB that uvicorn buffers): far below the usual limit of 1,024 beside
# TensorFlow's own files, and far above a browser's 6 or the load benchmark's 16 clients.
MAX_CONNECTIONS = 100
# Requests whose body was still arriving when they began may hold all but one in this many of the request slots;
# the rest are kept for requests that came whole (a drawing comes in one packet with its headers), which cannot hold
# a slot waiting on their client: a burst of clients dribbling their bodies then leaves room for them.
WHOLE_SHARE = 5
# A browser or curl sends its request the moment it has connected: one that has sent nothing (a spare connection,
# an idle keep-alive) or not all its headers for this long may be closed to make room. A younger one may hold a
# request the server has not read yet, which closing would answer with a reset.
CONNECTION_GRACE = 1.0
# Open connections may reach this many times the cap while the youngest are in their grace (a burst: 1,100 at once
# took 4 s here); past it, the longest waiting is closed even so. 500 descriptors: half the usual 1,024.
OVERFLOW = 5
# Bodies in memory, all requests together: five full-size (10 MB) photos at once, or thousands of the page's drawings
# (~5 KB); 100 stalled 10 MB bodies took 1.3 GB before this budget.
BODY_BUDGET = 64 * 2**20
# The page's drawings are 1-5 KB (280×280 PNGs). Bodies of this size or less may use the whole budget; larger ones
# leave max_connections × SMALL_BODY (6.25 MB) of it free, so no drawing is ever refused for memory.
SMALL_BODY = 64 * 2**10
# Two cores decode no faster with more; this many decodes of large images at once, and as many of small ones.
DECODES = 2
# Images of at most this many pixels (from the header) decode in their own lane, never behind a photo: the page's
# drawings (78,400), scans and crops of a digit; 16 MB at most to decode (a 1 MP WebP, 4 copies).
SMALL_PIXELS = 10**6
# Memory of the large images decoding at once, in a PNG's pixels (imagefile.cost: 4.3 bytes each, WebP's 4 times
# that): two 40 MP PNGs, 330 MB; one that needs more alone (a WebP over 20 MP, 610 MB at 40 MP) is refused.
DECODE_PIXELS = 2 * imagefile.MAX_PIXELS
# Large images waiting for a decode: four turns of the two slots (1 s each for a 40 MP PNG, far less for a phone's
# JPEG); past that a client is better told at once to retry (503) than left holding a request slot.
DECODE_QUEUE = 8
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
    body_min_rate: int = BODY_MIN_RATE
    body_window: float = BODY_WINDOW
    connection_grace: float = CONNECTION_GRACE
    body_budget: int = BODY_BUDGET
    small_body: int = SMALL_BODY
    decodes: int = DECODES
    small_pixels: int = SMALL_PIXELS
    decode_pixels: int = DECODE_PIXELS
    decode_queue: int = DECODE_QUEUE
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


def return_large_frees() -> None:
    """Have glibc's malloc map blocks of ``MMAP_THRESHOLD`` bytes and more, so freeing them returns the memory."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, macOS): their own malloc, left as it is
        return
    libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)
