"""The benchmark runs end to end (quick mode: the quick try's settings, one epoch) and reports what the speed issue
asks; what holds on any machine is asserted: a no-op ``dvc repro`` runs nothing, a plot setting reruns ``plots`` alone,
and ``prepare`` handles all 70,000 images, timed. How fast is a figure, not an assertion, on a shared machine:
bench/speed.py names the targets and bench/results/results.json holds the measurements."""
from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import sys

import pytest

from tests.support.committed import default_params
from conftest import ROOT, run_stage, tiny_params, write_project
from digits.config import catalog
from tests.support.dvcrepo import copy_project, dvc_env


KIND = "avx2"  # the emulated AVX2 kind alone: the native kind runs the same code with nothing set, at twice the time
# --set on top of --quick: another CNN batch size (a recipe the bench must time as given), and the tests' tiny sizes
# (conftest.tiny_params): the bench's figures are not asserted, only that it runs every stage and reports.
SETS = {"train.cnn.batch_size": 64, "prepare.train_limit": 1000, "prepare.test_limit": 200, "nondigit.per_kind": 12,
        "nondigit.per_class": 3, "nondigit.check": 4}


@pytest.fixture(scope="module")
def quick(tmp_path_factory, mnist_dir) -> dict:
    base = tmp_path_factory.mktemp("bench")
    # Run from a copy holding the committed params: bench.speed copies the tree it runs from, params.yaml and
    # dataset/ as they are, and a user's last experiment must not decide what this test sees.
    project, out = copy_project(base / "project", default_params()), base / "results.json"
    cmd = [sys.executable, "-m", "bench.speed", "--quick", "--kinds", KIND, "--mirror", str(mnist_dir),
           "--out", str(out), *(a for k, v in SETS.items() for a in ("--set", f"{k}={v}"))]
    # dvc_env: this interpreter's `python` for the stages' commands, with or without an activated venv.
    done = subprocess.run(cmd, cwd=project, env=dvc_env(), capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-3000:]
    assert "repro_wall_over_baseline_wall" in done.stdout
    return json.loads(out.read_text())


@pytest.mark.slow  # the quick bench: a whole dvc repro and the baseline
def test_every_stage_timed(quick):
    stages = {s["stage"]: s for s in quick["kinds"][KIND]["pipeline"]["stages"]}
    assert set(stages) == {"fetch", "prepare", "train@dense", "train@cnn", "evaluate@dense", "evaluate@cnn",
                           "nondigit", "corrupt", "read", "export@dense", "export@cnn", "plots"}
    assert not any(stages[s]["tensorflow"] for s in ("fetch", "prepare", "corrupt", "read", "plots"))
    assert stages["train@cnn"]["tensorflow"] and stages["train@cnn"]["peak_rss_mb"] > 100
    assert stages["nondigit"]["tensorflow"]
    assert all(s["startup_seconds"] > 0 and s["run_seconds"] >= 0 for s in stages.values())
    pipeline = quick["kinds"][KIND]["pipeline"]
    assert pipeline["repro_forced_seconds"] >= pipeline["stage_seconds_sum"] * 0.9


@pytest.mark.slow  # the quick bench
def test_noop_and_plot_setting(quick):
    pipeline = quick["kinds"][KIND]["pipeline"]
    assert pipeline["repro_noop_ran"] == [] and pipeline["repro_noop_seconds"] > 0
    assert pipeline["plot_setting_change_ran"] == ["plots"]


@pytest.mark.slow  # the quick bench
def test_figures_and_ratios(quick):
    measured = quick["kinds"][KIND]
    for m in ("dense", "cnn"):
        mine = measured["pipeline"]["models"][m]
        assert 0 < mine["accuracy"] <= 1 and mine["train_images_per_second"] > 0
        assert mine["eval_images_per_second"] > 0 and measured["baseline"][m]["train_seconds"] > 0
    assert measured["ratios"]["repro_wall_over_baseline_wall"] > 0
    assert measured["cnn_step_ms"]["float32"] > 0 and measured["cpu"]["flags"]
    # --set reached the scratch copy's params.yaml, as dvc exp run -S would: another recipe, timed
    assert quick["params_set"] == SETS
    assert measured["pipeline"]["models"]["cnn"]["batch_size"] == 64
    assert measured["pipeline"]["models"]["dense"]["batch_size"] == default_params()["train"]["dense"]["batch_size"]


def test_bench_set_refuses_a_key_params_yaml_lacks(tmp_path):
    project = copy_project(tmp_path / "project", default_params())
    done = subprocess.run([sys.executable, "-m", "bench.speed", "--quick", "--kinds", KIND, "--no-probe",
                           "--out", str(tmp_path / "r.json"), "--set", "train.cnn.epoch=2"],
                          cwd=project, env=dvc_env(), capture_output=True, text=True, timeout=300)
    assert done.returncode != 0 and "--set train.cnn.epoch: params.yaml has no such key" in done.stderr
    assert not (tmp_path / "r.json").exists()


@pytest.mark.slow  # the quick bench
def test_the_avx2_kind_runs_without_bf16(quick):
    """Capped at AVX2, oneDNN cannot build bf16 kernels: auto picks float32, and a bf16 step fails, as on a CPU
    without AVX-512 it could never run natively."""
    capped = quick["kinds"]["avx2"]
    assert capped["environment"] == {"ONEDNN_MAX_CPU_ISA": "AVX2"}
    assert capped["cpu"]["auto_precision"] == "float32" and capped["cpu"]["onednn_max_cpu_isa"] == "AVX2"
    assert str(capped["cnn_step_ms"]["mixed_bfloat16"]).startswith("fails: ")


