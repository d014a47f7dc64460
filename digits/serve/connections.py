"""What a connection meets before the app: uvicorn's HTTP/1.1 protocol (h11) with the deadlines and the connection
cap uvicorn has no option for (``digits.serve.admission`` then decides which requests reach the app).

- Header deadline: a connection must complete a request's headers within ``header_timeout`` of opening, or of
  its previous answer (keep-alive). One that sent part of a request then gets a 408 and is closed; one that sent
  nothing is closed silently, as uvicorn's keep-alive timeout does (browsers open spare connections).
- Connection cap: beyond ``max_connections`` open connections, those that have waited longest for their next
  request, and at least ``connection_grace`` (idle, or dribbling their headers), are closed to make room, so they
  cannot lock everyone out; one that had sent part of a request gets a 503 first. A younger connection is never
  closed below ``OVERFLOW`` times the cap: its request may have arrived unread, and every request gets an answer.
  A connection over the cap is closed after its first answer; ``admission.Guard`` answers 503 to requests past
  its own cap. A request whose body came whole with its headers is marked for it (``began``).
- Shutdown: a connection still sending its body is cut at once instead of being waited for.
- An OSError in the event loop (a failed ``accept`` when out of file descriptors, ...) is one log line.
"""
from __future__ import annotations

import asyncio
import heapq
import json
import logging
import time

from uvicorn.protocols.http.flow_control import CLOSE_HEADER
from uvicorn.protocols.http.h11_impl import H11Protocol

from digits.serve import admission, guards

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
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a request began (its app task runs after this)
            self.began()
        self.watch()

    def began(self) -> None:
        """Mark a request whose body came whole with its headers (``admission.WHOLE``), and close a connection
        over the cap after its answer."""
        if not self.cycle.more_body:
            self.scope.setdefault("extensions", {})[admission.WHOLE] = {}
        if self.surplus():
            self.cycle.keep_alive = False
            self.headers.append(CLOSE_HEADER)  # (uvicorn then answers with Connection: close, as asked)

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

    def surplus(self) -> bool:
        return sum(not c.transport.is_closing() for c in self.connections) > self.limits.max_connections

    def make_room(self) -> None:
        """Close connections waiting for a request, longest first, down to the cap: those past their grace only,
        unless more than ``OVERFLOW`` times the cap are open."""
        now, cap = time.monotonic(), self.limits.max_connections
        open_ = [c for c in self.connections if not c.transport.is_closing()]
        waiting = (c for c in open_ if getattr(c, "waiting_since", None) is not None)
        for c in heapq.nsmallest(len(open_) - cap, waiting, key=lambda c: c.waiting_since):
            if now - c.waiting_since < self.limits.connection_grace and len(open_) <= cap * guards.OVERFLOW:
                break
            c.evict()
            open_.remove(c)

    def evict(self) -> None:
        """Close it to make room: with a 503 if it had sent part of a request (as ``headers_late``, no log line: a
        flood of them is one event), silently if nothing (a browser's spare connection, an idle keep-alive)."""
        if self.partial:
            message = f"busy: {self.limits.max_connections} connections open; try again shortly"
            self.transport.write(raw_error(503, "Service Unavailable", message, retry=True))
        self.transport.close()


def raw_error(status: int, reason: str, message: str, retry: bool = False) -> bytes:
    """A whole HTTP/1.1 error answer that closes the connection, for the protocol's own answers (no app ran)."""
    body = json.dumps({"error": message}).encode()
    head = [f"HTTP/1.1 {status} {reason}", "content-type: application/json", f"content-length: {len(body)}",
            "connection: close", *(["retry-after: 1"] if retry else []),
            *(f"{k.decode()}: {v.decode()}" for k, v in guards.HEADERS)]
    return ("\r\n".join(head) + "\r\n\r\n").encode() + body


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
