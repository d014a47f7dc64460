"""Stage ``train@<model>``: fit the dense model or the CNN on the prepared arrays (``digits.train.training``).

Inputs: ``artifacts/data/train/`` (shards), ``artifacts/data/val.npz``, params ``seed`` and ``train.<model>``
(``dtype_policy: auto`` becomes this machine's precision, said in one line: ``digits.runtime.hardware``).
Outputs: ``artifacts/models/<model>.keras`` (without the training-only augmentation layers; the same bytes for
the same weights, ``digits.export.reproducible``) and ``artifacts/train/<model>/history.csv`` (per-epoch loss, accuracy,
val_loss, val_accuracy, learning_rate). The saved model is calibrated: a temperature T fitted on the validation
split (``digits.train.calibration``) divides its last layer's weights, and ``artifacts/train/<model>/calibration.json``
records T with the validation NLL and ECE before and after. Timings go apart from results, to
``artifacts/timings/train_<model>.json`` (training seconds; images/second, the median epoch after the first,
validation excluded), neither a DVC output nor in git. While it runs, ``artifacts/checkpoints/<model>/`` holds the
last completed epoch, from which a rerun after a kill resumes. Command: ``python -m stages.train dense|cnn``.
"""
from __future__ import annotations

import shutil
import tempfile
import time
from pathlib import Path

from digits.config import schema
from digits.data import arrays
from digits.export import formats, reproducible
from digits.runtime import hardware, runner
from digits.train import calibration, checkpoint, distribute, models, training
from digits.runtime.storage import atomic_path, write_json


def main(params: schema.Params, name: str) -> None:
    cfg = getattr(params.train, name)
    threads = hardware.pin_threads(cfg.threads)  # before the strategy, which starts TensorFlow's runtime
    strategy, chief = distribute.strategy(cfg.distribute), distribute.is_chief()
    training.seed_everything(params.seed)
    cfg = distribute.as_run_here(name, cfg)
    train, shards, val_path, stream = training.training_data(cfg)
    print(f"train: {name}: {len(train)} images in {len(train.sizes)} shard(s), "
          f"{'streamed' if stream else 'in memory'}, {strategy.num_replicas_in_sync} replica(s), {threads}", flush=True)
    saved = Path(schema.PATHS.checkpoints) / name
    # Workers of a multi-worker run must take the same steps: none resumes, only the chief writes.
    resume = (saved, checkpoint.fingerprint(name, cfg, params.seed, (*shards, val_path))) \
        if cfg.distribute != "multiworker" else None
    logs = Path(schema.PATHS.train_logs) / name
    history = logs / "history.csv" if chief else Path(tempfile.mkdtemp()) / "history.csv"
    start, val = time.perf_counter(), arrays.load_split(val_path)
    model, speeds = training.fit(name, cfg, train, val, len(arrays.load_class_names(val_path)),
                                 history, params.seed, resume, strategy=strategy)
    seconds = time.perf_counter() - start
    if not chief:
        shutil.rmtree(history.parent, ignore_errors=True)
        return
    inference = models.inference_model(model)
    report = calibration.calibrate(inference, arrays.preprocess(val[0]), val[1])  # T baked into the last layer
    with atomic_path(formats.keras_path(name)) as tmp:
        inference.save(tmp)
        reproducible.keras_archive(tmp)
    write_json(calibration.report_path(name), report)
    checkpoint.clear(saved)
    print(f"train: {name}: wrote {formats.keras_path(name)} ({training.last_epoch(history)}; "
          f"temperature {report['temperature']})", flush=True)
    write_json(Path(schema.PATHS.timings) / f"train_{name}.json",
               {"train_seconds": round(seconds, 2), "train_images": len(train),
                "train_images_per_second": round(training.steady_speed(speeds), 1)})


if __name__ == "__main__":
    runner.run_stage(main, per_model=True)
