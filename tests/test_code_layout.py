"""The library's layout as docs/development.md draws it: one subpackage per job, each ``__init__.py`` a docstring naming
every module in it (and nothing run on import), and imports that run one way, each part importing only parts above
it in ``ORDER`` (so no import cycle can form between parts)."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from conftest import ROOT

LIBRARY = ROOT / "digits"
# Top to bottom as in docs/development.md: a part may import the parts before it, never one after it.
ORDER = ("config", "corrupt", "runtime", "data", "export", "evaluate", "read", "synthetic", "train", "nondigit",
         "project", "predict", "serve", "compare")


def parts() -> list[str]:
    return sorted(p.name for p in LIBRARY.iterdir() if (p / "__init__.py").is_file())


def imported_parts(path: Path) -> set[str]:
    """The parts of ``digits`` that the module at ``path`` imports."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "digits":
            names = [f"{node.module}.{a.name}" for a in node.names] if node.module == "digits" else [node.module]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names if a.name.split(".")[0] == "digits"]
        found |= {n.split(".")[1] for n in names if n.count(".")}
    return found


def test_every_part_is_placed_in_the_order():
    assert set(parts()) | {"project", "predict", "compare"} == set(ORDER)
    assert {p.stem for p in LIBRARY.glob("*.py")} == {"__init__", "project", "predict", "compare"}


@pytest.mark.parametrize("part", ORDER)
def test_a_part_imports_only_the_parts_above_it(part):
    files = [LIBRARY / f"{part}.py"] if (LIBRARY / f"{part}.py").is_file() else sorted((LIBRARY / part).glob("*.py"))
    for path in files:
        above = set(ORDER[:ORDER.index(part)])
        assert imported_parts(path) - {part} <= above, (path, imported_parts(path) - {part} - above)


@pytest.mark.parametrize("part", [p for p in ORDER if (LIBRARY / p).is_dir()])
def test_each_face_names_its_modules_and_runs_nothing(part):
    tree = ast.parse((LIBRARY / part / "__init__.py").read_text())
    doc = ast.get_docstring(tree)
    assert doc and len(tree.body) == 1, f"digits/{part}/__init__.py: a docstring alone"
    modules = {p.stem for p in (LIBRARY / part).glob("*.py")} - {"__init__", "__main__"}
    assert {m for m in modules if f"``{m}``" not in doc} == set(), part


def test_the_products_tests_import_no_bench():
    """tests/ checks the product and never imports bench; bench's own scripts are checked in bench/tests/."""
    for path in [ROOT / "conftest.py", *(ROOT / "tests").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n.split(".")[0] == "bench" for n in names), path


def test_the_library_imports_no_bench_harness_or_tests():
    """The library stands alone; the harness (what bench and the tests share) imports neither of them either."""
    for path in LIBRARY.rglob("*.py"):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not any(n.split(".")[0] in ("bench", "harness", "tests") for n in names), path
    for path in (ROOT / "harness").rglob("*.py"):
        text = path.read_text()
        assert "from bench" not in text and "import bench" not in text and "from tests" not in text, path


def test_importing_the_library_runs_nothing():
    """No import hook installed and no TensorFlow loaded by importing the library and its commands' modules: the
    entry points (``stages``, ``bench``, the commands' ``main``) silence TensorFlow themselves."""
    import subprocess
    import sys

    code = ("import sys, digits, digits.predict, digits.compare, digits.project, digits.read.reading; "
            "from digits.runtime import quiet; "
            "print(any(isinstance(f, quiet._QuietImport) for f in sys.meta_path), 'tensorflow' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"], done.stdout + done.stderr
    code = ("import sys, stages; from digits.runtime import quiet; "
            "print(isinstance(sys.meta_path[0], quiet._QuietImport))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["True"], done.stdout + done.stderr


def test_test_helpers_are_imported_from_tests_support():
    """Helpers live in tests/support/ and are imported by their full name; beside the test files only the fuzzing
    scripts, which are run by hand and run the property tests' own modules longer (the fixtures are the root's
    conftest.py, shared with bench/tests/)."""
    beside = {p.stem for p in (ROOT / "tests").glob("*.py")}
    assert {s for s in beside if not s.startswith("test_")} == {"fuzz_idx", "fuzz_images"}
    for path in (ROOT / "tests").rglob("*.py"):
        if path.stem.startswith("fuzz_"):
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            bare = {n.split(".")[0] for n in names} & beside
            assert not bare, (path, bare)
