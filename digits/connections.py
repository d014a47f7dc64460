"""What a connection and a request meet before the app: uvicorn's HTTP/1.1 protocol (h11) with the deadlines and
the connection cap uvicorn has no option for, and ``Guard``, the ASGI middleware around the whole app.

- Header deadline: a connection must complete a request's headers within ``header_timeout`` of opening, or of
  its previous answer (keep-alive). One that sent part of a request then gets a 408 and is closed; one that sent
  nothing is closed silently, as uvicorn's keep-alive timeout does (browsers open spare connections).
- Connection cap: beyond ``max_connections`` open connections, the one that has waited longest for its next
  request is closed to make room, so connections that dribble their headers cannot lock everyone out; when every
  connection is in a request, ``Guard`` answers new requests 503.
- Shutdown: a connection still sending its body is cut at once instead of being waited for.
- An OSError in the event loop (a failed ``accept`` when out of file descriptors, ...) is one log line.
- ``Guard``: the security headers on every answer, the Host check against DNS rebinding (400) when the server
  listens on a loopback address, and at most ``max_requests`` requests in flight (503 beyond).
"""
from __future__ import annotations

import asyncio
import json
import logging
import time

from uvicorn.protocols.http.h11_impl import H11Protocol

from digits import guards

log = logging.getLogger("digits.serve")


def peer(protocol: H11Protocol) -> str:
    return "%s:%d" % protocol.client if protocol.client else "a client"


class GuardedH11(H11Protocol):
    """``H11Protocol`` with the header deadline, the connection cap and a prompt shutdown; ``protocol_class``
    gives it its limits."""
    limits = guards.Limits()
    waiting_since: float | None = None  # monotonic time it began waiting for a request's headers; None: in one
    deadline: asyncio.TimerHandle | None = None
    partial = False  # bytes of the next request arrived while waiting

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self.watch()
        if len(self.connections) > self.limits.max_connections:
            self.make_room()

    def data_received(self, data: bytes) -> None:
        self.partial = self.partial or self.waiting_since is not None
        super().data_received(data)
        self.watch()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.watch()

    def connection_lost(self, exc: Exception | None) -> None:
        self.stop_waiting()
        super().connection_lost(exc)

    def shutdown(self) -> None:
        cycle = self.cycle
        if cycle is not None and not cycle.response_started and cycle.more_body:
            self.transport.close()  # the app hears a disconnect and ends; no answer could come before we stop
        else:
            super().shutdown()

    def watch(self) -> None:
        """Start the header deadline when the connection waits for a request, stop it when headers came."""
        waiting = self.cycle is None or self.cycle.response_complete
        if not waiting:
            self.stop_waiting()
        elif self.deadline is None and not self.transport.is_closing():
            self.waiting_since, self.partial = time.monotonic(), False
            self.deadline = self.loop.call_later(self.limits.header_timeout, self.headers_late)

    def stop_waiting(self) -> None:
        if self.deadline is not None:
            self.deadline.cancel()
        self.deadline = self.waiting_since = None

    def headers_late(self) -> None:
        self.deadline = None
        if self.transport.is_closing():
            return
        if self.partial:
            message = f"request headers not complete within {self.limits.header_timeout:g} s"
            log.warning("serve: %s: %s; closed", peer(self), message)
            self.transport.write(raw_error(408, "Request Timeout", message))
        self.transport.close()

    def make_room(self) -> None:
        """Close the connection that has waited longest for a request (possibly this new one's neighbour)."""
        waiting = [c for c in self.connections if c is not self and getattr(c, "waiting_since", None) is not None
                   and not c.transport.is_closing()]
        if waiting:
            min(waiting, key=lambda c: c.waiting_since).transport.close()


def raw_error(status: int, reason: str, message: str) -> bytes:
    """A whole HTTP/1.1 error answer that closes the connection, for the protocol's own answers (no app ran)."""
    body = json.dumps({"error": message}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: application/json", f"content-length: {len(body)}",
            "connection: close", *(f"{k.decode()}: {v.decode()}" for k, v in guards.HEADERS)]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


class Guard:
    """ASGI middleware: security headers on every answer, the Host check, and at most ``max_requests`` at once."""

    def __init__(self, app, hosts: frozenset[str] | None, max_requests: int):
        self.app, self.hosts, self.max_requests, self.active = app, hosts, max_requests, 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def secured(message: dict) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *guards.HEADERS]}
            await send(message)

        refusal = self.refusal(scope)
        if refusal is not None:
            return await answer(secured, *refusal)
        self.active += 1  # (only the event loop's thread counts: no lock)
        try:
            await self.app(scope, receive, secured)
        finally:
            self.active -= 1

    def refusal(self, scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """(status, message, headers) of the answer a request gets without reaching the app; None: it goes on."""
        host = next((value.decode("latin-1") for key, value in scope["headers"] if key == b"host"), None)
        if self.hosts is not None and host is not None and guards.host_name(host) not in self.hosts:
            return 400, (f"Host {host[:60]!r} not allowed: this server answers to {', '.join(sorted(self.hosts))} "
                         "(any port)"), []
        if self.active >= self.max_requests:
            return 503, f"busy: {self.max_requests} requests in progress; try again shortly", BUSY
        return None


BUSY = [(b"connection", b"close"), (b"retry-after", b"1")]


async def answer(send, status: int, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Send ``{"error": message}`` with ``status``, as plain ASGI messages (the app never sees the request)."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})


def protocol_class(limits: guards.Limits) -> type[GuardedH11]:
    """``GuardedH11`` with ``limits``, for ``uvicorn.Config(http=...)`` (uvicorn makes one per connection)."""
    return type("GuardedH11", (GuardedH11,), {"limits": limits})


def quiet_loop_errors(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    """The event loop's exception handler: an OSError (a failed ``accept`` when out of file descriptors, a socket
    reset) is one line, where asyncio's default logs a traceback each time (22 MB in 20 s under a flood of
    connections); anything else, a bug, keeps its traceback."""
    err = context.get("exception")
    if not isinstance(err, OSError):
        return loop.default_exception_handler(context)
    log.warning("serve: %s: %s: %s", context.get("message", "event loop error"), type(err).__name__, err)
