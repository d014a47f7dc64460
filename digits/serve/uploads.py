"""A request's image, read into memory with a cap: the raw body, or the multipart form field ``image``.

The cap is checked twice: against Content-Length before reading anything, and by counting bytes as they stream
in (a chunked body has no length, and a client may lie). The same two counts claim the bytes from the server's
``shares.Budget`` for all bodies in memory (503 when it is spent), and the whole body must arrive within a deadline,
at a minimum rate over each window (408 otherwise, and the claim is given back at once). Multipart bodies are parsed
as they stream, keeping only the ``image`` field (``digits.serve.formfield``): no request data may reach the disk.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from digits.read import imagefile
from digits.serve import guards, shares
from digits.serve.formfield import ImageField

# A phone's 12-24 MP JPEG is 3-10 MB; the file cap (imagefile.MAX_BYTES, 50 MB) is for files on disk, while each
# request in flight holds its body in memory, so the server takes a fifth of it.
MAX_BODY = imagefile.MAX_BYTES // 5


class ApiError(Exception):
    """An answer other than 200: HTTP ``status`` and one message, sent as ``{"error": message}``."""

    def __init__(self, status: int, message: str, close: bool = False):
        super().__init__(message)
        self.status = status
        self.close = close  # the body may be unread: answer with Connection: close


def too_large(cap: int) -> ApiError:
    return ApiError(413, f"request body larger than {cap // 2**20} MB, too large for an image of one number")


def declared_length(request: Request, cap: int) -> None:
    """Refuse a body whose Content-Length is above ``cap`` (or not a number) before reading a byte of it."""
    length = request.headers.get("content-length")
    if length is not None and not length.strip().isdigit():
        raise ApiError(400, f"Content-Length {length[:40]!r} is not a number")
    if length is not None and int(length) > cap:
        raise too_large(cap)


@asynccontextmanager
async def image_body(request: Request, budget: shares.Budget, limits: guards.Limits,
                     cap: int = MAX_BODY) -> AsyncIterator[tuple[str, bytes]]:
    """(name, bytes) of the request's image, its bytes claimed from ``budget`` until the block ends: the multipart
    field ``image`` (named by its file name) or the raw body (named ``image``). ApiError 413 past ``cap`` bytes, 503
    when ``budget`` is spent, 408 when the body takes over ``limits.body_timeout`` seconds or brings less than
    ``body_min_rate`` bytes a second over a ``body_window``, 400 for an empty or malformed body; Starlette's
    ClientDisconnect when the client leaves first."""
    claim = shares.Claim(budget)
    try:
        try:
            async with asyncio.timeout(limits.body_timeout):
                name, data = await read_image(request, cap, claim, limits)
        except TimeoutError:
            raise ApiError(408, f"request body not received within {limits.body_timeout:g} s", close=True) from None
        except ApiError as err:
            err.close = True
            raise
        yield name, data
    finally:
        claim.close()


async def read_image(request: Request, cap: int, claim: shares.Claim, limits: guards.Limits) -> tuple[str, bytes]:
    declared_length(request, cap)
    if not claim.grow_to(int(request.headers.get("content-length", "0"))):
        raise busy(claim.budget)
    window = Window(limits)
    try:
        async with asyncio.timeout(limits.body_window) as window.timer:
            return await parse(request, cap, claim, window)
    except TimeoutError:
        if not window.timer.expired():
            raise
        raise ApiError(408, f"request body arriving slower than {limits.body_min_rate // 1024} KB/s (less than "
                            f"{window.quantum // 1024} KB in {limits.body_window:g} s)") from None


class Window:
    """The minimum rate: each ``quantum`` of body bytes (``body_min_rate`` × ``body_window``) must come within a
    window of the previous one (or of the headers), else the timer it moves runs out."""

    def __init__(self, limits: guards.Limits):
        self.seconds, self.quantum, self.mark = limits.body_window, int(limits.body_min_rate * limits.body_window), 0
        self.timer: asyncio.Timeout | None = None

    def came(self, total: int) -> None:
        if total - self.mark >= self.quantum:
            self.mark = total
            self.timer.reschedule(asyncio.get_running_loop().time() + self.seconds)


async def parse(request: Request, cap: int, claim: shares.Claim, window: Window) -> tuple[str, bytes]:
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    field = ImageField() if kind == b"multipart/form-data" else None
    if field is not None and not options.get(b"boundary"):
        raise ApiError(400, "multipart/form-data body without a boundary")
    total, chunks = 0, []
    try:
        parser = MultipartParser(options[b"boundary"], field.callbacks()) if field else None
        async for chunk in request.stream():
            total += len(chunk)
            if total > cap:
                raise too_large(cap)
            if not claim.grow_to(total):
                raise busy(claim.budget)
            window.came(total)
            parser.write(chunk) if parser else chunks.append(chunk)
        if parser:
            parser.finalize()
    except FormParserError as err:  # (the parser's errors, a boundary over its 256 characters among them)
        raise ApiError(400, f"malformed multipart body ({err})") from None
    if field is not None and not field.ended:
        raise ApiError(400, "truncated multipart body: it ends before its closing boundary")
    if field is not None and not field.found:
        raise ApiError(400, "multipart body without an 'image' field")
    data = b"".join(field.chunks if field else chunks)
    if not data:
        raise ApiError(400, "empty body: send an image (PNG, JPEG, ...) as the body or as form field 'image'")
    return (field.name if field else "image"), data


def busy(budget: shares.Budget) -> ApiError:
    return ApiError(503, f"busy: the server holds its {budget.limit // 2**20} MB of request bodies in memory; "
                         "try again shortly")
