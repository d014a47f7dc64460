"""Seconds per corruption family on MNIST's first N test digits (one process, one core's worth of numpy/scipy).

Measured about 0.7 s for all 15 families on 1,000 digits, 7 s on the whole 10,000-image test set, on one core of
the project's 2-core CPU machine; the budget the corruptions were written to is 3 s per family on 1,000 digits.
These are figures, not test assertions: the tests share a busy machine. Prints one JSON line per family, then
the total. Command: ``python -m bench.corruption_speed [--mnist DIR] [--count 1000] [--seed 0]``.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from digits.corruptions import CORRUPTIONS, corrupt
from digits.idx import parse_images

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mnist", type=Path, default=ROOT.parent / "shared" / "mnist")
    parser.add_argument("--count", type=int, default=1000, help="test digits to corrupt")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    images = parse_images((args.mnist / "t10k-images-idx3-ubyte.gz").read_bytes())[: args.count]
    total = 0.0
    for name in CORRUPTIONS:
        start = time.perf_counter()
        corrupt(images, name, args.seed)
        seconds = time.perf_counter() - start
        total += seconds
        print(json.dumps({"corruption": name, "images": len(images), "seconds": round(seconds, 3)}), flush=True)
    print(json.dumps({"corruption": "all", "images": len(images), "seconds": round(total, 3)}))


if __name__ == "__main__":
    main()
