"""The page of results, ``dvc plots show`` and ``dvc plots diff``, in headless Chromium with the network off
(tests/support/browser.py): every chart draws, says what it shows (title, axis titles, a legend or header naming each
model) and sits in its section beside its note; each figure appears once.

``PLOTS_SCREENSHOT=docs/plots.png python -m pytest tests/test_plots_page.py`` also saves the ``dvc plots show``
page (docs/pipeline.md shows it)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, optional_part
from tests.support.dvcrepo import commit, copy_repo, sh

pytestmark = pytest.mark.slow  # dvc repro (the session's reproduced project), then Chromium

MODELS = ("dense", "cnn")
GRIDS = sorted(f"{kind}_{m}.png" for kind in ("samples", "misclassified") for m in MODELS)


@pytest.fixture(scope="module")
def repo(reproduced, tmp_path_factory) -> Path:
    """A copy of the reproduced project on a branch whose training curves differ from main's (edited by hand:
    `dvc plots diff` then has two revisions to tell apart without a second training run)."""
    repo = copy_repo(reproduced, tmp_path_factory.mktemp("plots") / "project")
    sh("git", "checkout", "-qb", "other", cwd=repo)
    for m in MODELS:
        history = repo / f"artifacts/train/{m}/history.csv"
        head, *rows = history.read_text().splitlines()
        history.write_text("\n".join([head] + [",".join([r.split(",")[0]] + [str(float(v) * 0.9) for v in
                                                                            r.split(",")[1:]]) for r in rows]) + "\n")
    commit(repo, "other curves")
    return repo


@pytest.fixture(scope="module")
def pages(repo) -> dict[str, tuple[Path, list[str]]]:
    """Each page with the series its charts must name: a model, or with two revisions, model @ revision."""
    sh("dvc", "plots", "show", "-o", "show", cwd=repo)
    sh("dvc", "plots", "diff", "main", "-o", "diff", cwd=repo)
    return {"show": (repo / "show/index.html", list(MODELS)),
            "diff": (repo / "diff/index.html", [f"{m} @ {rev}" for m in MODELS for rev in ("main", "workspace")])}


def declared(repo: Path) -> dict[str, dict]:
    """dvc.yaml's vega plots by their page id, with their title and axis labels."""
    from dvc_render.base import Renderer

    return {Renderer.remove_special_chars(name): spec for entry in yaml.safe_load((repo / "dvc.yaml").read_text())
            ["plots"] if isinstance(entry, dict) for name, spec in entry.items()}


def test_the_page_carries_its_scripts(repo, pages):
    """No CDN, as in DVC's own page: the vega libraries are in the page; the PNGs are only the test-image grids."""
    for page, _ in pages.values():
        html = page.read_text()
        assert "<script src=" not in html and "cdn.jsdelivr" not in html
        assert html.count("vegaEmbed('#") == len(declared(repo))
        assert sorted({p.name.split("_artifacts_plots_")[1] for p in (page.parent / "static").iterdir()}) == GRIDS


def test_every_chart_draws_offline_and_says_what_it_shows(repo, pages):
    from tests.support.browser import ChromiumUnavailable, render

    charts = declared(repo)
    for kind, (page, series) in pages.items():
        shot = os.environ.get("PLOTS_SCREENSHOT") if kind == "show" else None
        try:
            report = render(page, screenshot=ROOT / shot if shot else None)
        except ChromiumUnavailable as err:
            optional_part(str(err))
        assert report["refused"] == [] and report["errors"] == [], (kind, report["refused"], report["errors"])
        assert sorted(c["id"] for c in report["charts"]) == sorted(charts), (kind, report["charts"])
        for chart in report["charts"]:
            spec, texts = charts[chart["id"]], chart["texts"]
            assert chart["error"] is None and chart["marks"] > 0 and chart["drawn"] > 0, (kind, chart)
            assert chart["section"] not in (None, "More plots"), (kind, chart)
            assert spec["title"] in texts["title-text"], (kind, chart)
            assert {spec["x_label"], spec["y_label"]} == set(texts["axis-title"]), (kind, chart)
            named = texts.get("legend-label", []) + texts["title-text"]  # a legend, or a panel per model
            for s in series:
                assert any(t == s or t.startswith((f"{s} (", f"{s}: ")) for t in named), (kind, s, chart)
        assert all(i["ok"] and i["section"] == "Test images" for i in report["images"]), (kind, report["images"])
        srcs = sorted(i["src"].split("_artifacts_plots_")[1] for i in report["images"])
        assert srcs == sorted(GRIDS * (len(series) // len(MODELS))), (kind, srcs)
        if kind == "show":  # at a glance: sections side by side where they fit (DVC's page, stacked: 7,100 px)
            assert report["height"] < 2500, report["height"]
    sections = {s["heading"]: s["note"] for s in report["sections"]}
    assert "label smoothing 0.1" in sections["Training"] and "0.50" in sections["Training"]
    assert "Rows: the actual class" in sections["Errors on the test set"]


def test_dvcs_own_page_is_blank_offline(repo, tmp_path):
    """What the page fixes, and proof that the check above can fail: DVC's default page asks a CDN for its scripts,
    so offline not one chart draws."""
    from dvc_render.html import PAGE_HTML

    from tests.support.browser import ChromiumUnavailable, render

    (tmp_path / "dvc.html").write_text(PAGE_HTML)
    sh("dvc", "plots", "show", "-o", str(tmp_path / "out"), "--html-template", str(tmp_path / "dvc.html"), cwd=repo)
    try:
        report = render(tmp_path / "out" / "index.html", timeout_s=10)
    except ChromiumUnavailable as err:
        optional_part(str(err))
    assert report["charts"] == [] and any("vegaEmbed" in e for e in report["errors"]), report["errors"]
    assert any(url.startswith("https://cdn.jsdelivr.net/npm/vega") for url in report["refused"]), report["refused"]
