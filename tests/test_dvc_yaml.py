"""dvc.yaml and the code agree: each stage's deps list exactly the ``stages`` modules its command imports
(so editing any of them reruns the stage), and the top-level metrics and plots point at real outputs."""
from __future__ import annotations

import ast
import dataclasses

import pytest
import yaml

from committed import default_params
from conftest import ROOT

STAGES = ROOT / "stages"


PACKAGES = ("stages", "digits")


def imported_modules(module: str) -> set[str]:
    """``module`` and every module of this project's packages it imports, transitively, as repo-relative file
    paths; a package's ``__init__`` (which Python runs first) and what it imports too."""
    found: set[str] = set()
    todo = [module]
    while todo:
        name = todo.pop()
        package, _, rest = name.partition(".")
        path = f"{package}/{rest or '__init__'}.py"
        if path in found:
            continue
        found.add(path)
        todo.append(f"{package}.__init__")
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.ImportFrom) and node.module in PACKAGES:
                todo += [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith(tuple(p + "." for p in PACKAGES)):
                todo.append(node.module)
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.startswith(tuple(p + "." for p in PACKAGES))]
    return found


def test_every_stage_runs_its_own_module(stage_specs):
    for name, spec in stage_specs.items():
        module = name.split("@")[0]
        assert spec["cmd"].startswith(f"python -m stages.{module}"), name
        assert (STAGES / f"{module}.py").is_file()


def test_deps_list_exactly_the_imported_modules(stage_specs):
    for name, spec in stage_specs.items():
        code_deps = {d for d in spec["deps"] if d.startswith(("stages/", "digits/"))}
        assert code_deps == imported_modules(spec["cmd"].split()[2]), name


def test_imported_modules_sees_through_imports():
    assert imported_modules("stages.prepare") >= {"stages/prepare.py", "digits/idx.py", "digits/datasets.py",
                                                   "digits/config.py", "digits/storage.py", "digits/data.py",
                                                   "digits/splits.py", "digits/__init__.py", "digits/quiet.py",
                                                   "stages/__init__.py"}


def resolved_dvc_yaml() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())


def test_paths_are_fixed_and_the_codes(stage_specs):
    """No params value reaches an output path (DVC deletes outputs before running a stage), and dvc.yaml's
    paths are the ones the code writes to (``digits.names.Paths``)."""
    from digits.names import PATHS

    assert "${paths" not in (ROOT / "dvc.yaml").read_text()
    assert "paths" not in default_params()
    places = {getattr(PATHS, f.name) for f in dataclasses.fields(PATHS)}
    for name, spec in stage_specs.items():
        for path in spec["outs"] | {d for d in spec["deps"] if not d.startswith(("stages/", "digits/"))}:
            assert any(path == p or path.startswith(p + "/") for p in places), (name, path)
    used = {p for p in places for spec in stage_specs.values() for path in spec["outs"]
            if path == p or path.startswith(p + "/")}
    assert places - used == {PATHS.checkpoints, PATHS.timings}  # the two that are deliberately not DVC outputs


def test_top_level_metrics_and_plots_are_stage_outputs(stage_specs):
    """DVC lists each model's headline file and nothing else; the detail files stay outputs (in git), apart."""
    from digits.names import PATHS

    dvc_yaml = resolved_dvc_yaml()
    outs = set().union(*(s["outs"] for s in stage_specs.values()))
    assert set(dvc_yaml["metrics"]) == {f"{PATHS.headline}/{m}.json" for m in ("dense", "cnn")} <= outs
    assert {f"{PATHS.metrics}/{m}{kind}.json" for m in ("dense", "cnn") for kind in ("", "_robustness")} <= outs
    plotted = set()
    for plot in dvc_yaml["plots"]:
        spec = next(iter(plot.values())) if isinstance(plot, dict) else None
        plotted |= set(spec["y"]) if spec else {plot.rstrip("/")}
    assert plotted <= outs


@pytest.mark.parametrize("section", ["train", "evaluate"])
def test_foreach_covers_every_model(section):
    dvc_yaml = yaml.safe_load((ROOT / "dvc.yaml").read_text())
    assert dvc_yaml["stages"][section]["foreach"] == "${models}"


def test_committed_lock_matches_the_committed_code():
    """The commit's dvc.lock records the md5 of every code file each stage depends on as the commit holds it, so
    a fresh clone's `dvc status` shows nothing to rerun. Read from git (HEAD), never from the workspace: a user's
    uncommitted edits and experiments do not matter here."""
    import hashlib
    import subprocess

    def blob(path: str) -> bytes:
        return subprocess.run(["git", "show", f"HEAD:{path}"], cwd=ROOT, capture_output=True, check=True).stdout

    stale, locked = [], yaml.safe_load(blob("dvc.lock"))["stages"]
    params = yaml.safe_load(blob("params.yaml"))
    defined = set()
    for name, spec in yaml.safe_load(blob("dvc.yaml"))["stages"].items():
        items = spec.get("foreach", [])
        items = params[items[2:-1]] if isinstance(items, str) else items  # "${models}"
        defined |= {f"{name}@{item}" for item in items} if "foreach" in spec else {name}
    assert set(locked) == set(defined), "dvc.lock's stages are not dvc.yaml's: run `dvc repro` and commit dvc.lock"
    for name, stage in locked.items():
        for dep in stage["deps"]:
            if dep["path"].endswith(".py") and hashlib.md5(blob(dep["path"])).hexdigest() != dep["md5"]:
                stale.append(f"{name}: {dep['path']}")
    assert not stale, "dvc.lock is stale for " + ", ".join(stale) + ": run `dvc repro` and commit dvc.lock"
