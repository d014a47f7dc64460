"""End to end with ``dvc`` itself: a temp git repo made from the project, tiny real MNIST, two branches."""
from __future__ import annotations

import gzip
import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.support.dvcrepo import commit, copy_repo, dvc_env, set_params, sh

pytestmark = pytest.mark.slow  # runs dvc repro on the session's reproduced project


PLACED = Path("dataset/mnist/t10k-labels.idx1-ubyte")


def _placed_state(repo: Path) -> tuple[bytes, int]:
    placed = repo / PLACED
    return placed.read_bytes(), placed.stat().st_mtime_ns


@pytest.fixture(scope="module")
def history(reproduced, tmp_path_factory, mnist_dir) -> dict:
    """A copy of the project reproduced on main (``reproduced``: tiny params, the local MNIST as mirror) whose
    dataset folder a user empties but for one test file placed by hand in the seed's raw naming: ``dvc repro``
    fetches the rest, committed on main; then branch ``lr`` with a higher learning rate, reproduced and committed.
    What each step showed is kept for the tests; the repo (on ``lr``) is theirs to read."""
    repo = copy_repo(reproduced, tmp_path_factory.mktemp("e2e") / "project")
    shutil.rmtree(repo / "dataset")
    placed = repo / PLACED
    placed.parent.mkdir(parents=True)
    placed.write_bytes(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    seen = {"repo": repo, "placed_before": _placed_state(repo)}
    sh("dvc", "repro", cwd=repo)
    seen["placed_after_repro"] = _placed_state(repo)
    seen["dataset_files"] = sorted(p.name for p in placed.parent.iterdir())
    seen["status_after_repro"] = sh("dvc", "status", cwd=repo)
    commit(repo, "the test labels placed by hand")
    seen["files_in_git"] = sh("git", "ls-files", cwd=repo).splitlines()

    sh("git", "checkout", "-qb", "lr", cwd=repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for model in ("dense", "cnn"):
        params["train"][model]["learning_rate"] *= 3
    set_params(repo, params)
    seen["status_after_params"] = sh("dvc", "status", cwd=repo)
    seen["repro_on_branch"] = sh("dvc", "repro", cwd=repo)
    seen["placed_after_branch"] = _placed_state(repo)
    commit(repo, "higher learning rate")
    return seen


@pytest.fixture
def repo(history) -> Path:
    return history["repo"]


def test_repro_branch_and_metrics_diff(history, repo):
    # The file placed by hand is used as it is, never touched; the rest is fetched.
    assert history["placed_after_repro"] == history["placed_before"]
    assert history["dataset_files"] == ["t10k-images-idx3-ubyte.gz", "t10k-labels.idx1-ubyte",
                                        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    for model in ("dense", "cnn"):
        assert (repo / f"artifacts/metrics/{model}.json").is_file()
    assert "up to date" in history["status_after_repro"].lower()
    assert {"metrics/cnn.json", "artifacts/metrics/cnn.json"} <= set(history["files_in_git"])  # metrics live in git

    status = history["status_after_params"]
    assert "train@dense" in status and "train@cnn" in status and "prepare" not in status
    assert "Stage 'prepare' didn't change, skipping" in history["repro_on_branch"]
    assert history["placed_after_branch"] == history["placed_before"]

    diff = json.loads(sh("dvc", "metrics", "diff", "main", "--json", cwd=repo))
    for model in ("dense", "cnn"):
        changes = diff[f"metrics/{model}.json"]  # the headline: all that DVC lists
        assert changes["loss"]["diff"] != 0, changes["loss"]
    assert set(diff) == {"metrics/dense.json", "metrics/cnn.json"}, diff
    params_diff = json.loads(sh("dvc", "params", "diff", "main", "--json", cwd=repo))
    assert "train.cnn.learning_rate" in params_diff["params.yaml"]


def test_repro_ends_with_the_summary(history):
    """`dvc repro` ends with what it learned: each model's figures and every stage's seconds (all ran through
    DVC here, so none is missing), where the page of results is, and, with no remote, that DVC's `dvc push`
    hint does not apply. Then only DVC's own hint."""
    tail = history["repro_on_branch"].splitlines()
    start = max(i for i, line in enumerate(tail) if line.startswith("summary ("))
    summary, after = tail[start:-1], tail[-1]
    assert after == "Use `dvc push` to send your updates to remote storage."
    rows = {line.split()[0]: line.split() for line in summary[1:4]}
    assert rows["model"] == ["model", "accuracy", "as", "read", "refused", "ECE", "robustness", "train", "evaluate",
                             "export"]
    for model in ("dense", "cnn"):
        figures = json.loads((history["repo"] / f"metrics/{model}.json").read_text())
        read = json.loads((history["repo"] / f"artifacts/metrics/{model}.json").read_text())["read"]
        assert rows[model][1:6] == [f"{figures['accuracy']:.2%}", f"{read['right']:.2%}",
                                    f"{read['nondigits']['refused']:.2%}", f"{figures['ece']:.4f}",
                                    f"{figures['robustness']:.2%}"], summary
        assert "-" not in rows[model] and rows[model][6:].count("s") == 3, summary  # every stage timed
    text = "\n".join(summary)
    assert all(f"{stage} " in text for stage in ("fetch", "prepare", "nondigit", "corrupt", "read", "plots")), summary
    assert "no timing" not in text and "dvc_plots/index.html" in text and "no DVC remote configured" in text
    assert max(map(len, summary)) <= 120, summary


def test_dataset_changed_by_hand(reproduced, tmp_path):
    """On its own copy of the reproduced project, as it edits the dataset: a valid change reruns from prepare (and
    no further, the arrays being the same); a file that fails its digest is refused, naming it."""
    repo = copy_repo(reproduced, tmp_path / "project")
    folder = repo / "dataset" / "mnist"
    gz, raw = folder / "train-labels-idx1-ubyte.gz", folder / "train-labels.idx1-ubyte"
    raw.write_bytes(gzip.decompress(gz.read_bytes()))  # the same labels, in the seed's raw naming
    gz.unlink()
    status = sh("dvc", "status", cwd=repo)
    assert "modified:           dataset" in status and "prepare" in status, status
    out = sh("dvc", "repro", cwd=repo)
    assert "Running stage 'prepare'" in out and "Stage 'train@cnn' didn't change, skipping" in out, out

    labels = bytearray(raw.read_bytes())
    labels[-1] = (labels[-1] + 1) % 10  # one wrong label: still a valid IDX file, but not MNIST
    raw.write_bytes(bytes(labels))
    done = subprocess.run(["dvc", "repro"], cwd=repo, env=dvc_env(), capture_output=True, text=True)
    assert done.returncode != 0
    assert f"error: {Path('dataset/mnist/train-labels.idx1-ubyte')}: SHA-256" in done.stdout + done.stderr
