"""Reading image files through exactly the path ``python -m digits.predict --json`` takes
(``digits.read.streaming.answers``), on MNIST digits written as files: how often a single digit is read as one digit of
the right class, and how often a written number is read whole.

Inputs: MNIST's four IDX files (``--mnist DIR``, default ``dataset/mnist``, else loose in ``dataset/``), read
directly; the model ``--model`` (default ``artifacts/models/cnn.keras``) and the class names from
``artifacts/data/test.npz``, and the "not a digit" detector ``--detector`` (default
``artifacts/models/nondigit.keras``; ``none`` reads without it), as predict loads them. ``--source train`` takes
the digits from the training set instead (the singles: its first 10,000 images), so thresholds can be tuned
without looking at the test set.

Sets (``--sets``, default all three): ``singles``, every test image as its own 28×28 PNG, white on black as in
the IDX file; ``gaps``, ``--count`` numbers of 2–6 random digits (``multidigit.mnist_number``, scale 4) with gaps of
2..6 MNIST pixels, as PNG; ``touching``, the same with gaps of -2..0, as JPEG quality 85. Random draws come from
``np.random.default_rng([seed, k])``, one k per set.

Outputs: JSON (sorted keys) on stdout and written atomically to ``--out`` (default bench/results/readings.json):
per set its figures and seconds; one progress line per set on stderr.

Command: ``python -m bench.readings [--sets singles,gaps,touching] [--count 1000] [--seed 0]
[--source test|train] [--mnist DIR] [--model PATH] [--detector PATH|none] [--out PATH]``
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from digits.config import schema
from digits.data import arrays, idx
from digits.config import catalog
from digits.export import loaders
from digits.read import images, reading, streaming
from digits.read.answers import Answer
from digits.runtime import runner
from digits.synthetic import multidigit
from digits.runtime.storage import write_json

SETS = {"singles": 0, "gaps": 1, "touching": 2}  # each set's k in default_rng([seed, k])
NUMBER_SETS = {"gaps": ((2, 6), "PNG"), "touching": ((-2, 0), "JPEG")}  # gaps in MNIST pixels, inclusive
SINGLES = 10_000  # the test set's size; with --source train, the first as many training images
SHOWN = 50  # singles read as numbers listed in the JSON


def load_mnist(folder: Path, source: str) -> tuple[np.ndarray, np.ndarray]:
    """The ``source`` split's images (N×28×28 uint8) and labels, from ``folder`` or else ``dataset/``."""
    prefix = "t10k" if source == "test" else "train"
    specs = [s for s in catalog.MNIST.files if s.gz_name.startswith(prefix)]
    folders, raw = (folder, Path(schema.PATHS.dataset)), []
    for spec in specs:
        if (path := catalog.find_local(folders, spec)) is None:
            raise FileNotFoundError(catalog.not_found(folders, spec))
        raw.append(idx.decompress(path.read_bytes()))
    return idx.parse_images(raw[0], gunzip=False), idx.parse_labels(raw[1], gunzip=False)


def refusals(replies: list[Answer | Exception]) -> int:
    """How many replies say "not a digit"."""
    return sum(isinstance(r, Answer) and r.refusal is not None for r in replies)


def predictor(model: Path, detector: str) -> loaders.Predictor:
    """The Keras model ``model`` with the "not a digit" detector at ``detector`` beside it, as predict loads
    them (``reading.with_detector``); ``detector`` "none": the model alone."""
    detect = None if detector == "none" else loaders.load(Path(detector), "keras")
    return reading.with_detector(loaders.load(model, "keras"), detect)


def score_singles(truth: list[str], replies: list[Answer | Exception]) -> dict:
    """Fractions read as one digit of the right class, as a number, as one wrong digit, as "not a digit"; errors
    counted."""
    n, found = len(truth), [len(r.digits) if isinstance(r, Answer) else 0 for r in replies]
    right = sum(k == 1 and r.text == t for k, r, t in zip(found, replies, truth))
    wrong = sum(k == 1 and r.text != t for k, r, t in zip(found, replies, truth))
    numbers = [{"index": i, "read": r.text} for i, (k, r) in enumerate(zip(found, replies)) if k > 1]
    return {"images": n, "right": round(right / n, 4), "as_number": round(len(numbers) / n, 4),
            "wrong_single": round(wrong / n, 4),
            "not_a_digit": round(refusals(replies) / n, 4),
            "errors": sum(isinstance(r, Exception) for r in replies),
            "read_as_numbers": numbers[:SHOWN]}


def singles(x: np.ndarray, y: np.ndarray, predict: loaders.Predictor, labels: tuple[str, ...],
            limit: int | None = None) -> dict:
    """Each image (the first ``limit``) as its own PNG file, read back and scored (``score_singles``)."""
    x, y = x[:limit], y[:limit]
    with tempfile.TemporaryDirectory(prefix="readings-") as tmp:
        names = [str(Path(tmp) / f"{i:05d}.png") for i in range(len(x))]
        for name, pixels in zip(names, x):
            Image.fromarray(pixels).save(name)
        replies = list(streaming.answers(names, predict, labels))
    return score_singles([labels[v] for v in y], replies)


def encoded(grey: np.ndarray, fmt: str) -> bytes:
    """``grey`` as a file of format ``fmt`` holds it (JPEG at quality 85)."""
    buffer = io.BytesIO()
    Image.fromarray(grey).save(buffer, fmt, **({"quality": 85} if fmt == "JPEG" else {}))
    return buffer.getvalue()


