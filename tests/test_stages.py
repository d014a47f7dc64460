"""Each stage's ``main`` on tiny real data in a temp directory: files made, their contents, and the params
each stage reads, which must be exactly the keys its ``params:`` lists in dvc.yaml."""
from __future__ import annotations

import contextlib
import dataclasses
import importlib
import json

import numpy as np
import pytest
import yaml

from tests.support.committed import default_params
from conftest import tiny_params, write_project
from digits.config import schema
from digits.data import arrays
from digits.export import formats, loaders

pytestmark = pytest.mark.slow  # runs every stage, training included

STAGE_ORDER = [
    ("fetch", []), ("prepare", []), ("train", ["dense"]), ("train", ["cnn"]),
    ("export", ["dense"]), ("export", ["cnn"]), ("nondigit", []), ("corrupt", []), ("read", []),
    ("evaluate", ["dense"]), ("evaluate", ["cnn"]), ("plots", []),
]


def recording(obj, prefix: str, seen: set[str]):
    """A copy of params dataclass ``obj`` that adds every leaf key read from it to ``seen`` as a dotted path: an
    instance of a subclass made here, so it is still the dataclass to the code that reads it (``replace``,
    ``fields``, ``asdict``)."""
    names = {f.name for f in dataclasses.fields(obj)}

    def __getattribute__(self, name):
        value = object.__getattribute__(self, name)
        if name in names:
            key = f"{prefix}.{name}" if prefix else name
            if dataclasses.is_dataclass(value):
                return recording(value, key, seen)
            seen.add(key)
        return value

    cls = type(type(obj).__name__, (type(obj),), {"__getattribute__": __getattribute__})
    return cls(**{name: object.__getattribute__(obj, name) for name in names})


def leaf_keys(params: dict, key: str) -> set[str]:
    value = params
    for part in key.split("."):
        value = value[part]
    if isinstance(value, dict):
        return set().union(*(leaf_keys(params, f"{key}.{k}") for k in value))
    return {key}


def run_main(module: str, args: list[str]) -> set[str]:
    """Run ``stages.<module>.main`` on the loaded params and return the params keys it read."""
    seen: set[str] = set()
    importlib.import_module(f"stages.{module}").main(recording(schema.load_params(), "", seen), *args)
    return seen


@pytest.fixture(scope="module")
def project(tmp_path_factory, mnist_dir):
    """A temp directory after running every stage once, and the params keys each stage read."""
    root = tmp_path_factory.mktemp("project")
    params = tiny_params(mnist_dir)
    params["robustness"]["images"] = 150  # of the 200 test images: the limit is honoured
    write_project(root, params)
    with contextlib.chdir(root):
        read = {}
        for module, argv in STAGE_ORDER:
            read["@".join([module, *argv])] = run_main(module, argv)
    return root, read


@pytest.mark.parametrize("stage", ["@".join([m, *a]) for m, a in STAGE_ORDER])
def test_stage_reads_exactly_the_params_dvc_yaml_lists(project, stage_specs, stage):
    root, read = project
    params = yaml.safe_load((root / "params.yaml").read_text())
    listed = set().union(*(leaf_keys(params, k) for k in stage_specs[stage]["params"]))
    read = {stage: set().union(*(leaf_keys(params, k) for k in read[stage]))}  # a mapping read whole: its leaves
    assert read[stage] == listed, (
        f"{stage}: read but not listed {read[stage] - listed}, listed but unread {listed - read[stage]}")


def test_fetch_and_prepare_outputs(project):
    root, _ = project
    assert sorted(p.name for p in (root / "dataset" / "mnist").iterdir()) == sorted(
        ["t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
         "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"])
    sizes = {}
    for split in ("train", "val", "test"):
        with np.load(root / "artifacts/data" / ("train/00000.npz" if split == "train" else f"{split}.npz")) as npz:
            images, labels = npz["images"], npz["labels"]
        assert images.dtype == np.uint8 and labels.dtype == np.uint8
        assert images.shape[1:] == (28, 28) and len(images) == len(labels)
        assert labels.max() <= 9
        sizes[split] = len(labels)
    assert sizes == {"train": 540, "val": 60, "test": 200}


def test_train_outputs(project):
    root, _ = project
    for model in ("dense", "cnn"):
        assert (root / f"artifacts/models/{model}.keras").stat().st_size > 10_000
        lines = (root / f"artifacts/train/{model}/history.csv").read_text().splitlines()
        assert lines[0] == "epoch,loss,accuracy,val_loss,val_accuracy,learning_rate"
        assert [line.split(",")[0] for line in lines[1:]] == ["1", "2"]
        timing = json.loads((root / f"artifacts/timings/train_{model}.json").read_text())
        assert timing["train_seconds"] > 0 and timing["train_images"] == 540
        assert not (root / f"artifacts/train/{model}/summary.json").exists()
        report = json.loads((root / f"artifacts/train/{model}/calibration.json").read_text())
        assert report["images"] == 60 and report["temperature"] > 0


