"""Throwaway copies of the project as git + DVC repositories, running ``git``/``dvc`` in them, and the session
fixtures that read the project through DVC (``stage_specs``) or reproduce it once (``reproduced``)."""
from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from harness.workspace import commit_all, copy_tree


def dvc_env() -> dict[str, str]:
    """This interpreter's ``dvc`` first on PATH, a fixed git identity, no analytics."""
    return dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
                GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@t.invalid", GIT_COMMITTER_NAME="t",
                GIT_COMMITTER_EMAIL="t@t.invalid", DVC_NO_ANALYTICS="1")


def sh(*cmd: str, cwd: Path) -> str:
    """Run ``cmd``; fail the test with its output unless it exits 0; return its stdout."""
    done = subprocess.run(cmd, cwd=cwd, env=dvc_env(), capture_output=True, text=True)
    output = f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(cmd)} exited {done.returncode}:\n{output}"
    return done.stdout


def set_params(repo: Path, params: dict) -> None:
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))


def dvc_stage_specs(root: Path) -> dict[str, dict]:
    """Each stage as DVC itself resolves dvc.yaml (templating, foreach): cmd, params keys, deps, outs."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    specs = {}
    with contextlib.chdir(root), Repo(str(root)) as repo:  # in it: DVC names a stage relative to the cwd
        for stage in repo.index.stages:
            specs[stage.addressing] = {
                "cmd": stage.cmd,
                "params": {p for d in stage.deps if isinstance(d, ParamsDependency) for p in d.params},
                "deps": {d.def_path for d in stage.deps if not isinstance(d, ParamsDependency)},
                "outs": {o.def_path for o in stage.outs},
            }
    return specs


def dvc_project(root: Path) -> Path:
    """This checkout's dvc.yaml beside the committed params.yaml, in a DVC repo of its own (no git): DVC resolves
    dvc.yaml's templating (``${dataset}``, the ``foreach`` over ``models``) from params.yaml, so reading the
    checkout itself would give the stages of the user's last experiment (``dvc exp run -S models=[dense]``)."""
    from dvc.repo import Repo

    from tests.support.committed import default_params
    from conftest import write_project

    write_project(root, default_params())
    Repo.init(str(root), no_scm=True).close()
    return root


@pytest.fixture(scope="session")
def stage_specs(tmp_path_factory) -> dict[str, dict]:
    return dvc_stage_specs(dvc_project(tmp_path_factory.mktemp("stages")))


def copy_project(repo: Path, params: dict) -> Path:
    """The project's files that git tracks or would (no results, no lock) in a fresh git repo at ``repo`` on
    branch main, with ``params``: the working tree as it would be committed, so uncommitted changes are tested
    too."""
    from digits.config.fixed import PATHS

    copy_tree(repo, skip=("artifacts/", f"{PATHS.headline}/", "dvc.lock"))
    set_params(repo, params)
    return commit_all(repo, "project", ("t", "t@t.invalid"), branch="main")


def commit(repo: Path, message: str) -> None:
    """Every change in ``repo`` (outputs, dvc.lock, params) committed on its current branch."""
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", message, cwd=repo)


def copy_repo(repo: Path, dest: Path) -> Path:
    """A copy of a git + DVC repo (history, DVC cache, outputs; links kept as links) for a test that changes it."""
    return shutil.copytree(repo, dest, symlinks=True)


@pytest.fixture(scope="session")
def reproduced(tmp_path_factory, mnist_dir) -> Path:
    """The project in a fresh git repo on main (tiny params, the local MNIST as its only mirror) after one whole
    ``dvc repro``, committed: the pipeline run from scratch once for the modules that start from it (test_e2e,
    test_team, test_experiments). Read it only: a test or module that changes it works on a ``copy_repo``."""
    from conftest import tiny_params

    repo = copy_project(tmp_path_factory.mktemp("reproduced") / "project", tiny_params(mnist_dir))
    sh("dvc", "repro", cwd=repo)
    commit(repo, "results")
    return repo
