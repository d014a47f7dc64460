"""Classify photos or drawings of digits with a trained model (a command, not a DVC stage).

``python -m digits.predict IMAGE... [--model dense|cnn] [--format keras|h5|savedmodel|tflite] [--json]
[--project DIR] [--trust-model]``

Each image (PNG, JPEG, ... of any size within ``digits.imagefile``'s caps; dark ink on light paper, light on dark,
or any colour on transparent paper; ``-`` reads one image from standard input) is brought to MNIST's form by
``digits.images`` and preprocessed as in training (``data.preprocess``). The model comes from ``train``
(``keras``, the default) or ``export`` (the other formats); class names from ``artifacts/data/test.npz``. These and
``params.yaml`` are the project's: ``--project DIR``, by default the current folder if it holds ``params.yaml`` and
``dvc.yaml``, else the folder this package lives in; IMAGE paths stay relative to the current folder. A SavedModel
runs its own graph, so from any other project it needs ``--trust-model`` (docs/predict.md, "Whose model files are
safe").
Prints ``IMAGE: class (probability 0.997)`` per image as it is answered, or with ``--json`` one JSON list of
objects with keys ``class``, ``file``, ``label`` (the class index), ``probability`` and ``digits`` (its box). A
written number ("2026") is read digit by digit, left to right (``digits.numbers``; ``answer_image`` and
docs/numbers.md give its line and keys). An image that cannot be read
gets one ``error: IMAGE: ...`` line on stderr, the others are still answered, and the exit status is 1. Ctrl-C
prints the answers so far (the JSON list too) and exits 130.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from digits import config, data, formats, images, loaders, numbers, paper, quiet, runner

INTERRUPTED = 130  # the shell's status for a command ended by Ctrl-C (128 + SIGINT)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m digits.predict", description=__doc__.splitlines()[0])
    parser.add_argument("images", nargs="+", metavar="IMAGE", help="PNG, JPEG, ... files, a digit or a number each; - for stdin")
    parser.add_argument("--model", default="cnn", help="one of params.yaml's models (default: cnn)")
    parser.add_argument("--format", default="keras", choices=formats.FORMATS,
                        help="keras: the trained model; the others: export's files (default: keras)")
    parser.add_argument("--json", action="store_true", help="print a JSON list instead of lines")
    parser.add_argument("--project", type=Path, default=None,
                        help="the project folder holding params.yaml and artifacts/ (default: the current folder "
                             f"if it holds params.yaml and dvc.yaml, else {runner.PACKAGE_ROOT})")
    trust_option(parser)
    return parser.parse_args(argv)


def trust_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--trust-model", action="store_true", help="load --format savedmodel from another "
                        "project's folder: its graph may read and write files (default: only from your own)")


def project_folder(chosen: Path | None) -> Path:
    """``--project``, else ``runner.project_root()``: so the command works from any folder."""
    chosen = runner.project_root() if chosen is None else chosen
    if not (chosen / config.PARAMS_FILE).is_file():
        raise OSError(f"{chosen}: no {config.PARAMS_FILE} here; --project must name the project's folder")
    return chosen


def answer(path: str, probs: np.ndarray, class_names: tuple[str, ...]) -> dict:
    """``{file, class, label, probability}`` for one image's probabilities, the most probable class."""
    if len(probs) != len(class_names):
        raise ValueError(f"the model has {len(probs)} outputs but the data {len(class_names)} classes; "
                         "rerun `dvc repro`")
    label = int(probs.argmax())
    return {"file": path, "class": class_names[label], "label": label, "probability": round(float(probs[label]), 6)}


def answer_image(name: str, gray: np.ndarray, predict: loaders.Predictor, labels: tuple[str, ...]) -> dict:
    """The answer for one decoded image (``images.decode``'s grey levels) named ``name``: what ``--json`` prints
    for it, and what the server returns. One digit: ``answer``'s keys, read exactly as ever, and ``digits``, a
    list of one ``{class, label, probability, box, merged}`` (box: x, y, width, height in the pixels of ``gray``,
    whose width and height are ``size``: the file as read, shrunk to at most ``imagefile.WORK`` pixels). A
    written number (``numbers.digits`` finds several): ``{file, class, number, probability, digits, size}``, class
    and number the digits' classes joined, probability the least of the digits' (the number is as sure as its
    least sure digit; a product would fall with the length alone), digits left to right.
    A blank image is a ValueError naming ``name``."""
    try:
        sheet = images.sheet_ink(gray)
        found = numbers.digits(sheet)
        if len(found) <= 1:  # today's reading: the main piece and its broken strokes, specks dropped
            alone = paper.digit(sheet)
            rows, cols = np.flatnonzero(alone.any(1)), np.flatnonzero(alone.any(0))
            box = (int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1))
            found = [numbers.Digit(box, images.crop(alone), False)]
        fields = np.stack([images.to_field(d.ink) for d in found])
    except ValueError as err:
        raise ValueError(f"{name}: {err}") from None
    each = [answer(name, p, labels) for p in predict(data.preprocess(fields))]
    listed = [{"class": a["class"], "label": a["label"], "probability": a["probability"], "box": list(d.box),
               "merged": d.merged} for a, d in zip(each, found)]
    size = [int(gray.shape[1]), int(gray.shape[0])]
    if len(found) == 1:
        return {**each[0], "digits": listed, "size": size}
    number = ("" if all(len(a["class"]) == 1 for a in each) else " ").join(a["class"] for a in each)
    least = min(a["probability"] for a in each)
    return {"file": name, "class": number, "number": number, "probability": least, "digits": listed, "size": size}


