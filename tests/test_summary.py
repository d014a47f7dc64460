"""The summary the last stage prints at the end of ``dvc repro`` (``digits.evaluate.summary``): each model's headline
figures and its stages' seconds, the shared stages' seconds, missing timings said rather than failed on, where the
results are, and whether DVC's closing `dvc push` hint applies; and the timing every stage run records
(``digits.runtime.runner``)."""
from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys

import pytest

from conftest import ROOT, tiny_params, write_project
from digits.evaluate import summary
from digits.runtime import runner
from digits.config.fixed import PATHS

FIGURES = {"dense": {"accuracy": 0.9841, "ece": 0.0034, "loss": 0.0553, "macro_f1": 0.984, "robustness": 0.6189},
           "cnn": {"accuracy": 0.9953, "ece": 0.0023, "loss": 0.0162, "macro_f1": 0.9952, "robustness": 0.865}}
READ = {"dense": {"right": 0.9822, "as_number": 0.002, "nondigits": {"refused": 0.9012}},
        "cnn": {"right": 0.9933, "as_number": 0.0015, "nondigits": {"refused": 0.9345}}}


@pytest.fixture
def project(tmp_path, monkeypatch):
    """A project folder with both headline files, no timings, and no DVC config anywhere (the user's own global
    or system config, which may name a remote, kept out)."""
    for level in ("GLOBAL", "SYSTEM"):
        monkeypatch.setenv(f"DVC_{level}_CONFIG_DIR", str(tmp_path / level.lower()))
    monkeypatch.delenv("DVC_EXP_NAME", raising=False)
    for model, figures in FIGURES.items():
        (tmp_path / PATHS.headline).mkdir(exist_ok=True)
        (tmp_path / PATHS.headline / f"{model}.json").write_text(json.dumps(figures))
        (tmp_path / PATHS.metrics).mkdir(parents=True, exist_ok=True)
        (tmp_path / PATHS.metrics / f"{model}.json").write_text(json.dumps({"read": READ[model]}))
    with contextlib.chdir(tmp_path):
        yield tmp_path


def time_stages(*stages: str) -> None:
    for i, stage in enumerate(stages):
        path = runner.stage_timing_path(stage)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"seconds": 10.0 + i}))


def test_figures_and_every_stage_time(project):
    time_stages("fetch", "prepare", "nondigit", "corrupt", "read", *(f"{s}@{m}" for m in ("dense", "cnn")
                                                                      for s in ("train", "evaluate", "export")))
    lines = summary.lines(("dense", "cnn"), 4.25)
    assert lines[1].split() == ["model", "accuracy", "as", "read", "refused", "ECE", "robustness", "train", "evaluate",
                                "export"]
    assert lines[2].split() == ["dense", "98.41%", "98.22%", "90.12%", "0.0034", "61.89%", "15.0", "s", "16.0", "s",
                                "17.0", "s"]
    assert lines[3].split() == ["cnn", "99.53%", "99.33%", "93.45%", "0.0023", "86.50%", "18.0", "s", "19.0", "s",
                                "20.0", "s"]
    assert lines[4].startswith("  as read: the test images predict reads right from their files")
    assert lines[5].startswith("  refused: the held-out non-digit photos predict answers")
    assert lines[6] == ("  fetch 10.0 s, prepare 11.0 s, nondigit 12.0 s, corrupt 13.0 s, read 14.0 s, "
                        "plots 4.2 s so far")
    assert not any("no timing" in line for line in lines)
    assert "dvc_plots/index.html" in lines[7]
    assert lines[-1].startswith("  no DVC remote configured: the `dvc push` hint DVC prints next does not apply")
    assert max(map(len, lines)) <= 120


def test_missing_timings_and_figures_are_said_not_fatal(project):
    (project / PATHS.headline / "cnn.json").unlink()
    (project / PATHS.metrics / "cnn.json").unlink()
    time_stages("fetch", "train@dense")
    runner.stage_timing_path("prepare").write_text("{not json")  # a damaged timing counts as missing
    lines = summary.lines(("dense", "cnn"), None)
    assert lines[3].split() == ["cnn", "-", "-", "-", "-", "-", "-", "-", "-"]
    assert lines[6] == "  fetch 10.0 s, prepare -, nondigit -, corrupt -, read -, plots - so far"
    assert ("  no timing for evaluate@dense, export@dense, train@cnn, evaluate@cnn, export@cnn, prepare, nondigit, "
            "corrupt, read: not run in this workspace since timings were kept") in lines


def test_remote_named_when_configured_and_no_hint_note_under_experiments(project, monkeypatch):
    (project / ".dvc").mkdir()
    (project / ".dvc" / "config").write_text("[core]\n    remote = team\n['remote \"team\"']\n    url = /x\n")
    assert summary.lines(("dense",), 1.0)[-1].startswith("  DVC remote team: `dvc push` shares the models")
    monkeypatch.setenv("DVC_EXP_NAME", "fine-tune")  # `dvc exp run` prints no push hint
    assert "dvc_plots/index.html" in summary.lines(("dense",), 1.0)[-1]


def test_the_summary_knows_every_stage(stage_specs):
    from tests.support.committed import default_params

    models = default_params()["models"]
    named = {*summary.SHARED_STAGES, summary.LAST_STAGE, *(f"{s}@{m}" for s in summary.MODEL_STAGES for m in models)}
    assert named == set(stage_specs)


@pytest.mark.slow  # runs a stage in its own process
def test_a_stage_run_records_its_seconds(tmp_path, mnist_dir):
    """Run as DVC runs it (`python -m stages.fetch`): the stage's whole wall time, start-up included, is kept."""
    root = write_project(tmp_path / "project", tiny_params(mnist_dir))
    done = subprocess.run([sys.executable, "-m", "stages.fetch"], cwd=root, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    timing = json.loads((root / PATHS.timings / "stages" / "fetch.json").read_text())
    assert set(timing) == {"seconds", "startup_seconds", "peak_rss_mb", "tensorflow"}, timing
    assert 0 < timing["startup_seconds"] < timing["seconds"] < 600 and timing["peak_rss_mb"] > 0, timing
    assert not timing["tensorflow"]  # fetch never imports it (a stage's start-up is TensorFlow's when it does)
