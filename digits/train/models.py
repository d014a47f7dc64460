"""The two architectures, as declarative ``keras.Sequential`` models built from ``train.<model>`` params, and
their training recipe (optimizer, schedule, loss). Keras alone, no TensorFlow: ``bench.baseline`` runs these on any
Keras backend."""
from __future__ import annotations

import dataclasses

import keras

from digits.config import schema

ModelConfig = schema.DenseConfig | schema.CnnConfig
AUGMENT_PREFIX = "augment_"  # names the layers that exist for training only


def augmentation(cfg: schema.AugmentConfig) -> list[keras.layers.Layer]:
    """Random shift, rotation, zoom, brightness, contrast, noise and blur on H×W×1 images in 0..1. Keras runs these
    layers only in training (``fit``); in ``predict`` and ``evaluate`` they pass images through, and
    :func:`inference_model` drops them from the saved model."""
    # Outside the image is background, which is 0 in MNIST's light-on-dark pixels.
    fill, unit = {"fill_mode": "constant", "fill_value": 0.0}, {"value_range": (0.0, 1.0)}
    layers = [
        (cfg.shift, lambda: keras.layers.RandomTranslation(cfg.shift, cfg.shift, name="augment_shift", **fill)),
        (cfg.rotation, lambda: keras.layers.RandomRotation(cfg.rotation / 360, name="augment_rotation", **fill)),
        (cfg.zoom, lambda: keras.layers.RandomZoom(cfg.zoom, cfg.zoom, name="augment_zoom", **fill)),
        # Only brighter: a lit or grey background; darker would clip MNIST's black background to itself.
        (cfg.brightness, lambda: keras.layers.RandomBrightness((0.0, cfg.brightness), name="augment_brightness",
                                                               **unit)),
        (cfg.contrast, lambda: keras.layers.RandomContrast(cfg.contrast, name="augment_contrast", **unit)),
        (cfg.noise, lambda: keras.layers.GaussianNoise(cfg.noise, name="augment_noise")),
        # One sigma per batch (Keras' choice), applied to each image with probability 1/2.
        (cfg.blur, lambda: keras.layers.RandomGaussianBlur((0.5, 0.5), kernel_size=5, sigma=(0.0, cfg.blur),
                                                           name="augment_blur", **unit)),
    ]
    return [make() for size, make in layers if cfg.enabled and size]  # a size of 0 leaves its layer out


def classifier(num_classes: int) -> keras.layers.Dense:
    """The softmax output, in float32 whatever the dtype policy: probabilities near 1 need more than bf16's 8 bits."""
    return keras.layers.Dense(num_classes, activation="softmax", dtype="float32")


def build_dense(cfg: schema.DenseConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """[augmentation] → Flatten → Dense(units, relu)… → Dense(num_classes, softmax); the seed's 784-128-64-10."""
    augment, policy = augmentation(cfg.augment), {"dtype": cfg.dtype_policy}
    if augment:  # the image layers need a channel axis; Flatten makes the same 784 inputs either way
        augment = [keras.layers.Reshape((*input_shape, 1), name="augment_channels")] + augment
    return keras.Sequential(
        [keras.Input(shape=input_shape)] + augment + [keras.layers.Flatten(**policy)]
        + [keras.layers.Dense(units, activation="relu", **policy) for units in cfg.hidden_units]
        + [classifier(num_classes)],
        name="dense",
    )


def build_cnn(cfg: schema.CnnConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """Reshape → [augmentation] → [Conv2D(relu, same) → MaxPool 2]… → Flatten → Dense(relu) → Dense(softmax);
    the seed's table."""
    convs, policy = [], {"dtype": cfg.dtype_policy}
    for filters in cfg.conv_filters:
        convs += [
            keras.layers.Conv2D(filters, cfg.kernel_size, activation="relu", padding="same", **policy),
            keras.layers.MaxPooling2D(2, **policy),
        ]
    return keras.Sequential(
        [keras.Input(shape=input_shape), keras.layers.Reshape((*input_shape, 1))]
        + augmentation(cfg.augment)
        + convs
        + [
            keras.layers.Flatten(**policy),
            keras.layers.Dense(cfg.dense_units, activation="relu", **policy),
            classifier(num_classes),
        ],
        name="cnn",
    )


def inference_model(model: keras.Sequential) -> keras.Sequential:
    """``model`` without its training-only augmentation layers, all in float32, with its weights: the seed's
    architecture exactly, whatever the training precision. Saved by ``train``, so exports hold no random ops
    (TFLite cannot convert them) and no bf16 casts. Mixed precision keeps float32 weights, so they copy exactly."""
    kept = [layer for layer in model.layers if not layer.name.startswith(AUGMENT_PREFIX)]
    if len(kept) == len(model.layers) and all(layer.dtype_policy.name == "float32" for layer in kept):
        return model
    clone = keras.Sequential([keras.Input(shape=model.input_shape[1:])]
                             + [type(layer).from_config({**layer.get_config(), "dtype": "float32"}) for layer in kept],
                             name=model.name)
    for new, old in zip(clone.layers, kept):
        new.set_weights(old.get_weights())
    return clone


BUILDERS = {"dense": build_dense, "cnn": build_cnn}


def build(name: str, cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int) -> keras.Sequential:
    """Build model ``name`` ("dense" or "cnn") from its ``train.<name>`` section."""
    if name not in BUILDERS:
        raise ValueError(f"unknown model {name!r}, expected one of {', '.join(BUILDERS)}")
    if cfg.dtype_policy == "auto":  # train says its choice (distribute.as_run_here); other callers get the same one
        from digits.runtime import hardware

        policy = hardware.choose(name, "auto", hardware.this_machine(), convolutional=name == "cnn")[0]
        cfg = dataclasses.replace(cfg, dtype_policy=policy)
    return BUILDERS[name](cfg, input_shape, num_classes)


def make_optimizer(cfg: schema.Recipe, steps_per_epoch: int) -> keras.optimizers.Optimizer:
    """Adam at ``learning_rate``, constant or decayed to 0 along a cosine over all of training's steps; float16
    gradients underflow without loss scaling (bf16 has float32's range and needs none)."""
    lr: float | keras.optimizers.schedules.LearningRateSchedule = cfg.learning_rate
    if cfg.schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(cfg.learning_rate, decay_steps=steps_per_epoch * cfg.epochs)
    adam = keras.optimizers.Adam(learning_rate=lr)
    return keras.optimizers.LossScaleOptimizer(adam) if cfg.dtype_policy == "mixed_float16" else adam


def compiled(name: str, cfg: ModelConfig, input_shape: tuple[int, ...], num_classes: int,
             steps_per_epoch: int) -> keras.Model:
    """Model ``name`` compiled with ``cfg``'s recipe; labels are one-hot (label smoothing needs them)."""
    model = build(name, cfg, input_shape, num_classes)
    model.compile(
        optimizer=make_optimizer(cfg, steps_per_epoch),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=["accuracy"],
        steps_per_execution=cfg.steps_per_execution,
    )
    return model
