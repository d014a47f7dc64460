"""``train.<model>.distribute``: mirrored over two logical CPU devices (as over two GPUs) and two workers on
localhost train to the accuracy a single device reaches; only the chief writes."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, project_after, tiny_params, write_project
from digits.data import arrays
from digits.train import distribute

pytestmark = pytest.mark.slow  # trains under tf.distribute, in worker processes

# Logical devices must be configured before TensorFlow initialises, hence a fresh process per run.
TWO_CPUS = """
import sys
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from digits.runtime import runner
from stages import train
runner.run_stage(train.main, per_model=True)
"""


@pytest.fixture(scope="module")
def prepared(tmp_path_factory, mnist_dir) -> Path:
    root = tmp_path_factory.mktemp("distribute")
    return project_after(root, tiny_params(mnist_dir, train_limit=3000, test_limit=1000), ("fetch",), ("prepare",))


def project(prepared: Path, dest: Path, distribute_kind: str) -> Path:
    shutil.copytree(prepared, dest, symlinks=True)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    params["train"]["dense"]["distribute"] = distribute_kind
    write_project(dest, params)
    return dest


def start(cwd: Path, args: list[str], env: dict | None = None) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, *args], cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})


def finish(proc: subprocess.Popen) -> str:
    out, _ = proc.communicate(timeout=600)
    assert proc.returncode == 0, out[-3000:]
    return out


def score(root: Path) -> float:
    import keras

    model = keras.models.load_model(root / "artifacts/models/dense.keras")
    images, labels = arrays.load_split(root / "artifacts/data/test.npz")
    return float((model.predict(arrays.preprocess(images), verbose=0).argmax(1) == labels).mean())


@pytest.fixture(scope="module")
def single(prepared, tmp_path_factory) -> float:
    root = project(prepared, tmp_path_factory.mktemp("none") / "p", "none")
    finish(start(root, ["-m", "stages.train", "dense"]))
    return score(root)


def test_mirrored_on_two_logical_cpus(prepared, single, tmp_path):
    root = project(prepared, tmp_path / "p", "mirrored")
    out = finish(start(root, ["-c", TWO_CPUS, "dense"]))
    assert "2 replica(s)" in out
    accuracy = score(root)
    assert accuracy > 0.8 and abs(accuracy - single) < 0.03, (accuracy, single)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_two_workers_on_localhost(prepared, single, tmp_path):
    root = project(prepared, tmp_path / "p", "multiworker")
    cluster = {"worker": [f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}"]}
    procs = [start(root, ["-m", "stages.train", "dense"],
                   {"TF_CONFIG": json.dumps({"cluster": cluster, "task": {"type": "worker", "index": i}})})
             for i in range(2)]
    outs = [finish(p) for p in procs]
    assert all("2 replica(s)" in out for out in outs)
    accuracy = score(root)
    assert accuracy > 0.8 and abs(accuracy - single) < 0.03, (accuracy, single)
    assert len((root / "artifacts/train/dense/history.csv").read_text().splitlines()) == 3  # the chief's alone


@pytest.mark.parametrize(("tf_config", "chief"), [
    (None, True),
    ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 0}}, True),
    ({"cluster": {"worker": ["a:1", "b:1"]}, "task": {"type": "worker", "index": 1}}, False),
    ({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "worker", "index": 0}}, False),
    ({"cluster": {"chief": ["c:1"], "worker": ["a:1"]}, "task": {"type": "chief", "index": 0}}, True),
])
def test_only_the_chief_writes(monkeypatch, tf_config, chief):
    if tf_config is None:
        monkeypatch.delenv("TF_CONFIG", raising=False)
    else:
        monkeypatch.setenv("TF_CONFIG", json.dumps(tf_config))
    assert distribute.is_chief() is chief


def test_bad_tf_config_is_named(monkeypatch):
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(ValueError, match="TF_CONFIG: expected JSON"):
        distribute.is_chief()

