"""The project's params as its last commit holds them: what every test builds its params from.

Never the workspace's ``params.yaml``: that file is the user's to change, and ``dvc exp run -S seed=7`` rewrites it
in place, so a test reading it would pass or fail with the user's last experiment. ``git show HEAD:params.yaml``
is the project's own defaults, the very file its docs describe: experiments live in ``refs/exps`` and never move
HEAD, and edits stay in the working tree. One source, not a copy in the tests: a new key or a new allowed value
(``dtype_policy: auto``) reaches the tests with the commit that brings it, with nothing to keep in step."""
from __future__ import annotations

import copy
import functools
import subprocess
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


@functools.cache
def committed_text(path: str = "params.yaml") -> str:
    """``path`` (relative to the checkout) as the checkout's HEAD commit holds it."""
    done = subprocess.run(["git", "show", f"HEAD:{path}"], cwd=ROOT, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"the tests read the committed {path} (`git show HEAD:{path}`), which failed: "
                           f"{done.stderr.strip()}")
    return done.stdout


@functools.cache
def _default_params() -> dict:
    from digits.config import schema

    raw = yaml.safe_load(committed_text())
    try:
        schema.parse_params(raw)
    except schema.ParamsError as err:  # keys changed in the working tree, not yet committed with the code
        raise RuntimeError(f"the committed params.yaml, which the tests start from, does not load with this "
                           f"code ({err}): commit params.yaml with the code that reads it") from None
    return raw


def default_params() -> dict:
    """The committed params.yaml parsed: a fresh copy each call, so a test may change it."""
    return copy.deepcopy(_default_params())
