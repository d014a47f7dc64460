"""``python -m digits.serve``'s API, over real HTTP to the server in a child process: answers as
``reading.answer_image`` gives them, one JSON error with the right status for every bad request, bounded memory,
nothing written to disk; and the batcher that puts concurrent requests into one model call."""
from __future__ import annotations

import base64
import io
import json
import select
import socket
import threading
import time
import urllib.parse

import numpy as np
import pytest
from PIL import Image

from tests.support import hostile
from conftest import ROOT
from digits.data import arrays
from digits.export import formats, loaders
from digits.read import imagefile, images, reading
from digits.serve import batching, uploads
from tests.support.serving import multipart, request, served  # noqa: F401  (served: the fixture)

pytestmark = pytest.mark.slow  # trains a CNN (trained_project) and serves it


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def mnist_pngs(trained_project) -> list[tuple[bytes, np.ndarray]]:
    """Six MNIST test digits as dark-on-light PNGs, with their 28×28 arrays."""
    digits, _ = arrays.load_split(trained_project / "artifacts/data/test.npz")
    return [(png(255 - digit), digit) for digit in digits[:6]]


def test_health_lists_the_loaded_models(served):
    status, body = request(served.url + "api/health")
    assert status == 200
    assert body["status"] == "ok" and body["format"] == "keras" and set(body["formats"]) == set(formats.FORMATS)
    assert list(body["models"]) == ["cnn"]  # the test project trains only the CNN
    assert body["classes"] == [str(i) for i in range(10)]


def test_digits_get_answer_images_json_and_the_image_seen(served, trained_project, mnist_pngs):
    predict_here = loaders.load(trained_project / "artifacts/models/cnn.keras", "keras")
    labels = tuple(str(i) for i in range(10))
    for content, _ in mnist_pngs:
        status, body = request(served.url + "api/predict?model=cnn", content)
        assert status == 200, body
        expected = reading.answer_image("image", images.decode_bytes("image", content), predict_here, labels).as_json()
        seen, top = body.pop("seen"), body.pop("top")
        assert body.keys() == expected.keys() and body["class"] == expected["class"]
        assert body["probability"] == pytest.approx(expected["probability"], abs=1e-4)
        seen_image = np.asarray(Image.open(io.BytesIO(base64.b64decode(seen))))
        assert seen_image.shape == (28, 28) and seen_image.max() == 255
        assert top[0][0]["class"] == body["class"] and len(top[0]) == 5
        assert [t["probability"] for t in top[0]] == sorted((t["probability"] for t in top[0]), reverse=True)


def test_multipart_field_image_is_answered_under_its_file_name(served):
    content = (ROOT / "examples/drawn_7.png").read_bytes()
    status, body = request(served.url + "api/predict", *multipart("image", "seven.png", content))
    assert status == 200 and body["file"] == "seven.png" and body["class"] == "7", body
    status, body = request(served.url + "api/predict", *multipart("photo", "seven.png", content))
    assert status == 400 and "'image' field" in body["error"]


@pytest.mark.parametrize("how", ["declared", "streamed"])
def test_a_body_over_the_cap_is_413(served, how):
    big = uploads.MAX_BODY + 1
    if how == "declared":  # refused on Content-Length alone: the body is never sent
        status, body = request(served.url + "api/predict", b"x", {"Content-Length": str(big)})
    else:  # no length given (chunked): counted as it arrives
        status, body = post_chunked(served.url + "api/predict", big)
    assert status == 413 and "larger than" in body["error"], body


