""""Not a digit": how many non-digits each method refuses, and how many real digits it wrongly refuses.

Every method gives each 28×28 field a score (higher: less like a digit; ``digits.nondigit.ood`` from the classifier's
own layers, ``digits.nondigit.detector`` a separate small model, and ``a+b`` the larger of two scores, each scaled so
that its validation median is 0 and its threshold 1). The threshold is a percentile (``--quantile``, also the
other of ``QUANTILES``) of MNIST's validation digits' scores; the method is chosen on validation parts alone:
the most validation non-digits refused (seed + 1) while at most ``WILD_BUDGET`` of the validation wild digits
(seed + 1) are. Then reported on held-out parts: non-digits (seed), MNIST's 10,000 test digits as arrays and
through ``reading.read`` as 28×28 grey images, ``bench.wild``'s sets (seed), four-digit MNIST numbers. An image
of several pieces is refused when any piece is (``any``) or only when all are (``all``, refused pieces dropped).

Command: ``python -m bench.nondigits [--model dense|cnn] [--out bench/results/nondigits.json] [--seed 0]``.
"""
from __future__ import annotations

import argparse
import collections
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from bench import nondigit_report as report, nondigit_sets as sets
from digits.data import arrays
from digits.nondigit import detector, detector_data, nondigits, ood
from digits.runtime import storage
from digits.synthetic import fonts

QUANTILES = (99.0, 99.5)
WILD_BUDGET = 0.05
COMBOS = (("detector", "energy"), ("detector", "mahalanobis"))
Scores = report.Scores


def combined(scores: Scores, quantile: float) -> None:
    """Add each of ``COMBOS`` to every set's scores, scaled on MNIST's validation digits."""
    val = scores["mnist_val"]
    scale = {m: (np.median(val[m]), np.percentile(val[m], quantile)) for pair in COMBOS for m in pair}
    for by_method in scores.values():
        for pair in COMBOS:
            by_method["+".join(pair)] = np.max([(by_method[m] - scale[m][0]) / (scale[m][1] - scale[m][0])
                                                for m in pair], axis=0)


def model_scores(path: Path, folder: Path, fields: dict[str, np.ndarray]) -> Scores:
    """``digits.nondigit.ood``'s scores of every set's fields from the model at ``path``, statistics from the training
    split."""
    import keras

    model = keras.models.load_model(path, compile=False)
    x, y = (np.concatenate(a) for a in zip(*(arrays.load_split(s) for s in arrays.train_shards(folder))))
    h, _ = ood.features(model, arrays.preprocess(x))
    stats = ood.fit(h, y, arrays.preprocess(x))
    out = {}
    for name, f in fields.items():
        h, z = ood.features(model, arrays.preprocess(f))
        out[name] = ood.scores(h, z, arrays.preprocess(f), stats)
    return out


def choose(results: dict, quantile: str) -> str:
    """The method refusing most validation non-digits, among those refusing at most ``WILD_BUDGET`` of the
    validation wild digits: chosen on validation parts only."""
    fits = {m: r[quantile]["validation"] for m, r in results.items()}
    ok = [m for m, v in fits.items() if v["wild"] <= WILD_BUDGET] or list(fits)
    return max(ok, key=lambda m: (fits[m]["nondigits"], -fits[m]["wild"]))


