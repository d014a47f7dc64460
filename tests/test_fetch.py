"""Stage ``fetch`` against a real HTTP server on 127.0.0.1 serving the offline MNIST copy (``tests.support.mirror``,
whose first path segment picks how it behaves: good, corrupt, dropping, flaky, missing, failing, stalling, slow):
files fetched and verified, retries and fallbacks, errors named, nothing half-written left behind."""
from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
import signal
import time
import urllib.request
from pathlib import Path

import pytest

from tests.support.mirror import (IMAGES, LABELS, PROJECT, SPECS, cfg, digest, hidden_files,  # noqa: F401 (fixtures)
                                  project_with_mirrors, server, sleeps, unused_port, wrong_labels_gz)
from tests.support import idxfiles
from digits.data import fetch
from digits.config import catalog
from digits.runtime.storage import leftover_temps

ROOT = Path(__file__).resolve().parents[1]


def test_pins_match_shared_copy(mnist_dir):
    """fetch's pins, the shared copy's SHA256SUMS (tests/support/mnist.sha256) and the MNIST the tests found agree."""
    sums = idxfiles.mnist_sums()
    assert {spec.gz_name[: -len(".gz")]: spec.sha256 for spec in catalog.MNIST.files} == sums
    assert {name: digest(mnist_dir / f"{name}.gz") for name in sums} == sums


# (a) good mirror
def test_good_mirror_downloads_all_four(server, mnist_dir, tmp_path):
    folder = tmp_path / "dataset"
    sums = idxfiles.mnist_sums()
    for spec in catalog.MNIST.files:
        path = fetch.fetch_file(folder, spec, *cfg(server.url("good").rstrip("/")))  # no trailing slash either
        assert path == folder / spec.gz_name
        assert path.read_bytes() == (mnist_dir / spec.gz_name).read_bytes()
        assert digest(path) == sums[spec.gz_name[:-3]]
    assert sorted(p.name for p in folder.iterdir()) == sorted(s.gz_name for s in catalog.MNIST.files)
    assert hidden_files(folder) == []
    assert sorted(server.requests) == sorted(f"/good/{s.gz_name}" for s in catalog.MNIST.files)


def test_already_fetched_files_are_not_downloaded_again(server, tmp_path):
    fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("good")))
    before = (tmp_path / LABELS.gz_name).stat().st_mtime_ns
    assert fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("good"))) == tmp_path / LABELS.gz_name
    assert server.requests == [f"/good/{LABELS.gz_name}"]
    assert (tmp_path / LABELS.gz_name).stat().st_mtime_ns == before


# (b) a corrupted file is rejected, naming the file, and the next mirror is used
def test_corrupt_mirror_rejected_then_next_used(server, mnist_dir, tmp_path, capsys):
    mirrors = cfg(server.url("corrupt"), server.url("good"))
    images = fetch.fetch_file(tmp_path, IMAGES, *mirrors)  # the corrupt mirror serves this one intact
    labels = fetch.fetch_file(tmp_path, LABELS, *mirrors)
    assert images.read_bytes() == (mnist_dir / IMAGES.gz_name).read_bytes()
    assert labels.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()
    assert server.requests == [
        f"/corrupt/{IMAGES.gz_name}", f"/corrupt/{LABELS.gz_name}", f"/good/{LABELS.gz_name}",
    ]
    out = capsys.readouterr().out
    rejected = [line for line in out.splitlines() if "SHA-256" in line]
    assert len(rejected) == 1, out
    assert server.url("corrupt") in rejected[0] and LABELS.gz_name in rejected[0]
    assert LABELS.sha256 in rejected[0]  # states what was expected
    assert hidden_files(tmp_path) == []


def test_corrupt_only_mirror_fails_naming_file(server, tmp_path, sleeps):
    with pytest.raises(OSError) as info:
        fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("corrupt"), retries=3))
    message = str(info.value)
    assert LABELS.gz_name in message and "SHA-256" in message and "fetch.mirrors" in message
    assert server.requests == [f"/corrupt/{LABELS.gz_name}"]  # wrong content is not retried
    assert list(tmp_path.iterdir()) == []


