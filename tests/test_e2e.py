"""End to end with ``dvc`` itself: a temp git repo made from the project, tiny real MNIST, two branches."""
from __future__ import annotations

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, tiny_params


def sh(*cmd: str, cwd: Path) -> str:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
               GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t.invalid", GIT_COMMITTER_NAME="t",
               GIT_COMMITTER_EMAIL="t@t.invalid", DVC_NO_ANALYTICS="1")
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout


def set_params(repo: Path, params: dict) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


@pytest.fixture(scope="module")
def repo(tmp_path_factory, mnist_dir) -> Path:
    """The project's tracked files in a fresh git repo, with tiny params and the local MNIST as mirror."""
    repo = tmp_path_factory.mktemp("e2e") / "project"
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True)
    for name in filter(None, files.stdout.split("\0")):
        if not name.startswith(("artifacts/", "dvc.lock")):  # start from nothing made
            (repo / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, repo / name)
    set_params(repo, tiny_params(mnist_dir))
    sh("git", "init", "-q", "-b", "main", cwd=repo)
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "project", cwd=repo)
    return repo


def test_repro_branch_and_metrics_diff(repo, mnist_dir):
    # One file placed by hand in the seed's raw naming: used as it is, never touched; the rest is fetched.
    placed = repo / "dataset" / "t10k-labels.idx1-ubyte"
    placed.parent.mkdir()
    placed.write_bytes(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    before = (placed.read_bytes(), placed.stat().st_mtime_ns)
    sh("dvc", "repro", cwd=repo)
    assert (placed.read_bytes(), placed.stat().st_mtime_ns) == before
    assert sorted(p.name for p in placed.parent.iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels.idx1-ubyte", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    for model in ("dense", "cnn"):
        assert (repo / f"artifacts/metrics/{model}.json").is_file()
    assert "up to date" in sh("dvc", "status", cwd=repo).lower()
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "first run", cwd=repo)
    assert "artifacts/metrics/cnn.json" in sh("git", "ls-files", cwd=repo)  # metrics live in git

    sh("git", "checkout", "-qb", "lr", cwd=repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for model in ("dense", "cnn"):
        params["train"][model]["learning_rate"] *= 3
    set_params(repo, params)
    status = sh("dvc", "status", cwd=repo)
    assert "train@dense" in status and "train@cnn" in status and "prepare" not in status
    out = sh("dvc", "repro", cwd=repo)
    assert "Stage 'prepare' didn't change, skipping" in out
    assert (placed.read_bytes(), placed.stat().st_mtime_ns) == before
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "higher learning rate", cwd=repo)

    diff = json.loads(sh("dvc", "metrics", "diff", "main", "--json", cwd=repo))
    for model in ("dense", "cnn"):
        changes = diff[f"artifacts/metrics/{model}.json"]
        assert changes["loss"]["diff"] != 0, changes["loss"]
        assert "params" not in changes  # only changed metrics are listed; the architecture is the same
    params_diff = json.loads(sh("dvc", "params", "diff", "main", "--json", cwd=repo))
    assert "train.cnn.learning_rate" in params_diff["params.yaml"]


def test_plots_show_and_diff_render_html(repo):
    if not (repo / "dvc.lock").exists():
        pytest.fail("needs test_repro_branch_and_metrics_diff to have run first")
    for cmd, out in ((["dvc", "plots", "show"], "show"), (["dvc", "plots", "diff", "main"], "diff")):
        sh(*cmd, "-o", out, cwd=repo)
        html = (repo / out / "index.html").read_text()
        assert html.count("vegaEmbed") >= 4  # loss, accuracy and two confusion matrices
        images = sorted(p.name for p in (repo / out / "static").iterdir())
        assert any("curves.png" in name for name in images)
        assert sum("confusion_" in name for name in images) >= 2
