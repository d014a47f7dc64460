"""Throwaway copies of the project as git + DVC repositories, and running ``git``/``dvc`` in them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import yaml

from bench.workspace import commit_all, copy_tree


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


def copy_project(repo: Path, params: dict) -> Path:
    """The project's files that git tracks or would (no artifacts, no lock) in a fresh git repo at ``repo`` on
    branch main, with ``params``: the working tree as it would be committed, so uncommitted changes are tested
    too."""
    copy_tree(repo, skip=("artifacts/", "dvc.lock"))
    set_params(repo, params)
    return commit_all(repo, "project", ("t", "t@t.invalid"), branch="main")
