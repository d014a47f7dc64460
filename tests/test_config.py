"""The typed ``params.yaml`` loader: the committed file loads, and every broken variant fails with one line
that names the dotted key (and the allowed values where there is a range)."""
from __future__ import annotations

import copy
import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.support.committed import committed_text, default_params
from conftest import write_project
from digits.config import schema

ROOT = Path(__file__).resolve().parents[1]
RAW = default_params()  # the committed file, never the user's edited one (tests/support/committed.py says why)


def mutated(change) -> dict:
    raw = copy.deepcopy(RAW)
    change(raw)
    return raw


def _set(dotted: str, value):
    def change(raw):
        *parents, leaf = dotted.split(".")
        for key in parents:
            raw = raw[key]
        raw[leaf] = value
    return change


def _del(dotted: str):
    def change(raw):
        *parents, leaf = dotted.split(".")
        for key in parents:
            raw = raw[key]
        del raw[leaf]
    return change


def test_committed_params_load(tmp_path):
    """The project's params.yaml as committed: the defaults the docs describe (a user's edits are checked by the
    stages themselves, on every run)."""
    path = tmp_path / "params.yaml"
    path.write_text(committed_text())
    params = schema.load_params(path)
    assert isinstance(params, schema.Params)
    assert params.models == ("dense", "cnn")
    assert params.fetch.mirrors == {k: tuple(v) for k, v in RAW["fetch"]["mirrors"].items()}
    assert params.dataset == "mnist" and len(params.fetch.mirrors["mnist"]) >= 1
    assert isinstance(params.fetch.timeout, float)  # `timeout: 30` in the file, an int
    assert params.prepare.train_limit is None and params.prepare.test_limit is None
    assert params.train.dense.hidden_units == tuple(RAW["train"]["dense"]["hidden_units"])
    assert params.train.cnn.schedule in ("cosine", "constant")
    assert params.train.cnn.augment.enabled is True  # chosen on the robustness suite (docs/results.md)
    assert params.train.dense.augment.enabled is False  # it would cost the dense net its clean-accuracy floor
    assert isinstance(params.train.cnn.augment.rotation, float)
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.seed = 1  # type: ignore[misc]


def test_load_params_reads_cwd_by_default(tmp_path, monkeypatch):
    write_project(tmp_path, mutated(_set("seed", 7)))
    monkeypatch.chdir(tmp_path)
    assert schema.load_params().seed == 7


@pytest.mark.parametrize(("dotted", "value", "expected"), [
    ("train.cnn.learning_rate", 1, 1.0),
    ("train.dense.label_smoothing", 0, 0.0),
    ("train.cnn.augment.shift", 0, 0.0),
    ("fetch.timeout", 2, 2.0),
])
def test_floats_accept_ints(dotted, value, expected):
    params = schema.parse_params(mutated(_set(dotted, value)))
    got = params
    for key in dotted.split("."):
        got = getattr(got, key)
    assert got == expected and type(got) is float


def test_limits_accept_integers():
    raw = mutated(lambda r: r["prepare"].update(train_limit=600, test_limit=200))
    prepare = schema.parse_params(raw).prepare
    assert (prepare.train_limit, prepare.test_limit) == (600, 200)