def parse(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.nondigits", description=__doc__.splitlines()[0])
    parser.add_argument("--model", choices=("dense", "cnn"), action="append", help="default: both")
    parser.add_argument("--out", type=Path, default=Path("bench/results/nondigits.json"))
    parser.add_argument("--models", type=Path, default=Path("artifacts/models"))
    parser.add_argument("--data", type=Path, default=Path("artifacts/data"))
    parser.add_argument("--per-kind", type=int, default=104, help="non-digits of each kind, per part")
    parser.add_argument("--per-class", type=int, default=30, help="wild test digits per class (bench.wild's)")
    parser.add_argument("--numbers", type=int, default=200)
    parser.add_argument("--quantile", type=float, choices=QUANTILES, default=99.0)
    parser.add_argument("--seed", type=int, default=0)
    return parser.parse_args(argv)


def measured(args: argparse.Namespace) -> dict[str, sets.Pieces]:
    x, y = arrays.load_split(arrays.split_path(args.data, "test"))
    return {"nondigits_val": sets.nondigit_photos(args.per_kind, args.seed + 1),
            "nondigits_test": sets.nondigit_photos(args.per_kind, args.seed),
            "wild_val": sets.wild_photos(max(1, args.per_class // 3), args.seed + 1),
            "wild_test": sets.wild_photos(args.per_class, args.seed),
            "mnist_read": sets.mnist_read(x, y), "numbers": sets.number_photos(x, y, args.numbers, args.seed)}


def header(args: argparse.Namespace, argv: list[str] | None, read: dict[str, sets.Pieces], trained: dict) -> dict:
    """What the result file records beside the figures: the command, the sets and the detector."""
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    return {"command": "python -m bench.nondigits " + " ".join(sys.argv[1:] if argv is None else argv),
            "commit": commit, "seed": args.seed, "per_kind": args.per_kind, "per_class": args.per_class,
            "quantile": args.quantile, "detector": trained,
            "lookalikes": sorted(f"{k}:{d}={v}" for (k, d), v in nondigits.LOOKALIKES.items()),
            "images": {name: len(p.unread) for name, p in read.items()},
            "refused_by_reading": {name: dict(collections.Counter(str(r) for r in p.unread if r))
                                   for name, p in read.items()}}


def model_result(scores: Scores, read: dict[str, sets.Pieces], quantile: float) -> dict:
    """Every method at every quantile, the one chosen on validation, and what it refuses of each test detail."""
    combined(scores, quantile)
    key = f"{quantile:g}"
    results = {m: {f"{q:g}": report.evaluate(scores, read, m, q) for q in QUANTILES} for m in scores["mnist_val"]}
    chosen = choose(results, key)
    flags = scores["nondigits_test"][chosen] > results[chosen][key]["threshold"]
    return {"chosen": chosen, "methods": results,
            "chosen_by_detail": report.by_detail(sets.refused(flags, read["nondigits_test"], "any"),
                                                 read["nondigits_test"])}


def main(argv: list[str] | None = None) -> dict:
    args, start = parse(argv), time.time()
    read = measured(args)
    fields = {"mnist_val": arrays.load_split(arrays.split_path(args.data, "val"))[0],
              "mnist_test": arrays.load_split(arrays.split_path(args.data, "test"))[0],
              **{name: p.fields for name, p in read.items()}}
    train_x = np.concatenate([arrays.load_split(s)[0] for s in arrays.train_shards(args.data)])
    # The stage's recipe, but letters and typed digits in Debian's handwriting fonts (the stage: matplotlib's).
    negative, synthetic = detector_data.training_fields(600, 60, args.seed + 10, fonts.available())
    found = detector.train([train_x, detector_data.enlarged(train_x, args.seed), synthetic], negative, args.seed)
    detected = {name: detector.score(found, f) for name, f in fields.items()}
    trained = {"parameters": int(found.count_params()), "negatives": len(negative),
               "synthetic_digits": len(synthetic), "mnist_digits": len(train_x)}
    out = {**header(args, argv, read, trained), "models": {}}
    for model in args.model or ["dense", "cnn"]:
        scores = model_scores(args.models / f"{model}.keras", args.data, fields)
        for name in scores:
            scores[name]["detector"] = detected[name]
        result = out["models"][model] = model_result(scores, read, args.quantile)
        print(report.table(model, result["methods"], f"{args.quantile:g}", result["chosen"]), flush=True)
    out["seconds"] = round(time.time() - start, 1)
    storage.write_json(args.out, out)  # atomic, keys sorted
    return out


if __name__ == "__main__":
    main()
