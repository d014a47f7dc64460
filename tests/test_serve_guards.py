"""``digits.serve``'s limits against hostile clients, over real sockets to the fake-model server
(``harness.fake_server``: the real app, guards and protocol, with short deadlines): header and body deadlines, the
connection cap, prompt shutdown, 400 for malformed bodies, one log line per client fault, security headers, the Host
check; and, in this process, the decode turns, the body budget and the Host names. (tests/test_serve_crowds.py: bursts,
stalled and small bodies, small images beside large ones, health under load.)"""
from __future__ import annotations

import asyncio
import signal
import socket
import threading
import time
import urllib.parse

import numpy as np
import pytest

from conftest import ROOT
from digits.serve import guards, shares, uploads
from tests.support.serving import answer_of, connect, multipart, new_log, post_head, request, start_fake

HEADER_TIMEOUT, BODY_TIMEOUT, MAX_CONNECTIONS = 2.0, 3.0, 4
SLACK = 1.5  # seconds a deadline may be late by on two busy cores


@pytest.fixture(scope="module")
def fake(tmp_path_factory):
    server = start_fake(tmp_path_factory.mktemp("guards"), "--header-timeout", str(HEADER_TIMEOUT),
                        "--body-timeout", str(BODY_TIMEOUT), "--max-connections", str(MAX_CONNECTIONS))
    server.port = urllib.parse.urlsplit(server.url).port
    yield server
    err = server.stop()
    assert "Traceback" not in err, err


@pytest.mark.slow
def test_a_partial_request_line_is_closed_at_the_header_deadline_or_past_its_grace_to_make_room(fake):
    began = time.monotonic()
    slow = [connect(fake, b"GET / HTTP/1.1\r\n") for _ in range(MAX_CONNECTIONS + 2)]  # two past the cap
    assert request(fake.url + "api/health")[0] == 200  # all within their grace: none closed, health answered
    time.sleep(guards.CONNECTION_GRACE + 0.2)
    assert request(fake.url + "api/health")[0] == 200  # 7 open: the 3 oldest, past their grace, make room
    answers, closed = [], []
    for sock in slow:
        with sock:
            data, when = answer_of(sock)
        answers.append(data[:12])
        closed.append(when - began)
        assert b'"error"' in data and b"connection: close" in data, data
    assert answers == [b"HTTP/1.1 503"] * 3 + [b"HTTP/1.1 408"] * 3, answers
    assert max(closed[:3]) < HEADER_TIMEOUT - 0.2 < min(closed[3:]) and max(closed) < HEADER_TIMEOUT + SLACK, closed
    assert request(fake.url + "api/health")[0] == 200


@pytest.mark.slow
def test_headers_are_due_again_after_each_answer_on_a_kept_alive_connection(fake):
    with connect(fake, b"GET /api/health HTTP/1.1\r\nHost: localhost\r\n\r\n") as sock:
        first = b""
        while not first.endswith(b"}"):  # the whole JSON answer (it may come in more than one segment)
            first += sock.recv(65536)
        assert first.startswith(b"HTTP/1.1 200 "), first
        sock.sendall(b"GET /api/hea")
        began = time.monotonic()
        data, closed = answer_of(sock)
    assert data.startswith(b"HTTP/1.1 408 ") and b"not complete within" in data, data
    assert HEADER_TIMEOUT - 0.2 < closed - began < HEADER_TIMEOUT + SLACK


@pytest.mark.slow
def test_a_stalled_body_gets_408_at_the_body_deadline(fake):
    new_log(fake)
    began = time.monotonic()
    with connect(fake, post_head(1000) + b"\x89PN") as sock:
        data, closed = answer_of(sock)
    assert data.startswith(b"HTTP/1.1 408 ") and b'"error"' in data and b"connection: close" in data, data
    assert BODY_TIMEOUT - 0.2 < closed - began < BODY_TIMEOUT + SLACK
    log = new_log(fake, settle=0.2).splitlines()
    assert len(log) == 1 and "not received within" in log[0], log


