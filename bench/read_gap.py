"""Where reading the test images as files (stage ``read``, ``evaluate``'s ``read`` figures) loses against the model
on MNIST's own 28×28 arrays, image by image, on the full test set: each image's answer as predict gives it (right,
one wrong digit, a number, "not a digit") crossed with whether the model alone is right on the raw image; then the
same shares with the detector's threshold moved by ``--shifts`` logits, beside the share of stage ``read``'s
held-out non-digit photos still refused (a shift of 100 is the detector switched off). Diagnosis only: the
threshold is chosen on validation data (stage ``nondigit``), never from this table.

Command (after ``dvc repro``): ``python -m bench.read_gap [--model cnn] [--shifts 0 1 2 4 100]
[--out bench/results/read_gap.json]``; prints JSON and writes it to OUT.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from digits.config import schema
from digits.data import arrays
from digits.export import formats, loaders
from digits.nondigit import detector
from digits.read import as_files, reading
from digits.runtime.storage import write_json


def outcome(answer, truth: str) -> str:
    if answer.refusal is not None:
        return "not_a_digit"
    if answer.is_number:
        return "as_number"
    return "right" if answer.text == truth else "wrong_single"


def crossed(answers: list, raw_right: np.ndarray, truths: list[str]) -> dict:
    """Images per (outcome as read, the model right on the raw image), with the first indices of each."""
    table: dict = {}
    for i, (a, ok) in enumerate(zip(answers, raw_right)):
        key = f"{outcome(a, truths[i])}, raw {'right' if ok else 'wrong'}"
        cell = table.setdefault(key, {"images": 0, "first": []})
        cell["images"] += 1
        cell["first"] += [i] if len(cell["first"]) < 10 else []
    return dict(sorted(table.items()))


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.read_gap", description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="cnn", choices=["dense", "cnn"])
    parser.add_argument("--shifts", type=float, nargs="+", default=[0.0, 1.0, 2.0, 4.0, 100.0])
    parser.add_argument("--out", type=Path, default=Path("bench/results/read_gap.json"))
    args = parser.parse_args(argv)
    test_path = arrays.split_path(schema.PATHS.data, "test")
    (x, y), labels = arrays.load_split(test_path), arrays.load_class_names(test_path)
    model = loaders.load(formats.keras_path(args.model), "keras")
    predict = reading.with_detector(model, loaders.load(detector.path(), "keras"))
    readings = as_files.load(Path(schema.PATHS.read) / "test.npz")
    checks, kinds = as_files.load_check(Path(schema.PATHS.read) / "nondigits.npz")
    found = [r for r in checks if r is not None]
    out = predict(arrays.preprocess(np.concatenate([r.fields for r in readings])))
    check_out = predict(arrays.preprocess(np.concatenate([r.fields for r in found])))
    raw_right = model(arrays.preprocess(x)).argmax(axis=1) == y
    truths = [labels[v] for v in y]
    result: dict = {"model": args.model, "images": len(y), "raw_accuracy": round(float(raw_right.mean()), 4),
                    "crossed": crossed(as_files.answered(readings, out, labels), raw_right, truths), "shifts": {}}
    for shift in args.shifts:
        moved, moved_check = out.copy(), check_out.copy()
        moved[:, -1] -= shift
        moved_check[:, -1] -= shift
        score = as_files.score(readings, moved, y, labels)
        result["shifts"][str(shift)] = {**{k: score[k] for k in ("right", "wrong_single", "as_number", "not_a_digit")},
                                        "nondigits_refused": as_files.score_refusals(checks, kinds, moved_check,
                                                                                      labels)["refused"]}
    print(json.dumps(result, indent=2, sort_keys=True), flush=True)
    write_json(args.out, result)
    return result


if __name__ == "__main__":
    main()
