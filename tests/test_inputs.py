"""Training input and data scale: shards written by ``prepare.copies``, the batches both inputs yield (the same
ones, each row once per epoch), streaming that holds one shard at a time, and a streamed run of ``train``."""
from __future__ import annotations

import json

import numpy as np
import pytest
import yaml

from conftest import project_after, shards_in_memory, tiny_params
from digits.data import arrays, prepare
from digits.train import inputs


def random_arrays(n: int, seed: int = 0) -> arrays.Arrays:
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, 28, 28), dtype=np.uint8), rng.integers(0, 10, n).astype(np.uint8)


def all_batches(shards: inputs.Shards, seed: int, epoch: int, batch_size: int) -> list[tuple[np.ndarray, np.ndarray]]:
    return list(inputs.batches(shards, inputs.epoch_order(shards.sizes, seed, epoch), batch_size, 10))


def test_each_row_once_per_epoch_in_a_seeded_order():
    parts = [random_arrays(50, 1), random_arrays(50, 2), random_arrays(23, 3)]  # batches span shards; the last is short
    shards = shards_in_memory(*parts)
    got = all_batches(shards, seed=5, epoch=0, batch_size=16)
    assert [len(x) for x, _ in got] == [16] * 7 + [11]
    images = np.concatenate([x for x, _ in got])
    expected = arrays.preprocess(np.concatenate([p[0] for p in parts]))
    # every row exactly once: same multiset of rows (sorted by their bytes)
    assert sorted(map(bytes, images.reshape(len(images), -1))) == sorted(map(bytes, expected.reshape(123, -1)))
    labels = np.concatenate([y for _, y in got])
    assert labels.shape == (123, 10) and np.all(labels.sum(axis=1) == 1)
    again = all_batches(shards, seed=5, epoch=0, batch_size=16)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(got, again))
    other = all_batches(shards, seed=5, epoch=1, batch_size=16)
    assert not np.array_equal(got[0][0], other[0][0])


def test_streaming_holds_one_shard_and_yields_the_same_batches():
    parts = [random_arrays(40, s) for s in range(4)]
    loads: list[int] = []

    def load(i: int) -> arrays.Arrays:
        loads.append(i)
        return parts[i]

    streamed = inputs.Shards([40] * 4, load, stream=True)
    loads.clear()  # the constructor peeks at one shard for the image shape
    order = inputs.epoch_order(streamed.sizes, 3, 0)
    batches = inputs.batches(streamed, order, 32, 10)
    next(batches)
    assert loads == [order[0][0]] and len(streamed._held) == 1  # nothing read ahead
    rest = list(batches)
    assert sorted(loads) == [0, 1, 2, 3] and len(streamed._held) == 1
    in_memory = all_batches(shards_in_memory(*parts), 3, 0, 32)
    assert len(rest) + 1 == len(in_memory)
    assert all(np.array_equal(a[0], b[0]) for a, b in zip(rest, in_memory[1:]))


def test_memory_and_stream_datasets_give_the_same_batches():
    parts = [random_arrays(40, s) for s in range(3)]
    in_memory = shards_in_memory(*parts).dataset(1, 2, 32, 10)
    streamed = inputs.Shards([40] * 3, lambda i: parts[i], stream=True).dataset(1, 2, 32, 10)
    a, b = list(in_memory.as_numpy_iterator()), list(streamed.as_numpy_iterator())
    assert [len(x) for x, _ in a] == [32, 32, 32, 24] == [len(x) for x, _ in b]
    assert all(np.array_equal(x1, x2) and np.array_equal(y1, y2) for (x1, y1), (x2, y2) in zip(a, b))
    assert a[0][0].dtype == np.float32 and a[0][0].max() <= 1.0


def test_shifted_copies_move_whole_images():
    images, _ = random_arrays(200)
    moved = prepare.shifted(images, 2, np.random.default_rng(0))
    padded = np.pad(images, ((0, 0), (2, 2), (2, 2)))
    for original, copy in zip(padded, moved):
        windows = [original[2 - a: 30 - a, 2 - b: 30 - b] for a in range(-2, 3) for b in range(-2, 3)]
        assert any(np.array_equal(copy, w) for w in windows)
    assert not np.array_equal(moved, images)
    assert np.array_equal(prepare.shifted(images, 0, np.random.default_rng(0)), images)


@pytest.fixture(scope="module")
def scaled(tmp_path_factory, mnist_dir):
    """A project prepared with 3 copies (600 images each), then streamed through ``train``."""
    root = tmp_path_factory.mktemp("scaled")
    params = tiny_params(mnist_dir, train_limit=667, copies=3)
    params["train"]["dense"].update(input="stream")
    return project_after(root, params, ("fetch",), ("prepare",), ("train", "dense"))


def test_copies_are_shards_with_the_same_labels(scaled):
    shards = arrays.train_shards(scaled / "artifacts/data")
    assert [p.name for p in shards] == ["00000.npz", "00001.npz", "00002.npz"]
    (first, labels), (second, labels2) = arrays.load_split(shards[0]), arrays.load_split(shards[1])
    assert len(labels) == 600 and np.array_equal(labels, labels2) and not np.array_equal(first, second)


def test_fewer_copies_leave_no_stale_shards(scaled, tmp_path):
    import shutil

    project = tmp_path / "p"
    shutil.copytree(scaled, project, symlinks=True)
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["prepare"]["copies"] = 1
    project_after(project, params, ("prepare",))
    assert [p.name for p in arrays.train_shards(project / "artifacts/data")] == ["00000.npz"]


def test_streamed_training_sees_every_copy(scaled):
    timing = json.loads((scaled / "artifacts/timings/train_dense.json").read_text())
    assert timing["train_images"] == 1800 and timing["train_images_per_second"] > 0
    history = (scaled / "artifacts/train/dense/history.csv").read_text().splitlines()
    assert len(history) == 3  # header and two epochs
    assert (scaled / "artifacts/models/dense.keras").is_file()


def test_memory_input_holds_a_byte_per_pixel_and_no_loaded_shards():
    parts = [random_arrays(40, s) for s in range(3)]
    shards = inputs.Shards([40] * 3, lambda i: parts[i], stream=False)
    list(shards.dataset(0, 0, 32, 10).take(1))
    images, labels = shards._in_memory()
    assert images.dtype.name == "uint8" and tuple(images.shape) == (120, 28, 28) and labels.shape == (120,)
    assert np.array_equal(images.numpy(), np.concatenate([p[0] for p in parts]))
    assert shards._held == {}  # the numpy shards are not kept beside the tensor
