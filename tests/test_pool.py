"""``digits.runtime.pool.in_pool``: results in the order given, on worker processes only where there is more than
one item."""
from __future__ import annotations

import os

from digits.runtime import pool


def pid_and_square(item: int) -> tuple[int, int]:
    return os.getpid(), item * item


def test_results_in_order_on_workers_and_one_item_in_process():
    results = pool.in_pool(pid_and_square, list(range(7)), workers=2)
    assert [square for _, square in results] == [i * i for i in range(7)]
    assert os.getpid() not in {pid for pid, _ in results}  # spawned workers did the work
    assert pool.in_pool(pid_and_square, [3], workers=2) == [(os.getpid(), 9)]  # no worker spawned for one item
    assert pool.in_pool(pid_and_square, []) == []
