"""Stage ``read``: the test set as ``python -m digits.predict`` reads image files (``digits.read.as_files``): every test
image written as a PNG, decoded and split into candidate digits, each brought to 28×28, exactly as predict does;
found once here, on worker processes, and answered by ``evaluate@<model>`` with each model, so the accuracy a user
gets from predict is reported beside the model's own.

Inputs: ``artifacts/data/test.npz``; params ``seed`` and ``nondigit.check``.
Outputs: ``artifacts/read/test.npz``: every candidate's 28×28 field, box and geometry, and per image its number of
parts and candidates (``as_files.pack``); ``artifacts/read/nondigits.npz``: the same for ``nondigit.check`` photos
of each kind of non-digit (``detector_data.check_photos``, never trained on), with their kinds; the same bytes for
the same inputs.
Command: ``python -m stages.read``.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from digits.config import schema
from digits.data import arrays
from digits.nondigit import detector_data
from digits.read import as_files
from digits.runtime import pool, runner
from digits.runtime.storage import atomic_path


def main(params: schema.Params) -> None:
    start = time.perf_counter()
    images, _ = arrays.load_split(arrays.split_path(schema.PATHS.data, "test"))
    readings = as_files.read_all(images)
    out = Path(schema.PATHS.read) / "test.npz"
    with atomic_path(out) as tmp, tmp.open("wb") as f:
        np.savez(f, **as_files.pack(readings))
    candidates = sum(len(r.candidates) for r in readings)
    print(f"read: {len(readings)} test images read as predict reads PNG files: {candidates} candidate digits "
          f"in {time.perf_counter() - start:.0f} s -> {out}", flush=True)
    start = time.perf_counter()
    items = detector_data.check_photos(params.nondigit.check, params.seed + 1)  # a seed training never uses
    found = pool.in_pool(as_files.read_bytes, [(f"{i.kind} {i.detail}", i.payload) for i in items])
    out = Path(schema.PATHS.read) / "nondigits.npz"
    with atomic_path(out) as tmp, tmp.open("wb") as f:
        np.savez(f, **as_files.pack_check(found, [i.kind for i in items]))
    print(f"read: {len(items)} held-out non-digit photos read the same way in {time.perf_counter() - start:.0f} s "
          f"-> {out}")


if __name__ == "__main__":
    runner.run_stage(main)
