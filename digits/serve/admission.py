"""Which requests reach ``digits.serve``'s app: ``Guard``, the ASGI middleware around it, puts the security headers
on every answer, checks the Host against DNS rebinding (400) when the server listens on a loopback address, and lets
at most ``max_requests`` requests in at once (503 beyond), not counting the health check and the page (``FREE``),
which read no body and answer from memory or a small file. Requests whose body was still arriving when they began
may hold all but ``1 / guards.WHOLE_SHARE`` of the slots: the rest are kept for those that arrived whole (the
protocol marks them, ``WHOLE``), which cannot hold a slot waiting on their client.
"""
from __future__ import annotations

import json

from digits.serve import guards


WHOLE = "digits.whole"  # the scope extension (ASGI's place for a server's own keys) marking a request come whole


class Guard:
    """ASGI middleware: security headers on every answer, the Host check, and at most ``max_requests`` at once."""

    def __init__(self, app, hosts: frozenset[str] | None, max_requests: int):
        self.app, self.hosts, self.max_requests = app, hosts, max_requests
        self.arriving_cap = max_requests - max_requests // guards.WHOLE_SHARE
        self.active = self.arriving = 0  # requests in progress; those of them whose body was arriving

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
        if free(scope):
            return await self.app(scope, receive, secured)
        arriving = int(WHOLE not in scope.get("extensions", {}))
        self.active, self.arriving = self.active + 1, self.arriving + arriving  # (the event loop's thread: no lock)
        try:
            await self.app(scope, receive, secured)
        finally:
            self.active, self.arriving = self.active - 1, self.arriving - arriving

    def refusal(self, scope) -> tuple[int, str, list[tuple[bytes, bytes]]] | None:
        """(status, message, headers) of the answer a request gets without reaching the app; None: it goes on."""
        host = next((value.decode("latin-1") for key, value in scope["headers"] if key == b"host"), None)
        if self.hosts is not None and host is not None and guards.host_name(host) not in self.hosts:
            return 400, (f"Host {host[:60]!r} not allowed: this server answers to {', '.join(sorted(self.hosts))} "
                         "(any port)"), []
        if free(scope):
            return None
        if self.active >= self.max_requests:
            return 503, f"busy: {self.max_requests} requests in progress; try again shortly", BUSY
        if self.arriving >= self.arriving_cap and WHOLE not in scope.get("extensions", {}):
            return 503, (f"busy: {self.arriving_cap} requests in progress are still receiving their bodies; try "
                         "again shortly"), BUSY
        return None


BUSY = [(b"connection", b"close"), (b"retry-after", b"1")]
# Requests outside the request cap: a liveness probe must not read a busy server as down, and a visitor still gets
# the page (whose own requests may then be told to wait). They read no body and answer from memory or a small file,
# at most one per open connection.
FREE, FREE_UNDER = ("/", "/favicon.ico", "/api/health"), "/static/"


def free(scope) -> bool:
    path = scope["path"]
    return scope["method"] in ("GET", "HEAD") and (path in FREE or path.startswith(FREE_UNDER))


async def answer(send, status: int, message: str, headers: list[tuple[bytes, bytes]]) -> None:
    """Send ``{"error": message}`` with ``status``, as plain ASGI messages (the app never sees the request)."""
    body = json.dumps({"error": message}).encode()
    await send({"type": "http.response.start", "status": status, "headers": [
        (b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()), *headers]})
    await send({"type": "http.response.body", "body": body})
