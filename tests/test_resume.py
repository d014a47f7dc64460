"""Training killed with SIGKILL mid-run resumes from its last completed epoch and ends bit-identical to a run
never interrupted (weights and history), augmentation included; checkpoints of other params are ignored."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import yaml

from tests.support.committed import default_params
from conftest import ROOT, copy_of, write_project
from digits.train import checkpoint

pytestmark = pytest.mark.slow  # trains and kills training processes

EPOCHS = 6


def start_train(cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "stages.train", "dense"], cwd=cwd, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT)}, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)


def epochs_saved(cwd: Path) -> int:
    try:
        return len(json.loads((cwd / "artifacts/checkpoints/dense" / checkpoint.STATE).read_text())["history"])
    except (OSError, ValueError):
        return 0


@pytest.mark.parametrize("augment", [False, True])
def test_killed_training_resumes_to_the_same_result(prepared_project, tmp_path, augment):
    whole, killed = copy_of(prepared_project, tmp_path / "whole"), copy_of(prepared_project, tmp_path / "killed")
    for root in (whole, killed):
        params = yaml.safe_load((root / "params.yaml").read_text())
        params["train"]["dense"].update(epochs=EPOCHS, batch_size=8)  # slow enough to kill mid-run
        params["train"]["dense"]["augment"]["enabled"] = augment  # its random state must resume too
        write_project(root, params)
    proc = start_train(killed)
    deadline = time.monotonic() + 300
    while epochs_saved(killed) < 2:
        assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()[0][-3000:]
        time.sleep(0.05)
    time.sleep(0.3)  # into the next epoch
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = epochs_saved(killed)
    assert 2 <= done < EPOCHS, "killed too late to test resuming"
    assert not (killed / "artifacts/models/dense.keras").exists()
    # history.csv is written whole before each epoch's checkpoint, so a kill between the two leaves it one row ahead;
    # either way it is a valid file, and the resumed run rewrites it from the checkpoint (checked below).
    assert len((killed / "artifacts/train/dense/history.csv").read_text().splitlines()) - 1 in (done, done + 1)

    resumed = start_train(killed)
    out = resumed.communicate(timeout=600)[0]
    assert resumed.returncode == 0, out[-3000:]
    assert f"resuming after epoch {done} of {EPOCHS}" in out
    uninterrupted = start_train(whole)
    out = uninterrupted.communicate(timeout=600)[0]
    assert uninterrupted.returncode == 0 and "resuming" not in out, out[-3000:]

    import keras

    weights = [keras.models.load_model(d / "artifacts/models/dense.keras").get_weights() for d in (whole, killed)]
    assert all(np.array_equal(a, b) for a, b in zip(*weights))
    history = [(d / "artifacts/train/dense/history.csv").read_text() for d in (whole, killed)]
    assert history[0] == history[1] and len(history[0].splitlines()) == 1 + EPOCHS
    assert not (killed / "artifacts/checkpoints/dense").exists()  # removed once the model is saved


def test_checkpoint_of_other_params_is_not_resumed(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(np.zeros((4, 2)), np.zeros((4, 1)), verbose=0)  # builds the optimizer's state, saved with it
    checkpoint.save(tmp_path / "ck", "key-a", model, [{"epoch": 1}])
    assert checkpoint.load(tmp_path / "ck", "key-b") is None
    loaded, history = checkpoint.load(tmp_path / "ck", "key-a")
    assert history == [{"epoch": 1}] and np.array_equal(loaded.get_weights()[0], model.get_weights()[0])
    assert checkpoint.load(tmp_path / "missing", "key-a") is None


def test_fingerprint_follows_params_seed_and_data(tmp_path):
    from digits.config import schema

    data = tmp_path / "train.npz"
    data.write_bytes(b"a")
    cfg = schema.parse_params(default_params()).train.dense
    key = checkpoint.fingerprint("dense", cfg, 42, (data,))
    assert key == checkpoint.fingerprint("dense", cfg, 42, (data,))
    import dataclasses

    assert key != checkpoint.fingerprint("dense", dataclasses.replace(cfg, epochs=99), 42, (data,))
    assert key != checkpoint.fingerprint("dense", cfg, 43, (data,))
    data.write_bytes(b"b")
    assert key != checkpoint.fingerprint("dense", cfg, 42, (data,))
