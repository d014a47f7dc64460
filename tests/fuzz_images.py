"""Fuzz the image path: the property of ``tests/test_images_properties.py`` (a 28×28 uint8 digit, or a one-line
ValueError/OSError naming the file; nothing else, no hang) on many more inputs, a quarter from each source.

    nice python tests/fuzz_images.py --examples 20000 [--seed 1]

Prints how many inputs ran, how long it took, the peak memory and each source's read/refused counts; on a
finding, hypothesis prints the smallest failing input it can shrink to and the script exits non-zero. Not
collected by pytest.
"""
from __future__ import annotations

import collections
import resource
import sys
import tempfile
from pathlib import Path

sys.path[:0] = [str(Path(__file__).resolve().parent), str(Path(__file__).resolve().parents[1])]

from hypothesis import HealthCheck, seed, settings

from tests.support import fuzzing
import test_images_properties as props


def main() -> None:
    args = fuzzing.arguments(__doc__)
    counts: collections.Counter = collections.Counter()
    with tempfile.TemporaryDirectory() as folder:
        def fuzz(name: str, share: int) -> None:
            # No example database and no health checks: a long run on a busy machine would trip the timing ones.
            chosen = settings(props.FAST, max_examples=share, suppress_health_check=list(HealthCheck))
            run = props.run if args.seed is None else seed(args.seed)(props.run)
            run(name, Path(folder), counts, chosen)

        seconds = fuzzing.run_sources(props.SOURCES, args.examples, fuzz)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    fuzzing.report("fuzz_images", counts, seconds, ("read", "refused"), "ValueError/OSError",
                   f"peak memory {peak:.0f} MB, ")


if __name__ == "__main__":
    main()
