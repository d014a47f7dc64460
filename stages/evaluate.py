"""Stage ``evaluate@<model>``: score a trained model on the test set and on the robustness suite
(``digits.evaluate.metrics``, ``digits.evaluate.robustness``).

Inputs: ``artifacts/models/<model>.keras``, ``artifacts/data/test.npz``, ``artifacts/train/<model>/calibration.json``
(the temperature train baked into the model), ``artifacts/corrupted/test.npz`` (stage ``corrupt``),
``artifacts/read/test.npz`` and ``nondigits.npz`` (stage ``read``: the test images' candidate digits as predict
finds them in files, and held-out non-digits'), ``artifacts/models/nondigit.keras`` (stage ``nondigit``).
Outputs, quality only (so ``dvc metrics diff`` shows no timing noise): ``metrics/<model>.json``, the headline
(accuracy, loss, macro F1, ECE, robustness mean, and the dataset: all that ``dvc metrics show`` and ``dvc exp show``
list);
``artifacts/metrics/<model>.json``, the detail (accuracy, loss, per-class precision/recall/F1, macro F1, parameter
count, test images, ``read``: the share of test images predict reads right from their files, as one wrong digit,
as a number or as "not a digit", and of held-out non-digits it refuses, and ``calibration``: ECE, NLL and Brier
score of the calibrated probabilities and,
``*_uncalibrated``, of those before temperature scaling); ``artifacts/predictions/<model>.csv`` (actual, predicted
class names: the confusion matrix's data); ``artifacts/predictions/<model>_reliability.csv`` (15 bins of the top
probability: the reliability diagram's data); ``artifacts/metrics/<model>_robustness.json`` (accuracy per
corruption and their mean) and ``artifacts/predictions/<model>_robustness.csv`` (the bar chart's data). The
inference images/second go to ``artifacts/timings/evaluate_<model>.json``, neither a DVC output nor in git.
Command: ``python -m stages.evaluate dense|cnn``.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from digits.config import schema
from digits.data import arrays
from digits.evaluate import metrics, robustness
from digits.export import formats, loaders
from digits.nondigit import detector
from digits.read import as_files, reading
from digits.runtime import runner
from digits.train import calibration
from digits.runtime.storage import write_bytes, write_json


def main(params: schema.Params, name: str) -> None:
    source = formats.keras_path(name)
    model = loaders.load_keras_model(source, f"train@{name}")
    test_path = arrays.split_path(schema.PATHS.data, "test")
    (images, labels), class_names = arrays.load_split(test_path), arrays.load_class_names(test_path)
    probs, images_per_second = metrics.timed_predict(model, arrays.preprocess(images), params.evaluate.batch_size)
    metrics.refuse_non_finite(probs, str(source), f"retrain it (dvc repro --force train@{name})")
    scores = metrics.classification_metrics(labels, probs, class_names)
    # The model outputs calibrated probabilities (train baked T in); those before follow from them and T.
    temperature = calibration.load_temperature(name)
    before = calibration.uncalibrated(probs, temperature)
    scores.update(params=int(model.count_params()),
                  calibration=metrics.calibration_metrics(labels, probs, before, temperature))
    scores["read"] = score_reading(model, labels, class_names, params.evaluate.batch_size)
    out = Path(schema.PATHS.metrics) / f"{name}.json"
    metrics.refuse_nan_json(scores, out)
    write_json(out, scores)
    write_json(Path(schema.PATHS.timings) / f"evaluate_{name}.json",
               {"inference_images_per_second": round(images_per_second, 1)})
    write_bytes(Path(schema.PATHS.predictions) / f"{name}.csv",
                metrics.predictions_csv(labels, probs.argmax(axis=1), class_names))
    write_bytes(Path(schema.PATHS.predictions) / f"{name}_reliability.csv", metrics.reliability_csv(probs, labels))
    ece = scores["calibration"]
    print(f"evaluate: {name}: test accuracy {scores['accuracy']:.4f}, loss {scores['loss']:.4f}, "
          f"ECE {ece['ece']:.4f} (T = {temperature}; {ece['ece_uncalibrated']:.4f} before) -> {out}")
    read = scores["read"]
    print(f"evaluate: {name}: test images read as predict reads files: {read['right']:.4f} right, "
          f"{read['as_number']:.4f} read as a number, {read['not_a_digit']:.4f} as not a digit (the model alone: "
          f"{scores['accuracy']:.4f}); held-out non-digits refused: {read['nondigits']['refused']:.4f}")
    suite = score_robustness(name, model, params.evaluate.batch_size)
    write_json(Path(schema.PATHS.headline) / f"{name}.json",
               metrics.headline(scores, suite["mean_accuracy"], params.dataset))


def score_reading(model, labels, class_names: tuple[str, ...], batch_size: int) -> dict:
    """The test images as predict answers their files (stage ``read`` found their candidates), with the "not a
    digit" detector (stage ``nondigit``) as predict consults it: ``as_files.score``; and under ``nondigits``,
    the share of stage read's held-out non-digit photos refused (``as_files.score_refusals``)."""
    detect = loaders.load_keras_model(detector.path(), "nondigit")
    out = reading.with_detector(lambda x: model.predict(x, batch_size=batch_size, verbose=0),
                                lambda x: detect.predict(x, batch_size=batch_size, verbose=0))
    readings = as_files.load(Path(schema.PATHS.read) / "test.npz")
    result = as_files.score(readings, out(arrays.preprocess(np.concatenate([r.fields for r in readings]))), labels,
                             class_names)
    check, kinds = as_files.load_check(Path(schema.PATHS.read) / "nondigits.npz")
    fields = np.concatenate([r.fields for r in check if r is not None])
    result["nondigits"] = as_files.score_refusals(check, kinds, out(arrays.preprocess(fields)), class_names)
    return result


def score_robustness(name: str, model, batch_size: int) -> dict:
    """The robustness suite (stage ``corrupt``) scored by the model already loaded: here rather than in a stage of
    its own, which would cost a second TensorFlow start-up per model."""
    suite, labels, _ = robustness.load_suite(Path(schema.PATHS.corrupted) / "test.npz")
    scores = robustness.accuracies(model, suite, labels, batch_size)
    out = Path(schema.PATHS.metrics) / f"{name}_robustness.json"
    result = robustness.summary(scores, len(labels))
    metrics.refuse_nan_json(result, out)
    write_json(out, result)
    write_bytes(Path(schema.PATHS.predictions) / f"{name}_robustness.csv", robustness.accuracy_csv(scores))
    worst = robustness.worst(scores)
    print(f"evaluate: {name}: robustness suite mean accuracy {result['mean_accuracy']:.4f} over {len(scores)} "
          f"corruptions, worst {worst} {scores[worst]:.4f} -> {out}")
    return result


if __name__ == "__main__":
    runner.run_stage(main, per_model=True)
