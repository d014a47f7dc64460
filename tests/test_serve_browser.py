"""The draw-a-digit page of ``python -m digits.serve`` in headless Chromium (Debian's, driven by playwright as in
tests/browser.py): digits drawn with mouse strokes and uploaded files are answered on the page, a non-image shows
its error, and the page asks nothing of any host but its own server.

``SERVE_SCREENSHOT=docs/serve.png python -m pytest tests/test_serve_browser.py`` also saves the page with an
answer (docs/serve.md shows it)."""
from __future__ import annotations

import os
from urllib.parse import urlsplit

import pytest

from browser import ARGS, CHROMIUM
from conftest import ROOT, optional_part
from serving import served  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow  # starts Chromium

# Strokes on the 280×280 pad, as a person draws them: MNIST-like, the digit filling the middle 20/28.
STROKES = {
    "7": [[(80, 65), (200, 65), (190, 90), (125, 220)]],
    "1": [[(150, 55), (140, 225)]],
}


@pytest.fixture(scope="module")
def page(served):
    from playwright.sync_api import Error, sync_playwright

    if not CHROMIUM.is_file():
        optional_part(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        except Error as err:
            optional_part(f"{CHROMIUM} does not start: {err.message.splitlines()[0]}")
        page = browser.new_page(viewport={"width": 900, "height": 760})
        page.set_default_timeout(60_000)
        page.errors, page.elsewhere = [], []
        page.on("pageerror", lambda err: page.errors.append(str(err)))
        # The server's Content-Security-Policy must let the page work: a violation is only a console message.
        page.on("console", lambda msg: "Content Security Policy" in msg.text and page.errors.append(msg.text))
        own = urlsplit(served.url).netloc

        def only_own_server(route):  # offline: nothing from a CDN or anywhere else
            if urlsplit(route.request.url).netloc == own:
                return route.continue_()
            page.elsewhere.append(route.request.url)
            return route.abort("blockedbyclient")

        page.route("**/*", only_own_server)
        page.goto(served.url, wait_until="load")
        # (functions, not bare expressions: playwright eval()s those in the page, which the CSP forbids)
        page.wait_for_function("() => document.querySelectorAll('#model option').length > 0")
        yield page
        browser.close()
    assert not page.errors and not page.elsewhere, (page.errors, page.elsewhere)


def answered(page) -> tuple[str, str]:
    """(state, the answer or the error) once the latest request is done."""
    page.wait_for_function("() => ['answered', 'error'].includes(document.body.dataset.state)")
    state = page.evaluate("document.body.dataset.state")
    return state, page.inner_text("#answer" if state == "answered" else "#status")


def draw(page, digit: str) -> None:
    page.click("#clear")
    box = page.locator("#pad").bounding_box()
    for stroke in STROKES[digit]:
        page.mouse.move(box["x"] + stroke[0][0], box["y"] + stroke[0][1])
        page.mouse.down()
        for x, y in stroke[1:]:
            page.mouse.move(box["x"] + x, box["y"] + y, steps=12)
        page.mouse.up()


@pytest.mark.parametrize("digit", ["1", "7"])
def test_a_drawn_digit_is_answered(page, digit):
    draw(page, digit)
    assert answered(page) == ("answered", digit)
    assert page.locator("#bars .bar-row").count() == 5
    assert page.evaluate("document.getElementById('seen').naturalWidth") == 28
    if os.environ.get("SERVE_SCREENSHOT") and digit == "7":
        page.screenshot(path=str(ROOT / os.environ["SERVE_SCREENSHOT"]), full_page=True)


@pytest.mark.parametrize("name, digit", [("drawn_4.png", "4"), ("drawn_7.png", "7"), ("mnist_test_1.jpg", "2")])
def test_an_uploaded_image_is_answered(page, name, digit):
    page.set_input_files("#file", str(ROOT / "examples" / name))
    assert answered(page) == ("answered", digit)
    assert page.is_visible("#photo") and page.inner_text("#photo-caption") == name


def test_undo_takes_back_the_last_stroke(page):
    draw(page, "7")
    answered(page)
    page.click("#undo")
    page.wait_for_function("() => document.body.dataset.state === 'idle'")
    assert page.inner_text("#answer") == ""


def test_a_non_image_shows_its_error(page):
    page.set_input_files("#file", {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a picture"})
    state, message = answered(page)
    assert state == "error" and "notes.txt: not an image" in message
    assert page.inner_text("#answer") == "" and page.locator("#bars .bar-row").count() == 0


def test_a_written_number_is_answered_with_a_box_per_digit(page, tmp_path):
    """Two of the example digits side by side on one sheet, as a photo of "47" would be: the page shows the number
    and draws each digit's box, in proportion, over the picture."""
    from PIL import Image

    four, seven = (Image.open(ROOT / "examples" / f"drawn_{d}.png").convert("L") for d in (4, 7))
    sheet = Image.new("L", (four.width + seven.width + 40, max(four.height, seven.height)), 255)
    sheet.paste(four, (0, 0))
    sheet.paste(seven, (four.width + 40, 0))
    sheet.save(tmp_path / "47.png")
    page.set_input_files("#file", str(tmp_path / "47.png"))
    assert answered(page) == ("answered", "47")
    boxes = page.locator("#photo-boxes .box")
    assert boxes.count() == 2
    left = [float(boxes.nth(i).evaluate("b => parseFloat(b.style.left)")) for i in range(2)]
    assert left[0] < 50 < left[1], left  # the 4's box in the left half, the 7's in the right