@pytest.mark.slow
def test_past_the_request_limit_requests_get_503_while_health_answers(fake):
    busy = [connect(fake, post_head(1000) + b"\x89PN") for _ in range(MAX_CONNECTIONS)]  # in requests till 408
    time.sleep(0.5)
    drawn = (ROOT / "examples/drawn_7.png").read_bytes()
    with connect(fake, post_head(len(drawn)) + drawn) as sock:
        data, _ = answer_of(sock)
    assert data.startswith(b"HTTP/1.1 503 ") and b"requests in progress" in data, data
    assert b"retry-after: 1" in data and b"connection: close" in data and b"x-frame-options: DENY" in data, data
    assert request(fake.url + "api/health")[0] == 200  # a liveness probe still sees the server up
    for sock in busy:
        sock.close()
    time.sleep(0.5)
    assert request(fake.url + "api/predict", drawn)[0] == 200


@pytest.mark.slow
def test_a_client_leaving_mid_body_is_one_log_line(fake):
    new_log(fake)
    with connect(fake, post_head(1000) + b"\x89PNG\r\n"):
        time.sleep(0.3)
    log = new_log(fake, settle=0.5).splitlines()
    assert len(log) == 1 and "closed before the whole body came" in log[0], log


@pytest.mark.slow
@pytest.mark.parametrize("body, headers, message", [
    (b"--x\r\n", {"Content-Type": "multipart/form-data; boundary=" + "b" * 2000}, "malformed multipart body"),
    (multipart("image", "seven.png", b"\x89PNG not all of it")[0][:-30], multipart("image", "x", b"")[1],
     "truncated multipart body"),
])
def test_malformed_multipart_bodies_are_400(fake, body, headers, message):
    status, answer = request(fake.url + "api/predict", body, headers)
    assert status == 400 and list(answer) == ["error"] and message in answer["error"], answer


@pytest.mark.slow
@pytest.mark.parametrize("path, data, status", [("", None, 200), ("api/health", None, 200), ("api/predict", b"", 400),
                                                ("static/app.js", None, 200), ("static/style.css", None, 200),
                                                ("nothing", None, 404)])
def test_every_answer_carries_the_security_headers(fake, path, data, status):
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(urllib.request.Request(fake.url + path, data=data), timeout=30) as response:
            got, headers = response.status, response.headers
    except urllib.error.HTTPError as err:
        got, headers = err.code, err.headers
    assert got == status
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"


@pytest.mark.slow
def test_only_loopback_host_names_are_answered(fake):
    status, body = request(fake.url + "api/health", headers={"Host": "evil.example"})
    assert status == 400 and "Host 'evil.example' not allowed" in body["error"], body
    status, body = request(fake.url + "api/health", headers={"Host": f"evil.example:{fake.port}"})
    assert status == 400
    for host in (f"localhost:{fake.port}", f"127.0.0.1:{fake.port}", f"[::1]:{fake.port}", "localhost"):
        assert request(fake.url + "api/health", headers={"Host": host})[0] == 200, host
    drawn = (ROOT / "examples/drawn_7.png").read_bytes()
    assert request(fake.url + "api/predict", drawn, {"Host": "evil.example"})[0] == 400


@pytest.mark.slow
def test_sigterm_with_a_stalled_client_exits_promptly(tmp_path):
    server = start_fake(tmp_path)  # the default deadlines: the body's is 30 s
    port = urllib.parse.urlsplit(server.url).port
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(post_head(1000) + b"\x89PN")
        time.sleep(0.5)
        began = time.monotonic()
        server.proc.send_signal(signal.SIGTERM)
        try:
            _, err = server.proc.communicate(timeout=20)
        finally:
            server.proc.kill()
        took = time.monotonic() - began
    assert took < 4, (took, err)
    assert "Traceback" not in err, err


def test_decode_turns_bound_decoding_but_not_the_model_calls(monkeypatch):
    from digits.serve import answering

    now = {"decoding": 0, "predicting": 0}
    most = {"decoding": 0, "predicting": 0}
    lock = threading.Lock()

    def counted(what: str, seconds: float) -> None:
        with lock:
            now[what] += 1
            most[what] = max(most[what], now[what])
        time.sleep(seconds)
        with lock:
            now[what] -= 1

    monkeypatch.setattr(answering.imagefile, "cost", lambda name, data: (5_000_000, 5_000_000))  # the large lane
    monkeypatch.setattr(answering.images, "decode_bytes", lambda name, data: counted("decoding", 0.05) or data)

    def batcher(x):
        counted("predicting", 0.2)
        return np.full((len(x), 10), 0.1)

    async def eight() -> None:
        lanes, image = shares.Lanes(guards.Limits()), np.zeros((28, 28), np.uint8)
        image[4:24, 12:15] = 255  # a 1: one piece, one candidate
        await asyncio.gather(*(answering.answer("x", image, batcher, tuple("0123456789"), lanes) for _ in range(8)))

    asyncio.run(eight())
    assert most["decoding"] == 2 and most["predicting"] > 2, most


