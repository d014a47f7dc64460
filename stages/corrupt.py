"""Stage ``corrupt``: the robustness suite, MNIST-C style corrupted copies of the test set
(``digits.corrupt.corruptions``), made once and cached, so ``evaluate@<model>`` only scores them.

Inputs: ``artifacts/data/test.npz`` (its first ``robustness.images`` images, or all), params ``seed`` and
``robustness``.
Outputs: ``artifacts/corrupted/test.npz``: one uint8 array per corruption (named after it), ``labels``,
``class_names`` and ``corruptions`` (their order); the same bytes for the same inputs.
Command: ``python -m stages.corrupt``.
"""
from __future__ import annotations

from pathlib import Path

from digits.config import schema
from digits.corrupt import corruptions
from digits.data import arrays
from digits.evaluate import robustness
from digits.runtime import runner


def main(params: schema.Params) -> None:
    test_path = arrays.split_path(schema.PATHS.data, "test")
    (images, labels), class_names = arrays.load_split(test_path), arrays.load_class_names(test_path)
    limit = params.robustness.images  # None keeps all: the slice [:None] is the whole array
    images, labels = images[:limit], labels[:limit]
    suite = corruptions.corrupted_test_set(images, params.seed, params.robustness.corruptions)
    out = Path(schema.PATHS.corrupted) / "test.npz"
    robustness.save_suite(out, suite, labels, class_names)
    print(f"corrupt: {len(suite)} corrupted copies of {len(labels)} test images -> {out}")


if __name__ == "__main__":
    runner.run_stage(main)
