"""Bytes from a mirror (an http(s)/file URL or a local folder) into a file, bounded: at most a little more than
the file's known size (``idx.cap``), within a deadline, undoing a ``Content-Encoding`` the server applied anyway.
``digits.data.fetch`` retries, verifies and names the file."""
from __future__ import annotations

import os
import shutil
import time
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

from tqdm import tqdm

from digits.data import idx
from digits.config.catalog import IdxFile

CHUNK = 1 << 16
# A download attempt's deadline: 2 × fetch.timeout (connecting, a slow start) plus the file's decompressed size
# at MIN_RATE (its .gz is smaller: MNIST's training images, 47 MB, get 16.7 min with the default 30 s timeout).
# fetch.timeout alone bounds only the silence between reads; a mirror trickling a byte at a time never trips it.
MIN_RATE = 50_000  # bytes per second


def deadline(spec: IdxFile, timeout: float) -> float:
    """Seconds one attempt at ``spec`` may take in all (the rule above)."""
    return 2 * timeout + spec.size / MIN_RATE


def _decoder(encoding: str | None):
    """``decode(chunk, room)``: the body's bytes as sent to the file's bytes, at most ``room`` of them. A server
    may gzip the body although asked not to (``Accept-Encoding: identity``): undone here, else the .gz arrives
    gzipped twice and fails its digest with no hint why."""
    encoding = (encoding or "identity").strip().lower()
    if encoding == "identity":
        return lambda chunk, room: chunk, lambda: True
    if encoding not in ("gzip", "x-gzip", "deflate"):
        raise ValueError(f"unsupported Content-Encoding {encoding!r}")
    inflater = zlib.decompressobj(32 + 15)  # a gzip or zlib header, whichever comes

    def decode(chunk: bytes, room: int) -> bytes:
        try:
            return inflater.decompress(chunk, room)  # at most room bytes, however much chunk inflates
        except zlib.error as err:
            raise OSError(f"Content-Encoding {encoding}: {err}") from None
    return decode, lambda: inflater.eof


def _copy_url(url: str, dest: Path, spec: IdxFile, timeout: float) -> None:
    """Download ``url`` into ``dest`` with a progress bar (on a terminal): a short read is an error, not a file;
    past ``idx.cap(spec.size)`` bytes, or past ``deadline``, the attempt stops (ValueError: not retried)."""
    cap, stop = idx.cap(spec.size), time.monotonic() + deadline(spec, timeout)
    request = urllib.request.Request(url, headers={"Accept-Encoding": "identity"})
    with urllib.request.urlopen(request, timeout=timeout) as resp, dest.open("wb") as out:
        total = int(resp.headers.get("Content-Length") or 0) or None
        decode, complete = _decoder(resp.headers.get("Content-Encoding"))
        read = getattr(resp, "read1", resp.read)  # returns what has arrived, so the deadline is checked often
        done = written = 0
        with tqdm(total=total, unit="B", unit_scale=True, desc=spec.gz_name, disable=None) as bar:
            while chunk := read(CHUNK):
                done += len(chunk)
                data = decode(chunk, cap + 1 - written)
                written += len(data)
                if written > cap:
                    raise ValueError(f"more than {cap} bytes sent, expected at most {spec.size}; "
                                     "not this dataset's file")
                if time.monotonic() > stop:
                    raise ValueError(f"not complete after {deadline(spec, timeout):.0f} s (2 × fetch.timeout + "
                                     f"{spec.size} bytes at {MIN_RATE // 1000} kB/s); too slow")
                out.write(data)
                bar.update(len(chunk))
        if total is not None and done != total or not complete():
            raise OSError(f"connection closed after {done} of {total or 'more'} bytes")


def _copy_file(src: Path, dest: Path, spec: IdxFile) -> None:
    """Copy a local mirror's file, refusing one larger than ``idx.cap(spec.size)`` before reading it."""
    with src.open("rb") as f, dest.open("wb") as out:
        size = os.fstat(f.fileno()).st_size
        if size > idx.cap(spec.size):
            raise ValueError(f"{size} bytes, more than the {idx.cap(spec.size)} allowed; not this dataset's file")
        shutil.copyfileobj(f, out)


def copy_from(mirror: str, spec: IdxFile, dest: Path, timeout: float) -> None:
    if urllib.parse.urlsplit(mirror).scheme in ("http", "https", "ftp", "file"):
        _copy_url(urllib.parse.urljoin(mirror.rstrip("/") + "/", spec.gz_name), dest, spec, timeout)
    else:
        _copy_file(Path(mirror) / spec.gz_name, dest, spec)
