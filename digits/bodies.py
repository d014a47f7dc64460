"""A request's image, read into memory with a cap: the raw body, or the multipart form field ``image``.

The cap is checked twice: against Content-Length before reading anything, and by counting bytes as they stream
in (a chunked body has no length, and a client may lie). The same two counts claim the bytes from the server's
``guards.Budget`` for all bodies in memory (503 when it is spent), and the whole body must arrive within a deadline
(408). Multipart bodies are parsed as they stream
(python-multipart's low-level parser, with callbacks that keep only the ``image`` field in memory): Starlette's
own form parsing spools files over 1 MB to a temporary file, and no request data may reach the disk.
"""
from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from python_multipart.exceptions import FormParserError
from python_multipart.multipart import MultipartParser, parse_options_header
from starlette.requests import Request

from digits import guards, imagefile

# A phone's 12-24 MP JPEG is 3-10 MB; the file cap (imagefile.MAX_BYTES, 50 MB) is for files on disk, while each
# request in flight holds its body in memory, so the server takes a fifth of it.
MAX_BODY = imagefile.MAX_BYTES // 5
FIELD = b"image"


class ApiError(Exception):
    """An answer other than 200: HTTP ``status`` and one message, sent as ``{"error": message}``."""

    def __init__(self, status: int, message: str, close: bool = False):
        super().__init__(message)
        self.status = status
        self.close = close  # the body may be unread: answer with Connection: close


def too_large(cap: int) -> ApiError:
    return ApiError(413, f"request body larger than {cap // 2**20} MB, too large for an image of one number")


class ImageField:
    """MultipartParser callbacks keeping the first ``image`` field's bytes and file name, nothing else."""

    def __init__(self):
        self.name, self.chunks, self.found, self.inside, self.ended = "image", [], False, False, False
        self.headers: dict[bytes, bytes] = {}
        self.header = [b"", b""]

    def callbacks(self) -> dict:
        def add(i):
            return lambda data, start, end: self.header.__setitem__(i, self.header[i] + data[start:end])

        return {"on_part_begin": self.begin, "on_header_field": add(0), "on_header_value": add(1),
                "on_header_end": self.header_end, "on_headers_finished": self.headers_finished,
                "on_part_data": self.data, "on_part_end": self.end, "on_end": self.closing}

    def begin(self) -> None:
        self.headers, self.inside = {}, False

    def header_end(self) -> None:
        self.headers[self.header[0].strip().lower()] = self.header[1].strip()
        self.header = [b"", b""]

    def headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.inside = options.get(b"name") == FIELD and not self.found
        if self.inside and options.get(b"filename"):
            self.name = options[b"filename"].decode("utf-8", "replace")[:200]

    def data(self, data: bytes, start: int, end: int) -> None:
        if self.inside:
            self.chunks.append(data[start:end])

    def end(self) -> None:
        self.found = self.found or self.inside
        self.inside = False

    def closing(self) -> None:  # the closing boundary: only then is the body known to be whole
        self.ended = True


def declared_length(request: Request, cap: int) -> None:
    """Refuse a body whose Content-Length is above ``cap`` (or not a number) before reading a byte of it."""
    length = request.headers.get("content-length")
    if length is not None and not length.strip().isdigit():
        raise ApiError(400, f"Content-Length {length[:40]!r} is not a number")
    if length is not None and int(length) > cap:
        raise too_large(cap)


@asynccontextmanager
async def image_body(request: Request, budget: guards.Budget, timeout: float,
                     cap: int = MAX_BODY) -> AsyncIterator[tuple[str, bytes]]:
    """(name, bytes) of the request's image, its bytes claimed from ``budget`` until the block ends: the multipart
    field ``image`` (named by its file name) or the raw body (named ``image``). ApiError 413 past ``cap`` bytes, 503
    when ``budget`` is spent, 408 when the body takes over ``timeout`` seconds, 400 for an empty or malformed body;
    Starlette's ClientDisconnect when the client leaves first."""
    claim = guards.Claim(budget)
    try:
        try:
            async with asyncio.timeout(timeout):
                name, data = await read_image(request, cap, claim)
        except TimeoutError:
            raise ApiError(408, f"request body not received within {timeout:g} s", close=True) from None
        except ApiError as err:
            err.close = True
            raise
        yield name, data
    finally:
        claim.close()


async def read_image(request: Request, cap: int, claim: guards.Claim) -> tuple[str, bytes]:
    declared_length(request, cap)
    if not claim.grow_to(int(request.headers.get("content-length", "0"))):
        raise busy(claim.budget)
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


def busy(budget: guards.Budget) -> ApiError:
    return ApiError(503, f"busy: the server holds its {budget.limit // 2**20} MB of request bodies in memory; "
                         "try again shortly")
