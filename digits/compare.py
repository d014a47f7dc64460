"""This workspace's test accuracy against a git revision's, per model, and whether the gap is within what a run on
another kind of CPU gives (docs/pipeline.md, "Across CPUs").

The committed results came from one CPU kind (its precision and instructions decide the last bits of every sum); a
``dvc repro`` on another kind retrains with other bytes. Two runs of the same recipe are two models of the same
quality, so their test accuracies (and the rates predict's path gives: read right, digits and non-digits refused)
differ like two draws: :func:`tolerance` bounds each gap. Command:
``python -m digits.compare [REV]`` (default ``HEAD``); exit 0 when every model is within it, 1 when one is not.
"""
from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

from digits.config import fixed, schema
from digits.runtime import runner

Z = 3.0  # standard deviations: a gap past 3 sigma happens by chance about 3 times in 1,000


def tolerance(accuracy: float, images: int, z: float = Z) -> float:
    """``z`` standard deviations of the difference between the test accuracies of two models of equal quality ``p``
    on the same ``images`` images, were their errors independent: sqrt(2 p (1 - p) / n). Two runs of one recipe
    err on many of the same images, so the real spread is smaller: a bound, not an estimate."""
    p = min(max(accuracy, 1.0 / images), 1.0 - 1.0 / images)  # a perfect score still leaves one image's doubt
    return z * math.sqrt(2 * p * (1 - p) / images)


def judged(label: str, ours: float, theirs: float, images: int) -> tuple[bool, str]:
    """Whether the rate ``ours`` is within tolerance of ``theirs`` (both over the same ``images``), and the line."""
    gap, allowed = ours - theirs, tolerance(theirs, images)
    ok = abs(gap) <= allowed
    return ok, (f"{label} {ours:.4f} here, {theirs:.4f} there, gap {gap:+.4f}, tolerance {allowed:.4f}: "
                + ("within it" if ok else "OUTSIDE it"))


# Rates evaluate measures through predict's own path (``read``: the reader and the "not a digit" detector), each
# with the key of the number of images it is over; compared where both sides have them.
READ_RATES = (("read right as files", ("right",), ("images",)),
              ("test digits refused", ("not_a_digit",), ("images",)),
              ("non-digits refused", ("nondigits", "refused"), ("nondigits", "images")))


def dig(tree: dict, keys: tuple[str, ...]):
    for key in keys:
        tree = tree.get(key) if isinstance(tree, dict) else None
    return tree


def verdict(model: str, ours: dict, theirs: dict) -> tuple[bool, str]:
    """Whether ``ours`` (a metrics file's content) is within tolerance of ``theirs``, and the lines saying so:
    test accuracy, then each of ``READ_RATES`` that both files hold over the same number of images."""
    if ours["test_images"] != theirs["test_images"]:
        return False, (f"{model}: tested on {ours['test_images']} images here, {theirs['test_images']} there: "
                       "not comparable")
    results = [judged(f"{model}: accuracy", ours["accuracy"], theirs["accuracy"], theirs["test_images"])]
    for label, rate, count in READ_RATES:
        values = [dig(side.get("read"), keys) for side in (ours, theirs) for keys in (rate, count)]
        if None not in values and values[1] == values[3]:
            results.append(judged(f"{model}: {label}", values[0], values[2], values[3]))
    return all(ok for ok, _ in results), "\n".join(line for _, line in results)


def metrics_at(rev: str, path: str, root: Path) -> dict | None:
    """The file at ``path`` as revision ``rev`` holds it; None where it has none."""
    done = subprocess.run(["git", "show", f"{rev}:{path}"], cwd=root, capture_output=True)
    return json.loads(done.stdout) if done.returncode == 0 else None


def main(argv: list[str]) -> int:
    if len(argv) > 1 or argv and argv[0].startswith("-"):
        raise ValueError("usage: python -m digits.compare [REV]  (a git revision; default HEAD)")
    rev, root = (argv or ["HEAD"])[0], runner.project_root()
    results = []
    for model in fixed.MODEL_NAMES:
        path = f"{schema.PATHS.metrics}/{model}.json"
        theirs, here = metrics_at(rev, path, root), root / path
        if theirs is None or not here.is_file():
            continue
        results.append(verdict(model, json.loads(here.read_text()), theirs))
        print(results[-1][1])
    if not results:
        raise ValueError(f"no model has metrics both here ({schema.PATHS.metrics}/) and at {rev}")
    if all(ok for ok, _ in results):
        print(f"compare: every model within tolerance of {rev}: what another CPU kind gives (docs/pipeline.md)")
        return 0
    print(f"compare: a model is outside tolerance of {rev}: not explained by the CPU; check params and data "
          "(dvc params diff, dvc status)")
    return 1


if __name__ == "__main__":
    runner.exit_on_error(lambda: main(sys.argv[1:]))