def post_chunked(url: str, size: int) -> tuple[int, dict]:
    """POST ``size`` zero bytes in 64 KiB chunks, stopping when the server answers or closes. The server answers
    413 mid-body and closes with the rest unread, so the client's next write can meet a reset (urllib then raises
    and drops the answer, about 1 run in 20 on two busy cores); the answer is already in the socket to read."""
    parts = urllib.parse.urlsplit(url)
    chunk = b"\0" * 2**16
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as sock:
        sock.sendall(f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\nTransfer-Encoding: chunked\r\n"
                     "Content-Type: image/png\r\nConnection: close\r\n\r\n".encode())
        try:
            for _ in range(size // len(chunk) + 1):
                if select.select([sock], [], [], 0)[0]:
                    break  # answered already
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
        except OSError:  # reset or broken pipe: the server stopped reading
            pass
        answer = b""
        try:
            while data := sock.recv(2**16):
                answer += data
        except ConnectionResetError:
            pass
    head, _, payload = answer.partition(b"\r\n\r\n")
    return int(head.split()[1]), json.loads(payload)


@pytest.mark.parametrize("content, status, message", [
    (b"plain text, not a picture", 415, "not an image Pillow can read"),
    (png(np.full((50, 50), 200, np.uint8)), 400, "blank image"),
    (b"", 400, "empty body"),
])
def test_bad_images_get_one_json_error(served, content, status, message):
    got, body = request(served.url + "api/predict", content, method="POST")
    assert (got, list(body)) == (status, ["error"]) and message in body["error"], body
    assert "Traceback" not in body["error"]


def test_an_image_over_the_pixel_cap_is_refused_from_its_header(served):
    bomb = hostile.png_of_zeros(10_000, 9_000)  # 90 MP of zeros in a 100 KB file
    before = served.rss_mb()
    status, body = request(served.url + "api/predict", bomb)
    assert status == 400 and "megapixels allowed" in body["error"], body
    assert served.rss_mb() - before < 50  # decoded it would be 90 MB at least


def test_unknown_model_and_routes_are_json_errors(served):
    content = (ROOT / "examples/drawn_4.png").read_bytes()
    status, body = request(served.url + "api/predict?" + urllib.parse.urlencode({"model": "dense"}), content)
    assert status == 404 and "unknown model 'dense'" in body["error"]
    assert request(served.url + "api/nothing")[0] == 404
    assert request(served.url + "api/predict")[0] == 405  # GET


def test_concurrent_requests_share_model_calls(served, mnist_pngs):
    before = request(served.url + "api/health")[1]["models"]["cnn"]
    answers = []
    threads = [threading.Thread(target=lambda c=c: answers.append(request(served.url + "api/predict", c)))
               for c, _ in mnist_pngs * 4]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    after = request(served.url + "api/health")[1]["models"]["cnn"]
    assert [status for status, _ in answers] == [200] * len(threads)
    assert after["images"] - before["images"] == len(threads)
    assert after["model_calls"] - before["model_calls"] < len(threads)


def test_nothing_was_written_to_disk(served):
    """Run after the requests above: the server's folder and TMPDIR are as empty as they started."""
    assert not list(served.cwd.iterdir()) and not list(served.tmpdir.iterdir())


def test_batcher_answers_each_caller_its_own_rows():
    sizes = []

    def slow_double(x):
        sizes.append(len(x))
        time.sleep(0.05)
        return x * 2

    batcher = batching.Batcher(slow_double, wait=0.02)
    results = {}
    threads = [threading.Thread(target=lambda i=i: results.__setitem__(i, batcher(np.full((1 + i % 3, 2), i))))
               for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    batcher.close()
    assert all((results[i] == np.full((1 + i % 3, 2), 2 * i)).all() for i in range(20))
    assert sum(sizes) == sum(1 + i % 3 for i in range(20)) and len(sizes) < 20


def test_decode_bytes_refuses_what_decode_refuses(tmp_path):
    bomb = tmp_path / "bomb.png"
    bomb.write_bytes(hostile.png_of_zeros(10_000, 9_000))
    with pytest.raises(ValueError) as from_file:
        images.decode(bomb)
    with pytest.raises(ValueError) as from_bytes:
        images.decode_bytes(str(bomb), bomb.read_bytes())
    assert str(from_bytes.value) == str(from_file.value)
    with pytest.raises(imagefile.NotAnImage):
        images.decode_bytes("x", b"not an image")
