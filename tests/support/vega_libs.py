"""Fill the vega libraries into the plots page, ``.dvc/plots/page.html``, from the npm registry.

The page (``.dvc/config``'s ``plots.html_template``) carries vega, vega-lite and vega-embed inline, so that
``dvc plots show`` and ``dvc plots diff`` draw with no network, wherever the page is written or copied. Each
``<script data-lib="NAME@VERSION">`` in it holds that package's minified build, as published. To change a version:
edit it in the tag, then run ``python tests/support/vega_libs.py`` (needs npm and the registry, once; the tests and
``.ci/run`` need neither). The tests check the page draws offline (tests/test_e2e.py).
"""
from __future__ import annotations

import json
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGE = ROOT / ".dvc" / "plots" / "page.html"
TAG = re.compile(r'(<script data-lib="(?P<name>[\w.-]+)@(?P<version>[\w.-]+)">)(?P<body>.*?)(</script>)', re.S)
# What DVC replaces in the template (dvc_render.html.HTML): a library must not contain them, nor end the tag early.
FORBIDDEN = ("{plot_divs}", "{scripts}", "{refresh_tag}", "</script")


def packed_build(name: str, version: str) -> str:
    """The package's browser build (its ``unpkg`` file, as a CDN serves it), without the source-map comment."""
    if not shutil.which("npm"):
        raise SystemExit(f"error: npm is needed to fetch {name}@{version}")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(["npm", "pack", "--silent", "--pack-destination", tmp, f"{name}@{version}"],
                       check=True, capture_output=True, text=True)
        with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:
            # The "data" filter (no links out, no devices) exists from Python 3.11.4; Debian 12 has 3.11.2.
            tar.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
        package = Path(tmp) / "package"
        meta = json.loads((package / "package.json").read_text())
        code = (package / (meta.get("unpkg") or meta.get("jsdelivr"))).read_text(encoding="utf-8")
    code = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "", code).strip()
    bad = [s for s in FORBIDDEN if s in code]
    if bad:
        raise SystemExit(f"error: {name}@{version} contains {bad}, which would break the page")
    return code


def main() -> None:
    page = PAGE.read_text(encoding="utf-8")
    libs = [(m["name"], m["version"]) for m in TAG.finditer(page)]
    builds = {lib: packed_build(*lib) for lib in libs}
    page = TAG.sub(lambda m: f"{m[1]}{builds[m['name'], m['version']]}{m[5]}", page)
    PAGE.write_text(page, encoding="utf-8")
    print(f"{PAGE.relative_to(ROOT)}: {', '.join(f'{n}@{v}' for n, v in libs)}")


if __name__ == "__main__":
    main()
