"""The README and docs/ hold together: every relative link names a file that exists and, where it names a section,
a heading of that file (as GitHub makes its anchors); the code's mentions of docs pages name pages that exist."""
from __future__ import annotations

import collections
import re
from pathlib import Path

from conftest import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def slug(heading: str) -> str:
    return re.sub(r"[^\w\- ]", "", heading.strip().lower().replace("`", "")).replace(" ", "-")


def anchors(page: Path) -> set[str]:
    """GitHub's anchors of ``page``'s headings (a repeated one gets -1, -2, ...), code blocks left out."""
    seen, found, fenced = collections.Counter(), set(), False
    for line in page.read_text().splitlines():
        fenced ^= line.startswith("```")
        heading = None if fenced else re.match(r"^#+ (.*)$", line)
        if heading:
            name = slug(heading.group(1))
            found.add(f"{name}-{seen[name]}" if seen[name] else name)
            seen[name] += 1
    return found


def test_every_link_reaches_its_file_and_section():
    broken = []
    for page in PAGES:
        for target in re.findall(r"\]\(([^)\s]+)\)", page.read_text()):
            if target.startswith(("http://", "https://", "mailto:")):
                continue
            file, _, anchor = target.partition("#")
            path = (page.parent / file).resolve() if file else page
            if not path.exists() or (anchor and path.suffix == ".md" and anchor not in anchors(path)):
                broken.append(f"{page.relative_to(ROOT)}: {target}")
    assert not broken, broken


def test_the_code_names_docs_pages_and_sections_that_exist():
    missing = []
    for folder in ("digits", "stages", "bench", "harness", "tests"):
        for path in (ROOT / folder).rglob("*.py"):
            for name, anchor in re.findall(r"docs/([\w.-]+\.(?:md|png))(?:#([\w-]+))?", path.read_text()):
                page = ROOT / "docs" / name
                if not page.exists() or (anchor and anchor not in anchors(page)):
                    missing.append(f"{path.relative_to(ROOT)}: docs/{name}#{anchor}")
    assert not missing, missing
