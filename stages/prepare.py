"""Stage ``prepare``: parse the IDX files of ``dataset`` into cached arrays with a seeded validation split.

Inputs: the files ``fetch`` verified in ``dataset/<name>/`` or ``dataset/`` (any of their namings).
Outputs: ``artifacts/data/{val,test}.npz`` and the training
shards ``artifacts/data/train/00000.npz`` ... (uint8 images N×28×28 under ``images``, uint8 labels under ``labels``,
``class_names``): shard 0 is the training split, shards 1.. are ``prepare.copies - 1`` copies of it, each image
shifted by up to ``prepare.copy_shift`` pixels (a bigger dataset for scale tests, made without TensorFlow).
Command: ``python -m stages.prepare``.
"""
from __future__ import annotations

from pathlib import Path

from digits.config import schema
from digits.data import arrays, prepare
from digits.config import catalog
from digits.runtime import runner
from digits.runtime.storage import remove_leftovers


def main(params: schema.Params) -> None:
    folder = schema.PATHS.data
    for name in arrays.SPLITS:  # a SIGKILLed run's temp folders, possibly gigabytes
        remove_leftovers(arrays.split_path(folder, name))
    dataset = catalog.get(params.dataset)
    folders = dataset.folders(schema.PATHS.dataset)
    train, test = prepare.read_pair(folders, dataset, "train"), prepare.read_pair(folders, dataset, "test")
    parts = prepare.split(train, test, params.prepare, params.seed)
    prepare.check_space(Path(folder), parts, params.prepare.copies)
    train = parts.pop("train")
    prepare.write_shards(arrays.split_path(folder, "train"), train, params.prepare, params.seed, dataset.class_names)
    print(f"prepare: train: {params.prepare.copies} shard(s) of {len(train[1])} images")
    for name, (images, labels) in parts.items():
        arrays.save_split(arrays.split_path(folder, name), images, labels, dataset.class_names)
        print(f"prepare: {name}: {len(labels)} images")


if __name__ == "__main__":
    runner.run_stage(main)
