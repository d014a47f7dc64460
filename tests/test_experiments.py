"""DVC experiments on the project, as users run them: ``dvc exp run -S``, a queued sweep run by ``dvc queue
start`` (offline: the dataset comes from the DVC cache, not a mirror), ``dvc exp show/diff`` and ``dvc plots diff``
between two experiments, and a misspelled ``-S`` key refused."""
from __future__ import annotations

import csv
import json
import subprocess
import time

import pytest
import yaml

from conftest import ROOT
from tests.support.dvcrepo import commit, copy_repo, dvc_env, set_params, sh

pytestmark = pytest.mark.slow  # runs dvc exp run and a queued sweep

TRACKED = ["metrics/dense.json", "metrics/cnn.json"]  # the headline files: all that DVC lists
# The commands docs/pipeline.md documents (a test checks they are there), each within 120 columns with both models
# and the changed param in view. exp show: a row per experiment; only the params that differ, both accuracies kept,
# the other metrics (paths: "/"), the dependencies' hashes (paths; dataset/ too), the dates and the queue's columns
# dropped.
EXP_SHOW = ("dvc", "exp", "show", "--only-changed", "--drop", ".*/|Created|State|Executor|dataset", "--keep",
            ".*:accuracy")
METRICS = (("dvc", "metrics", "show"), ("dvc", "metrics", "diff"), ("dvc", "metrics", "diff", "--all"))
WIDTH = 120


@pytest.fixture(scope="module")
def repo(reproduced, tmp_path_factory):
    """A copy of the project after one tiny ``dvc repro`` (``reproduced``); then its mirrors are emptied, so every
    experiment below must take the dataset from the DVC cache."""
    repo = copy_repo(reproduced, tmp_path_factory.mktemp("exp") / "project")
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["fetch"]["mirrors"] = {"mnist": []}
    set_params(repo, params)
    sh("dvc", "repro", cwd=repo)  # fetch reruns on its changed params, finds the files and only verifies them
    commit(repo, "baseline")
    return repo


def exp_rows(repo) -> dict[str, dict]:
    """``dvc exp show --json`` as {experiment name: {"params": {...}, "metrics": {file: {...}}}}."""
    rows = {}
    for base in json.loads(sh("dvc", "exp", "show", "--json", cwd=repo)):
        for exp in [base] + [e for branch in base.get("experiments") or [] for e in branch["revs"]]:
            data = exp["data"]
            rows[exp.get("name") or data["rev"]] = {
                "params": data["params"]["params.yaml"]["data"],
                "metrics": {path: m["data"] for path, m in (data.get("metrics") or {}).items()},
            }
    return rows


