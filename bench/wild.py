"""Digits in the wild: each trained model's accuracy and mean reported top probability on ``digits.synthetic.photos``'s
sets under each condition, read through ``digits.read.images`` exactly as ``digits.predict`` reads a file (decode, then
to_mnist); and, with ``--mnist N``, on MNIST's first N test digits as docs/using.md's check renders them (dark ink on
white, enlarged to 160×160 on a 200×240 sheet, JPEG).

Prints one JSON line per model, set and condition; writes them all to OUT.
Command: ``python -m bench.wild OUT [--models artifacts/models] [--data artifacts/data] [--per-class 30]
[--seed 0] [--mnist 10000]``.
"""
from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from digits.data import arrays
from digits.export import loaders
from digits.read import images
from digits.synthetic import photos

MODELS = ("dense", "cnn")


def read(files: list[tuple[int, bytes, str]], folder: Path) -> np.ndarray:
    """Each encoded image written to a file and read back as predict reads it: N×28×28 uint8."""
    out = []
    for i, (_, payload, suffix) in enumerate(files):
        path = folder / f"{i}.{suffix}"
        path.write_bytes(payload)
        out.append(images.to_mnist(images.decode(path)))
    return np.stack(out)


def mnist_sheets(test: Path, limit: int) -> list[tuple[int, bytes, str]]:
    """MNIST test digits as dark ink on white, enlarged to 160×160 on a 200×240 sheet, saved as JPEG."""
    x, y = arrays.load_split(test)
    out = []
    for digit, label in zip(x[:limit], y[:limit]):
        sheet = Image.new("L", (200, 240), 255)
        sheet.paste(Image.fromarray(255 - digit).resize((160, 160), Image.Resampling.BILINEAR), (20, 40))
        buffer = io.BytesIO()
        sheet.save(buffer, "JPEG", quality=90)
        out.append((int(label), buffer.getvalue(), "jpg"))
    return out


def score(name: str, probs: np.ndarray, labels: np.ndarray) -> dict:
    return {"model": name, "accuracy": round(float((probs.argmax(1) == labels).mean()), 4),
            "mean_top_probability": round(float(probs.max(1).mean()), 4)}


def cases(args: argparse.Namespace):
    """(set, condition, files) to measure."""
    for name in photos.SETS:
        for condition in photos.CONDITIONS:
            yield name, condition, photos.photos(name, condition, args.per_class, args.seed)
    if args.mnist:
        yield "mnist", "sheet", mnist_sheets(Path(args.data) / "test.npz", args.mnist)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.wild", description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", default="artifacts/models")
    parser.add_argument("--data", default="artifacts/data")
    parser.add_argument("--per-class", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--mnist", type=int, default=0, help="also MNIST's first N test digits on a sheet")
    args = parser.parse_args(argv)
    models = {m: loaders.load(Path(args.models) / f"{m}.keras", "keras") for m in MODELS}
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, condition, files in cases(args):
            x, labels = arrays.preprocess(read(files, Path(tmp))), np.array([f[0] for f in files])
            for model, run in models.items():
                rows.append({"set": name, "condition": condition, "images": len(files), **score(model, run(x), labels)})
                print(json.dumps(rows[-1]), flush=True)
    result = {"command": "python -m bench.wild " + " ".join(sys.argv[1:] if argv is None else argv),
              "commit": commit, "per_class": args.per_class, "seed": args.seed, "rows": rows}
    args.out.write_text(json.dumps(result, indent=1) + "\n")


if __name__ == "__main__":
    main()
