"""What a run learned, in a few lines: each model's headline figures (``PATHS.headline``) and the seconds of each
stage's last run (``artifacts/timings/stages/``, written by ``digits.runtime.runner``), where the page of results is,
and whether DVC's closing ``dvc push`` hint applies. The last stage, ``plots``, prints it at the end of ``dvc repro``.
"""
from __future__ import annotations

import json
import os
from pathlib import Path

from digits.config import schema
from digits.runtime import runner

# dvc.yaml's stages but the per-model ones and plots
SHARED_STAGES = ("fetch", "prepare", "nondigit", "corrupt", "read")
MODEL_STAGES = ("train", "evaluate", "export")  # the foreach stanzas, one stage per model
LAST_STAGE = "plots"
SHARING = "docs/pipeline.md"


def read_json(path: Path) -> dict | None:
    """``path``'s JSON object; None when it is missing or unreadable (a summary never stops a run)."""
    try:
        loaded = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return loaded if isinstance(loaded, dict) else None


def stage_seconds(stage: str) -> float | None:
    timing = read_json(runner.stage_timing_path(stage)) or {}
    seconds = timing.get("seconds")
    return float(seconds) if isinstance(seconds, (int, float)) else None


def seconds_text(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds:.1f} s"


def figure(scores: dict, key: str, percent: bool) -> str:
    value = scores.get(key)
    if not isinstance(value, (int, float)):
        return "-"
    return f"{value:.2%}" if percent else f"{value:.4f}"


def model_rows(models: tuple[str, ...]) -> tuple[list[list[str]], list[str]]:
    """One row per model (headline figures, then its stages' seconds) and the stages that have no timing."""
    header = ["model", "accuracy", "as read", "refused", "ECE", "robustness", *MODEL_STAGES]
    rows, untimed = [header], []
    for model in models:
        scores = read_json(Path(schema.PATHS.headline) / f"{model}.json") or {}
        # The test images as predict reads their files (evaluate's detail, ``read``): beside the model's own.
        read = (read_json(Path(schema.PATHS.metrics) / f"{model}.json") or {}).get("read")
        seconds = [stage_seconds(f"{stage}@{model}") for stage in MODEL_STAGES]
        untimed += [f"{stage}@{model}" for stage, s in zip(MODEL_STAGES, seconds) if s is None]
        read = read if isinstance(read, dict) else {}
        refused = read.get("nondigits") if isinstance(read.get("nondigits"), dict) else {}
        rows.append([model, figure(scores, "accuracy", True), figure(read, "right", True),
                     figure(refused, "refused", True), figure(scores, "ece", False),
                     figure(scores, "robustness", True), *map(seconds_text, seconds)])
    return rows, untimed


def remote_note() -> str | None:
    """Whether DVC's "Use `dvc push` to send your updates to remote storage." applies: DVC prints it after every
    ``dvc repro`` that ran a stage, remote or not, and no setting turns it off (dvc/commands/repro.py). None under
    ``dvc exp run``, which does not print it, or when DVC's config cannot be read."""
    if os.environ.get("DVC_EXP_NAME"):
        return None
    try:
        from dvc.config import Config, ConfigError

        remotes = Config(dvc_dir=".dvc" if Path(".dvc").is_dir() else None, validate=False).get("remote") or {}
    except (ImportError, ConfigError, OSError):
        return None
    if remotes:
        return f"DVC remote {', '.join(sorted(remotes))}: `dvc push` shares the models and results ({SHARING})"
    return f"no DVC remote configured: the `dvc push` hint DVC prints next does not apply (sharing: {SHARING})"


def table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]


def lines(models: tuple[str, ...], running_seconds: float | None) -> list[str]:
    """The summary: headline figures and stage times per model, the shared stages' times (``plots``, still
    running, with ``running_seconds`` so far), which timings are missing, where the results are."""
    rows, untimed = model_rows(models)
    shared = {stage: stage_seconds(stage) for stage in SHARED_STAGES}
    untimed += [stage for stage, seconds in shared.items() if seconds is None]
    times = ", ".join(f"{stage} {seconds_text(seconds)}" for stage, seconds in shared.items())
    out = [f"summary ({schema.PATHS.headline}/<model>.json; seconds of each stage's last run, "
           f"{schema.PATHS.timings}/stages/):", *table(rows),
           "  as read: the test images predict reads right from their files, digits found by the reader "
           "(docs/using.md)",
           "  refused: the held-out non-digit photos predict answers \"not a digit\" (docs/using.md)",
           f"  {times}, {LAST_STAGE} {seconds_text(running_seconds)} so far"]
    if untimed:
        out.append(f"  no timing for {', '.join(untimed)}: not run in this workspace since timings were kept")
    out.append("  the page of results: `dvc plots show` writes dvc_plots/index.html; detail in "
               f"{schema.PATHS.metrics}/ and {schema.PATHS.plots}/")
    note = remote_note()
    return out + ([f"  {note}"] if note else [])
