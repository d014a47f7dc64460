"""Reading written numbers: count, digit and whole-number accuracy of ``digits.read.reading.answer_image`` with a
trained model, on four-digit numbers composed from MNIST test digits (``multidigit.mnist_number``: with gaps as PNG,
touching as JPEG) and from ``wild``'s drawn digits photographed clean and under every condition at once
(``multidigit.wild_number``); and how many single digits (MNIST, drawn) are still read as one.

Command: ``python -m bench.numbers [OUT] [--model artifacts/models/cnn.keras] [--data artifacts/data/test.npz]
[--detector artifacts/models/nondigit.keras|none] [--count 200] [--seed 0]``; prints JSON and writes it to OUT
(default bench/results/numbers.json).
"""
from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import numpy as np
from PIL import Image

from bench import readings
from digits.data import arrays
from digits.read import images, reading
from digits.synthetic import multidigit, photos


def decoded(grey: np.ndarray, fmt: str) -> np.ndarray:
    """``grey`` saved as ``fmt`` and decoded back as predict reads a file."""
    return images.to_grey(np.asarray(Image.open(io.BytesIO(readings.encoded(grey, fmt))).convert("L")))


def score(cases: list[tuple[str, np.ndarray]], model, labels) -> dict:
    """(true number, grey image) each → count, digit (position by position; a wrong count counts its digits
    wrong) and number accuracy, how many replies flag a digit as cut from touching ones, and how many say "not a
    digit"."""
    counted = digits = whole = flagged = refused = 0
    for truth, grey in cases:
        reply = reading.answer_image("bench", grey, model, labels)
        refused += reply.refusal is not None
        got = reply.text
        counted += len(reply.digits) == len(truth)
        digits += sum(a == b for a, b in zip(got, truth)) if len(got) == len(truth) else 0
        whole += got == truth
        flagged += any(d.merged for d in reply.digits)
    n = len(cases)
    return {"images": n, "count": round(counted / n, 4), "digit": round(digits / sum(len(t) for t, _ in cases), 4),
            "number": round(whole / n, 4), "flagged_touching": round(flagged / n, 4),
            "not_a_digit": round(refused / n, 4)}


def mnist_cases(x, y, count: int, gaps: tuple[int, int], fmt: str, seed: int) -> list:
    rng = np.random.default_rng([seed, gaps[0] + 10])
    out = []
    for _ in range(count):
        idx = rng.integers(0, len(x), 4)
        grey, _ = multidigit.mnist_number(x[idx], [int(g) for g in rng.integers(*gaps, 3)])
        out.append(("".join(map(str, y[idx])), decoded(grey, fmt)))
    return out


def wild_cases(count: int, condition: str, seed: int) -> list:
    drawn = photos.digits("drawn", per_class=10, seed=seed + 1)
    rng = np.random.default_rng([seed, 5])
    out = []
    for k in range(count):
        pick = rng.choice(len(drawn), 4, replace=False)
        gaps = [int(g) for g in rng.integers(4, 16, 3)]
        payload, _, _ = multidigit.wild_number([drawn[i][1] for i in pick], gaps, condition, seed=seed * 1000 + k)
        grey = images.to_grey(np.asarray(Image.open(io.BytesIO(payload)).convert("L")))
        out.append(("".join(str(drawn[i][0]) for i in pick), grey))
    return out


def singles(x, y, count: int, seed: int) -> dict[str, list]:
    mnist = [(str(y[i]), decoded(multidigit.mnist_number(x[[i]], [], scale=6)[0], "PNG")) for i in range(count)]
    drawn = [(str(label), images.to_grey(np.asarray(Image.open(io.BytesIO(payload)).convert("L"))))
             for label, payload, _ in photos.photos("drawn", "photo", per_class=count // 10, seed=seed)]
    return {"single_mnist": mnist, "single_drawn_photo": drawn}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(prog="python -m bench.numbers", description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", type=Path, default=Path("bench/results/numbers.json"))
    parser.add_argument("--model", type=Path, default=Path("artifacts/models/cnn.keras"))
    parser.add_argument("--data", type=Path, default=Path("artifacts/data/test.npz"))
    parser.add_argument("--detector", default="artifacts/models/nondigit.keras",
                        help="the \"not a digit\" detector predict consults; none: without")
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    x, y = arrays.load_split(args.data)
    model = readings.predictor(args.model, args.detector)
    labels = arrays.load_class_names(args.data)
    sets = {"mnist_gaps_png": mnist_cases(x, y, args.count, (2, 7), "PNG", args.seed),
            "mnist_touching_jpeg": mnist_cases(x, y, args.count, (-2, 1), "JPEG", args.seed),
            "drawn_clean": wild_cases(args.count // 2, "clean", args.seed),
            "drawn_photo": wild_cases(args.count // 2, "photo", args.seed),
            **singles(x, y, args.count, args.seed)}
    result = {"model": str(args.model), "detector": args.detector, "seed": args.seed,
              **{k: score(v, model, labels) for k, v in sets.items()}}
    print(json.dumps(result, indent=2))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    return result


if __name__ == "__main__":
    main()