def test_misspelled_set_param_is_refused(repo):
    done = subprocess.run(["dvc", "exp", "run", "-S", "train.cnn.learnig_rate=0.1"], cwd=repo, env=dvc_env(),
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "learnig_rate" in done.stderr + done.stdout
    assert "learnig_rate" not in (repo / "params.yaml").read_text()  # nothing silently added


@pytest.fixture(scope="module")
def swept(repo) -> dict:
    """The queued sweep docs/pipeline.md documents, run once in ``repo``: two CNN learning rates, neither the
    baseline's, run by ``dvc queue start``; {"rates", "status": the queue's last status, "rows": ``exp_rows``}."""
    default = yaml.safe_load((repo / "params.yaml").read_text())["train"]["cnn"]["learning_rate"]
    rates = (default / 8, default * 2)
    sh("dvc", "exp", "run", "--queue", "-S", f"train.cnn.learning_rate={rates[0]},{rates[1]}", cwd=repo)
    queued = sh("dvc", "queue", "status", cwd=repo).count("Queued")
    sh("dvc", "queue", "start", cwd=repo)
    deadline = time.monotonic() + 600
    while "Queued" in (status := sh("dvc", "queue", "status", cwd=repo)) or "Running" in status:
        assert time.monotonic() < deadline, status
        time.sleep(3)
    return {"rates": rates, "queued": queued, "status": status, "rows": exp_rows(repo)}


def test_queued_sweep_then_show_and_diff(repo, swept):
    rates, status = swept["rates"], swept["status"]
    assert swept["queued"] == 2
    assert status.count("Success") == 2, status + sh("dvc", "queue", "logs", "--help", cwd=repo)

    rows = swept["rows"]
    ours = {name: row for name, row in rows.items()
             if row["params"]["train"]["cnn"]["learning_rate"] in rates}
    assert len(ours) == 2, rows.keys()
    for row in ours.values():
        assert set(TRACKED) <= set(row["metrics"])
        assert 0 < row["metrics"]["metrics/cnn.json"]["accuracy"] <= 1
    first, second = sorted(ours, key=lambda n: ours[n]["params"]["train"]["cnn"]["learning_rate"])

    diff = json.loads(sh("dvc", "exp", "diff", first, second, "--json", cwd=repo))
    assert "train.cnn.learning_rate" in diff["params"]["params.yaml"]
    assert diff["metrics"]["metrics/cnn.json"]["loss"]["diff"] != 0
    # Only the CNN was retrained; the dense model's accuracy is the baseline's in both experiments.
    dense = [ours[n]["metrics"]["metrics/dense.json"]["accuracy"] for n in (first, second)]
    assert dense[0] == dense[1]

    sh("dvc", "plots", "diff", first, second, "-o", "exp_plots", cwd=repo)
    html = (repo / "exp_plots" / "index.html").read_text()
    assert first in html and second in html and html.count("vegaEmbed('#") >= 4  # a call per chart


def run_at_width(cmd: tuple[str, ...], repo, columns: int = WIDTH) -> str:
    """``cmd``'s output with ``COLUMNS`` set. Not on a terminal, DVC starts no pager but lays `dvc exp show` out at
    its full width as for one: the width a user's pager shows, never squeezed to fit."""
    done = subprocess.run(cmd, cwd=repo, env=dict(dvc_env(), COLUMNS=str(columns)), capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def test_the_documented_commands_fit_120_columns(repo, swept, tmp_path):
    """`dvc metrics show`, `dvc metrics diff` and the documented `dvc exp show` after a one-param experiment (the
    sweep's higher rate, brought into a copy's workspace by `dvc exp apply`): both models' figures and the changed
    param in view, no line over 120 characters, nothing collapsed."""
    rate = swept["rates"][1]
    name = next(n for n, row in swept["rows"].items() if row["params"]["train"]["cnn"]["learning_rate"] == rate)
    repo = copy_repo(repo, tmp_path / "project")
    sh("dvc", "exp", "apply", name, cwd=repo)
    figures = {m: json.loads((repo / f"metrics/{m}.json").read_text()) for m in ("dense", "cnn")}
    shown = {" ".join(cmd): run_at_width(cmd, repo) for cmd in (*METRICS, EXP_SHOW)}
    for cmd, text in shown.items():
        assert max(map(len, text.splitlines())) <= WIDTH and "…" not in text, f"{cmd}:\n{text}"
    table = shown["dvc metrics show"]
    for model, scores in figures.items():
        row = next(line.split() for line in table.splitlines() if line.startswith(f"metrics/{model}.json"))
        assert row[1:] == [str(round(v, 5)) if isinstance(v, float) else v for _, v in sorted(scores.items())]
    assert set(shown["dvc metrics diff"].split()) >= {"metrics/cnn.json", "accuracy"}
    assert "metrics/dense.json" not in shown["dvc metrics diff"]  # unchanged: listed by --all only
    assert {"metrics/dense.json", "metrics/cnn.json"} <= set(shown["dvc metrics diff --all"].split())
    exp_table = shown[" ".join(EXP_SHOW)]
    header = exp_table.splitlines()[1].split()
    assert header == ["Experiment", "metrics/dense.json:accuracy", "metrics/cnn.json:accuracy",
                      "train.cnn.learning_rate"], exp_table
    row = next(line for line in exp_table.splitlines() if f"[{name}]" in line).split()
    assert row[-3:] == [f"{figures['dense']['accuracy']:.5g}", f"{figures['cnn']['accuracy']:.5g}", f"{rate:.5g}"]
    # The dataset param in a column of its own, not sharing one with the dataset/ folder
    # (digits.evaluate.metrics.headline).
    rows = list(csv.reader(sh("dvc", "exp", "show", "--csv", cwd=repo).splitlines()))
    assert {row[rows[0].index("params.yaml:dataset")] for row in rows[1:]} == {"mnist"}, rows[0]


def test_docs_document_the_commands():
    text = (ROOT / "docs" / "pipeline.md").read_text()
    exp_show = " ".join(EXP_SHOW[:4]) + f" --drop '{EXP_SHOW[5]}' --keep '{EXP_SHOW[7]}'"
    for cmd in (*map(" ".join, METRICS), exp_show):
        assert cmd in text, cmd
