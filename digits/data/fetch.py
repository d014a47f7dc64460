"""The dataset's four IDX files found where the user put them, or downloaded from the mirrors: verified by
SHA-256 either way, never overwriting or deleting a user's file, retrying what may pass."""
from __future__ import annotations

import hashlib
import http.client
import shutil
import time
import urllib.error
from pathlib import Path

from digits.config import schema
from digits.data import idx
from digits.config import catalog
from digits.config.catalog import IdxFile, find_local
from digits.data.download import copy_from
from digits.runtime.storage import atomic_path, remove_leftovers


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


def experiment_origin(cwd: Path) -> Path | None:
    """The repository a DVC experiment's temporary copy was made from: ``dvc exp run --temp`` and ``--queue`` run in
    ``<repo>/.dvc/tmp/exps/...``, which holds no git-ignored file, so not the files a user placed in dataset/.
    None outside such a copy."""
    parts = cwd.resolve().parts
    for i in range(len(parts) - 2):
        if parts[i:i + 3] == (".dvc", "tmp", "exps"):
            return Path(*parts[:i])
    return None


def copy_placed(found: Path, dest: Path, spec: IdxFile) -> Path:
    """A verified copy of a file placed elsewhere, under its own name, at ``dest``'s folder."""
    dest = dest.parent / found.name
    with atomic_path(dest) as tmp:
        shutil.copyfile(found, tmp)
        verify(tmp, spec, name=str(found))  # the copy itself, in case the file changed in between
    return dest


def fetch_file(folders: Path | tuple[Path, ...], spec: IdxFile, mirrors: tuple[str, ...],
               cfg: schema.FetchConfig, origin: tuple[Path, ...] = ()) -> Path:
    """Return the verified local file for ``spec`` in ``folders`` (looked through in order); else a copy of the
    one placed in the ``origin`` folders (an experiment's repository); else downloaded from ``mirrors`` into the
    first folder."""
    folders = (folders,) if isinstance(folders, Path) else folders
    dest = folders[0] / spec.gz_name
    # A killed download's partial temp file: a rerun starts afresh, and dataset/<name>/ (a DVC output, every
    # file of it hashed and cached) must not keep it.
    remove_leftovers(dest)
    placed = find_local(folders, spec)
    if placed is not None:
        verify(placed, spec)  # never overwrite a user's file; a bad one is theirs to replace
        return placed
    elsewhere = find_local(origin, spec) if origin else None
    if elsewhere is not None:
        verify(elsewhere, spec)
        return copy_placed(elsewhere, dest, spec)
    errors = []
    for mirror in mirrors:
        try:
            download(mirror, spec, dest, cfg.retries, cfg.timeout)
            return dest
        except (OSError, ValueError) as err:
            print(f"fetch: {mirror}: {spec.gz_name}: {err}")
            errors.append(f"{mirror} ({err})")
    raise OSError(
        f"{catalog.not_found(folders, spec)}; could not get {spec.gz_name}: "
        + "; ".join(errors or ["no mirrors configured"])
        + f". Offline? Put the files in {folders[0]}/ or point fetch.mirrors.{folders[0].name} in params.yaml"
        " at a folder or a local server holding them"
    )
