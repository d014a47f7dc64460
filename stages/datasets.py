"""Which IDX files make up a dataset, under which names, with which pinned digests; and where a user put them."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IdxFile:
    raw_name: str  # the seed's naming, placed by hand
    gz_name: str  # the mirrors' naming
    sha256: str  # of the decompressed bytes


MNIST_FILES = (
    IdxFile("train-images.idx3-ubyte", "train-images-idx3-ubyte.gz",
            "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db"),
    IdxFile("train-labels.idx1-ubyte", "train-labels-idx1-ubyte.gz",
            "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5"),
    IdxFile("t10k-images.idx3-ubyte", "t10k-images-idx3-ubyte.gz",
            "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7"),
    IdxFile("t10k-labels.idx1-ubyte", "t10k-labels-idx1-ubyte.gz",
            "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
)


def find_local(folder: Path, spec: IdxFile) -> Path | None:
    """Return the file a user placed for ``spec`` (raw naming first), or None."""
    for name in (spec.raw_name, spec.gz_name):
        if (folder / name).is_file():
            return folder / name
    return None
