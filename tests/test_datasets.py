"""Any IDX dataset through the same pipeline: Fashion-MNIST (Debian's dataset-fashion-mnist) with its own
pinned digests and class names, end to end through every stage's ``main`` on a small subset."""
from __future__ import annotations

import gzip
import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest

from conftest import optional_part, project_after, tiny_params
from digits.data import fetch
from digits.config import catalog
from digits.evaluate import figures
from digits.config.schema import FetchConfig, PlotsConfig

FASHION_DIR = Path(os.environ.get("FASHION_MNIST_DIR", "/usr/share/datasets/fashion-mnist"))


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    if not (FASHION_DIR / "train-images-idx3-ubyte.gz").is_file():
        optional_part(f"Fashion-MNIST not found in {FASHION_DIR}: `apt-get install dataset-fashion-mnist`, "
                      "or set FASHION_MNIST_DIR")
    return FASHION_DIR


def test_pins_match_the_debian_files(fashion_dir):
    for spec in catalog.FASHION_MNIST.files:
        data = gzip.decompress((fashion_dir / spec.gz_name).read_bytes())
        assert hashlib.sha256(data).hexdigest() == spec.sha256, spec.gz_name


def test_registry():
    assert set(catalog.DATASETS) == {"mnist", "fashion-mnist"}
    for dataset in catalog.DATASETS.values():
        assert len(dataset.files) == 4 and len(set(dataset.class_names)) == 10
    with pytest.raises(ValueError, match="unknown dataset 'emnist', expected one of mnist, fashion-mnist"):
        catalog.get("emnist")


def test_mnist_files_are_refused_as_fashion(mnist_dir, tmp_path):
    """Same file names, other digests: a user who puts MNIST into dataset/fashion-mnist/ is told."""
    spec = catalog.FASHION_MNIST.files[1]
    (tmp_path / spec.gz_name).write_bytes((mnist_dir / spec.gz_name).read_bytes())
    with pytest.raises(ValueError, match="SHA-256"):
        fetch.fetch_file(tmp_path, spec, (), FetchConfig(mirrors={}, retries=1, timeout=1))


@pytest.fixture(scope="module")
def fashion_project(tmp_path_factory, mnist_dir, fashion_dir):
    root = tmp_path_factory.mktemp("fashion")
    params = tiny_params(mnist_dir, train_limit=2000)
    params.update(dataset="fashion-mnist", models=["dense"])
    params["fetch"]["mirrors"] = {"fashion-mnist": [str(fashion_dir)]}
    return project_after(root, params, ("fetch",), ("prepare",), ("train", "dense"), ("nondigit",), ("corrupt",),
                         ("read",),
                         ("evaluate", "dense"),
                         ("plots",))


@pytest.mark.slow  # runs the pipeline on Fashion-MNIST
def test_fashion_runs_through_the_pipeline(fashion_project):
    root = fashion_project
    names = catalog.FASHION_MNIST.class_names
    assert sorted(p.name for p in (root / "dataset" / "fashion-mnist").iterdir()) == sorted(
        s.gz_name for s in catalog.FASHION_MNIST.files)
    with np.load(root / "artifacts/data/train/00000.npz") as npz:
        assert tuple(npz["class_names"]) == names and len(npz["labels"]) == 1800
    metrics = json.loads((root / "artifacts/metrics/dense.json").read_text())
    assert sorted(metrics["per_class"]) == sorted(names)
    assert 0.5 < metrics["accuracy"] < 1  # two epochs on 1,800 clothes images
    rows = (root / "artifacts/predictions/dense.csv").read_text().splitlines()
    assert rows[0] == "actual,predicted" and len(rows) == 201
    assert {row.rsplit(",", 1)[0].strip('"') for row in rows[1:]} <= set(names)
    assert "Ankle boot" in (root / "artifacts/predictions/dense.csv").read_text()
    assert sorted(p.name for p in (root / "artifacts/plots").iterdir()) == [
        "misclassified_dense.png", "samples_dense.png"]


def test_fashion_names_in_plots():
    """The test-image grids are captioned with the class names, not numbers (the vega charts take the names from
    evaluate's CSV as they are)."""
    import matplotlib

    matplotlib.use("Agg")
    names = catalog.FASHION_MNIST.class_names
    cfg = PlotsConfig(grid_rows=1, grid_cols=3, dpi=40)
    fig = figures.grid_figure("t", np.zeros((2, 28, 28)), np.array([0, 9]), np.array([0, 5]), names, cfg)
    assert [ax.get_title() for ax in fig.axes] == ["T-shirt/top → T-shirt/top", "Ankle boot → Sandal", ""]
