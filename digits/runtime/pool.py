"""Work spread over worker processes, results in the order given: for the stages' numpy work on many small images
(stage read's reading, stage nondigit's drawings), which holds the GIL and so gains nothing from threads.
"""
from __future__ import annotations

import concurrent.futures
import multiprocessing
import os
from typing import Callable

CHUNK = 250  # items per task sent to a worker process
MAX_WORKERS = 4  # numpy on small images: more processes than this gain little and cost memory


def in_pool(read_one: Callable, named: list, workers: int | None = None) -> list:
    """``read_one`` of every item, in order, on ``workers`` processes (default: one per core, at most
    ``MAX_WORKERS``; never more than items, and none for one: a spawned worker costs its interpreter and imports).
    Spawned, not forked: the parent may hold TensorFlow's threads."""
    workers = min(workers or min(os.cpu_count() or 1, MAX_WORKERS), len(named))
    if workers <= 1:
        return [read_one(item) for item in named]
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(workers, mp_context=context) as pool:
        return list(pool.map(read_one, named, chunksize=max(1, min(CHUNK, len(named) // workers))))
