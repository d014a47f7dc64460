"""What the property tests and the fuzz scripts (``tests/fuzz_idx.py``, ``tests/fuzz_images.py``) share: a guard
against a parse that never ends, their command line, each input source's share of the examples, the timing of each
source's run, and the report."""
from __future__ import annotations

import argparse
import collections
import contextlib
import signal
import time
from typing import Callable, Iterable, Iterator


class Hang(Exception):
    """A parse that ran past ``HANG_SECONDS`` (deliberately not a ValueError)."""


@contextlib.contextmanager
def no_hang(seconds: float) -> Iterator[None]:
    """Interrupt the block with Hang after ``seconds``; a hypothesis deadline alone cannot stop an endless loop."""
    def interrupt(signum, frame):
        raise Hang(f"still parsing after {seconds} s")

    previous = signal.signal(signal.SIGALRM, interrupt)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def arguments(doc: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0])
    parser.add_argument("--examples", type=int, default=10_000, help="inputs to try (default 10,000)")
    parser.add_argument("--seed", type=int, default=None, help="hypothesis seed, to repeat a run")
    return parser.parse_args()


def run_sources(sources: Iterable[str], examples: int, run: Callable[[str, int], None]) -> dict[str, float]:
    """``run(name, share)`` for each source in name order, an even share of ``examples`` each (the first takes
    the remainder); the seconds each took."""
    names = sorted(sources)
    seconds = {}
    for i, name in enumerate(names):
        start = time.monotonic()
        run(name, examples // len(names) + (i == 0) * (examples % len(names)))
        seconds[name] = time.monotonic() - start
    return seconds


def report(tool: str, counts: collections.Counter, seconds: dict[str, float], outcomes: tuple[str, str],
           refused_by: str, extra: str = "") -> None:
    """The totals, then per source its inputs, seconds and ``outcomes`` (accepted, refused) counts."""
    total, elapsed = sum(counts.values()), sum(seconds.values())
    print(f"{tool}: {total:,} inputs in {elapsed:.1f} s ({total / elapsed:,.0f}/s), {extra}no property violated")
    width = max(map(len, seconds))
    for name in sorted(seconds):
        good, bad = counts[name, outcomes[0]], counts[name, outcomes[1]]
        print(f"  {name:{width}} {good + bad:7,} inputs in {seconds[name]:6.1f} s: {good:7,} {outcomes[0]}, "
              f"{bad:7,} {outcomes[1]} ({refused_by})")
