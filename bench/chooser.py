"""The weights ``digits.read.choice.WEIGHTS`` by which a number's reading is chosen where its digits end: an averaged
perceptron over numbers written with MNIST's training split (``artifacts/data/train``, the first shard as stored:
never a validation or test digit), read as predict reads files with the committed CNN and "not a digit" detector.

Numbers: ``--touching`` of 2–6 digits touching (-2..0 pixels, JPEG), ``--gaps`` with gaps (2..6, PNG) and
``--singles`` single digits, written as ``bench.readings`` writes its numbers (``multidigit.mnist_number``, 4×), from
``np.random.default_rng([1, k])`` (``bench.readings`` draws its sets from ``[seed, k]``, seed 0 by default). Each
number's right reading is the partition whose candidates lie where its digits were written (``truth``); where the
weights choose another, they move toward the right one's features (``perceptron``). The single-or-number decision is
not learned: ``choice.choose`` uses these weights only where the stated prior reads two or more digits.

Outputs: the weights to paste into digits/read/choice.py, and ``--out`` (default bench/results/chooser.json): them, the
share of numbers whose right reading is among the candidates, and how many the weights choose right.

Command: ``python -m bench.chooser [--touching 2000] [--gaps 1000] [--singles 5000] [--epochs 8] [--out PATH]``
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from bench import readings
from digits.config import schema
from digits.data import arrays
from digits.export import loaders
from digits.nondigit import detector
from digits.read import as_files, choice, reading, segment
from digits.runtime import pool, runner
from digits.runtime.storage import write_json

SETS = {"singles": (0, (1, 1)), "gaps": (1, (2, 6)), "touching": (2, (2, 6))}  # k in default_rng([1, k]); lengths


def numbers(x: np.ndarray, counts: dict[str, int]) -> list[tuple[str, np.ndarray, str, list]]:
    """(name, grey image, format, digit boxes) of each number of each set."""
    out = []
    for name, (k, lengths) in SETS.items():
        gaps, fmt = readings.NUMBER_SETS.get(name, ((2, 6), "PNG"))
        rng = np.random.default_rng([1, k])
        for i in range(counts[name]):
            _, grey, boxes = readings.number_case(x, rng, lengths, gaps)
            out.append((f"{name} {i}.{fmt.lower()}", grey, fmt, boxes))
    return out


def read_one(item: tuple[str, np.ndarray, str]) -> segment.Reading | None:
    """One number written as its file format and read back as predict reads it (``as_files.read_bytes``)."""
    name, grey, fmt = item
    return as_files.read_bytes((name, readings.encoded(grey, fmt)))


def truth(found: segment.Reading, boxes: list) -> list[int] | None:
    """The partition whose candidates each span one written digit (within a quarter of its width and 8 pixels),
    left to right; None where the candidates hold no such partition."""
    paths: dict[tuple[int, int], list[int]] = {(0, 0): []}
    for k in sorted(range(len(found.candidates)), key=lambda k: found.candidates[k].stop):
        c = found.candidates[k]
        for (stop, j), path in list(paths.items()):
            if stop == c.start and j < len(boxes):
                x, _, w, _ = boxes[j]
                if max(abs(c.box[0] - x), abs(c.box[0] + c.box[2] - x - w)) <= 0.25 * w + 8:
                    paths.setdefault((c.stop, j + 1), path + [k])
    return paths.get((found.parts, len(boxes)))


def prior_weights() -> np.ndarray:
    """The stated prior's own choice as weights on ``FEATURES``: log probability + prior - ``DETECTOR_COST`` ×
    detector softplus."""
    w = np.zeros(len(choice.FEATURES))
    for name, value in (("log top probability", 1.0), ("prior", 1.0), ("detector softplus", -choice.DETECTOR_COST)):
        w[choice.FEATURES.index(name)] = value
    return w


def perceptron(examples: list[tuple[segment.Reading, np.ndarray, list[int]]], epochs: int, rate: float = 0.05,
               seed: int = 0) -> np.ndarray:
    """Averaged perceptron from ``prior_weights``: each wrong choice moves the weights by ``rate`` × (the right
    reading's features - the chosen one's), summed over their digits."""
    w = prior_weights()
    if not examples:
        return w
    total, rng = np.zeros_like(w), np.random.default_rng(seed)
    for _ in range(epochs):
        for i in rng.permutation(len(examples)):
            found, feats, right = examples[i]
            chosen = choice.best_partition(found, feats @ w)
            if chosen != right:
                w += rate * (feats[right].sum(0) - feats[chosen].sum(0))
            total += w
    return total / (epochs * len(examples))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.chooser", description=__doc__.splitlines()[0])
    for name, default in (("touching", 2000), ("gaps", 1000), ("singles", 5000), ("epochs", 8)):
        parser.add_argument(f"--{name}", type=int, default=default)
    parser.add_argument("--out", type=Path, default=Path("bench/results/chooser.json"))
    args = parser.parse_args(argv)
    x, _ = arrays.load_split(arrays.train_shards(Path(schema.PATHS.data))[0])
    made = numbers(x, {"singles": args.singles, "gaps": args.gaps, "touching": args.touching})
    found = pool.in_pool(read_one, [(name, grey, fmt) for name, grey, fmt, _ in made])
    model = loaders.load(Path(schema.PATHS.models) / "cnn.keras", "keras")
    predict = reading.with_detector(model, loaders.load(detector.path(), "keras"))
    out = predict(arrays.preprocess(np.concatenate([f.fields for f in found])))
    labels, ends, examples = arrays.load_class_names(arrays.split_path(schema.PATHS.data, "test")), 0, []
    for f, (*_, boxes) in zip(found, made):
        probs, nondigit = reading.split(out[ends:ends + len(f.candidates)], labels)
        ends += len(f.candidates)
        if (right := truth(f, boxes)) is not None:
            examples.append((f, choice.features(f, probs, nondigit), right, f.name.split()[0], probs, nondigit))
    w = perceptron([e[:3] for e in examples], args.epochs)
    right, prior = {"prior": dict.fromkeys(SETS, 0), "learned": dict.fromkeys(SETS, 0)}, prior_weights()
    for f, feats, r, which, probs, nondigit in examples:  # learned: as predict chooses, where the prior reads a number
        right["prior"][which] += choice.best_partition(f, feats @ prior) == r
        right["learned"][which] += choice.choose(f, probs, nondigit, weights=tuple(w)) == r
    counts = {which: sum(e[3] == which for e in examples) for which in SETS}
    result = {"weights": dict(zip(choice.FEATURES, np.round(w, 4).tolist())), "numbers": len(made),
              "with_right_partition": counts, "chosen_right": right, "epochs": args.epochs}
    write_json(args.out, result)
    print(json.dumps(result, indent=2, sort_keys=True))
    print("WEIGHTS = (" + ", ".join(f"{v:.4f}" for v in np.round(w, 4)) + ")")
    return 0


if __name__ == "__main__":
    runner.exit_on_error(main)
