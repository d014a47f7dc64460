"""Where the pipeline's time goes, against the seed's recipe, on full MNIST.

In a scratch copy of this working tree (the user's ``artifacts/`` are not touched) it times a forced ``dvc
repro`` stage by stage (start-up with TensorFlow's import, run time, peak memory, via ``MNIST_STAGE_TIMINGS``),
a no-op ``dvc repro``, and a change of one plot setting (which must rerun ``plots`` alone); it reads training
and evaluation images/second from the outputs, runs ``bench.probe`` (CNN test accuracy per epoch, bare
``model.fit`` throughput) and ``bench.baseline`` (the seed's recipe), and writes all of it with our/baseline
ratios to ``--out``. Command: ``python -m bench.speed [--out bench/results/results.json] [--baseline-epochs 10]
[--quick]``.

Targets, read from the results rather than asserted by the tests (which share a busy machine): a no-op ``dvc
repro`` in under 3 s (``pipeline.repro_noop_seconds``: 0.57 in bench/results/results.json), and ``prepare`` on
all 70,000 images in under a second (its ``run_seconds`` in ``pipeline.stages``: 0.32).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

from bench.workspace import ROOT, commit_all, copy_tree
from digits import config

QUICK = {"prepare": {"train_limit": 2000, "test_limit": 500}, "epochs": 1}  # a smoke run of the whole bench


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str]:
    """Run ``cmd``; return (wall seconds, stdout). Its stderr passes through, so progress shows."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"error: {' '.join(cmd)} failed (exit {done.returncode}) in {cwd}:\n{done.stdout[-2000:]}")
    return time.perf_counter() - start, done.stdout


def workspace(dest: Path, quick: bool, mirror: str | None = None) -> Path:
    """A git + DVC copy of the working tree (``bench.workspace``) with this dataset folder; ``mirror`` (a folder
    or URL with the gzip files) replaces the dataset's mirrors for ``fetch``."""
    copy_tree(dest)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    if (ROOT / config.PATHS.dataset).is_dir():  # loose files or dataset/<name>/ folders, as the user placed them
        shutil.copytree(ROOT / config.PATHS.dataset, dest / config.PATHS.dataset, dirs_exist_ok=True)
    if mirror:
        params["fetch"]["mirrors"][params["dataset"]] = [str(mirror)]
    if quick:
        params["prepare"].update(QUICK["prepare"])
        for model in params["train"].values():
            model["epochs"] = QUICK["epochs"]
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return commit_all(dest, "bench", ("bench", "bench@localhost"))


def ran_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")]


def pipeline(repo: Path) -> dict:
    timings = repo / "stage-timings.jsonl"
    wall, _ = run([sys.executable, "-m", "dvc", "repro", "-f"], repo, {"MNIST_STAGE_TIMINGS": str(timings)})
    stages = [json.loads(line) for line in timings.read_text().splitlines()]
    noop, out = run([sys.executable, "-m", "dvc", "repro"], repo)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["plots"]["dpi"] += 1
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    plot_change, plot_out = run([sys.executable, "-m", "dvc", "repro"], repo)
    metrics = {m: json.loads((repo / config.PATHS.metrics / f"{m}.json").read_text()) for m in params["models"]}
    timings = repo / config.PATHS.timings
    summaries = {m: json.loads((timings / f"train_{m}.json").read_text()) for m in params["models"]}
    evaluations = {m: json.loads((timings / f"evaluate_{m}.json").read_text()) for m in params["models"]}
    return {
        "repro_forced_seconds": round(wall, 2),
        "stages": stages,
        "stage_seconds_sum": round(sum(s["startup_seconds"] + s["run_seconds"] for s in stages), 2),
        "startup_seconds_sum": round(sum(s["startup_seconds"] for s in stages), 2),
        "peak_rss_mb": max(s["peak_rss_mb"] for s in stages),
        "repro_noop_seconds": round(noop, 2), "repro_noop_ran": ran_stages(out),
        "plot_setting_change_seconds": round(plot_change, 2), "plot_setting_change_ran": ran_stages(plot_out),
        "models": {m: {"accuracy": metrics[m]["accuracy"], "epochs": params["train"][m]["epochs"],
                       "batch_size": params["train"][m]["batch_size"], "train_seconds": summaries[m]["train_seconds"],
                       "train_images_per_second": summaries[m]["train_images_per_second"],
                       "eval_images_per_second": evaluations[m]["inference_images_per_second"]}
                   for m in params["models"]},
    }


def ratios(ours: dict, baseline: dict, probe: dict) -> dict:
    out = {"repro_wall_over_baseline_wall": round(ours["repro_forced_seconds"] / baseline["wall_seconds"], 3),
           "cnn_pipeline_over_bare_fit_images_per_second": probe["cnn_input_images_per_second"]["pipeline_over_bare_fit"]}
    for m, mine in ours["models"].items():
        out[f"{m}_train_seconds_over_baseline"] = round(mine["train_seconds"] / baseline[m]["train_seconds"], 3)
        out[f"{m}_accuracy_minus_baseline"] = round(mine["accuracy"] - baseline[m]["accuracy"], 4)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "results.json")
    parser.add_argument("--baseline-epochs", type=int, default=10, help="the seed names no number; 10 is about "
                        "two minutes of its training here, as the speed issue measured it")
    parser.add_argument("--quick", action="store_true", help="2,000 images and 1 epoch: checks the bench, not speed")
    parser.add_argument("--mirror", help="where fetch gets MNIST if dataset/ has no copy (folder or base URL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mnist-bench-") as tmp:
        repo = workspace(Path(tmp), args.quick, args.mirror)
        tf_import, _ = run([sys.executable, "-c", "import digits, tensorflow"], repo)
        ours = pipeline(repo)
        probe = json.loads(run([sys.executable, "-m", "bench.probe"], repo)[1].splitlines()[-1])
        epochs = QUICK["epochs"] if args.quick else args.baseline_epochs
        baseline = json.loads(run([sys.executable, "-m", "bench.baseline", "--epochs", str(epochs)], repo)[1]
                              .splitlines()[-1])
    result = {"quick": args.quick, "tensorflow_import_seconds": round(tf_import, 2), "pipeline": ours,
              "probe": probe, "baseline": baseline, "ratios": ratios(ours, baseline, probe),
              "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps(result["ratios"], indent=2, sort_keys=True))
    print(f"bench: written to {args.out}")


if __name__ == "__main__":
    main()
