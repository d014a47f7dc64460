"""Benchmarks of the pipeline (``python -m bench.speed``); not part of ``dvc repro``. Their committed figures
live in ``bench/results/``: results.json (bench.speed), scale.json (bench.scale), gpu.json, levers.txt
(bench.levers), wild.json and wild_before.json (bench.wild)."""
