"""Shared fixtures: real MNIST found offline, tiny params for stage runs, and optional system parts."""
from __future__ import annotations

import gzip
import importlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest

# Imported before any test module brings in TensorFlow: gto (DVC's model registry, which test_team reads in-process)
# runs logging.config.dictConfig on import, which closes every logging handler made before it; absl's handler then
# closes the stream it was made with, which in a pytest-xdist worker is pytest's capture file, and every later test
# on that worker errors with "I/O operation on closed file".
import gto.log  # noqa: E402,F401
from tests.support.dvcrepo import reproduced, stage_specs  # noqa: F401  (session fixtures: DVC's view of the project)

ROOT = Path(__file__).resolve().parent


def mnist_candidates() -> list[Path]:
    """Where the tests look for real MNIST, in order: ``MNIST_DIR`` alone if set; else ``../shared/mnist``
    beside the repository (this project's CI), then the dataset folders a ``dvc repro`` filled (a user's
    machine, after the README's first command)."""
    if os.environ.get("MNIST_DIR"):
        return [Path(os.environ["MNIST_DIR"])]
    return [ROOT.parent / "shared" / "mnist", ROOT / "dataset" / "mnist", ROOT / "dataset"]


def as_gzip_mirror(folder: Path, out_dir: Path) -> Path | None:
    """``folder`` if it holds MNIST's four files under the mirrors' ``.gz`` names; a gzip copy in ``out_dir`` if
    it holds them under other namings; None if any is missing."""
    from digits.config import catalog

    found = [catalog.find_local(folder, spec) for spec in catalog.MNIST.files]
    if not all(found):
        return None
    if all(path.name == spec.gz_name for path, spec in zip(found, catalog.MNIST.files)):
        return folder
    for path, spec in zip(found, catalog.MNIST.files):
        data = path.read_bytes()
        (out_dir / spec.gz_name).write_bytes(data if path.name == spec.gz_name else gzip.compress(data, 1, mtime=0))
    return out_dir


@pytest.fixture(scope="session")
def mnist_dir(tmp_path_factory) -> Path:
    """A folder holding real MNIST's four ``.gz`` files: the tests' local mirror (they never use the internet)."""
    for folder in mnist_candidates():
        mirror = as_gzip_mirror(folder, tmp_path_factory.mktemp("mnist")) if folder.is_dir() else None
        if mirror is not None:
            return mirror
    pytest.fail("real MNIST not found in " + ", ".join(map(str, mnist_candidates()))
                + "; run `dvc repro fetch` first, or set MNIST_DIR to a folder with the four files")


def write_project(root: Path, params: dict) -> Path:
    """A project folder as a stage sees one: ``params`` as params.yaml beside the project's dvc.yaml (a stage run
    elsewhere works on the checkout it belongs to, ``digits.runtime.runner.project_root``)."""
    import yaml

    root.mkdir(parents=True, exist_ok=True)
    (root / "params.yaml").write_text(yaml.safe_dump(params))
    shutil.copyfile(ROOT / "dvc.yaml", root / "dvc.yaml")
    return root


def run_stage(module: str, *args: str) -> None:
    """Stage ``module``'s ``main`` in this process, in the current folder, with its params.yaml loaded."""
    from digits.config import schema

    importlib.import_module(f"stages.{module}").main(schema.load_params(), *args)


def project_after(root: Path, params: dict, *stages: tuple[str, ...]) -> Path:
    """``write_project(root, params)``, then each stage, ``(module, *args)``, run in it in this process, in order."""
    import contextlib

    write_project(root, params)
    with contextlib.chdir(root):
        for module, *args in stages:
            run_stage(module, *args)
    return root


def shards_in_memory(*arrays):
    """``digits.train.inputs.Shards`` over (images, labels) arrays held by the test, one shard each, not streamed."""
    from digits.train import inputs

    return inputs.Shards([len(labels) for _, labels in arrays], lambda i: arrays[i], stream=False)


# The user's workspace: results, data, and the params and lock a `dvc exp run -S ...` rewrites.
WORKSPACE = ("artifacts", "metrics", "dataset", "dvc_plots", "params.yaml", "dvc.lock")


def _checkout_state() -> dict[str, tuple[int, int]]:
    paths = [p for top in WORKSPACE for p in [ROOT / top, *(ROOT / top).rglob("*")] if p.is_file()]
    return {str(p): (p.stat().st_mtime_ns, p.stat().st_size) for p in paths}


