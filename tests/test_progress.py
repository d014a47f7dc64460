"""Training's progress bar as a terminal shows it: with several steps per execution it counts to its total and
never past it (Keras alone reports "448/422" for the dense model's 422 steps at steps_per_execution 64)."""
from __future__ import annotations

import dataclasses
import re
import sys
import time

import keras
import pytest

from conftest import shards_in_memory
from digits.train import training
from tests.support.training import dense_cfg, tiny_data

pytestmark = pytest.mark.slow  # trains a small model

BAR = re.compile(r"\x1b\[1m\s*(\d+)/(\d+)\x1b\[0m")  # Keras' bold "current/total" at the start of the bar


class Unhurried(keras.callbacks.Callback):
    """Each execution a little longer than the bar's 0.05 s redraw interval, so every count it reaches is drawn."""

    def on_train_batch_end(self, batch, logs=None):
        time.sleep(0.06)


def test_bar_counts_to_its_total_and_never_past_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)  # a terminal: the live bar (verbose 1), redrawn
    cfg = dataclasses.replace(dense_cfg(1e-3), epochs=2, steps_per_execution=4)
    # 10 steps of 32 images an epoch: executions end at steps 4, 8 and 10 (Keras says 12).
    training.fit("dense", cfg, shards_in_memory(tiny_data(0, 320)), tiny_data(1, 32), 10,
                 tmp_path / "history.csv", 0, callbacks=(Unhurried(),))
    counts = [(int(seen), int(total)) for seen, total in BAR.findall(capsys.readouterr().out)]
    assert {total for _, total in counts} == {10}, counts
    assert [seen for seen, _ in counts].count(10) >= 2 and {4, 8} <= {seen for seen, _ in counts}, counts
    assert all(seen <= total for seen, total in counts), counts
