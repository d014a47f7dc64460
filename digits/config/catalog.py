"""The IDX datasets ``params.yaml``'s ``dataset`` can name: their files, pinned digests and class names.

Adding a dataset in the same format is one more entry in ``DATASETS`` (and its mirrors under ``fetch.mirrors``).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class IdxFile:
    raw_name: str  # the seed's naming, placed by hand: train-images.idx3-ubyte
    gz_name: str  # the mirrors' naming: train-images-idx3-ubyte.gz
    sha256: str  # of the decompressed bytes
    size: int  # of the decompressed bytes (header + items): the cap on inflating, downloading and reading it

    @property
    def names(self) -> tuple[str, str, str]:
        """Every naming a user's file may have, in the order looked for: the seed's raw name, the mirrors'
        gzip name, and what ``gunzip`` leaves of that (``train-images-idx3-ubyte``)."""
        return self.raw_name, self.gz_name, self.gz_name.removesuffix(".gz")


STEMS = ("train-images", "train-labels", "t10k-images", "t10k-labels")  # the order of ``Dataset.files``


@dataclass(frozen=True)
class Dataset:
    name: str
    files: tuple[IdxFile, ...]  # train images, train labels, test images, test labels
    class_names: tuple[str, ...]
    image_shape: tuple[int, int] = (28, 28)
    # The seed told users to put MNIST's four files straight into dataset/; those are used where they lie.
    top_level: bool = False

    def folders(self, root: str | Path) -> tuple[Path, ...]:
        """Where this dataset's files are looked for, in order: ``<root>/<name>/``, then ``<root>/`` itself
        for a dataset whose files users put there."""
        return (Path(root) / self.name, Path(root)) if self.top_level else (Path(root) / self.name,)


def _files(*digests: str, counts: tuple[int, int] = (60_000, 10_000), side: int = 28) -> tuple[IdxFile, ...]:
    """The four files under the usual names: ``train-images.idx3-ubyte`` raw, ``train-images-idx3-ubyte.gz``;
    ``counts`` training and test items of ``side``×``side`` images, which fix each file's size: a 16-byte header
    and one byte a pixel (47,040,016 bytes for MNIST's training images), or an 8-byte header and one a label."""
    dims = {"images": 3, "labels": 1}
    sizes = [16 + n * side * side if stem.endswith("images") else 8 + n
             for stem, n in zip(STEMS, (counts[0], counts[0], counts[1], counts[1]))]
    return tuple(IdxFile(f"{stem}.idx{dims[stem[-6:]]}-ubyte", f"{stem}-idx{dims[stem[-6:]]}-ubyte.gz", digest, size)
                 for stem, digest, size in zip(STEMS, digests, sizes, strict=True))


MNIST = Dataset(
    "mnist",
    _files("ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
             "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
             "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
             "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2"),
    class_names=tuple(str(d) for d in range(10)),
    top_level=True,
)
# Zalando's Fashion-MNIST, as Debian's dataset-fashion-mnist ships it (0.0~git20200523.55506a9-1).
FASHION_MNIST = Dataset(
    "fashion-mnist",
    _files("c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
             "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
             "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
             "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34"),
    class_names=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
)
DATASETS = {d.name: d for d in (MNIST, FASHION_MNIST)}


def get(name: str) -> Dataset:
    if name not in DATASETS:
        raise ValueError(f"unknown dataset {name!r}, expected one of {', '.join(DATASETS)}")
    return DATASETS[name]


def find_local(folders: Path | tuple[Path, ...], spec: IdxFile) -> Path | None:
    """Return the first file found for ``spec`` in ``folders`` (a folder or several, in order), under any of
    its namings (``IdxFile.names``), or None."""
    for folder in (folders,) if isinstance(folders, Path) else folders:
        for name in spec.names:
            if (folder / name).is_file():
                return folder / name
    return None


def not_found(folders: tuple[Path, ...], spec: IdxFile) -> str:
    """What was looked for and what lies there instead, for the message when ``spec`` is found nowhere."""
    where = []
    for folder in folders:
        present = sorted(p.name + ("/" if p.is_dir() else "") for p in folder.iterdir()
                         if not p.name.startswith(".")) if folder.is_dir() else None
        if present is None:
            shown = "no such folder"
        else:
            shown = "holds " + ", ".join(present[:8]) + (", ..." if len(present) > 8 else "") if present else "empty"
        where.append(f"{folder}/ ({shown})")
    return f"no {spec.gz_name.split('-idx')[0]} file: looked for {' or '.join(spec.names)} in " + " and ".join(where)
