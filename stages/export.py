"""Stage ``export@<model>``: the trained model in the formats other runtimes load (``digits.export.formats``).

Inputs: ``artifacts/models/<model>.keras``, params ``export.formats``.
Outputs: ``artifacts/export/<model>/`` with, per listed format, ``model.h5``, ``saved_model/`` or
``model.tflite``; built beside its place and swapped in whole, so it never holds a mix of two runs or a format
no longer listed. Command: ``python -m stages.export dense|cnn``.
"""
from __future__ import annotations

from pathlib import Path

from digits.config import schema
from digits.export import formats, loaders, writers
from digits.runtime import runner
from digits.runtime.storage import atomic_dir


def main(params: schema.Params, model: str) -> None:
    keras_model = loaders.load_keras_model(formats.keras_path(model), f"train@{model}")
    chosen = tuple(dict.fromkeys(params.export.formats))
    target = Path(schema.PATHS.exports) / model
    with atomic_dir(target) as tmp:
        writers.export(keras_model, tmp, chosen)
    print(f"export: {model}: {', '.join(str(formats.export_path(target, f)) for f in chosen) or 'no formats listed'}")


if __name__ == "__main__":
    runner.run_stage(main, per_model=True)
