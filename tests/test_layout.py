"""The user's data layout, used as placed: MNIST's four files straight in ``dataset/`` (the seed's instruction) or in
``dataset/mnist/``, each under the seed's, the mirrors' or gunzip's naming; found, verified, never touched, and
watched by DVC."""
from __future__ import annotations

import gzip
import subprocess
from pathlib import Path

import pytest

from conftest import tiny_params
from tests.support.dvcrepo import copy_project, dvc_env, sh
from digits.data import fetch
from digits.config import catalog
from digits.config.schema import FetchConfig

NAMINGS = {"seed": 0, "mirrors": 1, "gunzipped": 2}  # index into IdxFile.names


def place(mnist_dir: Path, folder: Path, naming: str) -> list[Path]:
    """MNIST's four files in ``folder`` under ``naming``; gzip bytes for the .gz name, raw bytes otherwise."""
    folder.mkdir(parents=True, exist_ok=True)
    placed = []
    for spec in catalog.MNIST.files:
        name = spec.names[NAMINGS[naming]]
        gz = (mnist_dir / spec.gz_name).read_bytes()
        (folder / name).write_bytes(gz if name.endswith(".gz") else gzip.decompress(gz))
        placed.append(folder / name)
    return placed


@pytest.mark.parametrize("where", ["dataset", "dataset/mnist"])
@pytest.mark.parametrize("naming", NAMINGS)
def test_placed_files_are_found_verified_and_left_alone(mnist_dir, tmp_path, where, naming):
    placed = place(mnist_dir, tmp_path / where, naming)
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in placed}
    folders = catalog.MNIST.folders(tmp_path / "dataset")
    no_mirrors = FetchConfig(mirrors={}, retries=1, timeout=1)
    found = [fetch.fetch_file(folders, spec, (), no_mirrors) for spec in catalog.MNIST.files]
    assert found == placed
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in placed} == before
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file()) == \
        sorted(p.relative_to(tmp_path).as_posix() for p in placed)


def test_the_dataset_folder_comes_before_the_top_level(mnist_dir, tmp_path):
    inside = place(mnist_dir, tmp_path / "dataset" / "mnist", "mirrors")
    place(mnist_dir, tmp_path / "dataset", "seed")
    folders = catalog.MNIST.folders(tmp_path / "dataset")
    assert [catalog.find_local(folders, spec) for spec in catalog.MNIST.files] == inside


def test_only_mnist_is_looked_for_at_the_top_level(tmp_path):
    assert catalog.FASHION_MNIST.folders(tmp_path) == (tmp_path / "fashion-mnist",)


@pytest.mark.slow  # runs dvc
def test_seed_layout_through_dvc(mnist_dir, tmp_path):
    """The seed's instruction as a user follows it, with no mirror at all: `dvc repro` uses the files in place,
    and `dvc status` notices when one of them changes."""
    params = tiny_params(mnist_dir)
    params["fetch"]["mirrors"] = {}
    repo = copy_project(tmp_path / "project", params)
    placed = place(mnist_dir, repo / "dataset", "seed")
    before = {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in placed}
    out = sh("dvc", "repro", "prepare", cwd=repo)
    assert "fetch: dataset/train-images.idx3-ubyte verified" in out, out
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in placed} == before
    assert not (repo / "dataset" / "mnist").exists() or not any((repo / "dataset" / "mnist").iterdir())
    assert "fetch" not in sh("dvc", "status", "prepare", cwd=repo)

    labels = repo / "dataset" / "train-labels.idx1-ubyte"
    edited = bytearray(labels.read_bytes())
    edited[-1] = (edited[-1] + 1) % 10  # still a valid IDX file, but not MNIST's
    labels.write_bytes(bytes(edited))
    status = sh("dvc", "status", "prepare", cwd=repo)
    assert "modified:" in status and "dataset" in status, status
    done = subprocess.run(["dvc", "repro", "prepare"], cwd=repo, env=dvc_env(), capture_output=True, text=True)
    assert done.returncode != 0
    assert "error: dataset/train-labels.idx1-ubyte: SHA-256 of the decompressed bytes is" in done.stdout + done.stderr
    assert labels.read_bytes() == bytes(edited)  # refused, not replaced