def number_case(x: np.ndarray, rng: np.random.Generator, lengths: tuple[int, int], gaps: tuple[int, int]
                ) -> tuple[np.ndarray, np.ndarray, list[tuple]]:
    """One number of ``lengths`` (inclusive) random digits of ``x`` with gaps drawn from ``gaps`` (inclusive),
    4× enlarged: (the digits' indices, grey image, each digit's box)."""
    pick = rng.integers(0, len(x), int(rng.integers(lengths[0], lengths[1] + 1)))
    grey, boxes = multidigit.mnist_number(x[pick], [int(g) for g in rng.integers(gaps[0], gaps[1] + 1, len(pick) - 1)],
                                       scale=4)
    return pick, grey, boxes


def number_cases(x: np.ndarray, y: np.ndarray, count: int, gaps: tuple[int, int], rng: np.random.Generator
                 ) -> list[tuple[list[int], np.ndarray]]:
    """``count`` numbers of 2–6 random digits with gaps drawn from ``gaps`` (inclusive): (labels, grey image)."""
    cases = [number_case(x, rng, (2, 6), gaps) for _ in range(count)]
    return [([int(v) for v in y[pick]], grey) for pick, grey, _ in cases]


def score_numbers(truth: list[list[str]], replies: list[Answer | Exception]) -> dict:
    """Whole number, digit count and digit (position by position; a wrong count all wrong) accuracy, by length."""
    got = [[d.text for d in r.digits] if isinstance(r, Answer) else [] for r in replies]
    whole = [isinstance(r, Answer) and r.text == "".join(t) for r, t in zip(replies, truth)]
    digits = sum(sum(a == b for a, b in zip(g, t)) for g, t in zip(got, truth) if len(g) == len(t))
    lengths = sorted({len(t) for t in truth})
    by_length = {str(k): round(float(np.mean([w for w, t in zip(whole, truth) if len(t) == k])), 4) for k in lengths}
    n = len(truth)
    return {"images": n, "number": round(sum(whole) / n, 4), "not_a_digit": round(refusals(replies) / n, 4),
            "digit": round(digits / sum(map(len, truth)), 4),
            "count": round(sum(len(g) == len(t) for g, t in zip(got, truth)) / n, 4), "by_length": by_length,
            "errors": sum(isinstance(r, Exception) for r in replies)}


def numbers(x: np.ndarray, y: np.ndarray, predict: loaders.Predictor, labels: tuple[str, ...], count: int,
            which: str, seed: int) -> dict:
    """Set ``which`` (``NUMBER_SETS``) of ``count`` numbers, each written as a file, read back and scored."""
    gaps, fmt = NUMBER_SETS[which]
    cases = number_cases(x, y, count, gaps, np.random.default_rng([seed, SETS[which]]))
    with tempfile.TemporaryDirectory(prefix="readings-") as tmp:
        names = [str(Path(tmp) / f"{i:05d}.{fmt.lower()}") for i in range(len(cases))]
        for name, (_, grey) in zip(names, cases):
            Path(name).write_bytes(encoded(grey, fmt))
        replies = list(streaming.answers(names, predict, labels))
    return score_numbers([[labels[v] for v in t] for t, _ in cases], replies)


def run_sets(chosen: list[str], x: np.ndarray, y: np.ndarray, predict: loaders.Predictor,
             labels: tuple[str, ...], count: int, seed: int) -> dict:
    """Each chosen set's figures and seconds, a progress line on stderr after each."""
    out = {}
    for name in chosen:
        start = time.perf_counter()
        got = singles(x, y, predict, labels, SINGLES) if name == "singles" else \
            numbers(x, y, predict, labels, count, name, seed)
        out[name] = {**got, "seconds": round(time.perf_counter() - start, 2)}
        print(f"{name}: {out[name]['images']} images in {out[name]['seconds']} s", file=sys.stderr, flush=True)
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.readings", description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default=",".join(SETS), help="comma-separated, of: " + ", ".join(SETS))
    parser.add_argument("--count", type=int, default=1000, help="numbers per number set (default 1000)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--source", choices=("test", "train"), default="test")
    parser.add_argument("--mnist", type=Path, default=Path(schema.PATHS.dataset) / "mnist")
    parser.add_argument("--model", type=Path, default=Path(schema.PATHS.models) / "cnn.keras")
    parser.add_argument("--detector", default=str(Path(schema.PATHS.models) / "nondigit.keras"),
                        help="the \"not a digit\" detector predict consults (default: the project's); none: without")
    parser.add_argument("--out", type=Path, default=Path("bench/results/readings.json"))
    args = parser.parse_args(argv)
    args.sets = [s for s in args.sets.split(",") if s]
    if not args.sets or set(args.sets) - set(SETS):
        parser.error(f"--sets: choose among {', '.join(SETS)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    x, y = load_mnist(args.mnist, args.source)
    labels = arrays.load_class_names(arrays.split_path(schema.PATHS.data, "test"))  # as predict finds them
    predict = predictor(args.model, args.detector)
    predict(np.zeros((1, images.SIZE, images.SIZE), np.float32))  # warm up, as predict does, outside the timings
    result = {"model": str(args.model), "detector": args.detector, "source": args.source, "seed": args.seed,
              **run_sets(args.sets, x, y, predict, labels, args.count, args.seed)}
    if "singles" in args.sets:
        result["singles_from"] = f"the first {SINGLES:,} images of the {args.source} set"
    write_json(args.out, result)
    print(json.dumps(result, indent=2, sort_keys=True))
    return 0


if __name__ == "__main__":
    runner.exit_on_error(main)
