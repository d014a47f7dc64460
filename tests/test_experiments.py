"""DVC experiments on the project, as users run them: ``dvc exp run -S``, a queued sweep run by ``dvc queue
start`` (offline: the dataset comes from the DVC cache, not a mirror), ``dvc exp show/diff`` and ``dvc plots diff``
between two experiments, and a misspelled ``-S`` key refused."""
from __future__ import annotations

import json
import subprocess
import time

import pytest
import yaml

from conftest import ROOT
from dvcrepo import commit, copy_repo, dvc_env, set_params, sh

pytestmark = pytest.mark.slow  # runs dvc exp run and a queued sweep

TRACKED = ["artifacts/metrics/dense.json", "artifacts/metrics/cnn.json"]
# docs/experiments.md's `dvc exp show --drop` pattern (a test checks it is there): hides per-class figures, paths and
# file hashes, leaving each model's headline metrics and the training params.
DROP = (".*(per_class|images|fetch|plots|evaluate|prepare|export|dvc.lock|json:params|corruptions|_uncalibrated|"
        "calibration.(nll|brier|temperature)|artifacts/(data|models|train|predictions|corrupted)|stages/|digits/).*|"
        "robustness\\..*|models|Created|State|Executor|rev|typ|parent")


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
    for commit in json.loads(sh("dvc", "exp", "show", "--json", cwd=repo)):
        for exp in [commit] + [e for branch in commit.get("experiments") or [] for e in branch["revs"]]:
            data = exp["data"]
            rows[exp.get("name") or data["rev"]] = {
                "params": data["params"]["params.yaml"]["data"],
                "metrics": {path: m["data"] for path, m in (data.get("metrics") or {}).items()},
            }
    return rows


def flat_keys(tree: dict, prefix: str) -> list[str]:
    """Dotted leaf keys of a params tree, as DVC names its columns."""
    return [key for k, v in tree.items()
            for key in (flat_keys(v, f"{prefix}.{k}") if isinstance(v, dict) else [f"{prefix}.{k}"])]


def test_misspelled_set_param_is_refused(repo):
    done = subprocess.run(["dvc", "exp", "run", "-S", "train.cnn.learnig_rate=0.1"], cwd=repo, env=dvc_env(),
                          capture_output=True, text=True)
    assert done.returncode != 0
    assert "learnig_rate" in done.stderr + done.stdout
    assert "learnig_rate" not in (repo / "params.yaml").read_text()  # nothing silently added


def test_queued_sweep_then_show_and_diff(repo):
    default = yaml.safe_load((repo / "params.yaml").read_text())["train"]["cnn"]["learning_rate"]
    rates = (default / 8, default * 2)  # neither is the baseline's, so the rows below are the two experiments'
    sh("dvc", "exp", "run", "--queue", "-S", f"train.cnn.learning_rate={rates[0]},{rates[1]}", cwd=repo)
    assert sh("dvc", "queue", "status", cwd=repo).count("Queued") == 2
    sh("dvc", "queue", "start", cwd=repo)
    deadline = time.monotonic() + 600
    while "Queued" in (status := sh("dvc", "queue", "status", cwd=repo)) or "Running" in status:
        assert time.monotonic() < deadline, status
        time.sleep(3)
    assert status.count("Success") == 2, status + sh("dvc", "queue", "logs", "--help", cwd=repo)

    rows = exp_rows(repo)
    swept = {name: row for name, row in rows.items()
             if row["params"]["train"]["cnn"]["learning_rate"] in rates}
    assert len(swept) == 2, rows.keys()
    for row in swept.values():
        assert set(TRACKED) <= set(row["metrics"])
        assert 0 < row["metrics"]["artifacts/metrics/cnn.json"]["accuracy"] <= 1
    first, second = sorted(swept, key=lambda n: swept[n]["params"]["train"]["cnn"]["learning_rate"])

    diff = json.loads(sh("dvc", "exp", "diff", first, second, "--json", cwd=repo))
    assert "train.cnn.learning_rate" in diff["params"]["params.yaml"]
    assert diff["metrics"]["artifacts/metrics/cnn.json"]["loss"]["diff"] != 0
    # Only the CNN was retrained; the dense model's accuracy is the baseline's in both experiments.
    dense = [swept[n]["metrics"]["artifacts/metrics/dense.json"]["accuracy"] for n in (first, second)]
    assert dense[0] == dense[1]

    sh("dvc", "plots", "diff", first, second, "-o", "exp_plots", cwd=repo)
    html = (repo / "exp_plots" / "index.html").read_text()
    assert first in html and second in html and html.count("vegaEmbed") >= 4

    # The tidy table docs/experiments.md documents: both models' metrics and the training params, nothing else.
    table = sh("dvc", "exp", "show", "--no-pager", "--drop", DROP, "--csv", cwd=repo)
    header = table.splitlines()[0].split(",")
    metrics = {f"artifacts/metrics/{m}.json:{k}" for m in ("dense", "cnn")
               for k in ("accuracy", "loss", "macro_f1", "calibration.ece")}
    metrics |= {f"artifacts/metrics/{m}_robustness.json:mean_accuracy" for m in ("dense", "cnn")}
    train = flat_keys(yaml.safe_load((repo / "params.yaml").read_text())["train"], "train")
    assert set(header) == metrics | set(train) | {"Experiment", "seed", "dataset"}, header



def test_docs_document_the_drop_pattern():
    assert f"dvc exp show --drop '{DROP}'" in (ROOT / "docs" / "experiments.md").read_text()
