"""Shared fixtures: the offline MNIST copy beside the repository, and tiny params for stage runs."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
# The real MNIST (gzip IDX) that tests and CI use instead of the internet: ../shared/mnist from the repo.
MNIST_DIR = Path(os.environ.get("MNIST_DIR", ROOT.parent / "shared" / "mnist"))


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    if not (MNIST_DIR / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"real MNIST not found in {MNIST_DIR}; set MNIST_DIR to a folder with the four .gz files")
    return MNIST_DIR


def dvc_stage_specs(root: Path) -> dict[str, dict]:
    """Each stage as DVC itself resolves dvc.yaml (templating, foreach): cmd, params keys, deps, outs."""
    from dvc.dependency.param import ParamsDependency
    from dvc.repo import Repo

    specs = {}
    with Repo(str(root)) as repo:
        for stage in repo.index.stages:
            specs[stage.addressing] = {
                "cmd": stage.cmd,
                "params": {p for d in stage.deps if isinstance(d, ParamsDependency) for p in d.params},
                "deps": {d.def_path for d in stage.deps if not isinstance(d, ParamsDependency)},
                "outs": {o.def_path for o in stage.outs},
            }
    return specs


@pytest.fixture(scope="session")
def stage_specs() -> dict[str, dict]:
    return dvc_stage_specs(ROOT)


def tiny_params(mnist: Path, **prepare) -> dict:
    """The repo's params.yaml shrunk for tests: a few hundred images, one epoch, local mirror only."""
    import yaml

    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["fetch"].update(mirrors={"mnist": [str(mnist)]}, retries=1, timeout=5)
    params["prepare"].update({"train_limit": 600, "test_limit": 200, **prepare})
    for model in params["train"].values():
        model.update(epochs=2, batch_size=64)
    params["plots"].update(grid_rows=2, grid_cols=3, dpi=40)
    return params


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, mnist_dir) -> Path:
    """A temp project with a CNN trained well enough to read digits (2 epochs on 3,600 real MNIST images: about
    95% on the test set, in seconds), exported in every format; shared by the export and predict tests."""
    import contextlib
    import importlib

    import yaml

    from stages import config

    root = tmp_path_factory.mktemp("trained")
    params = tiny_params(mnist_dir, train_limit=4000, test_limit=500)
    params["export"]["formats"] = list(config.EXPORT_FORMATS)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    with contextlib.chdir(root):
        for module, argv in (("fetch", []), ("prepare", []), ("train", ["cnn"]), ("export", ["cnn"])):
            main = importlib.import_module(f"stages.{module}").main
            main(*([argv] if argv else []))
    return root
