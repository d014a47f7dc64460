"""The draw-a-digit page of ``python -m digits.serve`` in headless Chromium (Debian's, driven by playwright as in
tests/support/browser.py): digits drawn with mouse strokes and uploaded files are answered on the page, a non-image
shows its error, the page asks nothing of any host but its own server and finds every file it asks for (its icon too),
and on a phone its buttons are big enough for a finger.

``SERVE_SCREENSHOT=docs/serve.png python -m pytest tests/test_serve_browser.py`` also saves the page with an
answer (docs/using.md shows it)."""
from __future__ import annotations

import os
import urllib.request
from contextlib import contextmanager

import pytest

from tests.support.browser import ARGS, CHROMIUM, offline_page
from conftest import ROOT, optional_part
from tests.support.serving import served  # noqa: F401  (the fixture)

pytestmark = pytest.mark.slow  # starts Chromium

# Strokes on the 280×280 pad, as a person draws them: MNIST-like, the digit filling the middle 20/28.
STROKES = {
    "7": [[(80, 65), (200, 65), (190, 90), (125, 220)]],
    "1": [[(150, 55), (140, 225)]],
}


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import Error, sync_playwright

    if not CHROMIUM.is_file():
        optional_part(f"no Chromium at {CHROMIUM} (Debian: apt-get install chromium)")
    with sync_playwright() as pw:
        try:
            browser = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=ARGS)
        except Error as err:
            optional_part(f"{CHROMIUM} does not start: {err.message.splitlines()[0]}")
        yield browser
        browser.close()


@contextmanager
def opened(browser, served, **context):
    """The page in a new browser context (``context``: viewport, is_mobile...), offline but for its own server;
    afterwards, no page error, CSP violation, missing file (its icon...) or request elsewhere."""
    with offline_page(browser, served.url, **context) as page:
        # (functions, not bare expressions: playwright eval()s those in the page, which the CSP forbids)
        page.wait_for_function("() => document.querySelectorAll('#model option').length > 0")
        yield page
    assert not page.errors and not page.elsewhere, (page.errors, page.elsewhere)


@pytest.fixture(scope="module")
def page(browser, served):
    with opened(browser, served, viewport={"width": 900, "height": 760}) as page:
        yield page


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


def test_a_drawing_s_boxes_go_when_a_file_is_uploaded(page):
    """The pad's box belongs to the drawing: a file uploaded after it empties the pad, boxes included."""
    draw(page, "7")
    answered(page)
    assert page.locator("#pad-boxes .box").count() == 1
    page.set_input_files("#file", str(ROOT / "examples" / "drawn_4.png"))
    assert answered(page) == ("answered", "4")
    assert page.locator("#pad-boxes .box").count() == 0 and page.locator("#photo-boxes .box").count() == 1


def test_the_model_menu_names_every_model_alike(browser, served):
    """With both models served (the answer of /api/health given both, as `digits.serve` lists them after a whole
    `dvc repro`), each is named in the same form, and an answer says which one answered."""
    with opened(browser, served, viewport={"width": 900, "height": 760}) as page:
        def both_models(route):
            health = route.fetch().json()
            route.fulfill(json={**health, "models": {"cnn": {}, "dense": {}}})

        page.route("**/api/health", both_models)
        page.reload(wait_until="load")
        page.wait_for_function("() => document.querySelectorAll('#model option').length === 2")
        options = page.locator("#model option")
        assert [options.nth(i).inner_text() for i in range(2)] == ["CNN (convolutional)", "Dense (fully connected)"]
        draw(page, "1")
        answered(page)
        assert page.inner_text("#status") == "drawing.png: answered by the CNN (convolutional) model"


def test_the_page_has_its_own_icon(page, served):
    """Declared in the page, and at /favicon.ico, which tools ask for whatever a page declares: an image each.
    (Chromium will not fetch() /favicon.ico from a page under Playwright's routing, so that one is asked plainly.)"""
    status, kind = page.evaluate("""async () => {
      const r = await fetch(document.querySelector('link[rel=icon]').href);
      return [r.status, r.headers.get('content-type')];
    }""")
    assert status == 200 and kind.startswith("image/svg+xml")
    with urllib.request.urlopen(served.url.rstrip("/") + "/favicon.ico", timeout=30) as reply:
        assert reply.status == 200 and reply.headers["content-type"].startswith("image/svg+xml")


def test_touch_targets_on_a_phone(browser, served):
    """On a phone's screen the tools are at least 44 × 44 CSS pixels (a finger), and nothing runs off the side."""
    with opened(browser, served, viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True,
                device_scale_factor=3) as phone:
        for tool in ("#undo", "#clear", "#model"):
            box = phone.locator(tool).bounding_box()
            assert box["width"] >= 44 and box["height"] >= 44, (tool, box)
        assert phone.evaluate("() => document.documentElement.scrollWidth") <= 390
