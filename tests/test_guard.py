"""Nothing outside the pipeline's own places is ever removed or written, whatever params.yaml or ``dvc exp run -S``
says (DVC deletes a stage's outputs before its command runs, so a guard inside a stage would come too late: the
output paths are not params), and a stage started from another folder works on its own project."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, tiny_params
from tests.support.dvcrepo import copy_project, dvc_env, sh


def snapshot(*folders: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p): (p.read_bytes(), p.stat().st_mtime_ns) for folder in folders for p in folder.rglob("*")
            if p.is_file()}


@pytest.mark.slow  # runs dvc
def test_no_params_value_reaches_a_users_files(mnist_dir, tmp_path):
    repo = copy_project(tmp_path / "project", tiny_params(mnist_dir))
    outside = tmp_path / "notes"
    outside.mkdir()
    (outside / "notes.txt").write_text("mine")
    before = snapshot(repo / "examples", outside)

    # `-S` can only set keys params.yaml has: DVC refuses before running anything.
    for key, value in (("paths.plots", "examples"), ("paths.data", str(outside))):
        done = subprocess.run(["dvc", "exp", "run", "-S", f"{key}={value}"], cwd=repo, env=dvc_env(),
                              capture_output=True, text=True)
        assert done.returncode != 0 and "Could not override" in done.stdout + done.stderr, done.stderr

    # Written into params.yaml by hand: the first stage refuses the key, and DVC's outputs are fixed paths.
    params = yaml.safe_load((repo / "params.yaml").read_text())
    (repo / "params.yaml").write_text(yaml.safe_dump({**params, "paths": {"plots": "examples"}}))
    done = subprocess.run(["dvc", "repro"], cwd=repo, env=dvc_env(), capture_output=True, text=True)
    assert done.returncode != 0
    assert "error: params.yaml: paths: unknown key" in done.stdout + done.stderr
    assert snapshot(repo / "examples", outside) == before
    assert sh("git", "status", "--porcelain", "--", "examples", cwd=repo) == ""


def test_a_stage_run_from_another_folder_works_on_its_project(mnist_dir, tmp_path):
    """``python -m stages.fetch`` from a folder that is not a project (here one with a stray params.yaml of
    something else) reads and writes the project the ``stages`` package belongs to."""
    project = copy_project(tmp_path / "project", tiny_params(mnist_dir))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "params.yaml").write_text("learning_rate: 1\n")  # not ours: must not be read
    done = subprocess.run([sys.executable, "-m", "stages.fetch"], cwd=elsewhere, capture_output=True, text=True,
                          env=dict(os.environ, PYTHONPATH=str(project)))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (project / "dataset" / "mnist").iterdir()) == sorted(
        p.name for p in mnist_dir.iterdir() if p.name.endswith(".gz"))
    assert sorted(p.name for p in elsewhere.iterdir()) == ["params.yaml"]


def test_no_test_names_the_users_workspace():
    """The tests' params come from the committed params.yaml (tests/support/committed.py) and their results from temp
    projects: no test source names the checkout's params.yaml, dvc.lock, metrics/, artifacts/ or dvc_plots/, which
    are the user's (``conftest.checkout_untouched`` fails the run if one is written)."""
    named = re.compile(r"""(ROOT|parents\[1\])\s*/\s*["'](params\.yaml|dvc\.lock|metrics|artifacts|dvc_plots)""")
    sources = [ROOT / "conftest.py", *sorted((ROOT / "tests").rglob("*.py")),
               *sorted((ROOT / "bench" / "tests").glob("*.py"))]
    found = [f"{path.name}:{number}: {line.strip()}" for path in sources
             for number, line in enumerate(path.read_text().splitlines(), 1) if named.search(line)]
    assert found == []