def test_decode_turns_are_given_back_once_whatever_happens():
    async def go() -> shares.Lane:
        lanes = shares.Lanes(guards.Limits(decodes=1))
        async with lanes.hold(10, 10) as release:
            release()
            release()  # a second call gives nothing back twice
        with pytest.raises(RuntimeError):
            async with lanes.hold(10, 10):
                raise RuntimeError("decoding failed")
        await asyncio.sleep(0.01)  # (turns are given back on the event loop, from whichever thread)
        return lanes.small

    lane = asyncio.run(go())
    assert (lane.running, lane.used, len(lane.waiting)) == (0, 0, 0)


def stream_request(body: list[bytes], headers: dict[str, str]):
    from starlette.requests import Request

    messages = [{"type": "http.request", "body": chunk, "more_body": i < len(body) - 1} for i, chunk in enumerate(body)]

    async def receive():
        return messages.pop(0)

    scope = {"type": "http", "method": "POST", "path": "/api/predict", "query_string": b"",
             "headers": [(k.lower().encode(), v.encode()) for k, v in headers.items()]}
    return Request(scope, receive)


async def read(request, budget: shares.Budget) -> tuple[int, str]:
    try:
        async with uploads.image_body(request, budget, guards.Limits(body_timeout=5)) as (_, data):
            assert budget.held >= len(data)
            return 200, ""
    except uploads.ApiError as err:
        return err.status, str(err)


@pytest.mark.parametrize("body, headers, status", [
    ([b"x" * 90], {"Content-Length": "90"}, 200),
    ([b"x" * 150], {"Content-Length": "150"}, 503),  # refused on its declared length
    ([b"x" * 60, b"x" * 60], {}, 503),  # chunked: refused as it streams in
])
def test_bodies_are_claimed_from_the_budget_and_given_back(body, headers, status):
    budget = shares.Budget(100)
    got, message = asyncio.run(read(stream_request(body, headers), budget))
    assert got == status and (status == 200 or "busy" in message), message
    assert budget.held == 0


@pytest.mark.parametrize("bound, header, allowed", [
    ("127.0.0.1", "localhost:8000", True), ("127.0.0.1", "127.0.0.1", True), ("127.0.0.1", "[::1]:80", True),
    ("127.0.0.2", "127.0.0.2:8000", True), ("::1", "[::1]", True), ("localhost", "LOCALHOST:1", True),
    ("127.0.0.1", "evil.example", False), ("127.0.0.1", "localhost.evil.example:80", False),
    ("127.0.0.1", "localhost:x", False), ("127.0.0.1", "[::1]x", False), ("0.0.0.0", "evil.example", True),
])
def test_host_names_allowed_by_the_bound_address(bound, header, allowed):
    hosts = guards.allowed_hosts(bound)
    assert (hosts is None or guards.host_name(header) in hosts) == allowed


def test_event_loop_os_errors_are_one_line_and_bugs_keep_their_traceback(caplog):
    """The bug goes to asyncio's own handler (which logs its traceback); asserted on the call, not on asyncio's
    logger, which a test before this one in the same worker (DVC's logging set-up) may have silenced."""
    from digits.serve import connections

    loop, handed_on = asyncio.new_event_loop(), []
    loop.default_exception_handler = handed_on.append
    try:
        with caplog.at_level("WARNING", logger="digits.serve"):
            connections.quiet_loop_errors(loop, {"message": "socket.accept() out of system resource",
                                                 "exception": OSError(24, "Too many open files")})
            connections.quiet_loop_errors(loop, {"message": "Task exception", "exception": ZeroDivisionError()})
    finally:
        loop.close()
    (quiet,) = [r for r in caplog.records if r.name == "digits.serve"]
    assert quiet.getMessage() == ("serve: socket.accept() out of system resource: OSError: [Errno 24] Too many open "
                                  "files") and not quiet.exc_info
    (bug,) = handed_on
    assert isinstance(bug["exception"], ZeroDivisionError)
