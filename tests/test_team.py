"""Reproducible to the byte, and shared instead of retrained, with ``git`` and ``dvc`` themselves.

Clone A runs the pipeline (tiny real MNIST), commits, and pushes its outputs to a DVC remote (a local folder). A
fresh clone B runs the whole pipeline again and must get every byte back: ``dvc.lock``, the git-tracked metrics,
plots data and every cached output. A fresh clone C only pulls: models, metrics and plots arrive, ``dvc status``
is clean, nothing is retrained, and ``predict`` works there. A clone D on another CPU kind (AVX2, emulated)
retrains and lands within the tolerance ``digits.compare`` states.
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.dvcrepo import commit, copy_repo, dvc_env, dvc_project, sh

pytestmark = pytest.mark.slow  # runs dvc repro, push and pull across clones

NOT_RESULTS = ("artifacts/timings/", "artifacts/checkpoints/")  # timings differ by design; checkpoints are gone


@pytest.fixture(scope="module")
def origin(reproduced, tmp_path_factory) -> Path:
    """Clone A: the project after `dvc repro` and `git commit` (a copy of ``reproduced``), then `dvc push` to its
    remote, committed."""
    base = tmp_path_factory.mktemp("team")
    repo = copy_repo(reproduced, base / "a")
    sh("dvc", "remote", "add", "-d", "team", str(base / "remote"), cwd=repo)
    sh("dvc", "push", cwd=repo)
    commit(repo, "the team's remote")
    return repo


def clone(origin: Path, dest: Path) -> Path:
    sh("git", "clone", "-q", str(origin), str(dest), cwd=origin.parent)
    return dest


def outputs(repo: Path) -> dict[str, bytes]:
    """Every file the pipeline made or fetched, by path, timings and checkpoints aside."""
    files = {}
    for top in ("artifacts", "metrics", "dataset"):
        for path in sorted((repo / top).rglob("*")):
            name = path.relative_to(repo).as_posix()
            if path.is_file() and not name.startswith(NOT_RESULTS) and not path.name.startswith(".git"):
                files[name] = path.read_bytes()
    return files


def test_a_fresh_clone_reproduces_every_byte(origin, tmp_path):
    repo = clone(origin, tmp_path / "b")
    # No pull, and forced: evaluate, whose outputs are in git, would otherwise be skipped as up to date.
    out = sh("dvc", "repro", "--force", cwd=repo)
    for stage in ("fetch", "prepare", "train@dense", "train@cnn", "evaluate@cnn", "export@cnn", "plots"):
        assert f"Running stage '{stage}'" in out, out
    assert sh("git", "status", "--porcelain", cwd=repo) == ""  # dvc.lock and every tracked result as committed
    assert (repo / "dvc.lock").read_bytes() == (origin / "dvc.lock").read_bytes()
    theirs, ours = outputs(origin), outputs(repo)
    assert sorted(ours) == sorted(theirs) and any(name.endswith(".keras") for name in ours)
    assert [name for name in ours if ours[name] != theirs[name]] == []


def test_another_cpu_kind_lands_within_tolerance(origin, tmp_path):
    """A teammate without AVX-512 (emulated: oneDNN capped at AVX2) reruns everything: ``auto`` trains in float32
    there, the bytes may differ from A's, and ``digits.compare`` finds each accuracy, and each rate of predict's
    path, within the stated tolerance."""
    repo = clone(origin, tmp_path / "d")
    env = dict(dvc_env(), ONEDNN_MAX_CPU_ISA="AVX2", PYTHONPATH=str(repo))
    done = subprocess.run(["dvc", "repro", "--force"], cwd=repo, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert "train: cnn: precision float32 (train.cnn.dtype_policy auto: ONEDNN_MAX_CPU_ISA=AVX2" in done.stdout
    compared = subprocess.run([sys.executable, "-m", "digits.compare"], cwd=repo, env=env, capture_output=True,
                              text=True)
    assert compared.returncode == 0, compared.stdout + compared.stderr
    judged = [line for line in compared.stdout.splitlines() if " here, " in line]  # accuracy and 3 read rates each
    assert len(judged) == 8 and all(line.endswith("within it") for line in judged), compared.stdout


def test_dvc_never_deletes_the_users_dataset(origin, mnist_dir, tmp_path):
    """A fresh clone (no DVC cache) with MNIST's files placed loose in dataset/, as the README says: DVC's forced
    checkout, the first thing `dvc exp run` does, must leave them (while dataset/ was a cached output, it emptied
    the folder). (An experiment in a temporary copy then finds them there, offline: test_experiments' queue.)"""
    repo = clone(origin, tmp_path / "e")
    placed = {f.name: f.read_bytes() for f in mnist_dir.glob("*.gz")}
    (repo / "dataset").mkdir()
    for name, data in placed.items():
        (repo / "dataset" / name).write_bytes(data)
    subprocess.run(["dvc", "checkout", "--force"], cwd=repo, env=dvc_env(), capture_output=True)  # cache: empty
    assert {f.name: f.read_bytes() for f in (repo / "dataset").iterdir() if f.is_file()} == placed


def test_a_teammate_pulls_instead_of_retraining(origin, mnist_dir, tmp_path):
    repo = clone(origin, tmp_path / "c")
    sh("dvc", "pull", cwd=repo)
    # The dataset is the user's own folder, never in the DVC cache or remote: placed as the origin had it, it
    # matches dvc.lock and nothing is stale.
    assert "fetch" in sh("dvc", "status", cwd=repo)
    (repo / "dataset" / "mnist").mkdir(parents=True)
    for placed in mnist_dir.glob("*.gz"):
        shutil.copyfile(placed, repo / "dataset" / "mnist" / placed.name)
    assert "Data and pipelines are up to date" in sh("dvc", "status", cwd=repo)
    for model in ("dense", "cnn"):
        assert (repo / f"artifacts/models/{model}.keras").read_bytes() == \
            (origin / f"artifacts/models/{model}.keras").read_bytes()
        assert (repo / f"artifacts/metrics/{model}.json").is_file()
    assert sorted(p.name for p in (repo / "artifacts/plots").iterdir()) == \
        sorted(p.name for p in (origin / "artifacts/plots").iterdir())
    assert "Running stage" not in sh("dvc", "repro", cwd=repo)
    assert sh("git", "status", "--porcelain", cwd=repo) == ""

    done = subprocess.run([sys.executable, "-m", "digits.predict", "--json", "examples/drawn_7.png"], cwd=repo,
                          env=dict(dvc_env(), PYTHONPATH=str(repo)), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert '"file": "examples/drawn_7.png"' in done.stdout


def test_models_are_declared_for_the_registry(tmp_path):
    from dvc.repo import Repo

    with Repo(str(dvc_project(tmp_path))) as repo:
        declared = repo.artifacts.read()["dvc.yaml"]
    assert {name: (a.type, a.path) for name, a in declared.items()} == {
        m: ("model", f"artifacts/models/{m}.keras") for m in ("dense", "cnn", "nondigit")}
    assert all(a.desc for a in declared.values())
