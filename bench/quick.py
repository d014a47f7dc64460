"""A quick try: every stage of the pipeline on a few thousand images, one epoch per model, in a minute or so.

It runs ``dvc exp run --temp`` with the small params below: a DVC experiment in a temporary copy of the repository,
listed afterwards by ``dvc exp show`` (``dvc exp apply NAME`` would bring it into the workspace). The workspace's
params.yaml, dvc.lock, artifacts/ and dataset/ are not touched, and neither is git's working tree.

That temporary copy holds no git-ignored files, so not the MNIST files placed in dataset/, and DVC's checkout there
empties a copied dataset/ (``--copy-paths``) whose version is not in the DVC cache (a fresh clone). So the placed
files are handed to ``fetch`` as a local mirror (``-S fetch.mirrors.mnist=[...]``): it copies them from here
instead of downloading. Files under the seed's raw naming are gzipped once into .dvc/tmp/quick/ for that.

Command: ``python -m bench.quick [dvc exp run options, e.g. -n NAME]``; it prints the ``dvc`` command it runs.
"""
from __future__ import annotations

import gzip
import json
import shlex
import subprocess
import sys
import time
from pathlib import Path

from digits.config import schema
from digits.config import catalog

# A few thousand images keep every stage's work real (a validation split, 15 corruptions of 1,000 test images,
# full plot grids, both export formats) while TensorFlow's start-up in each stage is most of the time left.
QUICK = ("prepare.train_limit=5000", "prepare.test_limit=1000", "train.dense.epochs=1", "train.cnn.epochs=1",
         "nondigit.epochs=1", "nondigit.per_kind=100", "nondigit.per_class=10", "nondigit.pairs=100",
         "nondigit.check=20")
GZ_COPIES = Path(".dvc/tmp/quick")  # git-ignored by DVC's own .dvc/.gitignore


def local_mirrors(root: Path, name: str) -> list[str]:
    """Absolute folders holding ``name``'s four files under the mirrors' .gz names, made from the files placed in
    ``root``/dataset/ as ``fetch`` finds them; [] when any file is missing (``fetch`` then uses the DVC cache
    after a ``dvc repro``, or the configured mirrors)."""
    dataset = catalog.get(name)
    folders = dataset.folders(root / schema.PATHS.dataset)
    found = [catalog.find_local(folders, spec) for spec in dataset.files]
    if not all(found):
        return []
    if all(path.name == spec.gz_name for path, spec in zip(found, dataset.files)):
        return list(dict.fromkeys(str(path.parent.resolve()) for path in found))
    out = root / GZ_COPIES / name
    out.mkdir(parents=True, exist_ok=True)
    for path, spec in zip(found, dataset.files):
        data = path.read_bytes()
        (out / spec.gz_name).write_bytes(data if path.name == spec.gz_name else gzip.compress(data, 1, mtime=0))
    return [str(out.resolve())]


def command(root: Path, extra: list[str]) -> list[str]:
    """The ``dvc exp run --temp`` command line of a quick try in the project at ``root``."""
    name = schema.load_params(root / schema.PARAMS_FILE).dataset
    sets = list(QUICK)
    if mirrors := local_mirrors(root, name):
        sets.append(f"fetch.mirrors.{name}={json.dumps(mirrors)}")
    return [sys.executable, "-m", "dvc", "exp", "run", "--temp", *(a for s in sets for a in ("-S", s)), *extra]


def main(argv: list[str]) -> int:
    cmd = command(Path.cwd(), argv)
    print("quick:", shlex.join(["dvc", *cmd[3:]]), flush=True)
    start = time.perf_counter()
    code = subprocess.run(cmd).returncode
    if code == 0:
        print(f"quick: done in {time.perf_counter() - start:.0f} s; compare with `dvc exp show`")
    return code


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