# (c) a dropped connection
def test_dropped_connection_then_next_mirror(server, mnist_dir, tmp_path, capsys):
    path = fetch.fetch_file(tmp_path, IMAGES, *cfg(server.url("drop"), server.url("good")))
    assert path.read_bytes() == (mnist_dir / IMAGES.gz_name).read_bytes()
    assert server.requests == [f"/drop/{IMAGES.gz_name}", f"/good/{IMAGES.gz_name}"]
    out = capsys.readouterr().out
    assert f"{server.url('drop')}: {IMAGES.gz_name}: connection closed after" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [IMAGES.gz_name]


def test_dropped_connection_only_mirror(server, tmp_path, sleeps):
    with pytest.raises(OSError) as info:
        fetch.fetch_file(tmp_path, IMAGES, *cfg(server.url("drop"), retries=2))
    message = str(info.value)
    assert "\n" not in message
    assert f"could not get {IMAGES.gz_name}" in message
    assert server.url("drop") in message and "connection closed after" in message
    assert "fetch.mirrors" in message and str(tmp_path) in message  # the offline hint
    assert server.requests == [f"/drop/{IMAGES.gz_name}"] * 2  # a dropped connection is retried
    assert len(sleeps) == 1 and 0 < sleeps[0] <= 8
    assert list(tmp_path.iterdir()) == []  # neither a partial file under its name nor a temp file


def test_transient_failure_retried_then_succeeds(server, mnist_dir, tmp_path, sleeps):
    path = fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("flaky"), retries=2))
    assert path.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()
    assert server.requests == [f"/flaky/{LABELS.gz_name}"] * 2
    assert len(sleeps) == 1
    assert hidden_files(tmp_path) == []


# (d) HTTP 404
def test_404_then_good_mirror(server, mnist_dir, tmp_path, capsys, sleeps):
    path = fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("missing"), server.url("good"), retries=3))
    assert path.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()
    # a 404 is final: asked once, no back-off, then the next mirror
    assert server.requests == [f"/missing/{LABELS.gz_name}", f"/good/{LABELS.gz_name}"]
    assert sleeps == []
    assert "HTTP 404" in capsys.readouterr().out


def test_refused_connection_then_good_mirror(server, mnist_dir, tmp_path):
    dead = f"http://127.0.0.1:{unused_port()}/"
    path = fetch.fetch_file(tmp_path, LABELS, *cfg(dead, server.url("good")))
    assert path.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()


# (d2) HTTP 5xx: the server may recover, so it is asked again (with back-off), then the next mirror
def test_500_retried_then_next_mirror(server, mnist_dir, tmp_path, capsys, sleeps):
    path = fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("error500"), server.url("good"), retries=3))
    assert path.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()
    assert server.requests == [f"/error500/{LABELS.gz_name}"] * 3 + [f"/good/{LABELS.gz_name}"]
    assert len(sleeps) == 2
    assert f"{server.url('error500')}: {LABELS.gz_name}: HTTP 500" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [LABELS.gz_name]


# (d3) a server that stops sending mid-file, and one that is merely slow
def test_stalled_server_times_out_then_next_mirror(server, mnist_dir, tmp_path, capsys, sleeps, monkeypatch):
    timeouts, urlopen = [], urllib.request.urlopen  # each attempt's timeout, as the request is opened
    monkeypatch.setattr(urllib.request, "urlopen", lambda *a, **kw: timeouts.append(kw.get("timeout")) or
                        urlopen(*a, **kw))
    path = fetch.fetch_file(tmp_path, IMAGES, *cfg(server.url("stall"), server.url("good"), retries=2, timeout=0.3))
    assert timeouts == [0.3] * 3  # gave up on the silent server after fetch.timeout instead of waiting for it
    assert path.read_bytes() == (mnist_dir / IMAGES.gz_name).read_bytes()
    assert server.requests == [f"/stall/{IMAGES.gz_name}"] * 2 + [f"/good/{IMAGES.gz_name}"]
    assert f"{server.url('stall')}: {IMAGES.gz_name}: timed out" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir()) == [IMAGES.gz_name]


