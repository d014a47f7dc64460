"""The two architectures, as declarative ``keras.Sequential`` models built from ``train.<model>`` params."""
from __future__ import annotations

import keras

from stages import config

ModelConfig = config.DenseConfig | config.CnnConfig
AUGMENT_PREFIX = "augment_"  # names the layers that exist for training only


def augmentation(cfg: config.AugmentConfig) -> list[keras.layers.Layer]:
    """Random shift, rotation and zoom on H×W×1 images. Keras runs these layers only in training (``fit``);
    in ``predict`` and ``evaluate`` they pass images through, so the saved model needs no switch."""
    # Outside the image is background, which is 0 in MNIST's light-on-dark pixels.
    fill = {"fill_mode": "constant", "fill_value": 0.0}
    layers = [
        (cfg.shift, lambda: keras.layers.RandomTranslation(cfg.shift, cfg.shift, name="augment_shift", **fill)),
        (cfg.rotation, lambda: keras.layers.RandomRotation(cfg.rotation / 360, name="augment_rotation", **fill)),
        (cfg.zoom, lambda: keras.layers.RandomZoom(cfg.zoom, cfg.zoom, name="augment_zoom", **fill)),
    ]
    return [make() for size, make in layers if cfg.enabled and size]  # a size of 0 leaves its layer out


def build_dense(cfg: config.DenseConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """[augmentation] → Flatten → Dense(units, relu)… → Dense(num_classes, softmax); the seed's 784-128-64-10."""
    augment = augmentation(cfg.augment)
    if augment:  # the image layers need a channel axis; Flatten makes the same 784 inputs either way
        augment = [keras.layers.Reshape((*input_shape, 1), name="augment_channels")] + augment
    return keras.Sequential(
        [keras.Input(shape=input_shape)] + augment + [keras.layers.Flatten()]
        + [keras.layers.Dense(units, activation="relu") for units in cfg.hidden_units]
        + [keras.layers.Dense(num_classes, activation="softmax")],
        name="dense",
    )


def build_cnn(cfg: config.CnnConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """Reshape → [augmentation] → [Conv2D(relu, same) → MaxPool 2]… → Flatten → Dense(relu) → Dense(softmax);
    the seed's table."""
    convs = []
    for filters in cfg.conv_filters:
        convs += [
            keras.layers.Conv2D(filters, cfg.kernel_size, activation="relu", padding="same"),
            keras.layers.MaxPooling2D(2),
        ]
    return keras.Sequential(
        [keras.Input(shape=input_shape), keras.layers.Reshape((*input_shape, 1))]
        + augmentation(cfg.augment)
        + convs
        + [
            keras.layers.Flatten(),
            keras.layers.Dense(cfg.dense_units, activation="relu"),
            keras.layers.Dense(num_classes, activation="softmax"),
        ],
        name="cnn",
    )


def inference_model(model: keras.Sequential) -> keras.Sequential:
    """``model`` without its training-only augmentation layers, sharing its weights: the seed's architecture
    exactly. Saved by ``train``, so exports hold no random ops (TFLite cannot convert them)."""
    kept = [layer for layer in model.layers if not layer.name.startswith(AUGMENT_PREFIX)]
    if len(kept) == len(model.layers):
        return model
    return keras.Sequential([keras.Input(shape=model.input_shape[1:])] + kept, name=model.name)


BUILDERS = {"dense": build_dense, "cnn": build_cnn}


def build(name: str, cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """Build model ``name`` ("dense" or "cnn") from its ``train.<name>`` section."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}, expected one of {', '.join(BUILDERS)}")
    return BUILDERS[name](cfg, input_shape, num_classes)