BROKEN = [
    # (id, change, key the message starts with, fragments it must contain)
    ("unknown-top", _set("bogus", 1), "bogus", ["unknown key", "top level", "seed", "models"]),
    ("unknown-nested", _set("train.cnn.learnig_rate", 0.1), "train.cnn.learnig_rate",
     ["unknown key", "train.cnn", "learning_rate"]),
    ("unknown-in-fetch", _set("fetch.mirror", ["x"]), "fetch.mirror", ["unknown key", "mirrors"]),
    ("missing-top", _del("evaluate"), "evaluate", ["missing key", "expected a mapping with keys batch_size"]),
    ("missing-nested", _del("train.dense.epochs"), "train.dense.epochs",
     ["missing key", "expected an integer in [1, 1000]"]),
    ("missing-switch", _del("train.cnn.augment.enabled"), "train.cnn.augment.enabled", ["missing key", "bool"]),
    ("epochs-str", _set("train.dense.epochs", "ten"), "train.dense.epochs",
     ["expected an integer in [1, 1000]", "got str 'ten'"]),
    ("epochs-bool", _set("train.cnn.epochs", True), "train.cnn.epochs",
     ["expected an integer in [1, 1000]", "got bool"]),
    ("epochs-float", _set("train.cnn.epochs", 2.5), "train.cnn.epochs", ["expected an integer in [1, 1000]", "2.5"]),
    ("lr-bool", _set("train.dense.learning_rate", True), "train.dense.learning_rate",
     ["expected a finite number > 0", "got bool"]),
    ("lr-str", _set("train.dense.learning_rate", "fast"), "train.dense.learning_rate",
     ["expected a finite number > 0", "got str 'fast'"]),
    ("seed-str", _set("seed", "x"), "seed", ["expected an integer in [0, 4294967295]", "'x'"]),
    ("mirrors-list", _set("fetch.mirrors", ["http://example.org/"]), "fetch.mirrors",
     ["expected a mapping from dataset names (mnist, fashion-mnist)"]),
    ("mirrors-str", _set("fetch.mirrors.mnist", "http://example.org/"), "fetch.mirrors.mnist",
     ["expected a list of str", "got str"]),
    ("mirrors-item", _set("fetch.mirrors.mnist", ["http://example.org/", 3]), "fetch.mirrors.mnist[1]",
     ["expected str"]),
    ("mirrors-unknown-dataset", _set("fetch.mirrors.kmnist", []), "fetch.mirrors", ["mnist, fashion-mnist"]),
    ("dataset-unknown", _set("dataset", "cifar"), "dataset", ["one of mnist, fashion-mnist", "'cifar'"]),
    ("augment-int-switch", _set("train.cnn.augment.enabled", 1), "train.cnn.augment.enabled", ["expected bool"]),
    ("augment-str-switch", _set("train.cnn.augment.enabled", "yes"), "train.cnn.augment.enabled",
     ["expected bool"]),
    ("augment-shift", _set("train.cnn.augment.shift", 0.5), "train.cnn.augment.shift", ["[0, 0.5)"]),
    ("augment-rotation", _set("train.dense.augment.rotation", -5), "train.dense.augment.rotation", ["[0, 180]"]),
    ("augment-zoom", _set("train.cnn.augment.zoom", 1), "train.cnn.augment.zoom", ["[0, 1)"]),
    ("augment-brightness", _set("train.cnn.augment.brightness", 1.5), "train.cnn.augment.brightness", ["[0, 1)"]),
    ("augment-contrast", _set("train.dense.augment.contrast", -0.1), "train.dense.augment.contrast", ["[0, 1)"]),
    ("augment-noise", _set("train.cnn.augment.noise", "lots"), "train.cnn.augment.noise", ["[0, 1)"]),
    ("augment-blur", _set("train.cnn.augment.blur", 6), "train.cnn.augment.blur", ["[0, 5]"]),
    ("augment-unknown", _set("train.cnn.augment.flip", True), "train.cnn.augment.flip", ["unknown key", "shift"]),
    ("export-format", _set("export.formats", ["onnx"]), "export.formats", ["h5, savedmodel, tflite"]),
    ("section-not-mapping", _set("evaluate", "fast"), "evaluate", ["expected a mapping"]),
    # Output paths are not params: DVC deletes a stage's outputs before running it.
    ("paths-not-a-param", _set("paths", {"plots": "examples"}), "paths",
     ["unknown key", "fixed in dvc.yaml and digits/config/fixed.py"]),
    ("limit-str", _set("prepare.train_limit", "all"), "prepare.train_limit", ["expected null or an integer >= 1"]),
    ("epochs-0", _set("train.dense.epochs", 0), "train.dense.epochs", ["an integer in [1, 1000]", "got 0"]),
    ("val-fraction-1.5", _set("prepare.val_fraction", 1.5), "prepare.val_fraction", ["(0, 1)", "1.5"]),
    ("val-fraction-1", _set("prepare.val_fraction", 1), "prepare.val_fraction", ["(0, 1)"]),
    ("val-fraction-0", _set("prepare.val_fraction", 0), "prepare.val_fraction", ["(0, 1)", "0"]),
    ("val-fraction-neg", _set("prepare.val_fraction", -0.1), "prepare.val_fraction", ["(0, 1)"]),
    ("lr-negative", _set("train.cnn.learning_rate", -0.001), "train.cnn.learning_rate",
     ["a finite number > 0", "-0.001"]),
    ("lr-zero", _set("train.dense.learning_rate", 0), "train.dense.learning_rate", ["a finite number > 0"]),
    ("schedule-foo", _set("train.cnn.schedule", "foo"), "train.cnn.schedule", ["'cosine' or 'constant'", "'foo'"]),
    ("smoothing-1", _set("train.dense.label_smoothing", 1.0), "train.dense.label_smoothing", ["[0, 1)"]),
    ("batch-0", _set("evaluate.batch_size", 0), "evaluate.batch_size", ["an integer in [1, 65536]"]),
    ("retries-0", _set("fetch.retries", 0), "fetch.retries", ["an integer in [1, 100]"]),
    ("pairs-huge", _set("nondigit.pairs", 10**9), "nondigit.pairs", ["an integer in [0, 100000]", "1000000000"]),
    ("pairs-negative", _set("nondigit.pairs", -1), "nondigit.pairs", ["an integer in [0, 100000]"]),
    ("timeout-0", _set("fetch.timeout", 0), "fetch.timeout", ["a number in (0, 3600]"]),
    ("train-limit-0", _set("prepare.train_limit", 0), "prepare.train_limit", ["null or an integer >= 1"]),
    ("plots-dpi-0", _set("plots.dpi", 0), "plots.dpi", ["an integer in [1, 600]"]),
    ("models-unknown", _set("models", ["dense", "rnn"]), "models", ["dense, cnn"]),
    ("models-empty", _set("models", []), "models", ["dense, cnn"]),
    ("copies-0", _set("prepare.copies", 0), "prepare.copies", ["an integer in [1, 100]", "got 0"]),
    ("copy-shift-9", _set("prepare.copy_shift", 9), "prepare.copy_shift", ["[0, 8]"]),
    ("input-disk", _set("train.cnn.input", "disk"), "train.cnn.input", ["'auto', 'memory' or 'stream'", "'disk'"]),
    ("distribute-tpu", _set("train.dense.distribute", "tpu"), "train.dense.distribute",
     ["'none', 'mirrored' or 'multiworker'"]),
    ("models-not-list", _set("models", "dense"), "models", ["expected a list drawn from dense, cnn", "got str"]),
    # Non-finite floats: valid YAML (.inf, .nan), and `learning_rate: .inf` used to train a NaN model, exit 0.
    ("lr-inf", _set("train.dense.learning_rate", float("inf")), "train.dense.learning_rate",
     ["expected a finite number > 0", "got inf"]),
    ("lr-nan", _set("train.cnn.learning_rate", float("nan")), "train.cnn.learning_rate", ["got nan"]),
    ("timeout-inf", _set("fetch.timeout", float("inf")), "fetch.timeout", ["(0, 3600]", "got inf"]),
    ("val-fraction-nan", _set("prepare.val_fraction", float("nan")), "prepare.val_fraction", ["(0, 1)", "nan"]),
    ("smoothing-nan", _set("train.cnn.label_smoothing", float("nan")), "train.cnn.label_smoothing", ["nan"]),
    ("rotation-neg-inf", _set("train.dense.augment.rotation", float("-inf")), "train.dense.augment.rotation",
     ["[0, 180]", "-inf"]),
    # Layer sizes, and bounds on what scales work or memory.
    ("hidden-0", _set("train.dense.hidden_units", [128, 0]), "train.dense.hidden_units[1]",
     ["an integer in [1, 65536]", "got 0"]),
    ("hidden-9-layers", _set("train.dense.hidden_units", [8] * 9), "train.dense.hidden_units",
     ["a list of at most 8 integers in [1, 65536]"]),
    ("hidden-not-list", _set("train.dense.hidden_units", 128), "train.dense.hidden_units", ["a list of at most 8"]),
    ("dense-units-neg", _set("train.cnn.dense_units", -1), "train.cnn.dense_units", ["[1, 65536]", "got -1"]),
    ("conv-filters-0", _set("train.cnn.conv_filters", [0]), "train.cnn.conv_filters[0]", ["[1, 65536]", "got 0"]),
    ("epochs-huge", _set("train.cnn.epochs", 10**6), "train.cnn.epochs", ["[1, 1000]", "1000000"]),
    ("batch-huge", _set("train.dense.batch_size", 10**6), "train.dense.batch_size", ["[1, 65536]"]),
    ("steps-per-execution-0", _set("train.dense.steps_per_execution", 0), "train.dense.steps_per_execution",
     ["[1, 1000]"]),
    ("eval-batch-huge", _set("evaluate.batch_size", 10**6), "evaluate.batch_size", ["[1, 65536]"]),
    ("copies-1000", _set("prepare.copies", 1000), "prepare.copies", ["[1, 100]", "got 1000"]),
    ("retries-1000", _set("fetch.retries", 1000), "fetch.retries", ["[1, 100]"]),
    ("dense-too-big", _set("train.dense.hidden_units", [65536] * 3), "train.dense.hidden_units",
     ["at most 100,000,000 weights", "(1.2 GB with Adam's state)"]),
    ("cnn-too-big", _set("train.cnn.dense_units", 65536), "train.cnn (conv_filters, kernel_size, dense_units)",
     ["at most 100,000,000 weights"]),
    # CNN geometry: 'same' convs keep 28×28, each 2×2 pooling halves it; five layers pool it to nothing.
    ("conv-5-layers", _set("train.cnn.conv_filters", [8] * 5), "train.cnn.conv_filters",
     ["at most 4 conv layers for 28×28 images", "halves the side: 14, 7, 3, 1", "got 5"]),
    ("kernel-100", _set("train.cnn.kernel_size", 100), "train.cnn.kernel_size",
     ["expected an integer in [1, 14]", "sees 14×14 of the 28×28 image", "got 100"]),
    ("kernel-4-of-3", lambda r: r["train"]["cnn"].update(conv_filters=[8] * 4, kernel_size=4), "train.cnn.kernel_size",
     ["[1, 3]", "3×3"]),
    # Seeds: keras.utils.set_random_seed (numpy) takes 0 .. 2**32 - 1.
    ("seed-2**40", _set("seed", 2**40), "seed", ["an integer in [0, 4294967295]", str(2**40)]),
    ("seed-neg", _set("seed", -1), "seed", ["[0, 4294967295]"]),
    # Plots: a 2000-row grid or 3000 dpi would need gigabytes (and matplotlib caps a side at 2**16 pixels).
    ("dpi-3000", _set("plots.dpi", 3000), "plots.dpi", ["an integer in [1, 600]", "got 3000"]),
    ("grid-rows-2000", _set("plots.grid_rows", 2000), "plots.grid_rows", ["an integer in [1, 20]"]),
    ("grid-cols-21", _set("plots.grid_cols", 21), "plots.grid_cols", ["an integer in [1, 20]"]),
    # The robustness suite: corruption names from digits.corrupt.corruptions, each once, at least one.
    ("corruption-unknown", _set("robustness.corruptions", ["fog", "snow"]), "robustness.corruptions",
     ["drawn from shot_noise, impulse_noise", "canny_edges", "got list ['fog', 'snow']"]),
    ("corruption-repeat", _set("robustness.corruptions", ["fog", "fog"]), "robustness.corruptions",
     ["without repeats", "got ('fog', 'fog')"]),
    ("corruptions-empty", _set("robustness.corruptions", []), "robustness.corruptions", ["a non-empty list"]),
    ("corruptions-not-list", _set("robustness.corruptions", "fog"), "robustness.corruptions", ["got str 'fog'"]),
    ("robustness-images-0", _set("robustness.images", 0), "robustness.images", ["null or an integer >= 1", "got 0"]),
]


