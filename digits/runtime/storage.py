"""Writing results safely: atomic files and folders (a killed run leaves the previous one), storage errors that
name the file, the leftovers of killed runs removed, JSON with sorted keys."""
from __future__ import annotations

import contextlib
import errno
import glob
import json
import os
import shutil
import tempfile
import uuid
from pathlib import Path
from typing import Any, Iterator


# A full disk, a quota, a file-size limit, a read-only file system or no permission: the place, not the data.
STORAGE_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EROFS, errno.EACCES, errno.EPERM}


@contextlib.contextmanager
def naming_storage_errors(path: Path) -> Iterator[None]:
    """Re-raise a storage error as one naming ``path`` (the low-level one names a temp file or nothing)."""
    try:
        yield
    except OSError as err:
        if err.errno not in STORAGE_ERRORS:
            raise
        reason = getattr(err, "reason", None) or err.strerror or str(err)  # an inner block's, if nested
        named = OSError(err.errno, f"{path}: cannot write ({reason})")
        named.reason = reason
        raise named from None


_TMP_SUFFIX = ".tmp"  # atomic_path's temp files: .<name>.<random>.tmp<suffix>, found again by leftover_temps


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it over ``path`` only if the block succeeds.

    A killed or failing stage therefore leaves the previous file intact (or absent), never half-written.
    """
    path = Path(path)
    with naming_storage_errors(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_leftovers(path)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_TMP_SUFFIX + path.suffix, dir=path.parent)
        os.close(fd)
        try:
            yield Path(tmp)
            # mkstemp makes the file owner-only (0600); a result is for the team and the web server to read too.
            os.chmod(tmp, 0o666 & ~current_umask())
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)


def current_umask() -> int:
    """The process's umask (reading it means setting it; set straight back)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def leftover_temps(path: str | Path) -> list[Path]:
    """The temp files that killed ``atomic_path(path)`` blocks left beside ``path`` (a kill skips the cleanup)."""
    path = Path(path)
    return sorted(path.parent.glob(f".{glob.escape(path.name)}.*{_TMP_SUFFIX}{glob.escape(path.suffix)}"))


@contextlib.contextmanager
def atomic_dir(path: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``path``; put it in the place of ``path`` (a folder, replaced
    whole) only if the block succeeds.

    A killed or failing stage leaves the previous folder intact (or absent), never part old and part new;
    only hidden ``.<name>.*`` folders beside it can remain after a kill.
    """
    path = Path(path)
    with naming_storage_errors(path), _swapped_dir(path) as tmp:
        yield tmp


@contextlib.contextmanager
def _swapped_dir(path: Path) -> Iterator[Path]:
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_leftovers(path)
    # mkdir, not mkdtemp: the folder gets the usual permissions (umask), not mkdtemp's owner-only ones.
    tmp, old = (path.parent / f".{path.name}.{uuid.uuid4().hex[:8]}.{kind}" for kind in ("tmp", "old"))
    tmp.mkdir()
    try:
        yield tmp
        if not (path.exists() or path.is_symlink()):
            os.replace(tmp, path)
            return
        # rename() will not replace a non-empty folder: move the old one aside, and back if the new fails.
        os.replace(path, old)
        try:
            os.replace(tmp, path)
        except OSError:
            os.replace(old, path)
            raise
    finally:
        for leftover in (tmp, old):
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                with contextlib.suppress(FileNotFoundError):
                    leftover.unlink()


# --- Leftovers of killed runs -------------------------------------------------------------------------------
# A SIGKILL (or power cut) skips the `finally` blocks above, leaving hidden temps beside a target; they can be
# gigabytes, and inside a DVC output folder they would be hashed and cached with it. Every atomic_path/atomic_dir
# removes those of its own target before making a new one, so any stage, however started, cleans up after a
# killed run of itself (DVC runs one stage at a time: no live writer's temp is taken for a leftover).

def dir_leftovers(path: str | Path) -> list[Path]:
    """The ``.<name>.<hex>.tmp`` / ``.old`` folders that killed ``atomic_dir(path)`` blocks left beside ``path``."""
    path = Path(path)
    return sorted(p for kind in ("tmp", "old") for p in path.parent.glob(f".{glob.escape(path.name)}.*.{kind}")
                  if len(p.name) == len(path.name) + 14)  # "." + name + "." + 8 hex + ".tmp": not a longer name's


def remove_leftovers(path: str | Path) -> None:
    """Remove what killed ``atomic_path(path)`` / ``atomic_dir(path)`` blocks left beside ``path``. A run killed
    between moving the previous folder aside and moving the new one in leaves ``path`` absent and the previous
    folder as ``.old``: that one is put back, not deleted."""
    path = Path(path)
    for stale in dir_leftovers(path):
        if stale.name.endswith(".old") and stale.is_dir() and not (path.exists() or path.is_symlink()):
            os.replace(stale, path)
        elif stale.is_dir() and not stale.is_symlink():
            shutil.rmtree(stale, ignore_errors=True)
        else:
            stale.unlink(missing_ok=True)
    for stale in leftover_temps(path):
        stale.unlink(missing_ok=True)


# --- end of leftovers of killed runs --------------------------------------------------------------------------


def write_bytes(path: str | Path, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_json(path: str | Path, obj: Any) -> None:
    """Write ``obj`` as JSON with sorted keys, so diffs and ``dvc metrics diff`` stay stable."""
    write_bytes(path, (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode())
