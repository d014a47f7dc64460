"""``digits.predict`` and ``digits.read.images``: real MNIST test digits saved as files the way people have them (dark
on light, large, JPEG) and digits drawn here are read correctly; the preprocessing matches MNIST's own; bad files
get one error line each without stopping the others."""
from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image, ImageDraw

from tests.support import hostile
from conftest import ROOT, write_project
from digits import predict
from digits.data import arrays
from digits.export import formats, loaders
from digits.read import images
from digits.runtime import runner

pytestmark = pytest.mark.slow  # trains a CNN (trained_project) and starts predict processes


def centre_of_mass(img: np.ndarray) -> tuple[float, float]:
    ys, xs = np.indices(img.shape)
    return float((ys * img).sum() / img.sum()), float((xs * img).sum() / img.sum())


def bbox_size(img: np.ndarray) -> tuple[int, int]:
    rows, cols = np.flatnonzero(img.any(axis=1)), np.flatnonzero(img.any(axis=0))
    return int(rows[-1] - rows[0] + 1), int(cols[-1] - cols[0] + 1)


def drawn(digit: str) -> Image.Image:
    """A digit drawn with a thick pen on a large sheet of slightly grey paper, as a photo of one would be."""
    sheet = Image.new("L", (300, 400), 235)
    pen = ImageDraw.Draw(sheet)
    ink = {"fill": 20, "width": 36}
    strokes = {
        "0": lambda: pen.ellipse([80, 70, 220, 330], outline=20, width=36),
        "1": lambda: (pen.line([(160, 60), (160, 340)], **ink), pen.line([(110, 110), (160, 60)], **ink)),
        "4": lambda: pen.line([(200, 340), (200, 60), (70, 250), (240, 250)], joint="curve", **ink),
        "7": lambda: pen.line([(70, 80), (230, 80), (120, 340)], joint="curve", **ink),
    }
    strokes[digit]()
    return sheet


@pytest.fixture(scope="module")
def test_digits(trained_project) -> tuple[np.ndarray, np.ndarray]:
    """The first 30 images of MNIST's test set (never trained on) and their labels."""
    images_, labels = arrays.load_split(trained_project / "artifacts/data/test.npz")
    return images_[:30], labels[:30]


@pytest.fixture(scope="module")
def digit_files(tmp_path_factory, test_digits) -> tuple[list[str], np.ndarray]:
    """The test digits as files: a third as MNIST has them (28×28, light on dark), a third dark on light,
    enlarged to 160×160 on a 200×240 white sheet off centre, a third as the same in RGB JPEG."""
    folder = tmp_path_factory.mktemp("digits")
    paths = []
    for i, (pixels, label) in enumerate(zip(*test_digits)):
        img = Image.fromarray(pixels)
        if i % 3:
            sheet = Image.new("L", (200, 240), 255)
            sheet.paste(Image.fromarray(255 - pixels).resize((160, 160), Image.Resampling.BICUBIC), (10, 60))
            img = sheet if i % 3 == 1 else sheet.convert("RGB")
        path = folder / f"{i:02d}_label{label}.{'jpg' if i % 3 == 2 else 'png'}"
        img.save(path)
        paths.append(str(path))
    return paths, test_digits[1]


def run_main(root: Path, argv: list[str], capsys) -> tuple[int, str, list[str]]:
    """``predict.main`` in ``root``: (exit status, stdout, the ``error:`` lines of stderr)."""
    with contextlib.chdir(root):
        status = predict.main(["--project", str(root), *argv])
    out, err = capsys.readouterr()
    return status, out, [line for line in err.splitlines() if line.startswith("error:")]


# --- the preprocessing, on its own ---------------------------------------------------------------------------

def test_mnist_digits_come_out_as_mnist_has_them(test_digits):
    """MNIST's digits already went through this recipe, so redoing it changes them little."""
    originals = test_digits[0]
    redone = np.stack([images.to_mnist(x) for x in originals])
    assert redone.shape == originals.shape and redone.dtype == np.uint8
    assert np.abs(redone.astype(int) - originals.astype(int)).mean() < 3  # grey levels of 255


