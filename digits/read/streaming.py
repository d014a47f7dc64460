"""Many image files answered as ``digits.read.reading`` answers one, in the order given: decoded a few ahead on worker
threads, the model called once per chunk of them. ``digits.predict``'s loop.
"""
from __future__ import annotations

import collections
import concurrent.futures
import signal
from typing import TYPE_CHECKING, Iterable, Iterator

import numpy as np

from digits.data import arrays
from digits.read import images, segment
from digits.read.answers import Answer
from digits.read.reading import answer_reading, read

if TYPE_CHECKING:  # a type only: no TensorFlow needed here
    from digits.export import loaders

# Images decoded ahead and answered with one model call. Each decode holds at most one image within
# imagefile's caps (under 1 GB, docs/using.md) while it runs, and only 28×28 fields after: so at most
# WORKERS decodes and 2 × CHUNK small readings are in memory, whatever the number of files.
CHUNK = 64
WORKERS = 2


def load(path: str) -> segment.Reading | Exception:
    """``read`` of the file at ``path`` (``-``: standard input), or the ValueError/OSError naming it."""
    try:
        return read(path, images.decode(path))
    except (ValueError, OSError) as err:
        return err


def sigint_blocked() -> None:
    """A decoding thread's start: Ctrl-C is the main thread's to take, which alone can break a read of stdin."""
    if hasattr(signal, "pthread_sigmask"):  # not on Windows, which has no per-thread masks
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})


def answers(paths: Iterable[str], predict: loaders.Predictor, labels: tuple[str, ...], chunk: int = CHUNK
            ) -> Iterator[Answer | Exception]:
    """Each path's answer (``answers.Answer``) or its error, in the order given, as soon as its chunk is
    answered. Files are decoded on ``WORKERS`` threads, one chunk ahead of the model; standard input (``-``) is
    read on this thread, where Ctrl-C can interrupt it."""
    pool = concurrent.futures.ThreadPoolExecutor(WORKERS, "decode", initializer=sigint_blocked)
    pending: collections.deque = collections.deque()
    paths = iter(paths)
    try:
        while True:
            while len(pending) < 2 * chunk and (path := next(paths, None)) is not None:
                pending.append(path if path == "-" else pool.submit(load, path))
            if not pending:
                return
            # Standard input answers alone, and what came before it first: its read may wait for the user.
            batch = [pending.popleft()]
            while pending and len(batch) < chunk and not isinstance(batch[-1], str) and \
                    not isinstance(pending[0], str):
                batch.append(pending.popleft())
            done: list[segment.Reading | Exception] = []
            try:
                done.extend(load(p) if isinstance(p, str) else p.result() for p in batch)
            finally:  # on Ctrl-C too: what was read before it is answered, then the interruption goes on
                yield from answer_chunk(done, predict, labels)
    finally:
        pool.shutdown(wait=False, cancel_futures=True)


def answer_chunk(done: list[segment.Reading | Exception], predict: loaders.Predictor, labels: tuple[str, ...]
                 ) -> Iterator[Answer | Exception]:
    """The answers of a chunk of readings (errors passed through), from one model call for all their digits."""
    readings = [r for r in done if isinstance(r, segment.Reading)]
    probs = iter(np.split(predict(arrays.preprocess(np.concatenate([r.fields for r in readings]))),
                          np.cumsum([len(r.fields) for r in readings])[:-1]) if readings else [])
    for r in done:
        yield answer_reading(r, next(probs), labels) if isinstance(r, segment.Reading) else r
