"""Benchmarks of the pipeline (``python -m bench.speed``); not part of ``dvc repro``. Their committed figures
live in ``bench/results/``: results.json (bench.speed), scale.json (bench.scale), gpu.json, levers.txt
(bench.levers), wild.json and wild_before.json (bench.wild).

As in ``stages``, importing this package silences TensorFlow's start-up lines before any benchmark imports it
(``digits.runtime.quiet``)."""
from digits.runtime import quiet

quiet.install()
