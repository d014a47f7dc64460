"""Fuzz the image path: the property of ``tests/test_images_properties.py`` (a 28×28 uint8 digit, or a one-line
ValueError/OSError naming the file; nothing else, no hang) on many more inputs, a quarter from each source.

    nice python tests/fuzz_images.py --examples 20000 [--seed 1]

Prints how many inputs ran, how long it took, the peak memory and each source's read/refused counts; on a
finding, hypothesis prints the smallest failing input it can shrink to and the script exits non-zero. Not
collected by pytest.
"""
from __future__ import annotations

import argparse
import collections
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from hypothesis import HealthCheck, seed, settings

import test_images_properties as props


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="inputs to try (default 10,000)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed, to repeat a run")
    args = parser.parse_args()
    counts: collections.Counter = collections.Counter()
    seconds = {}
    with tempfile.TemporaryDirectory() as folder:
        for i, name in enumerate(sorted(props.SOURCES)):  # an even share each; the first takes the remainder
            share = args.examples // len(props.SOURCES) + (i == 0) * (args.examples % len(props.SOURCES))
            # No example database and no health checks: a long run on a busy machine would trip the timing ones.
            chosen = settings(props.FAST, max_examples=share, suppress_health_check=list(HealthCheck))
            start = time.monotonic()
            run = props.run if args.seed is None else seed(args.seed)(props.run)
            run(name, Path(folder), counts, chosen)
            seconds[name] = time.monotonic() - start
    total, elapsed = sum(counts.values()), sum(seconds.values())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"fuzz_images: {total:,} inputs in {elapsed:.1f} s ({total / elapsed:,.0f}/s), peak memory {peak:.0f} MB, "
          "no property violated")
    for name in sorted(props.SOURCES):
        read, refused = counts[name, "read"], counts[name, "refused"]
        print(f"  {name:10} {read + refused:7,} inputs in {seconds[name]:6.1f} s: {read:7,} read, "
              f"{refused:7,} refused (ValueError/OSError)")


if __name__ == "__main__":
    main()
