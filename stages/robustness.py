"""Stage ``robustness@<model>``: score a trained model on every corrupted copy of the test set (``digits.robustness``).

Inputs: ``artifacts/models/<model>.keras``, ``artifacts/corrupted/test.npz`` (stage ``corrupt``).
Outputs: ``artifacts/metrics/<model>_robustness.json`` (accuracy per corruption, their mean, images per
corruption: in git, so ``dvc metrics diff`` shows robustness across branches) and
``artifacts/predictions/<model>_robustness.csv`` (corruption, accuracy: the bar chart's data).
Command: ``python -m stages.robustness dense|cnn``.
"""
from __future__ import annotations

from pathlib import Path

from digits import config, formats, metrics, robustness, runner
from digits.storage import write_bytes, write_json


def main(params: config.Params, name: str) -> None:
    model = formats.load_keras_model(formats.keras_path(name), f"train@{name}")
    suite, labels, _ = robustness.load_suite(Path(config.PATHS.corrupted) / "test.npz")
    scores = robustness.accuracies(model, suite, labels, params.evaluate.batch_size)
    out = Path(config.PATHS.metrics) / f"{name}_robustness.json"
    result = robustness.summary(scores, len(labels))
    metrics.refuse_nan_json(result, out)
    write_json(out, result)
    write_bytes(Path(config.PATHS.predictions) / f"{name}_robustness.csv", robustness.accuracy_csv(scores))
    worst = robustness.worst(scores)
    print(f"robustness: {name}: mean accuracy {result['mean_accuracy']:.4f} over {len(scores)} corruptions, "
          f"worst {worst} {scores[worst]:.4f} -> {out}")


if __name__ == "__main__":
    runner.run_stage(main, per_model=True)