@pytest.mark.parametrize(("change", "key", "fragments"), [b[1:] for b in BROKEN], ids=[b[0] for b in BROKEN])
def test_broken_params_rejected(change, key, fragments, tmp_path):
    with pytest.raises(schema.ParamsError) as info:
        schema.parse_params(mutated(change))
    message = str(info.value)
    assert message.startswith(f"{key}: "), message
    assert "\n" not in message
    for fragment in fragments:
        assert fragment in message, f"{fragment!r} not in {message!r}"

    # Through the file: the same message, prefixed with the file's name.
    path = tmp_path / "params.yaml"
    path.write_text(yaml.safe_dump(mutated(change)))
    with pytest.raises(schema.ParamsError) as info:
        schema.load_params(path)
    assert str(info.value) == f"{path}: {message}"


@pytest.mark.parametrize("change", [
    _set("seed", 2**32 - 1), _set("plots.dpi", 600), lambda r: r["plots"].update(grid_rows=20, grid_cols=20),
    _set("train.cnn.kernel_size", 14), lambda r: r["train"]["cnn"].update(conv_filters=[8] * 4, kernel_size=3),
    lambda r: r["train"]["cnn"].update(conv_filters=[], kernel_size=28), _set("train.dense.hidden_units", []),
    _set("train.dense.hidden_units", [2048] * 8), _set("prepare.copies", 100), _set("train.cnn.epochs", 1000),
    _set("robustness.corruptions", ["canny_edges"]), _set("robustness.images", 1),
], ids=["seed-max", "dpi-600", "grid-20x20", "kernel-14-of-2", "four-convs", "no-convs", "no-hidden",
        "hidden-8x2048", "copies-100", "epochs-1000", "one-corruption", "one-robustness-image"])
