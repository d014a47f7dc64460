"""Where the pipeline's time goes, against the seed's recipe, on full MNIST, on each CPU kind.

For each kind in ``KINDS`` (this CPU as it is, and a CPU without AVX-512 emulated by ``ONEDNN_MAX_CPU_ISA=AVX2``),
in its own scratch copy of this working tree (the user's ``artifacts/`` are not touched) and with every process in
that kind's environment: the CPU's features and a CNN training step in float32 and bf16 (``bench.steps``: the check
that the emulation behaves like such a CPU), a forced ``dvc repro`` stage by stage (start-up with TensorFlow's
import, run time, peak memory: ``stage_timings``), a no-op ``dvc repro``, a change of one plot setting
(which must rerun ``plots`` alone), training and evaluation images/second from the outputs, and ``bench.baseline``
(the seed's recipe) with the our/baseline ratio. Then, on this CPU as it is, ``bench.probe`` (CNN test accuracy
per epoch, bare ``model.fit`` throughput; ``--no-probe`` skips it). ``--set train.cnn.epochs=2`` (repeatable) changes
the scratch copy's ``params.yaml`` as ``dvc exp run -S`` would, to time another recipe. All of it goes to ``--out``.
Command: ``python -m bench.speed [--out bench/results/results.json] [--kinds native,avx2] [--baseline-epochs 10]
[--quick] [--set KEY=VALUE ...] [--no-probe]``.

Targets, read from the results rather than asserted by the tests (which share a busy machine): on every kind a
forced repro in at most 0.5x the seed recipe's time and under 3 minutes (``kinds.<kind>.ratios``,
``kinds.<kind>.pipeline.repro_forced_seconds``), a no-op ``dvc repro`` in under 3 s, and ``prepare`` on all 70,000
images in under a second (its ``run_seconds`` in ``pipeline.stages``).
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

from bench import quick as quick_try
from harness.workspace import ROOT, commit_all, copy_tree
from digits.config import schema

# --quick, a smoke run of the whole bench: the quick try's settings (bench.quick: every stage small, one epoch),
# and one epoch of the seed's recipe.
def settings(items: list[str] | tuple[str, ...]) -> dict:
    """``KEY=VALUE`` strings (``dvc exp run -S``'s form) as {dotted key: value read as YAML}."""
    return {key: yaml.safe_load(value) for key, value in (item.split("=", 1) for item in items)}


QUICK = settings(quick_try.QUICK)
QUICK_BASELINE_EPOCHS = 1
# CPU kinds, each the environment all of its processes run in. This machine as it is, and the common CPU without
# AVX-512, emulated by capping oneDNN at AVX2: float32 at AVX2 speed, no bf16 (docs/results.md, "CPU kinds").
KINDS = {"native": {}, "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"}}


def run(cmd: list[str], cwd: Path, env: dict | None = None) -> tuple[float, str]:
    """Run ``cmd``; return (wall seconds, stdout). Its stderr passes through, so progress shows."""
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, stdout=subprocess.PIPE, text=True)
    if done.returncode:
        sys.exit(f"error: {' '.join(cmd)} failed (exit {done.returncode}) in {cwd}:\n{done.stdout[-2000:]}")
    return time.perf_counter() - start, done.stdout


def workspace(dest: Path, quick: bool, mirror: str | None = None, overrides: dict | None = None) -> Path:
    """A git + DVC copy of the working tree (``harness.workspace``) with this dataset folder; ``mirror`` (a folder
    or URL with the gzip files) replaces the dataset's mirrors for ``fetch``; ``overrides`` maps dotted params
    keys to values."""
    copy_tree(dest)
    params = yaml.safe_load((dest / "params.yaml").read_text())
    if (ROOT / schema.PATHS.dataset).is_dir():  # loose files or dataset/<name>/ folders, as the user placed them
        shutil.copytree(ROOT / schema.PATHS.dataset, dest / schema.PATHS.dataset, dirs_exist_ok=True)
    if mirror:
        params["fetch"]["mirrors"][params["dataset"]] = [str(mirror)]
    for key, value in {**(QUICK if quick else {}), **(overrides or {})}.items():
        *parents, leaf = key.split(".")
        node = params
        for part in parents:
            node = node[part]
        if leaf not in node:
            sys.exit(f"error: --set {key}: params.yaml has no such key")
        node[leaf] = value
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return commit_all(dest, "bench", ("bench", "bench@localhost"))


def ran_stages(output: str) -> list[str]:
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")]


def stage_timings(repo: Path, names: list[str] | None = None) -> list[dict]:
    """The timing each stage (``names``, default all) in ``repo`` wrote for its last run (``runner.stage_timing``),
    its ``run_seconds`` (``main`` alone) beside: ``{stage, seconds, startup_seconds, run_seconds, peak_rss_mb,
    tensorflow}``."""
    folder = repo / schema.PATHS.timings / "stages"
    files = sorted(folder.glob("*.json")) if names is None else [folder / f"{name}.json" for name in names]
    rows = [{"stage": f.stem, **json.loads(f.read_text())} for f in files]
    return [{**r, "run_seconds": round(r["seconds"] - r["startup_seconds"], 2)} for r in rows]


