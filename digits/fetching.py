"""The dataset's four IDX files found where the user put them, or downloaded from the mirrors: verified by
SHA-256 either way, never overwriting or deleting a user's file, retrying what may pass."""
from __future__ import annotations

import hashlib
import http.client
import time
import urllib.error
from pathlib import Path

from digits import config, datasets, idx
from digits.datasets import IdxFile, find_local
from digits.download import copy_from
from digits.storage import atomic_path, remove_leftovers


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
                copy_from(mirror, spec, tmp, timeout)
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
