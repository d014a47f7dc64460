"""dvc.yaml and the code agree: each stage's deps list exactly the ``stages`` modules its command imports
(so editing any of them reruns the stage), and the top-level metrics and plots point at real outputs."""
from __future__ import annotations

import ast
import re

import pytest
import yaml

from conftest import ROOT

STAGES = ROOT / "stages"


def imported_modules(module: str) -> set[str]:
    """``module`` and every ``stages.*`` module it imports, transitively, as repo-relative file paths; the
    package's ``__init__`` (which Python runs first) and what it imports too."""
    found: set[str] = set()
    todo = [module, "stages.__init__"]
    while todo:
        name = todo.pop()
        path = f"stages/{name.split('.', 1)[1]}.py"
        if path in found:
            continue
        found.add(path)
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == "stages":
                todo += [f"stages.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("stages."):
                todo.append(node.module)
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith("stages.")]
    return found


def test_every_stage_runs_its_own_module(stage_specs):
    for name, spec in stage_specs.items():
        module = name.split("@")[0]
        assert spec["cmd"].startswith(f"python -m stages.{module}"), name
        assert (STAGES / f"{module}.py").is_file()


def test_deps_list_exactly_the_imported_modules(stage_specs):
    for name, spec in stage_specs.items():
        code_deps = {d for d in spec["deps"] if d.startswith("stages/")}
        assert code_deps == imported_modules(spec["cmd"].split()[2]), name


def test_imported_modules_sees_through_imports():
    assert imported_modules("stages.prepare") >= {"stages/prepare.py", "stages/idx.py", "stages/datasets.py",
                                                   "stages/config.py", "stages/common.py", "stages/data.py",
                                                   "stages/__init__.py", "stages/quiet.py"}


def resolved_dvc_yaml() -> dict:
    """dvc.yaml with ``${paths.*}`` filled in from params.yaml, as DVC's templating does."""
    paths = yaml.safe_load((ROOT / "params.yaml").read_text())["paths"]
    text = re.sub(r"\$\{paths\.(\w+)\}", lambda m: paths[m[1]], (ROOT / "dvc.yaml").read_text())
    return yaml.safe_load(text)


def test_top_level_metrics_and_plots_are_stage_outputs(stage_specs):
    dvc_yaml = resolved_dvc_yaml()
    outs = set().union(*(s["outs"] for s in stage_specs.values()))
    assert set(dvc_yaml["metrics"]) == {f"artifacts/metrics/{m}.json" for m in ("dense", "cnn")} <= outs
    plotted = set()
    for plot in dvc_yaml["plots"]:
        spec = next(iter(plot.values())) if isinstance(plot, dict) else None
        plotted |= set(spec["y"]) if spec else {plot.rstrip("/")}
    assert plotted <= outs


@pytest.mark.parametrize("section", ["train", "evaluate"])
def test_foreach_covers_every_model(section):
    dvc_yaml = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    assert dvc_yaml["stages"][section]["foreach"] == "${models}"
