"""TensorFlow without its start-up chatter, so that a correct run looks correct.

TF 2.21 logs through absl before anything can configure it: ``import tensorflow`` prints the oneDNN and
"Could not find cuda drivers" lines (twice: two of its libraries carry their own absl) whatever
``TF_CPP_MIN_LOG_LEVEL`` says, and later a failed ``cuInit`` and tf.data's ``NodeDef mentions attribute``
errors, which that variable does silence. So ``install()`` sets ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already
set) and sends file descriptor 2 to a temporary file while TensorFlow is imported, then writes back everything
but absl's log lines. Python's own warnings and errors are untouched.

``MNIST_TF_LOGS=1`` turns all of this off, for debugging TensorFlow itself, or when a stage dies without a word
while TensorFlow loads (a crash there takes the captured lines with it).
"""
from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import signal
import sys
import tempfile
from typing import Iterator

LOGS_ENV = "MNIST_TF_LOGS"
# absl's "I1129 18:03:24.123456  4242 port.cc:153] ..." lines, its notice that it was not initialised, and TFLite's
# "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." (its own minimal logger, which no variable silences).
ABSL_LINE = re.compile(rb"^(?:[IWE]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^ \]]+:\d+\] |WARNING: All log messages before absl::"
                       rb"|INFO: Created TensorFlow Lite)")


def install() -> None:
    """Silence TensorFlow's C++ logs from the first ``import tensorflow`` on (no-op if ``MNIST_TF_LOGS`` is set
    or TensorFlow is loaded already)."""
    if not enabled() or "tensorflow" in sys.modules:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if not any(isinstance(finder, _QuietImport) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())


def without_absl_lines(text: bytes) -> bytes:
    return b"".join(line for line in text.splitlines(keepends=True) if not ABSL_LINE.match(line))


def enabled() -> bool:
    return os.environ.get(LOGS_ENV, "") in ("", "0")


@contextlib.contextmanager
def absl_lines_dropped() -> Iterator[None]:
    """Capture what is written to file descriptor 2 in the block; write it back without absl's log lines (all of
    it as it was, with ``MNIST_TF_LOGS`` set)."""
    if not enabled():
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as capture:
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            kept = without_absl_lines(capture.read())
            if kept:
                sys.stderr.buffer.write(kept)
                sys.stderr.flush()


@contextlib.contextmanager
def sigint_to_main_thread() -> Iterator[None]:
    """Threads started in the block (TensorFlow's pools) inherit a signal mask without SIGINT. The kernel hands
    Ctrl-C to any thread that takes it, and only the main thread can break out of a blocking read (``predict -``),
    so the others must not take it. A Ctrl-C during the block waits, and arrives when it ends."""
    if not hasattr(signal, "pthread_sigmask"):  # Windows: no per-thread signal masks, nothing to do
        yield
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` once (through the other finders) and runs its import inside ``absl_lines_dropped``."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        load = spec.loader.exec_module

        def exec_module(module):
            with absl_lines_dropped(), sigint_to_main_thread():
                load(module)
            logging.getLogger("tensorflow").setLevel(logging.ERROR)  # its Python-side warnings, likewise

        spec.loader.exec_module = exec_module
        return spec