@pytest.mark.slow  # the quick bench
def test_in_memory_figures(quick):
    curve = quick["probe"]["cnn_test_accuracy_by_epoch"]
    assert [e["epoch"] for e in curve["epochs"]] == [1] and "first_0.990" in curve
    speeds = quick["probe"]["cnn_input_images_per_second"]
    assert speeds["bare_fit"] > 0 and speeds["pipeline"] > 0
    assert speeds["pipeline_over_bare_fit"] > 0
    assert quick["tensorflow_import_seconds"] > 0


def test_prepare_all_of_mnist_is_timed(tmp_path, mnist_dir):
    """All 70,000 images prepared, and the stage's timing record written (its figure: bench/speed.py)."""
    from digits.data import arrays

    params = tiny_params(mnist_dir, train_limit=None, test_limit=None)
    write_project(tmp_path, params)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for stage in ("fetch", "prepare"):
        done = subprocess.run([sys.executable, "-m", f"stages.{stage}"], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == 0, done.stderr
    line = json.loads((tmp_path / "artifacts/timings/stages/prepare.json").read_text())
    assert line["seconds"] > line["startup_seconds"] > 0 and not line["tensorflow"], line
    folder = tmp_path / "artifacts/data"
    files = [*arrays.train_shards(folder), folder / "val.npz", folder / "test.npz"]
    sizes = [arrays.split_size(path) for path in files]
    assert sum(sizes) == 70_000, sizes


@pytest.mark.parametrize("name", ["dense", "cnn"])
def test_baseline_trains_the_seeds_way_whatever_params_say(name):
    """The baseline keeps the architecture from params.yaml but none of the pipeline's speed-ups or recipe."""
    from bench import baseline
    from digits.config import schema

    cfg = getattr(schema.parse_params(default_params()).train, name)
    seed = baseline.seed_recipe(cfg, 10)
    assert (seed.epochs, seed.batch_size, seed.learning_rate, seed.schedule, seed.label_smoothing,
            seed.dtype_policy, seed.steps_per_execution, seed.augment.enabled) \
        == (10, 32, 1e-3, "constant", 0.0, "float32", 1, False)
    recipe_fields = {f.name for f in dataclasses.fields(schema.Recipe)}
    arch = {k: v for k, v in dataclasses.asdict(cfg).items() if k not in recipe_fields}
    assert arch and arch == {k: v for k, v in dataclasses.asdict(seed).items() if k not in recipe_fields}


@pytest.mark.slow  # trains, per setting
def test_levers_measure_steps_and_runs(tmp_path, mnist_dir):
    """``bench.levers`` on a tiny prepared workspace: one figure per setting, one run per value."""
    params = tiny_params(mnist_dir)
    write_project(tmp_path, params)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    outputs = []
    for cmd in (["stages.fetch"], ["stages.prepare"],
                ["bench.levers", "steps", "--model", "dense", "--values", "1,4", "--rounds", "1"],
                ["bench.levers", "runs", "--model", "dense", "--set", "learning_rate=0.001,0.01"]):
        done = subprocess.run([sys.executable, "-m", *cmd], cwd=tmp_path, env=env, capture_output=True, text=True,
                              timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        outputs.append([json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")])
    steps, runs = outputs[2], outputs[3]
    assert [s["steps_per_execution"] for s in steps] == [1, 4] and all(s["images_per_second"] > 0 for s in steps)
    assert [r["learning_rate"] for r in runs] == [0.001, 0.01]
    assert all(r["train_seconds"] > 0 and 0 < r["val_accuracy"] <= 1 and 0 < r["test_accuracy"] <= 1 for r in runs)


def test_workspace_keeps_the_dataset_as_the_user_placed_it(tmp_path, mnist_dir, monkeypatch):
    """The README's layout, MNIST's four files straight in dataset/, and a dataset/<name>/ folder beside them: the
    bench's copy holds both as placed, and its fetch finds the files there (its only mirror is an empty folder)."""
    from bench import speed
    from harness import workspace

    checkout = copy_project(tmp_path / "checkout", default_params())  # stands in for the user's, left untouched
    for spec in catalog.MNIST.files:
        (checkout / "dataset").mkdir(exist_ok=True)
        shutil.copy2(mnist_dir / spec.gz_name, checkout / "dataset" / spec.gz_name)
    (checkout / "dataset" / "fashion-mnist").mkdir()
    (checkout / "dataset" / "fashion-mnist" / "notes.txt").write_text("mine")
    monkeypatch.setattr(workspace, "ROOT", checkout)  # copy_tree's source
    monkeypatch.setattr(speed, "ROOT", checkout)  # the dataset folder's
    (tmp_path / "no-mirror").mkdir()
    repo = speed.workspace(tmp_path / "bench", quick=True, mirror=str(tmp_path / "no-mirror"))

    def placed(root):
        return {p.relative_to(root).as_posix(): p.read_bytes() for p in (root / "dataset").rglob("*") if p.is_file()}
    assert placed(repo) == placed(checkout) and len(placed(repo)) == 5
    with contextlib.chdir(repo):
        run_stage("fetch")
    assert placed(repo) == placed(checkout)  # used as they are, nothing fetched or moved
