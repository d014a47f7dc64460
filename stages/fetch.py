"""Stage ``fetch``: find or download the four IDX files of ``dataset``, each verified by SHA-256.

Inputs: files a user placed in ``dataset/<name>/`` or, for MNIST, straight in ``dataset/`` (the seed's
instruction), named ``train-images.idx3-ubyte`` (the seed), ``train-images-idx3-ubyte.gz`` (the mirrors) or
``train-images-idx3-ubyte`` (gunzipped); used as they are, never changed, moved or deleted. A file found
nowhere is copied, in a DVC experiment's temporary copy (``dvc exp run --temp``, ``--queue``), from the
repository it was made from, else downloaded from the dataset's ``fetch.mirrors`` (URLs or folders) into
``dataset/<name>/``.
Outputs: ``dataset/`` (persistent in dvc.yaml, so DVC notices any change to a placed file).
Command: ``python -m stages.fetch``.
"""
from __future__ import annotations

from pathlib import Path

from digits.config import schema
from digits.config import catalog
from digits.runtime import runner
from digits.data.fetch import experiment_origin, fetch_file


def main(params: schema.Params) -> None:
    dataset = catalog.get(params.dataset)
    folders = dataset.folders(schema.PATHS.dataset)
    folders[0].mkdir(parents=True, exist_ok=True)
    origin = experiment_origin(Path.cwd())
    origin_folders = dataset.folders(origin / schema.PATHS.dataset) if origin else ()
    for spec in dataset.files:
        path = fetch_file(folders, spec, params.fetch.mirrors.get(dataset.name, ()), params.fetch, origin_folders)
        print(f"fetch: {path} verified")


if __name__ == "__main__":
    runner.run_stage(main)