def test_stalled_only_mirror_fails_leaving_nothing(server, tmp_path, sleeps):
    with pytest.raises(OSError) as info:
        fetch.fetch_file(tmp_path, IMAGES, *cfg(server.url("stall"), timeout=0.3))
    assert f"could not get {IMAGES.gz_name}" in str(info.value) and "timed out" in str(info.value)
    assert list(tmp_path.iterdir()) == []  # the half received is gone with its temp file


def test_slow_server_is_waited_for(server, mnist_dir, tmp_path):
    """``fetch.timeout`` bounds the silence between reads, not the whole download."""
    timeout = 0.45
    start = time.monotonic()
    path = fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("slow"), timeout=timeout))
    assert time.monotonic() - start > timeout  # longer in total than the timeout, yet not abandoned
    assert path.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()
    assert server.requests == [f"/slow/{LABELS.gz_name}"]


# (d4) a download killed mid-file: never a partial file under the final name, and a rerun starts clean
def test_killed_download_then_rerun_is_clean(server, mnist_dir, tmp_path):
    folder = project_with_mirrors(tmp_path, [server.url("stall")])
    first = catalog.MNIST.files[0]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "stages.fetch"], cwd=tmp_path / PROJECT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not any(p.stat().st_size for p in leftover_temps(folder / first.gz_name)):  # half the file is in
            assert proc.poll() is None and time.monotonic() < deadline, "fetch never started writing"
            time.sleep(0.05)
        assert not (folder / first.gz_name).exists()
    finally:
        proc.send_signal(signal.SIGKILL)  # skips every `finally`: the temp file stays, as after a power cut
        proc.wait()
    assert hidden_files(folder) and not (folder / first.gz_name).exists()

    project_with_mirrors(tmp_path, [server.url("good")])
    done = _run_stage(tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in folder.iterdir()) == sorted(s.gz_name for s in catalog.MNIST.files)
    sums = idxfiles.mnist_sums()
    assert all(digest(folder / s.gz_name) == sums[s.gz_name[:-3]] for s in catalog.MNIST.files)


# (e) a local folder (or file:// URL) as mirror
@pytest.mark.parametrize("as_uri", [False, True], ids=["folder", "file-url"])
def test_local_folder_mirror(mnist_dir, tmp_path, as_uri):
    mirror = mnist_dir.as_uri() if as_uri else str(mnist_dir)
    for spec in (IMAGES, LABELS):
        path = fetch.fetch_file(tmp_path / "dataset", spec, *cfg(mirror))
        assert path == tmp_path / "dataset" / spec.gz_name
        assert path.read_bytes() == (mnist_dir / spec.gz_name).read_bytes()
    assert hidden_files(tmp_path / "dataset") == []


def test_missing_local_folder_then_good(mnist_dir, tmp_path, capsys):
    path = fetch.fetch_file(tmp_path / "d", LABELS, *cfg(tmp_path / "nowhere", mnist_dir, retries=3))
    assert path.read_bytes() == (mnist_dir / LABELS.gz_name).read_bytes()
    assert "no such file" in capsys.readouterr().out


# (f) files a user placed are used as they are
@pytest.mark.parametrize("naming", ["raw", "gz"])
def test_user_placed_files_used_untouched(server, mnist_dir, tmp_path, naming):
    failing = cfg(f"http://127.0.0.1:{unused_port()}/", server.url("missing"))
    placed = {}
    for spec in (IMAGES, LABELS):
        data = (mnist_dir / spec.gz_name).read_bytes()
        path = tmp_path / (spec.raw_name if naming == "raw" else spec.gz_name)
        path.write_bytes(gzip.decompress(data) if naming == "raw" else data)
        os.utime(path, ns=(1_000_000_000_000_000_000, 1_000_000_000_000_000_000))
        placed[spec] = (path, path.read_bytes())
    for spec, (path, data) in placed.items():
        assert fetch.fetch_file(tmp_path, spec, *failing) == path
        assert path.read_bytes() == data
        assert path.stat().st_mtime_ns == 1_000_000_000_000_000_000
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p, _ in placed.values())
    assert server.requests == []


