"""Stage ``fetch``: find or download the four IDX files of ``dataset``, each verified by SHA-256.

Inputs: files a user placed in ``dataset/<name>/`` or, for MNIST, straight in ``dataset/`` (the seed's
instruction), named ``train-images.idx3-ubyte`` (the seed), ``train-images-idx3-ubyte.gz`` (the mirrors) or
``train-images-idx3-ubyte`` (gunzipped); used as they are, never changed, moved or deleted. A file found
nowhere is downloaded from the dataset's ``fetch.mirrors`` (URLs or folders) into ``dataset/<name>/``.
Outputs: ``dataset/`` (persistent in dvc.yaml, so DVC notices any change to a placed file).
Command: ``python -m stages.fetch``.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

from tqdm import tqdm

from stages import config, datasets
from stages.common import atomic_path, interrupt_on_sigterm, remove_leftovers, run_stage
from stages.datasets import IdxFile, find_local
from stages import idx


CHUNK = 1 << 16
# A download attempt's deadline: 2 × fetch.timeout (connecting, a slow start) plus the file's decompressed size
# at MIN_RATE (its .gz is smaller: MNIST's training images, 47 MB, get 16.7 min with the default 30 s timeout).
# fetch.timeout alone bounds only the silence between reads; a mirror trickling a byte at a time never trips it.
MIN_RATE = 50_000  # bytes per second


def deadline(spec: IdxFile, timeout: float) -> float:
    """Seconds one attempt at ``spec`` may take in all (the rule above)."""
    return 2 * timeout + spec.size / MIN_RATE


def verify(path: Path, spec: IdxFile, name: str | None = None) -> None:
    """Raise ValueError naming ``name`` (default ``path``) unless the decompressed bytes have the pinned SHA-256;
    streamed, and refused once past the file's size (``idx.stream``), so a bomb costs a chunk of memory."""
    name = name or str(path)
    digest = hashlib.sha256()
    try:
        for chunk in idx.stream(path, spec.size):
            digest.update(chunk)
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    if digest.hexdigest() != spec.sha256:
        raise ValueError(f"{name}: SHA-256 of the decompressed bytes is {digest.hexdigest()}, expected {spec.sha256}")


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
                    raise ValueError(f"more than {cap} bytes sent, expected at most {spec.size}; not this dataset's file")
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


def _copy(mirror: str, spec: IdxFile, dest: Path, timeout: float) -> None:
    if urllib.parse.urlsplit(mirror).scheme in ("http", "https", "ftp", "file"):
        _copy_url(urllib.parse.urljoin(mirror.rstrip("/") + "/", spec.gz_name), dest, spec, timeout)
    else:
        _copy_file(Path(mirror) / spec.gz_name, dest, spec)


def download(mirror: str, spec: IdxFile, dest: Path, retries: int, timeout: float) -> None:
    """Fetch ``spec`` from one mirror (URL or folder) to ``dest``, verified, retrying transient errors.

    Only a complete, verified file is renamed to ``dest``; a failed attempt leaves nothing behind.
    """
    reason = "no attempt"
    for attempt in range(retries):
        if attempt:
            time.sleep(min(0.5 * 2**attempt, 8))
        try:
            with atomic_path(dest) as tmp:
                _copy(mirror, spec, tmp, timeout)
                verify(tmp, spec, name=spec.gz_name)  # the temp file's name would mean nothing to the user
            return
        except urllib.error.HTTPError as err:
            reason = f"HTTP {err.code} {err.reason}"
            if err.code < 500:  # a missing file will not appear by asking again
                break
        except FileNotFoundError as err:
            reason = f"no such file {err.filename}"
            break
        except urllib.error.URLError as err:
            reason = str(err.reason)
            if isinstance(err.reason, FileNotFoundError):  # a file:// mirror without the file
                break
        except (OSError, http.client.HTTPException) as err:
            reason = str(getattr(err, "reason", err)) or type(err).__name__
    raise OSError(reason)


def fetch_file(folders: Path | tuple[Path, ...], spec: IdxFile, mirrors: tuple[str, ...],
               cfg: config.FetchConfig) -> Path:
    """Return the verified local file for ``spec`` in ``folders`` (looked through in order), downloading it
    from ``mirrors`` into the first folder if none was placed."""
    folders = (folders,) if isinstance(folders, Path) else folders
    dest = folders[0] / spec.gz_name
    # A killed download's partial temp file: a rerun starts afresh, and dataset/<name>/ (a DVC output, every
    # file of it hashed and cached) must not keep it.
    remove_leftovers(dest)
    placed = find_local(folders, spec)
    if placed is not None:
        verify(placed, spec)  # never overwrite a user's file; a bad one is theirs to replace
        return placed
    errors = []
    for mirror in mirrors:
        try:
            download(mirror, spec, dest, cfg.retries, cfg.timeout)
            return dest
        except (OSError, ValueError) as err:
            print(f"fetch: {mirror}: {spec.gz_name}: {err}")
            errors.append(f"{mirror} ({err})")
    raise OSError(
        f"{datasets.not_found(folders, spec)}; could not get {spec.gz_name}: "
        + "; ".join(errors or ["no mirrors configured"])
        + f". Offline? Put the files in {folders[0]}/ or point fetch.mirrors.{folders[0].name} in params.yaml"
        " at a folder or a local server holding them"
    )


def main() -> None:
    interrupt_on_sigterm()  # a killed download removes its temp file (atomic_path's cleanup runs)
    params = config.load_params()
    dataset = datasets.get(params.dataset)
    folders = dataset.folders(params.paths.dataset)
    folders[0].mkdir(parents=True, exist_ok=True)
    for spec in dataset.files:
        path = fetch_file(folders, spec, params.fetch.mirrors.get(dataset.name, ()), params.fetch)
        print(f"fetch: {path} verified")


if __name__ == "__main__":
    run_stage(main)
