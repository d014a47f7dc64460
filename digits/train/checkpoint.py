"""Resumable training: after each completed epoch, the model (with its optimizer state and the augmentation
layers' random state) and the history so far, swapped in whole into ``artifacts/checkpoints/<model>/``
(``schema.PATHS.checkpoints``).

``train`` resumes from it only when its fingerprint (model name, params section, seed, data) matches, so a
checkpoint never leaks into a run with other params or data; ``train`` removes it once the model is saved.
It is not a DVC output: DVC would delete it before rerunning the stage, which is when it is needed.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import shutil
from pathlib import Path

import keras

from digits.runtime.storage import atomic_dir

MODEL, STATE = "model.keras", "state.json"


def fingerprint(name: str, cfg: object, seed: int, files: tuple[Path, ...]) -> str:
    """What a checkpoint must have been trained on to be resumed: a digest of params and data bytes."""
    digest = hashlib.sha256(json.dumps([name, dataclasses.asdict(cfg), seed], sort_keys=True).encode())
    for path in files:
        digest.update(hashlib.sha256(Path(path).read_bytes()).digest())
    return digest.hexdigest()


def seed_states(model: keras.Model) -> list:
    """The random layers' generator states. The ``.keras`` format does not keep them (Keras 3.15 reloads a
    fresh seed), so a checkpoint stores them itself; without them a resumed run would augment differently."""
    return [v for v in model.non_trainable_variables if v.path.endswith("seed_generator_state")]


def save(folder: Path, key: str, model: keras.Model, history: list[dict]) -> None:
    state = {"fingerprint": key, "history": history,
             "seed_states": [keras.ops.convert_to_numpy(v).tolist() for v in seed_states(model)]}
    with atomic_dir(folder) as tmp:
        model.save(tmp / MODEL)
        (tmp / STATE).write_text(json.dumps(state, sort_keys=True))


def load(folder: Path, key: str) -> tuple[keras.Model, list[dict]] | None:
    """The compiled model and history saved under ``key``, or None if there is none (or another run's)."""
    try:
        state = json.loads((folder / STATE).read_text())
    except (OSError, ValueError):
        return None
    if state.get("fingerprint") != key:
        return None
    model = keras.models.load_model(folder / MODEL)
    for variable, value in zip(seed_states(model), state["seed_states"], strict=True):
        variable.assign(value)
    return model, state["history"]


def clear(folder: Path) -> None:
    shutil.rmtree(folder, ignore_errors=True)
