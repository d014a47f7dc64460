"""When is a whole image "not a digit"? The rules ``reading.kept`` could follow, compared on validation parts only:
held-out non-digit photos of seed 44 (stage read's check is 43, the detector's training 42), MNIST's validation
digits read as files, and ``wild``'s digit photos (seed 1), answered by the model with the detector.

Rules: ``all`` (every chosen mark refused), ``count`` (at least half of them), ``width`` (marks spanning at least
half their width: ``reading.REFUSED_WIDTH``, the one predict follows).

Command: ``python -m bench.nondigit_rule [--model artifacts/models/cnn.keras] [--out bench/results/nondigit_rule.json]``
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from digits.data import arrays
from digits.export import loaders
from digits.nondigit import detector, detector_data
from digits.read import as_files, choice, reading, segment
from digits.runtime import pool
from digits.synthetic import photos
from digits.runtime.storage import write_json

RULES = ("all", "count", "width")


def refused(r: segment.Reading, out: np.ndarray, labels: tuple[str, ...], rule: str) -> bool:
    probs, nondigit = reading.split(out, labels)
    picked = choice.choose(r, probs)
    doubt = reading.doubted(probs, nondigit)
    bad = [k for k in picked if doubt[k]]
    if rule == "all":
        return len(bad) == len(picked)
    if rule == "count":
        return len(bad) >= 0.5 * len(picked)
    return not reading.kept(r, out, labels)[1]  # predict's own rule


def shares(readings: list[segment.Reading | None], out, labels, rule: str) -> np.ndarray:
    """Per image, refused or not (None: nothing read, which predict refuses too); one model call for all."""
    found = [r for r in readings if r is not None]
    answers = out(arrays.preprocess(np.concatenate([r.fields for r in found])))
    ends = np.cumsum([len(r.candidates) for r in found])
    flags = iter([refused(r, answers[e - len(r.candidates):e], labels, rule) for r, e in zip(found, ends)])
    return np.array([True if r is None else next(flags) for r in readings])


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.nondigit_rule", description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=Path("artifacts/models/cnn.keras"))
    parser.add_argument("--out", type=Path, default=Path("bench/results/nondigit_rule.json"))
    args = parser.parse_args(argv)
    items = detector_data.check_photos(104, 44)
    kinds = np.array([i.kind for i in items])
    sets = {"nondigits": pool.in_pool(as_files.read_bytes, [(f"{i.kind} {i.detail}", i.payload) for i in items]),
            "mnist_val": as_files.read_all(arrays.load_split(arrays.split_path(Path("artifacts/data"), "val"))[0]),
            "wild": pool.in_pool(as_files.read_bytes, [(f"{n} {c}", p) for n in photos.SETS for c in photos.CONDITIONS
                                                         for _, p, _ in photos.photos(n, c, 10, 1)])}
    model, detect = (loaders.load(p, "keras") for p in (args.model, detector.path()))
    out = reading.with_detector(model, detect)
    labels = arrays.load_class_names(arrays.split_path(Path("artifacts/data"), "test"))
    result: dict = {"model": str(args.model), "images": {k: len(v) for k, v in sets.items()}}
    for rule in RULES:
        flags = {name: shares(found, out, labels, rule) for name, found in sets.items()}
        result[rule] = {name: round(float(f.mean()), 4) for name, f in flags.items()}
        result[rule]["nondigits_by_kind"] = {k: round(float(flags["nondigits"][kinds == k].mean()), 4)
                                            for k in sorted(set(kinds.tolist()))}
        print(rule, {k: v for k, v in result[rule].items() if k != "nondigits_by_kind"}, flush=True)
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
