"""How a stage runs: in its project's folder, with ``params.yaml`` loaded once and handed to ``main``, and
expected failures as one ``error:`` line and a non-zero exit instead of a traceback.

A stage module ends with ``runner.run_stage(main)`` (``main(params)``) or ``runner.run_stage(main, per_model=True)``
(``main(params, model)``, for ``python -m stages.<name> dense|cnn``).
"""
from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import Callable

from digits.config import fixed, schema
from digits.runtime import hardware
from digits.runtime.storage import write_json

PACKAGE_ROOT = Path(__file__).resolve().parents[2]  # the checkout this library belongs to


def project_root(cwd: Path | None = None) -> Path:
    """The current folder when it is a project (``params.yaml`` beside ``dvc.yaml``: a checkout, a ``dvc exp``
    workspace, a test's copy), else this checkout: run from anywhere, a stage never picks up a stray
    ``params.yaml``."""
    cwd = Path.cwd() if cwd is None else cwd
    if (cwd / schema.PARAMS_FILE).is_file() and (cwd / "dvc.yaml").is_file():
        return cwd
    return PACKAGE_ROOT


def model_name(args: list[str], prog: str) -> str:
    """The one command-line argument of a per-model stage, checked against the model names."""
    if len(args) != 1 or args[0] not in fixed.MODEL_NAMES:
        raise ValueError(f"usage: python -m {prog} {'|'.join(fixed.MODEL_NAMES)} (got {' '.join(args)!r})")
    return args[0]


def interrupt_on_sigterm() -> None:
    """Make SIGTERM (``kill``, a CI timeout, ``systemd stop``) raise KeyboardInterrupt, so the temp files'
    ``finally`` cleanup runs and the stage exits with one line; Python's default dies on the spot."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, interrupt)


def process_age() -> float | None:
    """Seconds since this process started (Linux ``/proc``; None elsewhere): interpreter plus imports."""
    try:
        ticks = int(Path("/proc/self/stat").read_text().rsplit(")", 1)[1].split()[19])  # field 22: starttime
        return float(Path("/proc/uptime").read_text().split()[0]) - ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def peak_rss_mb() -> float:
    """This process's peak resident memory: Linux's VmHWM, which exec resets; getrusage's ru_maxrss is not
    reset by exec, so a stage started by a large parent (DVC, pytest) would report the parent's peak."""
    try:
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def stage_timing_path(stage: str) -> Path:
    """Where stage ``stage`` ("train@cnn") keeps the timing of its last successful run (``stage_timing``): read by
    the summary the last stage prints (``digits.evaluate.summary``) and by ``bench.speed``, shown by ``dvc metrics
    show artifacts/timings``; not in git."""
    return Path(schema.PATHS.timings) / "stages" / f"{stage}.json"


def stage_timing(startup: float | None, seconds: float) -> dict:
    """A run's ``seconds`` (process start to the end of ``main``: the wait the user sees), ``startup_seconds``
    (interpreter and imports, before ``main``), peak memory and whether it loaded TensorFlow."""
    total = process_age() or seconds + (startup or 0.0)
    return {"seconds": round(total, 2), "startup_seconds": None if startup is None else round(startup, 2),
            "peak_rss_mb": round(peak_rss_mb(), 1), "tensorflow": "tensorflow" in sys.modules}


def one_line(err: Exception) -> str:
    # OSError(errno, text) prints as "[Errno 28] text"; the text alone is the message.
    return str(err.strerror if isinstance(err, OSError) and err.strerror and err.filename is None else err)


def run_stage(main: Callable[..., None], per_model: bool = False) -> None:
    """Run stage ``main`` from the command line: see the module's docstring."""
    startup, start = process_age(), time.perf_counter()
    prog = Path(sys.argv[0]).stem

    def stage() -> None:
        interrupt_on_sigterm()  # a killed stage removes its temp files (the atomic writers' cleanup runs)
        os.chdir(project_root())
        args = [model_name(sys.argv[1:], f"stages.{prog}")] if per_model else []
        name = "@".join([prog, *args])
        hardware.pin_isa()  # before TensorFlow's first op: the same bytes on AMX CPUs (digits.runtime.hardware)
        main(schema.load_params(), *args)
        write_json(stage_timing_path(name), stage_timing(startup, time.perf_counter() - start))

    exit_on_error(stage)


def exit_on_error(command: Callable[[], int | None]) -> None:
    """Run ``command`` and exit with its status; expected failures (ValueError, OSError, Ctrl-C) as one line."""
    try:
        status = command()
    except (ValueError, OSError) as err:
        sys.exit(f"error: {one_line(err)}")
    except KeyboardInterrupt:
        sys.exit("error: interrupted")
    sys.exit(status or 0)