def test_limits_themselves_accepted(change):
    schema.parse_params(mutated(change))


def test_params_error_is_value_error():
    assert issubclass(schema.ParamsError, ValueError)  # so run_stage turns it into a one-line exit


@pytest.mark.parametrize(("text", "fragments"), [
    ("", ["top level", "expected a mapping"]),
    ("- just\n- a list\n", ["top level", "expected a mapping"]),
    ("seed: [1,\nmodels: x\n", []),  # YAML syntax error, whose own message spans lines
])
def test_unparseable_files(tmp_path, text, fragments):
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(schema.ParamsError) as info:
        schema.load_params(path)
    message = str(info.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    for fragment in fragments:
        assert fragment in message


def _run_prepare(cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "stages.prepare"], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(("change", "expected"), [
    (_set("train.cnn.epochs", 0), "error: params.yaml: train.cnn.epochs: expected an integer in [1, 1000], got 0"),
    (_set("train.cnn.learnig_rate", 0.1), "error: params.yaml: train.cnn.learnig_rate: unknown key"),
    (_set("train.dense.epochs", "ten"),
     "error: params.yaml: train.dense.epochs: expected an integer in [1, 1000], got str 'ten'"),
    (_del("prepare.val_fraction"),
     "error: params.yaml: prepare.val_fraction: missing key (expected a number in (0, 1))"),
], ids=["out-of-range", "unknown-key", "wrong-type", "missing-key"])
def test_stage_command_with_broken_params(tmp_path, change, expected):
    write_project(tmp_path, mutated(change))
    proc = _run_prepare(tmp_path)
    assert proc.returncode != 0
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(expected), lines[0]
    assert not (tmp_path / "artifacts").exists()  # failed before writing anything


OWN_EPOCHS = RAW["train"]["dense"]["epochs"]


def _with_duplicate() -> str:
    """The committed params.yaml with a second, different `epochs:` added under train.dense, before its own."""
    lines = committed_text().splitlines(keepends=True)
    at = next(i for i, line in enumerate(lines) if line.startswith("  dense:")) + 1
    return "".join(lines[:at] + [f"    epochs: {OWN_EPOCHS + 1}\n"] + lines[at:])


def test_duplicate_key_refused_naming_key_and_lines(tmp_path):
    text = _with_duplicate()
    assert yaml.safe_load(text)["train"]["dense"]["epochs"] == OWN_EPOCHS  # PyYAML alone keeps the last, silently
    first = text.splitlines().index(f"    epochs: {OWN_EPOCHS + 1}") + 1
    second = next(i for i, line in enumerate(text.splitlines())
                  if i >= first and line.split("#")[0].strip() == f"epochs: {OWN_EPOCHS}") + 1
    path = tmp_path / "params.yaml"
    path.write_text(text)
    with pytest.raises(schema.ParamsError) as info:
        schema.load_params(path)
    assert str(info.value) == (f"{path}: train.dense.epochs: duplicate key on line {second} "
                               f"(first on line {first}); keep one")


def test_duplicate_key_refused_in_a_list_item(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_text("seed: 1\nfetch:\n  mirrors:\n    mnist:\n      - {a: 1, a: 2}\n")
    with pytest.raises(schema.ParamsError, match=r"fetch\.mirrors\.mnist\[0\]\.a: duplicate key on line 5"):
        schema.load_params(path)


def test_non_utf8_file_is_one_line_naming_it(tmp_path):
    path = tmp_path / "params.yaml"
    path.write_bytes(committed_text().encode().replace(b"mnist  #", b"mn\xefst  #", 1))
    with pytest.raises(schema.ParamsError) as info:
        schema.load_params(path)
    assert str(info.value).startswith(f"{path}: not UTF-8 text (byte 0xef at offset ")
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(("content", "expected"), [
    (_with_duplicate().encode(), "error: params.yaml: train.dense.epochs: duplicate key on line"),
    (b"seed: 42 # \xff\n", "error: params.yaml: not UTF-8 text (byte 0xff at offset 11)"),
], ids=["duplicate", "not-utf8"])
def test_stage_command_with_unreadable_params(tmp_path, content, expected):
    write_project(tmp_path, {})
    (tmp_path / "params.yaml").write_bytes(content)
    proc = _run_prepare(tmp_path)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [proc.stderr.strip()] and proc.stderr.startswith(expected), proc.stderr


@pytest.mark.slow  # runs dvc
def test_dvc_refuses_a_duplicate_key_too(tmp_path):
    """A stage and DVC read params.yaml alike: DVC's ruamel refuses a duplicate key, and so does the loader."""
    from tests.support.dvcrepo import copy_project, dvc_env

    repo = copy_project(tmp_path / "project", RAW)
    (repo / "params.yaml").write_text(_with_duplicate())
    for cmd in (["dvc", "status"], ["dvc", "repro", "prepare"]):
        done = subprocess.run(cmd, cwd=repo, env=dvc_env(), capture_output=True, text=True, timeout=120)
        assert done.returncode != 0, done.stdout
        assert 'duplicate key "epochs"' in done.stderr + done.stdout
    assert not (repo / "artifacts").exists()