def test_raw_naming_preferred_when_both_placed(mnist_dir, tmp_path):
    raw = tmp_path / LABELS.raw_name
    raw.write_bytes(gzip.decompress((mnist_dir / LABELS.gz_name).read_bytes()))
    (tmp_path / LABELS.gz_name).write_bytes(b"not looked at")
    assert catalog.find_local(tmp_path, LABELS) == raw
    assert fetch.fetch_file(tmp_path, LABELS, *cfg()) == raw


# (g) a user-placed file with wrong content
@pytest.mark.parametrize("kind", ["raw-wrong-labels", "gz-wrong-labels", "gz-corrupt-stream", "empty"])
def test_user_placed_wrong_file_rejected(server, mnist_dir, tmp_path, kind):
    wrong = wrong_labels_gz(mnist_dir)
    name, data = {
        "raw-wrong-labels": (LABELS.raw_name, gzip.decompress(wrong)),
        "gz-wrong-labels": (LABELS.gz_name, wrong),
        "gz-corrupt-stream": (LABELS.gz_name, wrong[:40]),
        "empty": (LABELS.raw_name, b""),
    }[kind]
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ValueError) as info:
        fetch.fetch_file(tmp_path, LABELS, *cfg(server.url("good")))
    message = str(info.value)
    assert str(path) in message
    assert ("corrupt gzip" if kind == "gz-corrupt-stream" else "SHA-256") in message
    assert path.read_bytes() == data  # never overwritten
    assert [p.name for p in tmp_path.iterdir()] == [name]
    assert server.requests == []


# the stage as a command




def _run_stage(tmp_path: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "stages.fetch"], cwd=tmp_path / PROJECT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_command_fetches_all_four(server, mnist_dir, tmp_path):
    folder = project_with_mirrors(tmp_path, [f"http://127.0.0.1:{unused_port()}/", server.url("good")])
    proc = _run_stage(tmp_path)
    assert proc.returncode == 0, proc.stderr
    sums = idxfiles.mnist_sums()
    assert sorted(p.name for p in folder.iterdir()) == sorted(s.gz_name for s in catalog.MNIST.files)
    for spec in catalog.MNIST.files:
        assert digest(folder / spec.gz_name) == sums[spec.gz_name[:-3]]
        assert f"fetch: {Path('dataset/mnist') / spec.gz_name} verified" in proc.stdout  # as the project names it
    assert "error" not in proc.stderr


def test_command_fails_with_one_line(server, tmp_path):
    folder = project_with_mirrors(tmp_path, [f"http://127.0.0.1:{unused_port()}/", server.url("missing")])
    proc = _run_stage(tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    # What was looked for, where, what lies there; then each mirror's answer, and the offline hint.
    assert lines[0].startswith("error: no train-images file: looked for train-images.idx3-ubyte or "
                               "train-images-idx3-ubyte.gz or train-images-idx3-ubyte in dataset/mnist/ (empty) and "
                               "dataset/ (holds mnist/); could not get train-images-idx3-ubyte.gz: "), lines[0]
    assert "HTTP 404" in lines[0] and "fetch.mirrors" in lines[0]
    assert "Traceback" not in proc.stderr
    assert folder.is_dir() and list(folder.iterdir()) == []


def test_command_rejects_bad_placed_file(mnist_dir, tmp_path):
    folder = project_with_mirrors(tmp_path, [str(mnist_dir)])
    folder.mkdir(parents=True)
    shutil.copyfile(mnist_dir / LABELS.gz_name, folder / SPECS["train-labels-idx1-ubyte.gz"].raw_name)
    proc = _run_stage(tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert lines[0].startswith("error: dataset/mnist/train-labels.idx1-ubyte: SHA-256"), lines[0]


def test_an_experiments_temporary_copy_knows_its_repository(tmp_path):
    """dvc exp run --temp / --queue run in <repo>/.dvc/tmp/exps/...: fetch copies the files placed in <repo>."""
    from digits.data.fetch import experiment_origin

    copy = tmp_path / "repo" / ".dvc" / "tmp" / "exps" / "tmpab12" / "run"
    copy.mkdir(parents=True)
    assert experiment_origin(copy) == (tmp_path / "repo").resolve()
    assert experiment_origin(tmp_path / "repo") is None
    assert experiment_origin(tmp_path) is None