@pytest.fixture(scope="session", autouse=True)
def checkout_untouched():
    """No test may write the user's workspace (``WORKSPACE``): a stage started outside a project (no params.yaml
    beside a dvc.yaml) works on the checkout it belongs to, so a test that forgot its dvc.yaml would rewrite the
    user's results, and a test that wrote params.yaml would change the user's next `dvc repro`."""
    before = _checkout_state()
    yield
    changed = sorted(set(before.items()) ^ set(_checkout_state().items()))
    assert not changed, f"tests changed the checkout's own files: {changed[:5]}"


# The modules that start from the session's ``reproduced`` repo: on one pytest-xdist worker together, it is built once.
SHARED_REPRO = ("tests/test_e2e.py", "tests/test_experiments.py", "tests/test_plots_page.py", "tests/test_team.py")


@pytest.hookimpl(tryfirst=True, optionalhook=True)  # before pytest-xdist's own; no hook at all without pytest-xdist
def pytest_xdist_make_scheduler(config, log):
    """pyproject's ``-n 2 --dist loadscope``: a module's tests on one worker, so its module fixtures are made once,
    and the ``SHARED_REPRO`` modules as one unit, in the order collected (``--no-loadscope-reorder``)."""
    from xdist.scheduler import LoadScopeScheduling

    class ByModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return "reproduced" if module in SHARED_REPRO else module

    return ByModule(config, log)


def optional_part(reason: str) -> None:
    """A system part the tests can do without on a user's machine (Chromium, Debian's Fashion-MNIST) is
    missing: skip saying so, except under CI, whose .ci/run installs it, so there it is a failure."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (CI installs it: see .ci/run)")
    pytest.skip(reason)


def tiny_params(mnist: Path, **prepare) -> dict:
    """The committed params.yaml (never the user's edited one) shrunk for tests: a few hundred images, two
    epochs, local mirror only."""
    from tests.support.committed import default_params

    params = default_params()
    params["fetch"].update(mirrors={"mnist": [str(mnist)]}, retries=1, timeout=5)
    params["prepare"].update({"train_limit": 600, "test_limit": 200, **prepare})
    for model in params["train"].values():
        model.update(epochs=2, batch_size=64)
    params["nondigit"].update(epochs=1, per_kind=12, per_class=3, pairs=20, check=4)
    params["plots"].update(grid_rows=2, grid_cols=3, dpi=40)
    return params


@pytest.fixture(scope="session")
def prepared_project(tmp_path_factory, mnist_dir) -> Path:
    """A temp project with real MNIST fetched and prepared (tiny params, 5,400 training images). Shared by the
    test modules that start from one, so read it only: a test that changes it works on ``prepared_copy``."""
    return project_after(tmp_path_factory.mktemp("prepared"), tiny_params(mnist_dir, train_limit=6000),
                         ("fetch",), ("prepare",))


def copy_of(project: Path, dest: Path) -> Path:
    """A copy of a temp project at ``dest``: its params, dataset and artifacts, links kept as links."""
    return shutil.copytree(project, dest, symlinks=True)


@pytest.fixture
def prepared_copy(prepared_project, tmp_path) -> Path:
    """This test's own copy of ``prepared_project``."""
    return copy_of(prepared_project, tmp_path / "prepared")


@pytest.fixture(scope="session")
def trained_project(tmp_path_factory, mnist_dir) -> Path:
    """A temp project with a CNN trained well enough to read digits (2 epochs on 3,600 real MNIST images: about
    95% on the test set, in seconds), exported in every format; shared by the export and predict tests."""
    from digits.config import fixed

    params = tiny_params(mnist_dir, train_limit=4000, test_limit=500)
    params["export"]["formats"] = list(fixed.EXPORT_FORMATS)
    root = project_after(tmp_path_factory.mktemp("trained"), params,
                         ("fetch",), ("prepare",), ("train", "cnn"), ("export", "cnn"))
    # A detector that refuses nothing: these tests hold predict to the classifier's answers (tests/test_detector.py
    # holds it to the detector's, and the stage is run by test_stages and test_e2e).
    constant_detector(root / "artifacts/models/nondigit.keras", -10.0)
    return root


def constant_detector(path: Path, logit: float) -> Path:
    """A "not a digit" detector file (``digits.nondigit.detector``'s layers) whose logit is ``logit`` for every
    field."""
    from digits.nondigit import detector

    model = detector.build()
    kernel, _ = model.layers[-1].get_weights()
    model.layers[-1].set_weights([np.zeros_like(kernel), np.full(1, logit, np.float32)])
    model.save(path)
    return path
