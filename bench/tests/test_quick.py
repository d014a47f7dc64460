"""The quick try (README's "Using it", docs/pipeline.md): ``python -m bench.quick`` in a fresh clone, with MNIST's
files placed loose in dataset/ under the seed's naming and no mirror to download from, runs every stage as a DVC
experiment that ``dvc exp show`` lists, and leaves the clone's committed results and git's working tree as they were."""
from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from bench.quick import QUICK
from conftest import ROOT, tiny_params
from tests.support.dvcrepo import commit, copy_project, dvc_env, dvc_stage_specs, sh

pytestmark = pytest.mark.slow


def committed(path: str) -> bytes:
    """``path`` as HEAD holds it: the committed results, never the checkout's working copies."""
    return subprocess.run(["git", "show", f"HEAD:{path}"], cwd=ROOT, check=True, capture_output=True).stdout


@pytest.fixture(scope="module")
def clone(tmp_path_factory, mnist_dir) -> Path:
    """What a fresh clone holds: this working tree's code, HEAD's dvc.lock and results, an empty DVC cache (so
    the lock names a dataset/ the cache lacks). Without mirrors, ``fetch`` can only use the placed files."""
    params = tiny_params(mnist_dir)
    params["fetch"]["mirrors"] = {"mnist": []}
    repo = copy_project(tmp_path_factory.mktemp("quick") / "project", params)
    tracked = ["dvc.lock", "artifacts", "metrics"]
    listed = subprocess.run(["git", "ls-tree", "-r", "-z", "--name-only", "HEAD", "--", *tracked],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for name in filter(None, listed.split("\0")):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes(committed(name))
    commit(repo, "committed results")
    from digits.config import catalog

    (repo / "dataset").mkdir()
    for spec in catalog.MNIST.files:  # the seed's instruction: raw files straight in dataset/
        (repo / "dataset" / spec.raw_name).write_bytes(gzip.decompress((mnist_dir / spec.gz_name).read_bytes()))
    return repo


def workspace(repo: Path) -> dict[str, str]:
    """SHA-256 of every file outside git's and DVC's own folders: params, lock, results, placed data, code. Python's
    bytecode caches are not the user's (git ignores them; whether the copy had them yet depends on test order)."""
    return {str(p.relative_to(repo)): hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(repo.rglob("*"))
            if p.is_file() and p.relative_to(repo).parts[0] not in (".git", ".dvc")
            and "__pycache__" not in p.relative_to(repo).parts}


@pytest.fixture(scope="module")
def quick(clone):
    """The documented command, run once in ``clone``: (its output, the workspace before, the workspace after)."""
    before = workspace(clone)
    done = subprocess.run([sys.executable, "-m", "bench.quick"], cwd=clone, env=dvc_env(), text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert done.returncode == 0, done.stdout[-4000:]
    return done.stdout, before, workspace(clone)


def test_every_stage_ran(clone, quick):
    output = quick[0]
    # Addressed from another folder, a stage is "<path>/dvc.yaml:<name>"; DVC prints the name alone.
    names = [address.rsplit(":", 1)[-1] for address in dvc_stage_specs(clone)]
    missing = [name for name in names if f"Running stage '{name}'" not in output]
    assert names and not missing, output[-4000:]


def test_workspace_untouched(clone, quick):
    _, before, after = quick
    assert after == before
    assert "dvc.lock" in after and any(name.startswith("artifacts/metrics/") for name in after)
    assert sh("git", "status", "--porcelain", cwd=clone) == ""


def test_exp_show_lists_the_quick_metrics(clone, quick):
    settings = dict(setting.split("=") for setting in QUICK)
    rows = json.loads(sh("dvc", "exp", "show", "--json", cwd=clone))
    exps = [exp["data"] for row in rows for branch in row.get("experiments") or [] for exp in branch["revs"]]
    assert len(exps) == 1, rows
    params, metrics = exps[0]["params"]["params.yaml"]["data"], exps[0]["metrics"]
    for key, value in settings.items():
        tree = params
        for part in key.split("."):
            tree = tree[part]
        assert str(tree) == value, key
    test_images = int(settings["prepare.test_limit"])
    for model in ("dense", "cnn"):
        scores = metrics[f"metrics/{model}.json"]["data"]  # the headline, all that DVC lists
        assert set(scores) == {"accuracy", "dataset", "ece", "loss", "macro_f1", "robustness"}, scores
        assert 0.5 < scores["accuracy"] <= 1 and 0 < scores["robustness"] <= 1, scores
        # The detail, in the experiment's commit: scored on the quick try's test images.
        for name, key in ((f"{model}.json", "test_images"), (f"{model}_robustness.json", "images")):
            detail = json.loads(sh("git", "show", f"{exps[0]['rev']}:artifacts/metrics/{name}", cwd=clone))
            assert detail[key] == test_images, (name, detail[key])
