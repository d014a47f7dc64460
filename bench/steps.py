"""One CNN training step's time in each precision, under this process's environment: the check that an emulated CPU
kind (``ONEDNN_MAX_CPU_ISA=AVX2``) behaves like the real one (float32 at AVX2 speed, bf16 unable to run natively)
and the cost of bf16 without bf16 instructions (``TF_ENABLE_ONEDNN_OPTS=0``: Eigen's emulation).

The model is ``train.cnn``'s (augmentation included), on random images, batch ``train.cnn.batch_size``, one step
per call; the median of ``--steps`` steps after warm-up. A policy that cannot run here is reported with its error's
first line. ``bench.speed`` runs it once per CPU kind. Command: ``python -m bench.steps [--steps 30]``; prints
one JSON line.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import subprocess
import sys
import time

import numpy as np

from digits.config import schema
from digits.runtime import hardware

POLICIES = ("float32", "mixed_bfloat16")
MACHINE_FLAGS = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16")  # what decides speed and bytes here


def cpu_kind() -> dict:
    """The CPU's model name, the flags that matter here, and the oneDNN settings in force."""
    machine = hardware.this_machine()
    return {"model_name": hardware.cpu_info("model name"),
            "flags": [f for f in MACHINE_FLAGS if f in machine.cpu_flags],
            "onednn_max_cpu_isa": machine.isa_cap or None, "onednn_opts": machine.onednn,
            "auto_precision": hardware.choose("cnn", "auto", machine)[0]}


def step_ms(policy: str, steps: int) -> float:
    import keras

    from digits.train import models

    cfg = dataclasses.replace(schema.load_params().train.cnn, dtype_policy=policy, steps_per_execution=1)
    model = models.compiled("cnn", cfg, (28, 28), 10, steps)
    rng = np.random.default_rng(0)
    x = rng.random((cfg.batch_size, 28, 28), dtype=np.float32)
    y = keras.utils.to_categorical(rng.integers(0, 10, cfg.batch_size), 10)
    times = []
    for i in range(steps + 5):  # the first steps trace and warm up
        start = time.perf_counter()
        model.train_on_batch(x, y)
        if i >= 5:
            times.append(time.perf_counter() - start)
    return round(float(np.median(times)) * 1000, 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--policy", choices=POLICIES, help="time this one policy in this process")
    args = parser.parse_args()
    if args.policy:
        print(json.dumps({args.policy: step_ms(args.policy, args.steps)}))
        return
    result = {"cpu": cpu_kind(), "cnn_step_ms": {}}
    for policy in POLICIES:  # one process each: oneDNN aborts the whole process where bf16 cannot run
        done = subprocess.run([sys.executable, "-m", "bench.steps", "--policy", policy, "--steps", str(args.steps)],
                              capture_output=True, text=True)
        lines = done.stdout.strip().splitlines()
        errors = [ln.strip() for ln in done.stderr.splitlines() if ln.strip()]
        cause = next((ln for ln in errors if "could not create" in ln), errors[-1] if errors else "no output")
        result["cnn_step_ms"][policy] = json.loads(lines[-1])[policy] if done.returncode == 0 and lines else \
            "fails: " + cause[:200]
    print(json.dumps(result, sort_keys=True))


if __name__ == "__main__":
    main()
