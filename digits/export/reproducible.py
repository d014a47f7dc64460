"""Same model, same bytes: the time stamps and random ids that saving writes, fixed the way reproducible builds
fix them.

A ``.keras`` archive records when it was written (``metadata.json``'s ``date_saved`` and each zip entry's
time) and a SavedModel's ``fingerprint.pb`` carries a random ``uuid``; either alone would change the file's md5
in ``dvc.lock`` on every rerun. The date becomes ``SOURCE_DATE_EPOCH`` (https://reproducible-builds.org) when
set, else 1980-01-01 00:00:00 UTC, the earliest time a zip entry can hold; the uuid becomes a digest of the
fingerprint's own content hashes, so it still tells different SavedModels apart.
"""
from __future__ import annotations

import hashlib
import json
import os
import time
import zipfile
from pathlib import Path

from digits.runtime.storage import atomic_path

ZIP_EPOCH = 315532800  # 1980-01-01T00:00:00Z


def source_date_epoch() -> int:
    """The time written into saved models: ``SOURCE_DATE_EPOCH`` if set, else ``ZIP_EPOCH``."""
    value = os.environ.get("SOURCE_DATE_EPOCH", "").strip()
    if not value:
        return ZIP_EPOCH
    if not value.isdigit() or int(value) < ZIP_EPOCH:
        raise ValueError(f"SOURCE_DATE_EPOCH: expected whole seconds since 1970 from 1980 on, got {value!r}")
    return int(value)


def keras_archive(path: str | Path) -> None:
    """Rewrite the ``.keras`` zip at ``path`` with ``date_saved`` and every entry's time set to
    ``source_date_epoch()``; entries, their order, contents and compression are kept."""
    stamp = time.gmtime(source_date_epoch())
    with zipfile.ZipFile(path) as old, atomic_path(path) as tmp, zipfile.ZipFile(tmp, "w") as new:
        for info in old.infolist():
            body = old.read(info)
            if info.filename == "metadata.json":
                meta = json.loads(body)
                meta["date_saved"] = time.strftime("%Y-%m-%d@%H:%M:%S", stamp)  # Keras' own format
                body = json.dumps(meta).encode()
            fixed = zipfile.ZipInfo(info.filename, date_time=stamp[:6])
            fixed.compress_type, fixed.external_attr = info.compress_type, info.external_attr
            fixed.create_system = 3  # Unix, wherever it was written
            new.writestr(fixed, body)


def saved_model_fingerprint(folder: str | Path) -> None:
    """Replace the random ``uuid`` in a SavedModel's ``fingerprint.pb`` by a digest of its content hashes."""
    from tensorflow.core.protobuf import fingerprint_pb2

    path = Path(folder) / "fingerprint.pb"
    fingerprint = fingerprint_pb2.FingerprintDef.FromString(path.read_bytes())
    fingerprint.uuid = ""
    digest = hashlib.sha256(fingerprint.SerializeToString(deterministic=True)).digest()
    fingerprint.uuid = str(int.from_bytes(digest[:16], "big"))  # TF writes a 128-bit number in decimal
    path.write_bytes(fingerprint.SerializeToString(deterministic=True))
