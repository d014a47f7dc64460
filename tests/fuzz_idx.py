"""Fuzz the IDX parser: the property of ``tests/test_idx_properties.py`` (array matching its header, or a one-line
ValueError; nothing else, no hang) on many more inputs, a quarter from each of its four input sources.

    nice python tests/fuzz_idx.py --examples 100000 [--seed 1]

Prints how many inputs ran, how long it took and each source's parsed/rejected counts; on a finding, hypothesis
prints the smallest failing input it can shrink to and the script exits non-zero. Not collected by pytest.
"""
from __future__ import annotations

import argparse
import collections
import sys
import time
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from hypothesis import HealthCheck, given, seed, settings

import test_idx_properties as props


def fuzz(name: str, examples: int, random_seed: int | None, counts: collections.Counter) -> None:
    """Run the property on ``examples`` inputs from source ``name``, counting outcomes. Raises on a finding."""
    # No example database (nothing written into the repository) and no health checks: a long run on a busy
    # machine would trip the timing ones, and oversized draws are discarded by design.
    @settings(props.FAST, max_examples=examples, suppress_health_check=list(HealthCheck))
    @given(props.SOURCES[name])
    def run(case):
        counts[name, props.check(*case)] += 1

    (seed(random_seed)(run) if random_seed is not None else run)()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="inputs to try (default 10,000)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed, to repeat a run")
    args = parser.parse_args()
    counts: collections.Counter = collections.Counter()
    seconds = {}
    for i, name in enumerate(sorted(props.SOURCES)):  # an even share each; the first takes the remainder
        start = time.monotonic()
        fuzz(name, args.examples // len(props.SOURCES) + (i == 0) * (args.examples % len(props.SOURCES)),
             args.seed, counts)
        seconds[name] = time.monotonic() - start
    total, elapsed = sum(counts.values()), sum(seconds.values())
    print(f"fuzz_idx: {total:,} inputs in {elapsed:.1f} s ({total / elapsed:,.0f}/s), no property violated")
    for name in sorted(props.SOURCES):
        parsed, rejected = counts[name, "parsed"], counts[name, "rejected"]
        print(f"  {name:14} {parsed + rejected:7,} inputs in {seconds[name]:6.1f} s: {parsed:7,} parsed, "
              f"{rejected:7,} rejected (ValueError)")


if __name__ == "__main__":
    main()
