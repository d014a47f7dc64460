"""Pages in headless Chromium (Debian's, driven by playwright) with the network off: a `dvc plots` page
(``render``) and the draw-a-digit page of a running server (``offline_page``).

The plots page carries its scripts (.dvc/plots/page.html, filled by tests/support/vega_libs.py), so every request for
anything but a file of the page is refused and reported: a page that needs a CDN fails, as it would for a user
offline.
"""
from __future__ import annotations

import os
import shutil
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

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
# What drew: per vegaEmbed div its section's heading, renderer element, data marks, painted pixels and the texts
# of its title, axis titles, legends and panel headers (by scenegraph role); every <img>; the page's size.
REPORT = """async ms => {
  const count = n => (n.items || []).reduce((s, i) => s + (n.role === 'mark' ? 1 : 0) + count(i), 0);
  const texts = (n, out) => {
    if (n.marktype === 'text' && n.role) for (const i of n.items) (out[n.role] ||= []).push(String(i.text));
    for (const i of n.items || []) texts(i, out);
    return out;
  };
  const painted = c => { const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    let n = 0; for (let i = 0; i < d.length; i += 4) if (d[i + 3] && d[i] + d[i + 1] + d[i + 2] < 600) n++;
    return n; };
  const charts = [];
  const late = new Promise((_, no) => setTimeout(() => no(new Error(`vegaEmbed unfinished after ${ms} ms`)), ms));
  for (const {el, view, error} of await Promise.race([Promise.all(window.__embeds), late])) {
    const div = document.querySelector(el), canvas = div.querySelector('canvas');
    const svg = div.querySelector('svg.marks'), section = div.closest('section');
    charts.push({id: div.id, error: error || null, marks: view ? count(view.scenegraph().root) : 0,
      drawn: canvas ? painted(canvas) : svg ? svg.querySelectorAll('path, rect, text, line').length : 0,
      texts: view ? texts(view.scenegraph().root, {}) : {},
      section: section && !section.hidden ? section.querySelector('h2').textContent : null});
  }
  const images = [...document.images].map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0,
    section: i.closest('section')?.querySelector('h2').textContent ?? null}));
  const sections = [...document.querySelectorAll('main section')].filter(s => !s.hidden).map(
    s => ({heading: s.querySelector('h2').textContent, note: s.querySelector('.note')?.textContent ?? ''}));
  return {charts, images, sections, height: document.documentElement.scrollHeight};
}"""


class ChromiumUnavailable(RuntimeError):
    """Chromium is not installed here or cannot start."""


def render(html: Path, timeout_s: float = 60, screenshot: Path | None = None) -> dict:
    """Open `html` in headless Chromium, 1280 px wide, allowed nothing but file:// URLs; return {charts, images,
    sections, height, errors, refused} (see REPORT), after saving a full-page `screenshot` if one is asked for."""
    from playwright.sync_api import Error, sync_playwright

    if not CHROMIUM.is_file():
        raise ChromiumUnavailable(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium chromium-driver)")
    errors: list[str] = []
    refused: list[str] = []

    def offline(route):
        if route.request.url.startswith("file:"):
            return route.continue_()
        refused.append(route.request.url)
        return route.abort("internetdisconnected")

    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        except Error as err:
            raise ChromiumUnavailable(f"{CHROMIUM} does not start: {err.message.splitlines()[0]}") from err
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.set_default_timeout(timeout_s * 1000)
            page.on("pageerror", lambda err: errors.append(f"page error: {err}"))
            page.on("console", lambda msg: msg.type in ("error", "warning") and errors.append(f"console: {msg.text}"))
            page.add_init_script(TRACK_EMBEDS)
            page.route("**/*", offline)
            page.goto(html.resolve().as_uri(), wait_until="load")
            report = page.evaluate(REPORT, timeout_s * 1000)
            if screenshot:
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return {**report, "errors": errors, "refused": refused}


@contextmanager
def offline_page(browser, url: str, **context):
    """``url`` in a new context of ``browser`` (``context``: viewport, is_mobile...) that reaches no host but
    ``url``'s. ``page.errors`` collects page errors, Content-Security-Policy violations (only console messages) and
    GETs answered 4xx/5xx (a file of the page missing); ``page.elsewhere`` the requests refused."""
    page = browser.new_page(**context)
    page.set_default_timeout(60_000)
    page.errors, page.elsewhere = [], []
    page.on("pageerror", lambda err: page.errors.append(str(err)))
    page.on("console", lambda msg: "Content Security Policy" in msg.text and page.errors.append(msg.text))
    page.on("response", lambda r: r.request.method == "GET" and r.status >= 400
            and page.errors.append(f"GET {r.url}: {r.status}"))
    own = urlsplit(url).netloc

    def only_own_server(route):
        if urlsplit(route.request.url).netloc == own:
            return route.continue_()
        page.elsewhere.append(route.request.url)
        return route.abort("blockedbyclient")

    page.route("**/*", only_own_server)
    page.goto(url, wait_until="load")
    try:
        yield page
    finally:
        page.close()
