"""A project's trained models as the commands load them (``python -m digits.predict``, ``python -m digits.serve``):
its folder, a classifier in any format, the "not a digit" detector beside it, its class names, and the options
both commands take for them. A SavedModel runs its own graph, so it loads only from the user's own project, or
with ``--trust-model`` (docs/using.md, "Whose model files are safe")."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from digits.config import schema
from digits.data import arrays
from digits.export import formats
from digits.nondigit import detector
from digits.runtime import runner

if TYPE_CHECKING:  # loaded where a model is: a command's --help and its errors need no TensorFlow
    from digits.export import loaders


def add_options(parser: argparse.ArgumentParser, model_help: str) -> None:
    """``--model``, ``--format``, ``--project`` and ``--trust-model``, the same for both commands."""
    parser.add_argument("--model", default="cnn", help=f"{model_help} (default: cnn)")
    parser.add_argument("--format", default="keras", choices=formats.FORMATS,
                        help="keras: the trained model; the others: export's files (default: keras)")
    parser.add_argument("--project", type=Path, default=None,
                        help="the project folder holding params.yaml and artifacts/ (default: the current folder "
                             f"if it holds params.yaml and dvc.yaml, else {runner.PACKAGE_ROOT})")
    parser.add_argument("--trust-model", action="store_true", help="load --format savedmodel from another "
                        "project's folder: its graph may read and write files (default: only from your own)")


def folder(chosen: Path | None) -> Path:
    """``--project``, else ``runner.project_root()``: so the command works from any folder."""
    chosen = runner.project_root() if chosen is None else chosen
    if not (chosen / schema.PARAMS_FILE).is_file():
        raise OSError(f"{chosen}: no {schema.PARAMS_FILE} here; --project must name the project's folder")
    return chosen


def own(project: Path) -> bool:
    """Whether ``project`` is the one a command would use by itself (the current folder's, or this checkout): its
    ``artifacts/`` were made by the user's own ``dvc repro``, unlike a folder named with ``--project``."""
    return project.resolve() == runner.project_root().resolve()


def class_names(project: Path) -> tuple[str, ...]:
    return arrays.load_class_names(arrays.split_path(project / schema.PATHS.data, "test"))


def check_model(params: schema.Params, model: str) -> None:
    if model not in params.models:
        raise ValueError(f"--model {model}: not one of params.yaml's models ({', '.join(params.models)})")


def load_model(params: schema.Params, project: Path, model: str, fmt: str, trust: bool = False
               ) -> loaders.Predictor:
    """``model`` of ``project`` in ``fmt``; a SavedModel only from the user's own project or with ``trust``."""
    from digits.export import loaders

    check_model(params, model)
    path = formats.model_path(model, fmt, project)
    how = (f"`dvc repro train@{model}`" if fmt == "keras"
           else f"`dvc repro export@{model}` (with {fmt} under export.formats in params.yaml)")
    if not path.exists():
        raise OSError(f"{path}: not found; run {how}")
    if fmt == "savedmodel" and not (trust or own(project)):
        raise ValueError(f"{path}: refused: {loaders.SAVEDMODEL_RISK}, and it is not this checkout's own; pass "
                         "--trust-model if you trust whoever made it, or use --format tflite or keras (safe to load)")
    try:
        return loaders.load(path, fmt)
    except loaders.CorruptModel as err:
        raise ValueError(f"{err}; rerun {how}") from None


def load_detector(project: Path) -> loaders.Predictor | None:
    """The project's "not a digit" detector (stage ``nondigit``), loaded in Keras' safe mode as any ``.keras``
    file is; None, said once on stderr, where the project has none (made before the stage existed)."""
    from digits.export import loaders

    path = detector.path(project)
    if not path.exists():
        print(f"note: {path} not found, so any ink is read as digits; `dvc repro nondigit` makes it",
              file=sys.stderr)
        return None
    try:
        return loaders.load(path, "keras")
    except loaders.CorruptModel as err:
        raise ValueError(f"{err}; rerun `dvc repro nondigit`") from None
