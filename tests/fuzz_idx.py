"""Fuzz the IDX parser: the property of ``tests/test_idx_properties.py`` (array matching its header, or a one-line
ValueError; nothing else, no hang) on many more inputs, a quarter from each of its four input sources.

    nice python tests/fuzz_idx.py --examples 100000 [--seed 1]

Prints how many inputs ran, how long it took and each source's parsed/rejected counts; on a finding, hypothesis
prints the smallest failing input it can shrink to and the script exits non-zero. Not collected by pytest.
"""
from __future__ import annotations

import collections
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from hypothesis import HealthCheck, given, seed, settings

from tests.support import fuzzing
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
    args = fuzzing.arguments(__doc__)
    counts: collections.Counter = collections.Counter()
    seconds = fuzzing.run_sources(props.SOURCES, args.examples,
                                  lambda name, share: fuzz(name, share, args.seed, counts))
    fuzzing.report("fuzz_idx", counts, seconds, ("parsed", "rejected"), "ValueError")


if __name__ == "__main__":
    main()
