"""Stage ``nondigit``: train the "not a digit" detector (``digits.nondigit.detector``) that predict and the server
consult beside the classifier, and set its threshold on the validation digits.

Inputs: ``artifacts/data/train/`` (shards: the first is the training split as stored), ``artifacts/data/val.npz``,
``artifacts/data/test.npz``; params ``seed`` and ``nondigit``.
Outputs: ``artifacts/models/nondigit.keras`` (its threshold in the last bias: a logit above 0 is "not a digit"; the
same bytes for the same weights) and ``artifacts/metrics/nondigit.json`` (the threshold, what it was trained on, and
the share of MNIST's validation and test digits it refuses). What it refuses of held-out non-digits, and of the
test digits as predict reads them, ``evaluate@<model>`` measures with each classifier.
Command: ``python -m stages.nondigit``.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from digits.config import schema
from digits.data import arrays
from digits.export import reproducible
from digits.nondigit import detector_data
from digits.runtime import hardware, runner
from digits.runtime.storage import atomic_path, write_json


def main(params: schema.Params) -> None:
    # Imported here, not above: detector_data's worker processes are spawned, and each imports this module again;
    # at the top, the detector's Keras would cost every worker TensorFlow's start-up (3-4 s, 6 workers a run).
    from digits.nondigit import detector

    cfg, start = params.nondigit, time.perf_counter()
    threads = hardware.pin_threads(cfg.threads)
    folder = Path(schema.PATHS.data)
    x, _ = arrays.load_split(arrays.train_shards(folder)[0])  # the split as stored, never prepare's shifted copies
    digits, (drawn, pairs) = detector_data.training_set(x, cfg.per_kind, cfg.per_class, cfg.pairs, params.seed)
    negative = np.concatenate([drawn, pairs])
    print(f"nondigit: {sum(map(len, digits))} digits against {len(negative)} synthetic non-digits, {threads}",
          flush=True)
    model = detector.train(digits, negative, params.seed, cfg.epochs, cfg.batch_size, cfg.learning_rate, verbose=2)
    val, test = (arrays.load_split(arrays.split_path(folder, s))[0] for s in ("val", "test"))
    cut = detector.threshold(detector.score(model, val), cfg.quantile)
    detector.with_threshold(model, cut)
    refused = {name: round(float(np.mean(detector.score(model, f) > 0)), 4)
               for name, f in (("val", val), ("test", test))}
    with atomic_path(detector.path()) as tmp:
        model.save(tmp)
        reproducible.keras_archive(tmp)
    report = {"threshold": round(cut, 6), "quantile": cfg.quantile, "parameters": int(model.count_params()),
              "trained_on": {"mnist": len(x), "mnist_enlarged": len(digits[1]), "synthetic_digits": len(digits[2]),
                             "nondigits": len(drawn), "merged_pairs": len(pairs)},
              "refused": {"mnist_val": refused["val"], "mnist_test": refused["test"]}}
    out = Path(schema.PATHS.metrics) / "nondigit.json"
    write_json(out, report)
    print(f"nondigit: wrote {detector.path()} (threshold {cut:.4f} at the validation digits' {cfg.quantile:g}th "
          f"percentile: refuses {refused['val']:.2%} of them, {refused['test']:.2%} of the test digits) in "
          f"{time.perf_counter() - start:.0f} s -> {out}", flush=True)


if __name__ == "__main__":
    runner.run_stage(main)
