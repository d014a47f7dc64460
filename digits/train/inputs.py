"""The training input: batches in a seeded order per epoch, from shards held in memory or streamed one at a time.

Both inputs yield the same batches (so ``train.<model>.input`` changes memory use and speed, not results): an
epoch visits the shards in an order drawn from (seed, epoch) and each shard's rows in a permutation drawn from
the same stream; a batch may span two shards. In memory, the uint8 images of all shards are one tensor (a byte
per pixel: 4× less than float32) and each batch is a ``tf.gather`` then ``arrays.preprocess`` inside the ``tf.data``
pipeline, on parallel threads (as fast as ``model.fit`` on arrays, bench/probe.py; one thread was 25% slower).
Streamed, a Python generator reads one uint8 shard at a time and ``arrays.preprocess`` scales each batch.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import numpy as np
import tensorflow as tf

from digits.data import arrays

Order = list[tuple[int, np.ndarray]]  # (shard, permutation of its rows), in the order an epoch visits them


def epoch_order(sizes: list[int], seed: int, epoch: int) -> Order:
    """From (``seed``, ``epoch``) alone, so a resumed run takes the same batches as an uninterrupted one."""
    rng = np.random.default_rng([seed, epoch])
    return [(int(s), rng.permutation(sizes[s])) for s in rng.permutation(len(sizes))]


def batches(shard: Callable[[int], arrays.Arrays], order: Order, batch_size: int,
            num_classes: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(float images, one-hot labels) batches of ``batch_size`` (the last may be smaller) in ``order``."""
    eye = np.eye(num_classes, dtype=np.float32)
    pending: list[tuple[np.ndarray, np.ndarray]] = []
    filled = 0
    for index, perm in order:
        images, labels = shard(index)
        taken = 0
        while taken < len(perm):
            rows = perm[taken: taken + batch_size - filled]
            pending.append((images[rows], labels[rows]))
            taken, filled = taken + len(rows), filled + len(rows)
            if filled == batch_size:
                yield _joined(pending, eye)
                pending, filled = [], 0
        # a shard's tail shorter than a batch waits in `pending` for the next shard's rows
    if filled:
        yield _joined(pending, eye)


def _joined(parts: list[tuple[np.ndarray, np.ndarray]], eye: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    images = parts[0][0] if len(parts) == 1 else np.concatenate([p[0] for p in parts])
    labels = parts[0][1] if len(parts) == 1 else np.concatenate([p[1] for p in parts])
    return arrays.preprocess(images), eye[labels]


class Shards:
    """Training shards: all held in memory, or (``stream``) loaded one at a time as an epoch reaches them."""

    def __init__(self, sizes: list[int], load: Callable[[int], arrays.Arrays], stream: bool):
        self.sizes, self.stream, self._load = sizes, stream, load
        self._held: dict[int, arrays.Arrays] = {}  # the last shard loaded
        self.image_shape = self(0)[0].shape[1:]
        self._tensors: tuple[tf.Tensor, tf.Tensor] | None = None  # memory input: all images, made on first use

    @classmethod
    def open(cls, paths: list[Path], stream: bool) -> Shards:
        """The shard files ``prepare`` wrote (``arrays.train_shards``); only their labels are read until used."""
        return cls([arrays.split_size(path) for path in paths], lambda i: arrays.load_split(paths[i]), stream)

    def offsets(self) -> np.ndarray:
        """Where each shard starts among all rows, and the total at the end."""
        return np.cumsum([0, *self.sizes])

    def _in_memory(self) -> tuple[tf.Tensor, tf.Tensor]:
        """All shards' uint8 images and int32 labels, filled in shard by shard: at most the data twice over
        (array, then tensor) and one shard, while it is made."""
        if self._tensors is None:
            images = np.empty((len(self), *self.image_shape), dtype=np.uint8)
            labels = np.empty(len(self), dtype=np.int32)
            offsets = self.offsets()
            for index, (start, end) in enumerate(zip(offsets[:-1], offsets[1:])):
                images[start:end], labels[start:end] = self(index)
            self._held = {}
            with tf.device("/CPU:0"):  # where tf.data runs; on a GPU machine it would otherwise land in GPU memory
                self._tensors = (tf.constant(images), tf.constant(labels))
        return self._tensors

    def __len__(self) -> int:
        return sum(self.sizes)

    def __call__(self, index: int) -> arrays.Arrays:
        if index not in self._held:
            self._held = {}  # the previous shard is dropped first
            self._held = {index: self._load(index)}
        return self._held[index]

    def dataset(self, seed: int, epoch: int, batch_size: int, num_classes: int) -> tf.data.Dataset:
        """Epoch ``epoch``'s batches; a background thread prepares the next while a step runs."""
        order = epoch_order(self.sizes, seed, epoch)
        if self.stream:
            spec = (tf.TensorSpec((None, *self.image_shape), tf.float32),
                    tf.TensorSpec((None, num_classes), tf.float32))
            ds = tf.data.Dataset.from_generator(lambda: batches(self, order, batch_size, num_classes),
                                                output_signature=spec)
        else:
            images, labels = self._in_memory()
            offsets = self.offsets()
            rows = np.concatenate([offsets[shard] + perm for shard, perm in order])  # as `batches` visits them
            ds = tf.data.Dataset.from_tensor_slices(rows).batch(batch_size).map(
                lambda i: (arrays.preprocess(tf.gather(images, i)), tf.one_hot(tf.gather(labels, i), num_classes)),
                num_parallel_calls=tf.data.AUTOTUNE)
        # Known length: Keras' progress bar shows the total; DATA sharding: each worker of a multi-worker
        # strategy keeps its part of every batch (a generator has no files to shard by).
        ds = ds.apply(tf.data.experimental.assert_cardinality(-(-len(self) // batch_size))).prefetch(2)
        options = tf.data.Options()
        options.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        return ds.with_options(options)


def fits_in_memory(paths: list[Path], fraction: float = 0.5) -> bool:
    """Whether the shard files' bytes are at most ``fraction`` of the memory available now (``auto`` input)."""
    size = sum(path.stat().st_size for path in paths)
    return size <= fraction * available_memory()


def available_memory() -> int:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")
