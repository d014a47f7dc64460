"""``python -m digits.compare``: a workspace's accuracy against a revision's, within the tolerance that a run on
another CPU kind lands in (the run itself: tests/test_team.py::test_another_cpu_kind_lands_within_tolerance)."""
from __future__ import annotations

import contextlib
import json
import math
import subprocess

import pytest

from digits import compare


def test_tolerance_is_three_sigma_of_two_draws():
    # CNN: 99.53% on 10,000 images -> 3 * sqrt(2 * 0.9953 * 0.0047 / 10000) = 0.29 points.
    assert compare.tolerance(0.9953, 10_000) == pytest.approx(3 * math.sqrt(2 * 0.9953 * 0.0047 / 10_000))
    assert 0.0028 < compare.tolerance(0.9953, 10_000) < 0.0030
    assert compare.tolerance(0.9841, 10_000) > compare.tolerance(0.9953, 10_000)  # more errors, more spread
    assert compare.tolerance(0.95, 200) > compare.tolerance(0.95, 10_000)  # fewer images, more spread
    assert compare.tolerance(1.0, 200) > 0  # a perfect score is no proof of a perfect model


def metrics(accuracy: float, images: int = 10_000) -> dict:
    return {"accuracy": accuracy, "test_images": images}


def test_verdict_lines():
    ok, line = compare.verdict("cnn", metrics(0.9949), metrics(0.9953))
    assert ok and line == "cnn: accuracy 0.9949 here, 0.9953 there, gap -0.0004, tolerance 0.0029: within it"
    ok, line = compare.verdict("cnn", metrics(0.9900), metrics(0.9953))
    assert not ok and line.endswith("OUTSIDE it")
    ok, line = compare.verdict("cnn", metrics(0.99, 500), metrics(0.9953))
    assert not ok and "not comparable" in line


def project(tmp_path, dense: float, cnn: float):
    """A git repo with both models' metrics committed (a project folder: params.yaml beside dvc.yaml)."""
    (tmp_path / "params.yaml").write_text("seed: 1\n")
    (tmp_path / "dvc.yaml").write_text("stages: {}\n")
    write(tmp_path, dense, cnn)
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t.invalid"]
    for cmd in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "results"]):
        subprocess.run(git + cmd, cwd=tmp_path, check=True, capture_output=True)


def write(root, dense: float, cnn: float) -> None:
    folder = root / "artifacts" / "metrics"
    folder.mkdir(parents=True, exist_ok=True)
    for name, accuracy in (("dense", dense), ("cnn", cnn)):
        (folder / f"{name}.json").write_text(json.dumps(metrics(accuracy)))


def test_command_says_within_or_outside(tmp_path, capsys):
    project(tmp_path, 0.9841, 0.9953)
    write(tmp_path, 0.9838, 0.9949)  # what another CPU kind gave
    with contextlib.chdir(tmp_path):
        assert compare.main([]) == 0
        assert capsys.readouterr().out.count("within it") == 2
        write(tmp_path, 0.9841, 0.9800)  # not the CPU: something else changed
        assert compare.main(["HEAD"]) == 1
        out = capsys.readouterr().out
        assert "cnn: accuracy 0.9800 here, 0.9953 there" in out and "outside tolerance of HEAD" in out
        with pytest.raises(ValueError, match="no model has metrics both here"):
            compare.main(["no-such-revision"])
        with pytest.raises(ValueError, match="usage"):
            compare.main(["--help"])


def with_read(accuracy: float, right: float, refused: float, nondigits: float) -> dict:
    return {**metrics(accuracy), "read": {"images": 10_000, "right": right, "not_a_digit": refused,
                                          "nondigits": {"images": 687, "refused": nondigits}}}


def test_verdict_holds_predicts_rates_to_the_same_tolerance():
    """The rates predict's path gives (evaluate's ``read``) are compared too, each over its own number of images:
    a detector that refuses twice the digits is not what another CPU gives."""
    theirs = with_read(0.9953, 0.9863, 0.0079, 0.920)
    ok, lines = compare.verdict("cnn", with_read(0.9953, 0.9876, 0.0063, 0.9083), theirs)
    assert ok and lines.count("within it") == 4
    assert "cnn: non-digits refused 0.9083 here, 0.9200 there, gap -0.0117, tolerance 0.0439" in lines
    ok, lines = compare.verdict("cnn", with_read(0.9953, 0.9800, 0.0160, 0.9083), theirs)
    assert not ok and "cnn: test digits refused 0.0160 here, 0.0079 there" in lines and "OUTSIDE" in lines
    ok, lines = compare.verdict("cnn", metrics(0.9953), theirs)  # an older file without them: accuracy alone
    assert ok and lines.count("\n") == 0