@pytest.mark.parametrize("digit", ["0", "1", "7"])
def test_digit_fits_20_box_centred_by_mass(digit):
    out = images.to_mnist(np.asarray(drawn(digit)))
    assert out.shape == (28, 28) and out.dtype == np.uint8
    assert max(bbox_size(out)) in (19, 20) and min(bbox_size(out)) <= 20
    cy, cx = centre_of_mass(out.astype(float))
    assert abs(cy - 14) <= 0.6 and abs(cx - 14) <= 0.6  # whole-pixel shifts, as MNIST's own
    assert out.max() >= 250 and out[0, 0] == out[-1, -1] == 0  # strokes saturated as MNIST's, paper black


def test_polarity_does_not_matter():
    dark_on_light = np.asarray(drawn("7"))
    assert np.array_equal(images.to_mnist(dark_on_light), images.to_mnist(255 - dark_on_light))


def test_aspect_ratio_is_kept():
    sheet = np.full((300, 300), 255, np.uint8)
    sheet[50:250, 100:200] = 0  # 200 tall, 100 wide
    assert bbox_size(images.to_mnist(sheet)) == (20, 10)


@pytest.mark.parametrize("sheet", [np.full((64, 48), 255, np.uint8), np.full((64, 48), 0, np.uint8),
                                   np.random.default_rng(0).integers(200, 220, (64, 48), dtype=np.uint8)])
def test_blank_sheet_is_an_error(sheet):
    with pytest.raises(ValueError, match="blank image"):
        images.to_mnist(sheet)


def test_transparent_paper_counts_as_white(tmp_path):
    """Drawing apps leave the paper transparent (and its colour black); the strokes must still show."""
    rgba = np.zeros((60, 40, 4), np.uint8)
    rgba[10:50, 18:22] = (0, 0, 0, 255)  # a black "1" on transparent black
    Image.fromarray(rgba, "RGBA").save(tmp_path / "one.png")
    gray = images.decode(tmp_path / "one.png")
    assert gray[0, 0] == 255 and gray[30, 20] == 0


# --- the command ---------------------------------------------------------------------------------------------

def test_reads_mnist_digits_from_files(trained_project, digit_files, test_digits, capsys):
    paths, labels = digit_files
    status, out, errors = run_main(trained_project, ["--json", *paths], capsys)
    assert status == 0 and errors == []
    answers = json.loads(out)
    assert [a["file"] for a in answers] == paths
    assert all(list(a) == sorted(a) and a["class"] == str(a["label"]) and 0 < a["probability"] <= 1 for a in answers)
    predicted = np.array([a["label"] for a in answers])
    assert (predicted == labels).mean() >= 0.8, list(zip(paths, predicted))
    # Each kind of file is read as well as the arrays themselves are: within a digit or two of 10.
    direct = loaders.load(trained_project / "artifacts/models/cnn.keras", "keras")(arrays.preprocess(test_digits[0]))
    for kind in range(3):
        assert (predicted[kind::3] == direct.argmax(1)[kind::3]).sum() >= 8


@pytest.mark.parametrize("digit", ["0", "1", "4", "7"])
def test_reads_digits_drawn_on_paper(trained_project, tmp_path, digit, capsys):
    path = tmp_path / f"drawn_{digit}.png"
    drawn(digit).save(path)
    status, out, _ = run_main(trained_project, [str(path)], capsys)
    assert status == 0
    assert re.fullmatch(rf"{re.escape(str(path))}: {digit} \(probability (0\.\d{{3}}|1\.000)\)\n", out), out


def test_every_format_answers_alike(trained_project, digit_files, capsys):
    paths = digit_files[0][:9]
    answers = {}
    for fmt in formats.FORMATS:
        status, out, _ = run_main(trained_project, ["--json", "--format", fmt, *paths], capsys)
        assert status == 0
        answers[fmt] = [(a["label"], round(a["probability"], 3)) for a in json.loads(out)]
    assert all(answer == answers["keras"] for answer in answers.values()), answers


def test_class_names_come_from_the_data(trained_project, tmp_path, capsys):
    """Fashion-MNIST's names, say, are printed as they are; here MNIST's digits spelled out."""
    names = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
    write_project(tmp_path, yaml.safe_load((trained_project / "params.yaml").read_text()))
    (tmp_path / "artifacts").mkdir()
    (tmp_path / "artifacts/models").symlink_to(trained_project / "artifacts/models")
    arrays.save_split(tmp_path / "artifacts/data/test.npz", np.zeros((1, 28, 28), np.uint8), np.zeros(1, np.uint8),
                    names)
    drawn("7").save(tmp_path / "seven.png")
    with contextlib.chdir(tmp_path):
        status = predict.main(["seven.png"])
    assert status == 0 and capsys.readouterr().out.startswith("seven.png: seven (probability ")


