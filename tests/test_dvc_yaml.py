"""dvc.yaml and the code agree: each stage's deps list the library's subpackages its command imports, by folder,
and its own module (so editing any code it runs reruns the stage, and nothing else does), and the top-level metrics
and plots point at real outputs."""
from __future__ import annotations

import ast
import dataclasses

import pytest
import yaml

from tests.support.committed import default_params
from conftest import ROOT

STAGES = ROOT / "stages"


PACKAGES = ("stages", "digits")


def module_path(name: str) -> str | None:
    """The repo-relative file of module or package ``name`` of this project's packages; None if it is neither (a
    name imported from a module, not a module)."""
    parts = name.split(".")
    for path in ("/".join(parts) + ".py", "/".join(parts) + "/__init__.py"):
        if (ROOT / path).is_file():
            return path
    return None


def imported_modules(module: str) -> set[str]:
    """``module`` and every module of this project's packages it imports, transitively, as repo-relative file
    paths; each enclosing package's ``__init__`` (which Python runs first) and what it imports too."""
    found: set[str] = set()
    todo = [module]
    while todo:
        path = module_path(todo.pop())
        if path is None or path in found:
            continue
        found.add(path)
        parts = path.removesuffix(".py").split("/")
        todo += [".".join(parts[:i]) for i in range(1, len(parts))]  # the packages around it
        for node in ast.walk(ast.parse((ROOT / path).read_text())):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PACKAGES:
                todo += [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                todo += [a.name for a in node.names if a.name.split(".")[0] in PACKAGES]
    return found


def as_deps(paths: set[str]) -> set[str]:
    """Module files as dvc.yaml lists them: a subpackage of ``digits`` by its folder, anything else by its file."""
    return {"/".join(p.split("/")[:2]) if p.count("/") >= 2 else p for p in paths}


def test_every_stage_runs_its_own_module(stage_specs):
    for name, spec in stage_specs.items():
        module = name.split("@")[0]
        assert spec["cmd"].startswith(f"python -m stages.{module}"), name
        assert (STAGES / f"{module}.py").is_file()


def test_deps_list_exactly_the_imported_subpackages(stage_specs):
    for name, spec in stage_specs.items():
        code_deps = {d for d in spec["deps"] if d.startswith(("stages/", "digits/"))}
        assert code_deps == as_deps(imported_modules(spec["cmd"].split()[2])), name


def test_imported_modules_sees_through_imports():
    found = imported_modules("stages.prepare")
    assert found >= {"stages/prepare.py", "stages/__init__.py", "digits/__init__.py", "digits/data/__init__.py",
                     "digits/data/idx.py", "digits/data/arrays.py", "digits/data/prepare.py",
                     "digits/config/catalog.py", "digits/config/schema.py", "digits/runtime/storage.py",
                     "digits/runtime/quiet.py"}
    assert "digits/train/models.py" not in found
    assert as_deps(found) >= {"digits/data", "digits/config", "digits/runtime", "digits/__init__.py",
                              "stages/prepare.py"}


def resolved_dvc_yaml() -> dict:
    return yaml.safe_load((ROOT / "dvc.yaml").read_text())


def test_paths_are_fixed_and_the_codes(stage_specs):
    """No params value reaches an output path (DVC deletes outputs before running a stage), and dvc.yaml's
    paths are the ones the code writes to (``digits.config.fixed.Paths``)."""
    from digits.config.fixed import PATHS

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
    from digits.config.fixed import PATHS

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


def committed_md5(path: str) -> str:
    """DVC's md5 of ``path`` as HEAD holds it: a file's, or for a folder of code the ``.dir`` hash DVC gives the
    sorted list of its files' md5s (dvc-data's ``Tree.digest``; bytecode is left out by .dvcignore, and git never
    holds it)."""
    import hashlib
    import json
    import subprocess

    def git(*args: str) -> bytes:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, check=True).stdout

    if git("cat-file", "-t", f"HEAD:{path}").strip() == b"blob":
        return hashlib.md5(git("show", f"HEAD:{path}")).hexdigest()
    files = git("ls-tree", "-r", "--name-only", "-z", "HEAD", "--", path).decode().split("\0")
    entries = [{"md5": hashlib.md5(git("show", f"HEAD:{f}")).hexdigest(), "relpath": f[len(path) + 1:]}
               for f in filter(None, files)]
    listed = json.dumps(sorted(entries, key=lambda e: e["relpath"]), sort_keys=True).encode()
    return hashlib.md5(listed).hexdigest() + ".dir"


def test_committed_lock_matches_the_committed_code():
    """The commit's dvc.lock records the md5 of every code file and code folder each stage depends on as the
    commit holds it, so a fresh clone's `dvc status` shows nothing to rerun. Read from git (HEAD), never from the
    workspace: a user's uncommitted edits and experiments do not matter here."""
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
            if dep["path"].startswith(("digits/", "stages/")) and committed_md5(dep["path"]) != dep["md5"]:
                stale.append(f"{name}: {dep['path']}")
    assert not stale, "dvc.lock is stale for " + ", ".join(stale) + ": run `dvc repro` and commit dvc.lock"
