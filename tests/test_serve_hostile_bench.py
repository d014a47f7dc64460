"""``bench.serve_hostile`` end to end at a tiny size against the fake-model server: the JSON it writes has every
figure per case, the malformed bodies got 400 with their messages, the clients that left were one log line each,
and nothing logged a traceback. (The full bench's figures are in docs/using.md, "Limits".)"""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conftest import ROOT

CASE_KEYS = {"clients", "outcomes", "health", "server_rss_mb", "server_open_files_peak", "log_lines", "traceback",
             "log_sample", "seconds"}


@pytest.mark.slow  # starts the server and replays three cases: about 10 s
def test_the_hostile_bench_writes_its_figures(tmp_path):
    out = tmp_path / "hostile.json"
    cmd = [sys.executable, "-m", "bench.serve_hostile", "--cases", "boundary,truncated,disconnect", "--clients", "5",
           "--out", str(out)]
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert list(result) == sorted(result) and set(result["cases"]) == {"boundary", "truncated", "disconnect"}
    assert result["server"] == "harness.fake_server (fake model)" and result["serve_options"] == []
    for name, case in result["cases"].items():
        assert CASE_KEYS <= set(case), (name, set(case))
        assert not case["traceback"] and case["clients"] == 5, (name, case)
        assert case["health"]["outcomes"].get("200", 0) >= 1 and case["health"]["p50_ms"] is not None, case
        rss = case["server_rss_mb"]
        assert 0 < rss["before"] <= rss["peak"] and rss["after"] > 0, rss
    cases = result["cases"]
    assert cases["boundary"]["outcomes"] == {"400": 5}
    assert "Boundary length 2000 exceeds" in cases["boundary"]["messages"]["400"]
    assert cases["truncated"]["outcomes"] == {"400": 5} and "truncated" in cases["truncated"]["messages"]["400"]
    assert cases["disconnect"]["outcomes"] == {"left": 5} and cases["disconnect"]["log_lines"] == 5
    assert result["peak_rss_mb"] <= result["target_peak_rss_mb"] and result["within_target"]
