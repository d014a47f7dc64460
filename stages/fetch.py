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
import shutil
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tqdm import tqdm

from stages import config, datasets
from stages.common import atomic_path, leftover_temps, run_stage
from stages.datasets import IdxFile, find_local
from stages.idx import decompress


CHUNK = 1 << 16


def verify(path: Path, spec: IdxFile, name: str | None = None) -> None:
    """Raise ValueError naming ``name`` (default ``path``) unless the decompressed bytes have the pinned SHA-256."""
    name = name or str(path)
    try:
        digest = hashlib.sha256(decompress(path.read_bytes())).hexdigest()
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    if digest != spec.sha256:
        raise ValueError(f"{name}: SHA-256 of the decompressed bytes is {digest}, expected {spec.sha256}")


def _copy_url(url: str, dest: Path, timeout: float, label: str) -> None:
    """Download ``url`` into ``dest`` with a progress bar (on a terminal); a short read is an error, not a file."""
    with urllib.request.urlopen(url, timeout=timeout) as resp, dest.open("wb") as out:
        total = int(resp.headers.get("Content-Length") or 0) or None
        done = 0
        with tqdm(total=total, unit="B", unit_scale=True, desc=label, disable=None) as bar:
            while chunk := resp.read(CHUNK):
                out.write(chunk)
                done += len(chunk)
                bar.update(len(chunk))
        if total is not None and done != total:
            raise OSError(f"connection closed after {done} of {total} bytes")


def _copy(mirror: str, spec: IdxFile, dest: Path, timeout: float) -> None:
    if urllib.parse.urlsplit(mirror).scheme in ("http", "https", "ftp", "file"):
        _copy_url(urllib.parse.urljoin(mirror.rstrip("/") + "/", spec.gz_name), dest, timeout, spec.gz_name)
    else:
        shutil.copyfile(Path(mirror) / spec.gz_name, dest)


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
    for stale in leftover_temps(dest):
        stale.unlink(missing_ok=True)
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
    params = config.load_params()
    dataset = datasets.get(params.dataset)
    folders = dataset.folders(params.paths.dataset)
    folders[0].mkdir(parents=True, exist_ok=True)
    for spec in dataset.files:
        path = fetch_file(folders, spec, params.fetch.mirrors.get(dataset.name, ()), params.fetch)
        print(f"fetch: {path} verified")


if __name__ == "__main__":
    run_stage(main)
