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

from digits import config, data, datasets, runner, splits
from digits.storage import remove_leftovers


def main(params: config.Params) -> None:
    folder = config.PATHS.data
    for name in data.SPLITS:  # a SIGKILLed run's temp folders, possibly gigabytes
        remove_leftovers(data.split_path(folder, name))
    dataset = datasets.get(params.dataset)
    folders = dataset.folders(config.PATHS.dataset)
    train, test = splits.read_pair(folders, dataset, "train"), splits.read_pair(folders, dataset, "test")
    parts = splits.split(train, test, params.prepare, params.seed)
    splits.check_space(Path(folder), parts, params.prepare.copies)
    train = parts.pop("train")
    splits.write_shards(data.split_path(folder, "train"), train, params.prepare, params.seed, dataset.class_names)
    print(f"prepare: train: {params.prepare.copies} shard(s) of {len(train[1])} images")
    for name, (images, labels) in parts.items():
        data.save_split(data.split_path(folder, name), images, labels, dataset.class_names)
        print(f"prepare: {name}: {len(labels)} images")


if __name__ == "__main__":
    runner.run_stage(main)
