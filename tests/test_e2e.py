"""End to end with ``dvc`` itself: a temp git repo made from the project, tiny real MNIST, two branches."""
from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

import pytest
import yaml

from digits import config
from conftest import optional_part, tiny_params
from dvcrepo import copy_project, set_params, sh


@pytest.fixture(scope="module")
def repo(tmp_path_factory, mnist_dir) -> Path:
    """The project in a fresh git repo, with tiny params and the local MNIST as mirror."""
    return copy_project(tmp_path_factory.mktemp("e2e") / "project", tiny_params(mnist_dir))


def test_repro_branch_and_metrics_diff(repo, mnist_dir):
    # One file placed by hand in the seed's raw naming: used as it is, never touched; the rest is fetched.
    placed = repo / "dataset" / "mnist" / "t10k-labels.idx1-ubyte"
    placed.parent.mkdir(parents=True)
    placed.write_bytes(gzip.decompress((mnist_dir / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    before = (placed.read_bytes(), placed.stat().st_mtime_ns)
    sh("dvc", "repro", cwd=repo)
    assert (placed.read_bytes(), placed.stat().st_mtime_ns) == before
    assert sorted(p.name for p in placed.parent.iterdir()) == [
        "t10k-images-idx3-ubyte.gz", "t10k-labels.idx1-ubyte", "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    for model in ("dense", "cnn"):
        assert (repo / f"artifacts/metrics/{model}.json").is_file()
    assert "up to date" in sh("dvc", "status", cwd=repo).lower()
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "first run", cwd=repo)
    assert "artifacts/metrics/cnn.json" in sh("git", "ls-files", cwd=repo)  # metrics live in git

    sh("git", "checkout", "-qb", "lr", cwd=repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    for model in ("dense", "cnn"):
        params["train"][model]["learning_rate"] *= 3
    set_params(repo, params)
    status = sh("dvc", "status", cwd=repo)
    assert "train@dense" in status and "train@cnn" in status and "prepare" not in status
    out = sh("dvc", "repro", cwd=repo)
    assert "Stage 'prepare' didn't change, skipping" in out
    assert (placed.read_bytes(), placed.stat().st_mtime_ns) == before
    sh("git", "add", "-A", cwd=repo)
    sh("git", "commit", "-qm", "higher learning rate", cwd=repo)

    diff = json.loads(sh("dvc", "metrics", "diff", "main", "--json", cwd=repo))
    for model in ("dense", "cnn"):
        changes = diff[f"artifacts/metrics/{model}.json"]
        assert changes["loss"]["diff"] != 0, changes["loss"]
        assert "params" not in changes  # only changed metrics are listed; the architecture is the same
    params_diff = json.loads(sh("dvc", "params", "diff", "main", "--json", cwd=repo))
    assert "train.cnn.learning_rate" in params_diff["params.yaml"]


@pytest.fixture(scope="module")
def plot_pages(repo) -> dict[str, Path]:
    """`dvc plots show` and `dvc plots diff main` (two revisions) written to show/ and diff/ in the repo."""
    if not (repo / "dvc.lock").exists():
        pytest.fail("needs test_repro_branch_and_metrics_diff to have run first")
    for cmd, out in ((["dvc", "plots", "show"], "show"), (["dvc", "plots", "diff", "main"], "diff")):
        sh(*cmd, "-o", out, cwd=repo)
    return {"show": repo / "show" / "index.html", "diff": repo / "diff" / "index.html"}


def test_plots_show_and_diff_render_html(plot_pages):
    for page in plot_pages.values():
        html = page.read_text()
        assert html.count("vegaEmbed") >= 4  # loss, accuracy and two confusion matrices
        images = sorted(p.name for p in (page.parent / "static").iterdir())
        assert any("curves.png" in name for name in images)
        assert sum("confusion_" in name for name in images) >= 2


def test_plots_draw_in_chromium(repo, plot_pages):
    """Every declared plot draws in a real browser: vega charts with data marks, every PNG loaded."""
    from dvc_render.base import Renderer

    from browser import ChromiumUnavailable, install_libs, render

    try:
        install_libs()
    except (RuntimeError, subprocess.CalledProcessError) as err:  # no npm, or no registry to fetch from
        optional_part(f"vega libraries for the page not available: {err}")
    declared = [name for entry in yaml.safe_load((repo / "dvc.yaml").read_text())["plots"]
                if isinstance(entry, dict) for name, spec in entry.items() if "y" in spec]
    charts = sorted(Renderer.remove_special_chars(name) for name in declared)
    plots_dir = repo / config.PATHS.plots
    pngs = sorted(p.name for p in plots_dir.glob("*.png"))
    assert charts and "curves.png" in pngs, (charts, pngs)
    for (kind, page), revisions in zip(plot_pages.items(), (1, 2)):
        try:
            report = render(page)
        except ChromiumUnavailable as err:
            optional_part(str(err))
        assert report["refused"] == [], f"{kind}: requests not answered locally: {report['refused']}"
        assert report["errors"] == [], f"{kind}: {report['errors']}"
        assert sorted(c["id"] for c in report["charts"]) == charts, (kind, report["charts"])
        for chart in report["charts"]:
            assert chart["error"] is None and chart["marks"] > 0 and chart["drawn"] > 0, (kind, chart)
        assert [i["src"] for i in report["images"] if not i["ok"]] == [], f"{kind}: images that did not load"
        srcs = [i["src"] for i in report["images"]]
        for png in pngs:
            assert sum(src.endswith(f"_{png}") for src in srcs) == revisions, (kind, png, srcs)


def test_dataset_changed_by_hand(repo):
    """Last in this module: it edits the dataset. A valid change reruns from prepare (and no further, the arrays
    being the same); a file that fails its digest is refused, naming it."""
    from dvcrepo import dvc_env

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
