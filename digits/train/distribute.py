"""``train.<model>.distribute``: the ``tf.distribute`` strategy that trains a model.

``none`` is TensorFlow's default: one device, the GPU when there is one. ``mirrored`` copies the model to
every GPU of this machine (or, with none, every logical CPU device) and splits each batch between them.
``multiworker`` does the same across machines described by the ``TF_CONFIG`` environment variable; every
worker runs ``python -m stages.train <model>`` and only the chief writes outputs. ``as_run_here`` adapts a
model's section to what this machine and strategy run well (its precision: ``digits.runtime.hardware``).
"""
from __future__ import annotations

import dataclasses
import json
import os
import sys

import tensorflow as tf

from digits.config import schema
from digits.runtime import hardware

KINDS = ("none", "mirrored", "multiworker")


def strategy(kind: str) -> tf.distribute.Strategy:
    """Create it before any other TensorFlow work: a multi-worker strategy must configure the runtime first."""
    if kind == "none":
        return tf.distribute.get_strategy()
    if kind == "mirrored":
        devices = tf.config.list_logical_devices("GPU") or tf.config.list_logical_devices("CPU")
        # Among CPU devices NCCL does not apply; summing on one device does.
        ops = None if devices[0].device_type == "GPU" else tf.distribute.ReductionToOneDevice()
        return tf.distribute.MirroredStrategy([d.name for d in devices], cross_device_ops=ops)
    if kind == "multiworker":
        return _MultiWorker()
    raise ValueError(f"distribute: {kind!r}, expected one of {', '.join(KINDS)}")


class _MultiWorker(tf.distribute.MultiWorkerMirroredStrategy):
    """Works around two Keras 3.15 calls that only the mirrored strategy's ``reduce`` accepts: ``fit`` reduces a
    whole (images, labels) batch at once, and the logs' scalars along axis 0. Here each tensor is reduced on
    its own, and a scalar across workers alone."""

    def reduce(self, reduce_op, value, axis):
        reduce_one = super().reduce

        def one(v):
            rank = self.experimental_local_results(v)[0].shape.rank
            return reduce_one(reduce_op, v, None if rank == 0 else axis)

        return tf.nest.map_structure(one, value)


def is_chief() -> bool:
    """Whether this process writes the outputs: the ``chief`` task if the cluster has one, else worker 0."""
    raw = os.environ.get("TF_CONFIG")
    if not raw:
        return True
    try:
        cfg = json.loads(raw)
        task, cluster = cfg.get("task", {}), cfg.get("cluster", {})
    except (ValueError, AttributeError):
        raise ValueError('TF_CONFIG: expected JSON {"cluster": {...}, "task": {"type": ..., "index": ...}}') from None
    if "chief" in cluster:
        return task.get("type") == "chief"
    return task.get("type", "worker") == "worker" and int(task.get("index", 0)) == 0


def as_run_here(name: str, cfg: schema.Recipe, machine: hardware.Machine | None = None) -> schema.Recipe:
    """``cfg`` as this machine and strategy run it: ``dtype_policy: auto`` made concrete (``digits.runtime.hardware``),
    said in one line; a slow choice or a change is noted on stderr."""
    policy, line = hardware.choose(name, cfg.dtype_policy, machine or hardware.this_machine(),
                                   convolutional=isinstance(cfg, schema.CnnConfig))
    print(line, file=sys.stderr if "warning" in line else sys.stdout, flush=True)
    cfg = dataclasses.replace(cfg, dtype_policy=policy)
    if cfg.distribute == "multiworker" and cfg.steps_per_execution > 1:
        # Keras 3.15's multi-step loop leaves a placeholder unfed under MultiWorkerMirroredStrategy; one step per
        # call changes the speed only (tests/test_reproducibility.py).
        print(f"train: {name}: steps_per_execution {cfg.steps_per_execution} -> 1 under multiworker",
              file=sys.stderr, flush=True)
        cfg = dataclasses.replace(cfg, steps_per_execution=1)
    return cfg