def pipeline(repo: Path, env: dict) -> dict:
    shutil.rmtree(repo / schema.PATHS.timings / "stages", ignore_errors=True)  # the scratch copy's: this run's only
    wall, _ = run([sys.executable, "-m", "dvc", "repro", "-f"], repo, env)
    stages = stage_timings(repo)
    noop, out = run([sys.executable, "-m", "dvc", "repro"], repo, env)
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["plots"]["dpi"] += 1
    (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    plot_change, plot_out = run([sys.executable, "-m", "dvc", "repro"], repo, env)
    metrics = {m: json.loads((repo / schema.PATHS.metrics / f"{m}.json").read_text()) for m in params["models"]}
    timings = repo / schema.PATHS.timings
    summaries = {m: json.loads((timings / f"train_{m}.json").read_text()) for m in params["models"]}
    evaluations = {m: json.loads((timings / f"evaluate_{m}.json").read_text()) for m in params["models"]}
    return {
        "repro_forced_seconds": round(wall, 2),
        "stages": stages,
        "stage_seconds_sum": round(sum(s["seconds"] for s in stages), 2),
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


def ratios(ours: dict, baseline: dict) -> dict:
    out = {"repro_wall_over_baseline_wall": round(ours["repro_forced_seconds"] / baseline["wall_seconds"], 3)}
    for m, mine in ours["models"].items():
        out[f"{m}_train_seconds_over_baseline"] = round(mine["train_seconds"] / baseline[m]["train_seconds"], 3)
        out[f"{m}_accuracy_minus_baseline"] = round(mine["accuracy"] - baseline[m]["accuracy"], 4)
    return out


def one_kind(kind: str, quick: bool, mirror: str | None, baseline_epochs: int, overrides: dict) -> dict:
    """The whole comparison on CPU kind ``kind`` (``KINDS``: the environment every process of it runs in), in its
    own scratch copy: the CPU's features, a CNN step in each precision, the forced repro, the seed's recipe."""
    env = KINDS[kind]
    with tempfile.TemporaryDirectory(prefix="mnist-bench-") as tmp:
        repo = workspace(Path(tmp), quick, mirror, overrides)
        steps = json.loads(run([sys.executable, "-m", "bench.steps", "--steps", "5" if quick else "30"], repo,
                               env)[1].splitlines()[-1])
        ours = pipeline(repo, env)
        baseline = json.loads(run([sys.executable, "-m", "bench.baseline", "--epochs", str(baseline_epochs)], repo,
                                  env)[1].splitlines()[-1])
    print(f"bench: {kind}: forced repro {ours['repro_forced_seconds']} s, seed's recipe {baseline['wall_seconds']} s",
          file=sys.stderr, flush=True)
    return {"environment": env, **steps, "pipeline": ours, "baseline": baseline, "ratios": ratios(ours, baseline)}


def in_memory_figures(quick: bool, mirror: str | None, overrides: dict) -> dict:
    """The TensorFlow import, and ``bench.probe``'s accuracy per epoch and input speed, on this CPU as it is."""
    with tempfile.TemporaryDirectory(prefix="mnist-bench-") as tmp:
        repo = workspace(Path(tmp), quick, mirror, overrides)
        tf_import, _ = run([sys.executable, "-c", "import bench, tensorflow"], repo)
        run([sys.executable, "-m", "dvc", "repro", "prepare"], repo)
        probe = json.loads(run([sys.executable, "-m", "bench.probe"], repo)[1].splitlines()[-1])
    return {"tensorflow_import_seconds": round(tf_import, 2), "probe": probe}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "results.json")
    parser.add_argument("--baseline-epochs", type=int, default=10, help="the seed names no number; 10 is about "
                        "two minutes of its training here, as the speed issue measured it")
    parser.add_argument("--kinds", default=",".join(KINDS), help="CPU kinds to measure, of " + ", ".join(KINDS))
    parser.add_argument("--quick", action="store_true",
                        help="the quick try's settings (bench.quick), 1 epoch: checks the bench, not speed")
    parser.add_argument("--mirror", help="where fetch gets MNIST if dataset/ has no copy (folder or base URL)")
    parser.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                        help="a params.yaml value for this bench's copy, e.g. train.cnn.epochs=2 (repeatable)")
    parser.add_argument("--no-probe", action="store_true", help="skip bench.probe and the TensorFlow import time")
    args = parser.parse_args()
    if any("=" not in item for item in args.overrides):
        parser.error("--set: expected KEY=VALUE, e.g. train.cnn.epochs=2")
    overrides = settings(args.overrides)
    kinds = args.kinds.split(",")
    if not set(kinds) <= set(KINDS):
        parser.error(f"--kinds: expected some of {', '.join(KINDS)}, got {args.kinds!r}")
    epochs = QUICK_BASELINE_EPOCHS if args.quick else args.baseline_epochs
    result = {"quick": args.quick, "params_set": overrides,
              "kinds": {k: one_kind(k, args.quick, args.mirror, epochs, overrides) for k in kinds},
              **({} if args.no_probe else in_memory_figures(args.quick, args.mirror, overrides)),
              "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]}}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, sort_keys=True) + "\n")
    print(json.dumps({k: v["ratios"] for k, v in result["kinds"].items()}, indent=2, sort_keys=True))
    print(f"bench: written to {args.out}")


if __name__ == "__main__":
    main()