@pytest.mark.parametrize(("argv", "message"), [
    (["--model", "dense"], r"artifacts/models/dense\.keras: not found; run `dvc repro train@dense`"),
    (["--model", "resnet"], r"--model resnet: not one of params\.yaml's models"),
])
def test_missing_or_unknown_model_is_one_error(trained_project, digit_files, argv, message):
    with contextlib.chdir(trained_project), pytest.raises((OSError, ValueError), match=message):
        predict.main(["--project", ".", *argv, digit_files[0][0]])


def test_bad_files_get_one_error_line_each(trained_project, digit_files, tmp_path):
    """The real command: each bad file named once on stderr, the good ones answered, exit status 1."""
    good = digit_files[0][:2]
    (tmp_path / "x.png").write_text("not an image\n")
    png = Path(good[0]).read_bytes()
    (tmp_path / "truncated.png").write_bytes(png[: len(png) // 2])
    Image.new("L", (50, 50), 255).save(tmp_path / "blank.png")
    (tmp_path / "folder.png").mkdir()
    os.mkfifo(tmp_path / "fifo.png")  # nobody writes to it: opening it to read would block forever
    (tmp_path / "bomb.png").write_bytes(hostile.png_of_zeros(3, 29_000_000, band=0.3))  # 113 KB; 4.8 GB decoded
    bad = {str(tmp_path / name): why for name, why in [
        ("x.png", "not an image"), ("missing.png", "no such file"), ("folder.png", "is a directory"),
        ("truncated.png", "cannot decode image"), ("blank.png", "blank image"), ("fifo.png", "a FIFO"),
        ("bomb.png", "87,000,000 pixels, more than the 40 megapixels allowed")]}
    bad["/dev/zero"] = "a device"
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    done = subprocess.run([sys.executable, "-m", "digits.predict", "--project", ".", "--json", good[0], *bad,
                           good[1]], cwd=trained_project, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stderr
    assert [a["file"] for a in json.loads(done.stdout)] == good
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == len(bad), done.stderr
    for line, (path, why) in zip(errors, bad.items()):
        assert line.startswith(f"error: {path}: {why}"), line


# --- hostile input, interruptions, other folders, damaged artifacts -----------------------------------------

def test_dash_reads_the_image_from_standard_input(trained_project, monkeypatch, capsys):
    buffer = io.BytesIO()
    drawn("7").save(buffer, "PNG")
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(buffer.getvalue())))
    status, out, _ = run_main(trained_project, ["-"], capsys)
    assert status == 0 and out.startswith("-: 7 (probability "), out


def test_ctrl_c_prints_the_answers_so_far_and_exits_130(trained_project, digit_files, tmp_path):
    """The real command, blocked reading an image from a pipe nobody writes to, gets SIGINT after answering two."""
    good = digit_files[0][:3]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    # As from a terminal: SIGINT at its default, so Python installs KeyboardInterrupt. A pytest-xdist worker
    # ignores SIGINT, and an ignored signal stays ignored in a child (Python then leaves it ignored).
    with open(tmp_path / "stderr", "w") as stderr, subprocess.Popen(
            [sys.executable, "-m", "digits.predict", "--project", str(trained_project), good[0], good[1], "-",
             good[2]], env=env, cwd=tmp_path, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
            text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) as proc:
        lines = [proc.stdout.readline(), proc.stdout.readline()]  # answered as they are read
        proc.send_signal(signal.SIGINT)
        rest, _ = proc.communicate(timeout=60)
    assert [line.split(":")[0] for line in lines] == good[:2] and rest == ""
    assert proc.returncode == 130
    assert "error: interrupted after 2 of 4 images" in (tmp_path / "stderr").read_text()


def test_ctrl_c_with_json_prints_the_list_so_far(trained_project, digit_files, monkeypatch, capsys):
    read = images.decode
    calls = iter(range(10))
    monkeypatch.setattr(images, "decode", lambda path: read(path) if next(calls) < 2 else (_ for _ in ()).throw(
        KeyboardInterrupt))
    status, out, errors = run_main(trained_project, ["--json", *digit_files[0][:4]], capsys)
    assert status == 130 and errors == ["error: interrupted after 2 of 4 images"]
    assert [a["file"] for a in json.loads(out)] == digit_files[0][:2]


def test_runs_from_any_folder(trained_project, tmp_path, monkeypatch, capsys):
    """From a folder that is not a project, params and artifacts are the package's project's (here standing
    in: the trained one); the image path stays relative to the current folder."""
    drawn("7").save(tmp_path / "seven.png")
    monkeypatch.setattr(runner, "PACKAGE_ROOT", trained_project)
    with contextlib.chdir(tmp_path):
        status = predict.main(["seven.png"])
    assert status == 0 and capsys.readouterr().out.startswith("seven.png: 7 (probability ")


def test_project_option_from_another_folder(trained_project, tmp_path):
    """The real command from another folder, with --project and a relative image path."""
    drawn("7").save(tmp_path / "seven.png")
    done = subprocess.run([sys.executable, "-m", "digits.predict", "--project", str(trained_project), "seven.png"],
                          cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(ROOT)), capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0 and done.stdout.startswith("seven.png: 7 (probability "), done.stderr
    with contextlib.chdir(tmp_path), pytest.raises(OSError, match=r"^nowhere: no params\.yaml here; --project"):
        predict.main(["--project", "nowhere", "seven.png"])


@pytest.fixture()
def project_copy(trained_project, tmp_path) -> Path:
    """The trained project's params, test split, model and exports, copied to be damaged."""
    for part in ("params.yaml", "artifacts/data/test.npz", "artifacts/models", "artifacts/export"):
        source, target = trained_project / part, tmp_path / part
        target.parent.mkdir(parents=True, exist_ok=True)
        (shutil.copytree if source.is_dir() else shutil.copy)(source, target)
    return tmp_path


@pytest.mark.parametrize("damage", ["truncated", "garbage"])
@pytest.mark.parametrize(("fmt", "file", "stage"), [
    ("keras", "artifacts/models/cnn.keras", "train@cnn"), ("h5", "artifacts/export/cnn/model.h5", "export@cnn"),
    ("savedmodel", "artifacts/export/cnn/saved_model/saved_model.pb", "export@cnn"),
    ("tflite", "artifacts/export/cnn/model.tflite", "export@cnn"),
])
def test_damaged_model_is_one_line_naming_it(project_copy, digit_files, fmt, file, stage, damage):
    path = project_copy / file
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2] if damage == "truncated" else b"garbage\n" * 99)
    named = path if fmt != "savedmodel" else path.parent
    with pytest.raises(ValueError) as raised:
        predict.main(["--project", str(project_copy), "--format", fmt, "--trust-model", digit_files[0][0]])
    message = str(raised.value)
    assert message.startswith(f"{named}: cannot load the {fmt} model (") and "\n" not in message
    assert message.endswith(f"rerun `dvc repro {stage}`" + ("" if fmt == "keras" else
                                                            f" (with {fmt} under export.formats in params.yaml)"))