def line(reply: dict) -> str:
    """The printed answer: ``IMAGE: 7 (probability 0.912)``, or for a number ``IMAGE: 2026 (probability 0.970;
    digits 2 0.990, 0 0.980, 2 0.970, 6 0.990)``, a digit cut from touching ones marked ``(touching)``."""
    head = f"{reply['file']}: {reply['class']} (probability {reply['probability']:.3f}"
    if "number" not in reply:
        return head + ")"
    parts = [f"{d['class']} {d['probability']:.3f}" + (" (touching)" if d["merged"] else "") for d in reply["digits"]]
    return f"{head}; digits {', '.join(parts)})"


def own_project(project: Path) -> bool:
    """Whether ``project`` is the one this command would use by itself (the current folder's, or this checkout):
    its ``artifacts/`` were made by the user's own ``dvc repro``, unlike a folder named with ``--project``."""
    return project.resolve() == runner.project_root().resolve()


def load_model(params: config.Params, project: Path, model: str, fmt: str, trust: bool = False
               ) -> loaders.Predictor:
    """``model`` of ``project`` in ``fmt``; a SavedModel only from the user's own project or with ``trust``."""
    if model not in params.models:
        raise ValueError(f"--model {model}: not one of params.yaml's models ({', '.join(params.models)})")
    path = formats.model_path(model, fmt, project)
    how = (f"`dvc repro train@{model}`" if fmt == "keras"
           else f"`dvc repro export@{model}` (with {fmt} under export.formats in params.yaml)")
    if not path.exists():
        raise OSError(f"{path}: not found; run {how}")
    if fmt == "savedmodel" and not (trust or own_project(project)):
        raise ValueError(f"{path}: refused: {loaders.SAVEDMODEL_RISK}, and it is not this checkout's own; pass "
                         "--trust-model if you trust whoever made it, or use --format tflite or keras (safe to load)")
    try:
        return loaders.load(path, fmt)
    except loaders.CorruptModel as err:
        raise ValueError(f"{err}; rerun {how}") from None


def classify(names: list[str], answers: list[dict], project: Path, args: argparse.Namespace) -> bool:
    """Answer each image as it is read, appending to ``answers`` (printed at once unless ``--json``), so an
    interruption loses nothing already answered. Returns whether every image was answered."""
    labels = data.load_class_names(data.split_path(project / config.PATHS.data, "test"))
    with quiet.sigint_to_main_thread():  # the runtimes start their threads loading and on their first call
        predict = load_model(config.load_params(project / config.PARAMS_FILE), project, args.model, args.format,
                             args.trust_model)
        predict(np.zeros((1, images.SIZE, images.SIZE), np.float32))
    ok = True
    for path in names:
        try:
            answers.append(answer_image(path, images.decode(path), predict, labels))
        except (ValueError, OSError) as err:
            print(f"error: {err}", file=sys.stderr, flush=True)
            ok = False
            continue
        if not args.json:
            print(line(answers[-1]), flush=True)
    return ok


def main(argv: list[str] | None = None) -> int:
    """Answer every readable image, in the order given; return 1 if any could not be read, 130 on Ctrl-C, else 0."""
    args = parse_args(argv)
    answers: list[dict] = []
    try:
        ok = classify(args.images, answers, project_folder(args.project), args)
    except KeyboardInterrupt:
        ok = None
    if args.json:
        print(json.dumps(answers, indent=2, sort_keys=True), flush=True)
    if ok is None:
        print(f"error: interrupted after {len(answers)} of {len(args.images)} images", file=sys.stderr)
        return INTERRUPTED
    return 0 if ok else 1


if __name__ == "__main__":
    runner.exit_on_error(main)
