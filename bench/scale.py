"""How time and memory grow with the data: MNIST's training split tiled 1×, 2×, 5× and 10× by ``prepare.copies``
(each copy shifted), then one epoch of ``train@<model>`` with the shards held in memory and streamed.

Works in a scratch copy of the working tree, like ``bench.speed``; writes stage timings and peak memory per
size and input to ``--out``. Command: ``python -m bench.scale [--copies 1 2 5 10] [--model dense] [--out ...]``.
"""
from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

import yaml

from digits.config import schema
from bench.speed import ROOT, run, stage_timings, workspace


def measure(repo: Path, copies: int, model: str, epochs: int) -> list[dict]:
    """Prepare ``copies`` shards, train ``model`` with each input; one timing line per process."""
    params = yaml.safe_load((repo / "params.yaml").read_text())
    params["prepare"]["copies"] = copies
    params["train"][model]["epochs"] = epochs
    rows = []
    for stage, input_kind in (("prepare", None), ("train", "memory"), ("train", "stream")):
        if input_kind:
            params["train"][model]["input"] = input_kind
        (repo / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        wall, _ = run([sys.executable, "-m", f"stages.{stage}", *([model] if input_kind else [])], repo, {})
        (line,) = stage_timings(repo, ["@".join([stage, *([model] if input_kind else [])])])
        summary = repo / schema.PATHS.timings / f"train_{model}.json"
        rows.append({"copies": copies, "stage": line["stage"], "input": input_kind, "wall_seconds": round(wall, 2),
                     "run_seconds": line["run_seconds"], "peak_rss_mb": line["peak_rss_mb"],
                     **({"train_images_per_second": json.loads(summary.read_text())["train_images_per_second"]}
                        if input_kind else {})})
        print(json.dumps(rows[-1], sort_keys=True), flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--copies", type=int, nargs="+", default=[1, 2, 5, 10])
    parser.add_argument("--model", default="dense", choices=["dense", "cnn"])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "scale.json")
    parser.add_argument("--mirror", help="where fetch gets MNIST if dataset/ has no copy (folder or base URL)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="mnist-scale-") as tmp:
        repo = workspace(Path(tmp), quick=False, mirror=args.mirror)
        run([sys.executable, "-m", "stages.fetch"], repo)
        rows = [row for copies in args.copies for row in measure(repo, copies, args.model, args.epochs)]
    args.out.write_text(json.dumps({"model": args.model, "epochs": args.epochs, "rows": rows}, indent=2,
                                   sort_keys=True) + "\n")
    print(f"bench: written to {args.out}")


if __name__ == "__main__":
    main()