def test_nondigit_outputs(project):
    """The detector: a safe-mode .keras file of 55,041 weights, its threshold in its last bias, so that it refuses
    at most the params' share of the validation digits (60 here: 1 in 99.5th-percentile terms, ties aside)."""
    root, _ = project
    model = loaders.load_keras_model(root / "artifacts/models/nondigit.keras", "nondigit")
    assert model.count_params() == 55_041
    report = json.loads((root / "artifacts/metrics/nondigit.json").read_text())
    assert list(report) == sorted(report) and report["quantile"] == 99.5 and report["parameters"] == 55_041
    assert report["trained_on"]["mnist"] == 540 and report["trained_on"]["mnist_enlarged"] == 540
    assert report["trained_on"]["nondigits"] > 0 and report["trained_on"]["synthetic_digits"] == 60
    assert report["trained_on"]["merged_pairs"] == 20
    val, _ = arrays.load_split(root / "artifacts/data/val.npz")
    refused = np.mean(model.predict(arrays.preprocess(val), verbose=0)[:, 0] > 0)
    assert refused == pytest.approx(report["refused"]["mnist_val"], abs=1e-4) and refused <= 1 / 60 + 1e-9


@pytest.mark.parametrize(("model", "count"), [("dense", 109_386), ("cnn", 421_642)])
def test_evaluate_metrics(project, model, count):
    root, _ = project
    text = (root / f"artifacts/metrics/{model}.json").read_text()
    metrics = json.loads(text)
    assert list(metrics) == sorted(metrics), "metrics JSON keys are sorted"
    # Quality only: timings would make `dvc metrics diff` between equal runs show noise.
    assert set(metrics) == {"accuracy", "loss", "macro_f1", "per_class", "params", "test_images", "calibration", "read"}
    read = metrics["read"]  # the test images as predict reads their files (stage read)
    assert read["images"] == 200 and set(read) == {"images", "right", "wrong_single", "as_number", "not_a_digit",
                                                   "read_as_numbers", "nondigits"}
    assert read["right"] + read["wrong_single"] + read["as_number"] + read["not_a_digit"] == pytest.approx(1, abs=3e-4)
    refusals = read["nondigits"]  # stage read's held-out non-digit photos, 4 of each kind but look-alikes
    assert 20 <= refusals["images"] <= 28 and 0 <= refusals["refused"] <= 1
    assert set(refusals["by_kind"]) == {"letters", "drawn_letters", "words", "blank", "lines", "shapes", "noise"}
    calib = metrics["calibration"]
    assert set(calib) == {"ece", "brier", "ece_uncalibrated", "nll_uncalibrated", "brier_uncalibrated",
                          "temperature"}
    assert calib["temperature"] == json.loads((root / f"artifacts/train/{model}/calibration.json").read_text())[
        "temperature"]
    assert all(0 <= calib[k] <= 2 for k in calib if k != "nll_uncalibrated") and calib["nll_uncalibrated"] > 0
    assert 0.3 < metrics["accuracy"] <= 1.0  # two epochs on 540 images already learn something
    assert metrics["loss"] > 0 and metrics["params"] == count and metrics["test_images"] == 200
    assert sorted(metrics["per_class"], key=int) == [str(c) for c in range(10)]
    assert all(0 <= v <= 1 for c in metrics["per_class"].values() for v in c.values())
    assert json.loads((root / f"artifacts/timings/evaluate_{model}.json").read_text())[
        "inference_images_per_second"] > 0
    rows = (root / f"artifacts/predictions/{model}.csv").read_text().splitlines()
    assert rows[0] == "actual,predicted" and len(rows) == 201
    correct = sum(a == p for a, p in (r.split(",") for r in rows[1:]))
    assert correct / 200 == pytest.approx(metrics["accuracy"])
    bins = (root / f"artifacts/predictions/{model}_reliability.csv").read_text().splitlines()
    assert bins[0] == "bin,confidence,accuracy,count" and len(bins) == 16  # 15 bins
    counts = [int(r.split(",")[3]) for r in bins[1:]]
    assert sum(counts) == 200
    right = sum(round(float(r.split(",")[2]) * n) for r, n in zip(bins[1:], counts))
    assert right / 200 == pytest.approx(metrics["accuracy"])


