"""Render a `dvc plots` page in headless Chromium, offline.

The page loads vega, vega-lite and vega-embed from a CDN. Chromium's requests for them are answered
from local copies of exactly those npm package versions, fetched once with `npm pack` into the ignored
`.browser-libs/` (`python tests/browser.py`, which .ci/run calls; the tests call it too). The HTML on
disk is not changed; every other request that leaves the machine is refused and reported.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LIB_DIR = ROOT / ".browser-libs"
CDN = re.compile(r"https://cdn\.jsdelivr\.net/npm/(?P<name>[\w.-]+)@(?P<version>[\w.-]+)(?P<file>/[^\"'\s?#]*)?")
CHROMIUM = Path(os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-default-apps", "--disable-sync"]

# Runs before the page's scripts: keeps each vegaEmbed() promise, so the page can be awaited exactly.
TRACK_EMBEDS = """(() => {
  window.__embeds = [];
  let embed;
  Object.defineProperty(window, 'vegaEmbed', {configurable: true, get: () => embed, set(real) {
    embed = Object.assign((el, spec, opts) => {
      const done = real(el, spec, opts);
      window.__embeds.push(done.then(r => ({el, view: r.view}), e => ({el, error: String(e)})));
      return done;
    }, real);
  }});
})();"""
# What drew: per vegaEmbed div its renderer element, data marks and painted pixels; every <img>.
REPORT = """async ms => {
  const count = n => (n.items || []).reduce((s, i) => s + (n.role === 'mark' ? 1 : 0) + count(i), 0);
  const painted = c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] && d[i] + d[i + 1] + d[i + 2] < 600) n++;
    return n; };
  const charts = [];
  const late = new Promise((_, no) => setTimeout(() => no(new Error(`vegaEmbed unfinished after ${ms} ms`)), ms));
  for (const {el, view, error} of await Promise.race([Promise.all(window.__embeds), late])) {
    const div = document.querySelector(el), canvas = div.querySelector('canvas');
    const svg = div.querySelector('svg.marks');
    charts.push({id: div.id, error: error || null, marks: view ? count(view.scenegraph().root) : 0,
      drawn: canvas ? painted(canvas) : svg ? svg.querySelectorAll('path, rect, text, line').length : 0,
      text: div.innerText.trim().slice(0, 200)});
  }
  const images = [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0}));
  return {charts, images};
}"""


def cdn_packages() -> list[tuple[str, str]]:
    """The (name, version) pairs DVC's vega renderer puts in every plots page."""
    from dvc_render.vega import VegaRenderer

    return [(m["name"], m["version"]) for m in CDN.finditer(VegaRenderer.SCRIPTS)]


def install_libs() -> Path:
    """Fetch any missing package tarball with `npm pack` and unpack it to LIB_DIR/<name>@<version>/."""
    for name, version in cdn_packages():
        dest = LIB_DIR / f"{name}@{version}"
        if (dest / "package.json").is_file():
            continue
        if not shutil.which("npm"):
            raise RuntimeError(f"npm is needed once to fetch {name}@{version} into {LIB_DIR}")
        with tempfile.TemporaryDirectory() as tmp:
            subprocess.run(["npm", "pack", "--silent", "--pack-destination", tmp, f"{name}@{version}"],
                           check=True, capture_output=True, text=True)
            with tarfile.open(next(Path(tmp).glob("*.tgz"))) as tar:
                # The "data" filter (no links out, no devices) exists from Python 3.11.4; Debian 12 has 3.11.2.
                tar.extractall(tmp, **({"filter": "data"} if hasattr(tarfile, "data_filter") else {}))
            shutil.rmtree(dest, ignore_errors=True)
            LIB_DIR.mkdir(parents=True, exist_ok=True)
            shutil.move(Path(tmp) / "package", dest)
    return LIB_DIR


def local_file(url: str) -> Path | None:
    """The local copy of a CDN URL: the named file, or the package's default file as the CDN picks it."""
    match = CDN.fullmatch(url)
    pkg = LIB_DIR / f"{match['name']}@{match['version']}" if match else None
    if pkg is None or not (pkg / "package.json").is_file():
        return None
    meta = json.loads((pkg / "package.json").read_text())
    path = pkg / (match["file"] or meta.get("jsdelivr") or meta.get("unpkg") or meta["main"]).lstrip("/")
    return path if path.is_file() else None


class ChromiumUnavailable(RuntimeError):
    """Chromium is not installed here or cannot start."""


def render(html: Path, timeout_s: float = 60) -> dict:
    """Open `html` in headless Chromium; return {charts, images, errors, refused} (see REPORT)."""
    from playwright.sync_api import Error, sync_playwright

    if not CHROMIUM.is_file():
        raise ChromiumUnavailable(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium chromium-driver)")
    errors: list[str] = []
    refused: list[str] = []

    def answer(route):
        url = route.request.url
        if url.startswith("file:"):
            return route.continue_()
        local = local_file(url)
        if local is None:
            refused.append(url)
            return route.abort("blockedbyclient")
        route.fulfill(path=str(local), content_type="application/javascript; charset=utf-8")

    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        except Error as err:
            raise ChromiumUnavailable(f"{CHROMIUM} does not start: {err.message.splitlines()[0]}") from err
        try:
            page = browser.new_page()
            page.set_default_timeout(timeout_s * 1000)
            page.on("pageerror", lambda err: errors.append(f"page error: {err}"))
            page.on("console", lambda msg: msg.type == "error" and errors.append(f"console: {msg.text}"))
            page.add_init_script(TRACK_EMBEDS)
            page.route("**/*", answer)
            page.goto(html.resolve().as_uri(), wait_until="load")
            report = page.evaluate(REPORT, timeout_s * 1000)
        finally:
            browser.close()
    return {**report, "errors": errors, "refused": refused}


if __name__ == "__main__":
    print(f"vega libraries in {install_libs()}: {', '.join(f'{n}@{v}' for n, v in cdn_packages())}")
