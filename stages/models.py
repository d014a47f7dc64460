"""The two architectures, as declarative ``keras.Sequential`` models built from ``train.<model>`` params."""
from __future__ import annotations

import keras

from stages import config

ModelConfig = config.DenseConfig | config.CnnConfig


def build_dense(cfg: config.DenseConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """Flatten → Dense(units, relu)… → Dense(num_classes, softmax); the seed's 784-128-64-10."""
    return keras.Sequential(
        [keras.Input(shape=input_shape), keras.layers.Flatten()]
        + [keras.layers.Dense(units, activation="relu") for units in cfg.hidden_units]
        + [keras.layers.Dense(num_classes, activation="softmax")],
        name="dense",
    )


def build_cnn(cfg: config.CnnConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """Reshape → [Conv2D(relu, same) → MaxPool 2]… → Flatten → Dense(relu) → Dense(softmax); the seed's table."""
    convs = []
    for filters in cfg.conv_filters:
        convs += [
            keras.layers.Conv2D(filters, cfg.kernel_size, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(2),
        ]
    return keras.Sequential(
        [keras.Input(shape=input_shape), keras.layers.Reshape((*input_shape, 1))]
        + convs
        + [
            keras.layers.Flatten(),
            keras.layers.Dense(cfg.dense_units, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ],
        name="cnn",
    )


BUILDERS = {"dense": build_dense, "cnn": build_cnn}


def build(name: str, cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """Build model ``name`` ("dense" or "cnn") from its ``train.<name>`` section."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}, expected one of {', '.join(BUILDERS)}")
    return BUILDERS[name](cfg, input_shape, num_classes)