@pytest.mark.parametrize("damage", ["truncated", "garbage", "missing"])
def test_damaged_class_names_name_the_file(project_copy, digit_files, damage):
    path = project_copy / "artifacts/data/test.npz"
    if damage == "missing":
        path.unlink()
    else:
        path.write_bytes(path.read_bytes()[:1000] if damage == "truncated" else b"garbage")
    why = "not found; run" if damage == "missing" else r"cannot read it \(.*\); rerun"
    with pytest.raises((OSError, ValueError), match=rf"^{path}: {why} `dvc repro prepare`$"):
        predict.main(["--project", str(project_copy), digit_files[0][0]])


def test_every_format_answers_quietly(trained_project, digit_files):
    """No runtime's start-up chatter on stderr (TensorFlow's C++ lines, TFLite's XNNPACK notice): only answers."""
    for fmt in formats.FORMATS:
        done = subprocess.run([sys.executable, "-m", "digits.predict", "--project", str(trained_project), "--format",
                               fmt, digit_files[0][0]], capture_output=True, text=True, cwd=trained_project,
                              env=dict(os.environ, PYTHONPATH=str(ROOT)))  # its own project: SavedModel trusted
        assert done.returncode == 0 and done.stderr == "", (fmt, done.stderr)
        assert done.stdout.startswith(digit_files[0][0] + ": "), done.stdout
