"""Watching the server while ``bench.serve_hostile`` replays a case: its log (stderr, read all along: a flood of
log lines must never fill the pipe and block the server), its memory (VmRSS before and after; the case's peak is
VmHWM, the kernel's high-water mark, reset to the current RSS at the case's start through /proc/PID/clear_refs),
its open files, and the latency of ``GET /api/health`` polled on a fresh connection each time, as a new visitor."""
from __future__ import annotations

import http.client
import os
import statistics
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

POLL = 0.1  # seconds between health requests, and between memory samples (x2)
SETTLE = 1.0  # seconds after a case before "after" is read: freed memory and the last log lines come back


class Log:
    """The lines a child process writes on ``stream``, read by a thread as they come."""

    def __init__(self, stream):
        self.lines: list[str] = []
        self.reader = threading.Thread(target=self.read, args=(stream,), daemon=True)
        self.reader.start()

    def read(self, stream) -> None:
        for line in stream:
            self.lines.append(line.rstrip("\n"))  # (list.append is atomic: no lock)

    def mark(self) -> int:
        return len(self.lines)


def proc_status(pid: int) -> dict[str, float]:
    """VmRSS and VmHWM of ``pid`` in MB; empty once it has exited."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return {}
    fields = dict(line.split(":", 1) for line in text.splitlines() if line.startswith(("VmRSS", "VmHWM")))
    return {key: int(value.split()[0]) / 1024 for key, value in fields.items()}


def open_files(pid: int) -> int:
    try:
        return len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        return 0


def reset_peak(pid: int) -> bool:
    """Reset ``pid``'s VmHWM to its current RSS (Linux 4.0 and later); False where that is not allowed."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def health_once(port: int) -> tuple[str, float]:
    began = time.monotonic()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", "/api/health")
        response = conn.getresponse()
        response.read()
        outcome = str(response.status)
    except (OSError, http.client.HTTPException) as err:
        outcome = type(err).__name__
    finally:
        conn.close()
    return outcome, time.monotonic() - began


def latency(seconds: list[float]) -> dict:
    ms = [s * 1000 for s in seconds]
    return {"p50_ms": round(statistics.median(ms), 1) if ms else None, "max_ms": round(max(ms), 1) if ms else None}


@contextmanager
def watching(proc: subprocess.Popen, port: int, log: Log) -> Iterator[dict]:
    """Watch the server through the block; the dict it yields is filled in after: ``server_rss_mb`` (before, peak,
    after), ``server_open_files_peak``, ``health`` (requests, outcomes, p50/max), log lines and any traceback."""
    record: dict = {}
    before, mark, stop = proc_status(proc.pid), log.mark(), threading.Event()
    exact_peak = reset_peak(proc.pid)
    sampled, files, health, times = [before.get("VmRSS", 0.0)], [open_files(proc.pid)], Counter(), []

    def sample() -> None:
        while not stop.wait(POLL / 2):
            sampled.append(proc_status(proc.pid).get("VmRSS", 0.0))
            files.append(open_files(proc.pid))

    def poll() -> None:
        while proc.poll() is None:  # at least one request, however short the case
            outcome, took = health_once(port)
            health[outcome] += 1
            if outcome == "200":
                times.append(took)
            if stop.wait(POLL):
                break

    threads = [threading.Thread(target=sample), threading.Thread(target=poll)]
    for thread in threads:
        thread.start()
    began = time.monotonic()
    try:
        yield record
    finally:
        record["seconds"] = round(time.monotonic() - began, 2)
        peak = proc_status(proc.pid).get("VmHWM") if exact_peak else None
        stop.set()
        for thread in threads:
            thread.join()
        time.sleep(SETTLE)
    after, lines = proc_status(proc.pid), log.lines[mark:]
    record["server_rss_mb"] = {"before": rnd(before.get("VmRSS")), "after": rnd(after.get("VmRSS")),
                               "peak": rnd(max(peak or 0.0, *sampled)), "peak_exact": exact_peak}
    record["server_open_files_peak"] = max(files)
    record["health"] = {"requests": sum(health.values()), "outcomes": dict(sorted(health.items())), **latency(times)}
    record["log_lines"], record["traceback"] = len(lines), any("Traceback" in line for line in lines)
    record["log_sample"] = lines[:2]


def rnd(mb: float | None) -> float | None:
    return None if mb is None else round(mb, 1)
