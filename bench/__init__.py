"""Benchmarks of the pipeline (``python -m bench.speed``); not part of ``dvc repro``."""
