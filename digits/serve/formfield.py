"""The multipart form field ``digits.serve.uploads`` keeps: python-multipart's low-level parser calls back for each
part, and only the ``image`` field's bytes stay in memory (Starlette's own form parsing would spool files over 1 MB to a
temporary file, and no request data may reach the disk)."""
from __future__ import annotations

from python_multipart.multipart import parse_options_header

FIELD = b"image"


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
