"""Scratch copies of this working tree as git repositories: the benchmarks run the pipeline in one, so the user's
``artifacts/`` stay as they are, and the tests (tests/support/dvcrepo.py) run ``dvc`` in one."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def copy_tree(dest: Path, skip: tuple[str, ...] = ()) -> Path:
    """The files git tracks or would (tracked and untracked, not ignored) copied to ``dest``, mtimes kept, except
    those whose path starts with one of ``skip``: the working tree as it would be committed, uncommitted
    changes included."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True, text=True).stdout.split("\0")
    for name in filter(None, listed):
        if not name.startswith(skip) and (ROOT / name).is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, dest / name)
    return dest


def commit_all(repo: Path, message: str, author: tuple[str, str], branch: str | None = None) -> Path:
    """``repo`` made a git repository (on ``branch``, else git's default) holding all its files in one commit by
    ``author`` (name, email); a failing git command raises with its output."""
    git = ["git", "-c", f"user.name={author[0]}", "-c", f"user.email={author[1]}"]
    for cmd in (git + ["init", "-q", *(["-b", branch] if branch else [])], git + ["add", "-A"],
                git + ["commit", "-qm", message]):
        done = subprocess.run(cmd, cwd=repo, capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"{' '.join(cmd)} exited {done.returncode} in {repo}:\n{done.stdout}{done.stderr}")
    return repo
