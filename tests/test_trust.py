"""Model files from someone else: a hostile file in each format, placed in another project's folder, is refused by
``digits.predict`` and ``digits.serve``'s loader, and nothing outside that folder changes. The SavedModel's
file-writing graph really does write when trusted, so the refusal is what keeps the file from being written."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from conftest import ROOT
from digits.export import formats

pytestmark = pytest.mark.slow  # builds TensorFlow models and starts predict processes


def lambda_model(mark: Path):
    """A Keras model whose Lambda layer writes ``mark`` when called: Python code inside a model file."""
    import keras

    target = str(mark)
    inputs = keras.Input((28, 28))
    hidden = keras.layers.Flatten()(inputs)
    hidden = keras.layers.Lambda(lambda t: t + 0 * open(target, "w").write("keras"), output_shape=(784,))(hidden)
    return keras.Model(inputs, keras.layers.Dense(10, activation="softmax")(hidden))


def graph_module(mark: Path, read: Path):
    """A tf.Module whose serving signature reads ``read`` and writes ``mark``: graph ops, no Python."""
    import tensorflow as tf

    class Hostile(tf.Module):
        @tf.function(input_signature=[tf.TensorSpec((None, 28, 28), tf.float32, name="images")])
        def serve(self, images):
            stolen = tf.io.read_file(str(read))
            tf.io.write_file(str(mark), stolen)
            return {"probabilities": tf.one_hot(tf.fill([tf.shape(images)[0]], 3), 10)}

    return Hostile()


@pytest.fixture(scope="module")
def hostile(trained_project, tmp_path_factory) -> tuple[Path, Path]:
    """(project, outside): a project folder whose cnn model in every format is hostile, and the folder the
    hostile files would write into."""
    import tensorflow as tf

    root = tmp_path_factory.mktemp("trust")
    project, outside = root / "handed-over", root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("secret")
    for part in ("params.yaml", "artifacts/data/test.npz"):
        (project / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained_project / part, project / part)
    for fmt in ("keras", "h5"):
        path = formats.model_path("cnn", fmt, project)
        path.parent.mkdir(parents=True, exist_ok=True)
        lambda_model(outside / f"{fmt}.written").save(path)
    module = graph_module(outside / "savedmodel.written", outside / "secret.txt")
    tf.saved_model.save(module, str(formats.model_path("cnn", "savedmodel", project)),
                        signatures={"serving_default": module.serve})
    converter = tf.lite.TFLiteConverter.from_concrete_functions([module.serve.get_concrete_function()], module)
    converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS, tf.lite.OpsSet.SELECT_TF_OPS]
    formats.model_path("cnn", "tflite", project).write_bytes(converter.convert())
    from digits.data import arrays

    Image.fromarray(arrays.load_split(project / "artifacts/data/test.npz")[0][0]).save(root / "digit.png")
    return project, outside


def predict(project: Path, fmt: str, *extra: str) -> subprocess.CompletedProcess:
    """``digits.predict`` as a user runs it, from the folder above ``project``."""
    return subprocess.run([sys.executable, "-m", "digits.predict", "--project", str(project), "--format", fmt,
                           *extra, "digit.png"], cwd=project.parent, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize(("fmt", "why"), [
    ("keras", "holds Python code (a Lambda layer)"), ("h5", "holds Python code (a Lambda layer)"),
    ("savedmodel", "a SavedModel is a TensorFlow graph that may read and write files"),
    ("tflite", "needs TensorFlow's own ops (FlexReadFile"),
])
def test_hostile_model_refused_and_nothing_written(hostile, fmt, why):
    project, outside = hostile
    before, project_before = snapshot(outside), snapshot(project)
    done = predict(project, fmt)
    assert done.returncode == 1 and done.stdout == "", done.stdout
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: {formats.model_path('cnn', fmt, project)}: ") and why in line, line
    assert "rerun" not in line, line  # rerunning a stage is no answer for a file someone handed over
    assert snapshot(outside) == before and snapshot(project) == project_before


def test_trust_model_loads_the_savedmodel_whose_graph_then_writes(hostile):
    """The control: told to trust the folder, predict runs the graph, which reads the secret and writes it out.
    This is what the refusal above prevents."""
    project, outside = hostile
    mark = outside / "savedmodel.written"
    done = predict(project, "savedmodel", "--trust-model")
    try:
        assert done.returncode == 0 and done.stdout.startswith("digit.png: 3 ("), done.stderr
        assert mark.read_text() == "secret"
    finally:
        mark.unlink(missing_ok=True)


def test_serve_loader_refuses_a_foreign_savedmodel(hostile):
    from digits.serve import cli

    project, outside = hostile
    with pytest.raises(ValueError, match="refused: a SavedModel is a TensorFlow graph"):
        cli.load_models(project, "savedmodel", "cnn")
    assert not (outside / "savedmodel.written").exists()


def test_own_project_savedmodel_loads_without_the_flag(trained_project, tmp_path):
    """The user's own project (the current folder's) needs no flag: its export stage made the SavedModel."""
    from digits.data import arrays

    Image.fromarray(arrays.load_split(trained_project / "artifacts/data/test.npz")[0][0]).save(tmp_path / "digit.png")
    done = subprocess.run([sys.executable, "-m", "digits.predict", "--format", "savedmodel",
                           str(tmp_path / "digit.png")], cwd=trained_project, capture_output=True, text=True,
                          timeout=300, env=dict(os.environ, PYTHONPATH=str(ROOT)))
    assert done.returncode == 0 and done.stdout.startswith(f"{tmp_path / 'digit.png'}: "), done.stderr


def test_hostile_detector_refused_and_nothing_written(hostile, trained_project, tmp_path):
    """The "not a digit" detector is a .keras file too, loaded in safe mode beside any model: a handed-over one
    with a Lambda layer is refused, naming it, even when the model itself is a safe TFLite file."""
    project, outside = tmp_path / "handed-over", hostile[1]
    for part in ("params.yaml", "artifacts/data/test.npz", "artifacts/export/cnn/model.tflite"):
        (project / part).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(trained_project / part, project / part)
    (project / "artifacts/models").mkdir(parents=True)
    lambda_model(outside / "detector.written").save(project / "artifacts/models/nondigit.keras")
    shutil.copy(hostile[0].parent / "digit.png", tmp_path / "digit.png")
    before = snapshot(outside)
    done = predict(project, "tflite")
    assert done.returncode == 1 and done.stdout == "", done.stdout
    (line,) = done.stderr.splitlines()
    assert line.startswith(f"error: {project / 'artifacts/models/nondigit.keras'}: ") and "Lambda" in line, line
    assert snapshot(outside) == before
