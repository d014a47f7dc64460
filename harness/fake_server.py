"""``digits.serve`` with a fake model, for the tests of its limits and for ``bench.serve_hostile``: ``python -m
harness.fake_server`` takes ``digits.serve``'s options, and ``--limit NAME=VALUE`` for any other of
``guards.Limits``' figures (the tests shorten them), and serves the real app, guards and protocol with a predictor
that needs no trained model."""
from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from harness.server import Server, start

LABELS = tuple(str(i) for i in range(10))


def start_fake(folder: Path, *args: str) -> Server:
    """The fake-model server in ``folder`` (its project, working folder and TMPDIR), with ``digits.serve``'s
    options ``args``."""
    return start(folder, folder, folder, *args, module="harness.fake_server")


def uniform(x):
    """The fake model: the same probabilities for every image, class 7 most probable."""
    import numpy as np

    row = np.full(10, 0.05, np.float32)
    row[7] = 0.55
    return np.tile(row, (len(x), 1))


def main(argv: list[str]) -> None:
    from digits.runtime import quiet

    quiet.install()  # as python -m digits.serve does, before its modules import TensorFlow
    from digits.serve import batching, cli, webapp

    extra = argparse.ArgumentParser()
    extra.add_argument("--limit", action="append", default=[], metavar="NAME=VALUE")
    own, rest = extra.parse_known_args(argv)
    args = cli.parse_args(rest)  # (--project, which start passes, is accepted and not used)
    bounds = cli.limits(args)
    for name, value in (item.split("=", 1) for item in own.limit):
        bounds = dataclasses.replace(bounds, **{name: type(getattr(bounds, name))(value)})
    cli.run(webapp.Models({"cnn": batching.Batcher(uniform)}, "keras", LABELS), args, bounds)


if __name__ == "__main__":
    main(sys.argv[1:])
