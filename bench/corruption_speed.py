"""Seconds per corruption family on MNIST's first N test digits (one process, one core's worth of numpy/scipy).

Measured about 0.7 s for all 15 families on 1,000 digits, 7 s on the whole 10,000-image test set, on one core of
the project's 2-core CPU machine; the budget the corruptions were written to is 3 s per family on 1,000 digits.
These are figures, not test assertions: the tests share a busy machine. Prints one JSON line per family, then
the total. Command: ``python -m bench.corruption_speed [--mnist DIR] [--count 1000] [--seed 0]``.
"""
from __future__ import annotations

import json
import time

from bench.corruption_samples import digits_parser, mnist_test_digits
from digits.corrupt.corruptions import CORRUPTIONS, corrupt


def main(argv: list[str] | None = None) -> None:
    args = digits_parser(__doc__.splitlines()[0], 1000, "test digits to corrupt").parse_args(argv)
    images = mnist_test_digits(args)
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
