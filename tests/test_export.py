"""``export@<model>``: each format, written by ``digits.export.writers`` and loaded back by ``digits.export.loaders``
with its own runtime, predicts as the Keras model does; the export folder holds exactly the listed formats and is
replaced whole or not at all."""
from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from conftest import ROOT, write_project
from digits.config import fixed, schema
from digits.data import arrays
from digits.export import formats, loaders, writers
from stages import export

pytestmark = pytest.mark.slow  # trains a CNN (trained_project) and starts stage processes

# TFLite runs its own kernels (XNNPACK); measured differences are below 1e-6, the tolerance leaves room.
TOLERANCE = {"h5": 1e-6, "savedmodel": 1e-6, "tflite": 1e-4}


@pytest.fixture(scope="module")
def batch(trained_project) -> np.ndarray:
    images, _ = arrays.load_split(trained_project / "artifacts/data/test.npz")
    return arrays.preprocess(images[:200])


@pytest.fixture(scope="module")
def keras_probs(trained_project, batch) -> np.ndarray:
    return loaders.load(trained_project / "artifacts/models/cnn.keras", "keras")(batch)


def test_formats_match_the_params_schema():
    assert tuple(formats.FILES) == fixed.EXPORT_FORMATS
    assert formats.FORMATS == ("keras", *fixed.EXPORT_FORMATS)


def test_export_folder_holds_exactly_the_listed_formats(trained_project):
    assert sorted(p.name for p in (trained_project / "artifacts/export").iterdir()) == ["cnn"]
    exported = trained_project / "artifacts/export/cnn"
    assert sorted(p.name for p in exported.iterdir()) == sorted(formats.FILES.values())


@pytest.mark.parametrize("fmt", list(TOLERANCE))
def test_each_format_predicts_as_the_keras_model(trained_project, batch, keras_probs, fmt):
    predict = loaders.load(formats.model_path("cnn", fmt, trained_project), fmt)
    probs = predict(batch)
    assert probs.shape == keras_probs.shape == (200, 10) and probs.dtype == np.float32
    np.testing.assert_array_equal(probs.argmax(axis=1), keras_probs.argmax(axis=1))
    np.testing.assert_allclose(probs, keras_probs, atol=TOLERANCE[fmt])
    for size in (1, 7):  # other batch sizes, which TFLite has to be resized for
        np.testing.assert_allclose(predict(batch[:size]), keras_probs[:size], atol=TOLERANCE[fmt])


@pytest.fixture
def other_project(trained_project, tmp_path) -> Path:
    """A project dir reusing the trained CNN (linked), for exports with other formats."""
    write_project(tmp_path, yaml.safe_load((trained_project / "params.yaml").read_text()))
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts/models").symlink_to(trained_project / "artifacts/models")
    return tmp_path


def export_with(root: Path, listed: list[str]) -> list[str]:
    """Run ``export.main`` with ``listed`` formats; return the names in the export folder."""
    params = yaml.safe_load((root / "params.yaml").read_text())
    params["export"]["formats"] = listed
    write_project(root, params)
    with contextlib.chdir(root):
        export.main(schema.load_params(), "cnn")
    return sorted(p.name for p in (root / "artifacts/export/cnn").iterdir())


def test_formats_no_longer_listed_are_removed(other_project):
    assert export_with(other_project, ["tflite"]) == ["model.tflite"]  # the SavedModel was only its input
    assert export_with(other_project, ["h5"]) == ["model.h5"]
    assert export_with(other_project, []) == []
    assert sorted(p.name for p in (other_project / "artifacts/export").iterdir()) == ["cnn"]  # nothing left over


def test_failed_export_leaves_the_previous_one(other_project, monkeypatch):
    export_with(other_project, ["h5"])
    before = (other_project / "artifacts/export/cnn/model.h5").read_bytes()

    def fail_halfway(model, folder, formats):
        (folder / "model.h5").write_bytes(b"half")
        raise OSError("disk full")

    monkeypatch.setattr(writers, "export", fail_halfway)
    with pytest.raises(OSError, match="disk full"):
        export_with(other_project, ["h5", "tflite"])
    assert (other_project / "artifacts/export/cnn/model.h5").read_bytes() == before
    assert sorted(p.name for p in (other_project / "artifacts/export").iterdir()) == ["cnn"]


@pytest.mark.parametrize(("argv", "message"), [
    (["cnn", "dense"], r"usage: python -m stages.export dense\|cnn"), (["../cnn"], "usage"), ([], "usage"),
    (["dense"], r"artifacts/models/dense\.keras: not found; run `dvc repro train@dense` first"),
])
def test_bad_arguments_are_one_error(trained_project, argv, message):
    done = subprocess.run([sys.executable, "-m", "stages.export", *argv], cwd=trained_project, capture_output=True,
                          text=True, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 1 and re.fullmatch(f"error: {message}.*\n", done.stderr), done.stderr


def test_damaged_model_is_one_line_naming_it(other_project):
    models = other_project / "artifacts/models"
    models.unlink()
    models.mkdir()
    (models / "cnn.keras").write_bytes(b"PK\x03\x04 not really a zip")
    with contextlib.chdir(other_project), pytest.raises(ValueError) as info:
        export.main(schema.load_params(), "cnn")
    assert str(info.value).startswith("artifacts/models/cnn.keras: cannot load the keras model (")
    assert str(info.value).endswith("; rerun `dvc repro train@cnn`")
