"""The bodies ``bench.serve_hostile``'s clients send: request heads, a small PNG of huge dimensions made cheaply,
and multipart bodies with a boundary too long or no closing boundary."""
from __future__ import annotations

import struct
import zlib

SLOW_HEAD = b"GET / HTTP/1.1\r\n"  # a request line, then nothing: the headers never end (slowloris)


def head(length: int, content_type: str = "image/png", path: str = "/api/predict") -> bytes:
    return (f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: {content_type}\r\n"
            f"Content-Length: {length}\r\n\r\n").encode()


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def stroke_png(width: int = 6320, height: int = 6320, stroke: float = 0.1) -> bytes:
    """A white RGBA PNG with one black vertical stroke (a 1) ``stroke`` of its width wide, written by hand a few
    megabytes of rows at a time: 6,320×6,320 (39.9 MP, under the 40 MP cap) is about 200 KB and decodes to 160 MB."""
    ink = round(width * stroke)
    left = (width - ink) // 2
    row = b"\0" + b"\xff" * (4 * left) + b"\0\0\0\xff" * ink + b"\xff" * (4 * (width - left - ink))
    deflate, body, per = zlib.compressobj(9), [], max(1, 2**22 // len(row))
    for start in range(0, height, per):
        body.append(deflate.compress(row * min(per, height - start)))
    body.append(deflate.flush())
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)  # 8 bits, RGBA, deflate, no filter, no interlace
    chunks = png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", b"".join(body)) + png_chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def multipart_request(image: bytes, boundary: str, cut: int = 0) -> bytes:
    """A POST of ``image`` as the form field ``image``, its body less its last ``cut`` bytes (the closing
    boundary, for a truncated body) but declaring what it sends."""
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"image\"; filename=\"x.png\"\r\n"
            "Content-Type: image/png\r\n\r\n").encode() + image + f"\r\n--{boundary}--\r\n".encode()
    body = body[:len(body) - cut]
    return head(len(body), f"multipart/form-data; boundary={boundary}") + body