def test_plots_outputs(project):
    root, _ = project
    names = sorted(p.name for p in (root / "artifacts/plots").iterdir())
    # Only the test-image grids: the curves and matrices are dvc.yaml's vega plots, drawn once, by `dvc plots show`.
    assert names == sorted(f"{kind}_{m}.png" for kind in ("samples", "misclassified") for m in ("dense", "cnn"))
    for name in names:
        assert (root / "artifacts/plots" / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_param_reruns_some_stage(stage_specs):
    """So `dvc exp run -S key=value` takes effect for every key: each leaf of params.yaml is a params dependency
    of at least one stage."""
    params = default_params()
    listed = set().union(*(leaf_keys(params, k) for spec in stage_specs.values() for k in spec["params"]))
    every = set().union(*(leaf_keys(params, k) for k in params))
    assert every - listed == set()


@pytest.mark.parametrize("model", ["dense", "cnn"])
def test_export_outputs(project, model):
    """The formats ``export.formats`` lists, and nothing else; each predicts as the Keras model does."""
    root, _ = project
    listed = yaml.safe_load((root / "params.yaml").read_text())["export"]["formats"]
    folder = root / "artifacts/export" / model
    assert sorted(p.name for p in folder.iterdir()) == sorted(formats.FILES[f] for f in listed)
    images, _ = arrays.load_split(root / "artifacts/data/test.npz")
    x = arrays.preprocess(images[:50])
    expected = loaders.load(root / f"artifacts/models/{model}.keras", "keras")(x)
    for fmt in listed:
        probs = loaders.load(formats.export_path(folder, fmt), fmt)(x)
        np.testing.assert_allclose(probs, expected, atol=1e-4, err_msg=fmt)


def test_corrupt_output_has_every_corruption_and_is_deterministic(project):
    """Every listed corruption of the first robustness.images test images, with their labels; a second run writes the
    same bytes (so `dvc repro --force corrupt` leaves the evaluate stages up to date)."""
    root, _ = project
    out = root / schema.PATHS.corrupted / "test.npz"
    first = out.read_bytes()
    listed = yaml.safe_load((root / "params.yaml").read_text())["robustness"]["corruptions"]
    with np.load(out) as npz:
        assert [str(n) for n in npz["corruptions"]] == listed
        assert sorted(npz.files) == sorted([*listed, "labels", "class_names", "corruptions"])
        test_images, test_labels = (a[:150] for a in arrays.load_split(root / "artifacts/data/test.npz"))
        np.testing.assert_array_equal(npz["labels"], test_labels)
        for name in listed:
            assert npz[name].dtype == np.uint8 and npz[name].shape == test_images.shape, name
            assert name == "brightness" or not np.array_equal(npz[name], test_images), name
    with contextlib.chdir(root):
        run_main("corrupt", [])
    assert out.read_bytes() == first


@pytest.mark.parametrize("model", ["dense", "cnn"])
def test_headline_metrics(project, model):
    """The handful of figures DVC lists by default, each the detail files' figure to 4 decimals, and the dataset."""
    root, _ = project
    headline = json.loads((root / f"metrics/{model}.json").read_text())
    detail = json.loads((root / f"artifacts/metrics/{model}.json").read_text())
    suite = json.loads((root / f"artifacts/metrics/{model}_robustness.json").read_text())
    assert list(headline) == ["accuracy", "dataset", "ece", "loss", "macro_f1", "robustness"]  # sorted, no more
    assert headline.pop("dataset") == "mnist"
    assert headline == {k: round(v, 4) for k, v in [("accuracy", detail["accuracy"]), ("loss", detail["loss"]),
                        ("macro_f1", detail["macro_f1"]), ("ece", detail["calibration"]["ece"]),
                        ("robustness", suite["mean_accuracy"])]}


def test_plots_ends_with_the_summary(project, capsys):
    """The last stage's last lines, what `dvc repro` ends with: both models' figures from the headline files. Run
    here in-process, not as `python -m stages.<name>`, no stage recorded a timing: said, not an error."""
    root, _ = project
    with contextlib.chdir(root):
        run_main("plots", [])
    out = capsys.readouterr().out.splitlines()
    lines = out[max(i for i, line in enumerate(out) if line.startswith("summary (")):]
    for model, row in zip(("dense", "cnn"), lines[2:4]):
        accuracy = json.loads((root / f"metrics/{model}.json").read_text())["accuracy"]
        assert row.split()[:2] == [model, f"{accuracy:.2%}"], lines
    assert any(line.startswith("  no timing for train@dense,") for line in lines), lines


@pytest.mark.parametrize("model", ["dense", "cnn"])
def test_robustness_outputs(project, model):
    root, _ = project
    listed = yaml.safe_load((root / "params.yaml").read_text())["robustness"]["corruptions"]
    text = (root / f"artifacts/metrics/{model}_robustness.json").read_text()
    metrics = json.loads(text)
    assert set(metrics) == {"corruptions", "mean_accuracy", "images"} and metrics["images"] == 150
    assert list(metrics) == sorted(metrics) and list(metrics["corruptions"]) == sorted(listed)  # JSON keys sorted
    assert all(0 <= a <= 1 for a in metrics["corruptions"].values())
    assert metrics["mean_accuracy"] == pytest.approx(np.mean(list(metrics["corruptions"].values())))
    rows = (root / f"artifacts/predictions/{model}_robustness.csv").read_text().splitlines()
    assert rows[0] == "corruption,accuracy"
    assert [r.split(",")[0] for r in rows[1:]] == listed
    assert [float(r.split(",")[1]) for r in rows[1:]] == [round(metrics["corruptions"][c], 4) for c in listed]
