"""The two architectures match the seed exactly: parameter counts and output shapes layer by layer; augmentation
adds only weightless layers that act in training and pass images through at inference."""
from __future__ import annotations

import dataclasses
import os

import keras
import numpy as np
import pytest

from tests.support.committed import default_params
from digits.config import schema
from digits.export import loaders, writers
from digits.runtime import hardware
from digits.train import models

PARAMS = schema.parse_params(default_params())

# The seed's table (000_166317ba99899666.txt), batch axis dropped.
CNN_TABLE = [
    ("Reshape", (28, 28, 1), 0),
    ("Conv2D", (28, 28, 32), 320),
    ("MaxPooling2D", (14, 14, 32), 0),
    ("Conv2D", (14, 14, 64), 18_496),
    ("MaxPooling2D", (7, 7, 64), 0),
    ("Flatten", (3136,), 0),
    ("Dense", (128,), 401_536),
    ("Dense", (10,), 1_290),
]
DENSE_TABLE = [
    ("Flatten", (784,), 0),
    ("Dense", (128,), 100_480),
    ("Dense", (64,), 8_256),
    ("Dense", (10,), 650),
]


def layer_table(model):
    return [(type(layer).__name__, tuple(layer.output.shape[1:]), layer.count_params()) for layer in model.layers]


@pytest.mark.parametrize(
    ("name", "table", "total"), [("dense", DENSE_TABLE, 109_386), ("cnn", CNN_TABLE, 421_642)]
)
def test_default_params_build_the_seed_architecture(name, table, total):
    """What ``train`` saves (the training-only augmentation layers dropped) is the seed's model exactly."""
    model = models.inference_model(models.build(name, getattr(PARAMS.train, name), (28, 28), 10))
    assert layer_table(model) == table
    assert model.count_params() == total
    assert model.input_shape == (None, 28, 28)
    assert model.layers[-1].activation.__name__ == "softmax"


def test_architecture_follows_params():
    cfg = schema.CnnConfig(conv_filters=(8,), kernel_size=5, dense_units=16, epochs=1, batch_size=1,
                           learning_rate=1e-3, schedule="constant", label_smoothing=0.0,
                           augment=PARAMS.train.cnn.augment, input="memory", distribute="none",
                           dtype_policy="float32", threads=0, steps_per_execution=1)
    model = models.inference_model(models.build("cnn", cfg, (28, 28), 10))
    assert [t[1] for t in layer_table(model)] == [(28, 28, 1), (28, 28, 8), (14, 14, 8), (1568,), (16,), (10,)]


def test_unknown_model_name_is_an_error():
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        models.build("resnet", PARAMS.train.cnn, (28, 28), 10)


ALL_SIZES = dict(shift=0.05, rotation=5.0, zoom=0.05, brightness=0.3, contrast=0.5, noise=0.1, blur=1.5)
AUGMENT_LAYERS = ["RandomTranslation", "RandomRotation", "RandomZoom", "RandomBrightness", "RandomContrast",
                  "GaussianNoise", "RandomGaussianBlur"]


def augmented(name: str, **sizes) -> schema.DenseConfig | schema.CnnConfig:
    """``train.<name>`` with every augmentation layer on (``sizes`` override; 0 leaves one out)."""
    cfg = getattr(PARAMS.train, name)
    return dataclasses.replace(cfg, augment=schema.AugmentConfig(enabled=True, **{**ALL_SIZES, **sizes}))


@pytest.mark.parametrize(("name", "table", "total"), [("dense", DENSE_TABLE, 109_386), ("cnn", CNN_TABLE, 421_642)])
def test_augmentation_adds_layers_but_no_weights(name, table, total):
    model = models.build(name, augmented(name), (28, 28), 10)
    names = [row[0] for row in layer_table(model)]
    assert names[:8] == ["Reshape", *AUGMENT_LAYERS]
    assert layer_table(models.inference_model(model)) == table  # what train saves: the seed's table exactly
    rest = table[1:] if name == "cnn" else table  # the CNN's own Reshape comes first; the dense model's is added
    assert layer_table(model)[8:] == rest
    assert model.count_params() == total


def test_augmentation_sizes_pick_layers():
    model = models.build("cnn", augmented("cnn", shift=0.0, zoom=0.0, contrast=0.0, blur=0.0), (28, 28), 10)
    assert [row[0] for row in layer_table(model)][:5] == ["Reshape", "RandomRotation", "RandomBrightness",
                                                           "GaussianNoise", "Conv2D"]
    off = dataclasses.replace(augmented("cnn"), augment=schema.AugmentConfig(enabled=False, **ALL_SIZES))
    assert [row[0] for row in layer_table(models.build("cnn", off, (28, 28), 10))][:2] == ["Reshape", "Conv2D"]


def test_augmentation_acts_in_training_only():
    import keras

    keras.utils.set_random_seed(0)
    model = models.build("dense", augmented("dense", shift=0.2, rotation=30, zoom=0.2), (28, 28), 10)
    plain = models.build("dense", PARAMS.train.dense, (28, 28), 10)
    plain.set_weights(model.get_weights())
    x = np.random.default_rng(0).random((8, 28, 28), np.float32)
    assert np.array_equal(model(x, training=False), plain(x, training=False))
    assert np.abs(model(x, training=True) - plain(x)).max() > 1e-3


@pytest.mark.parametrize("size", ["brightness", "contrast", "noise", "blur"])
def test_photometric_layers_change_images_plausibly(size):
    """Each photometric layer alone changes a training batch; brightness only lightens and, like contrast and
    blur, keeps pixels in 0..1 (noise alone may leave it: a Gaussian is unbounded)."""
    keras.utils.set_random_seed(0)
    sizes = {key: 0.0 for key in ALL_SIZES} | {size: ALL_SIZES[size]}
    (layer,) = models.augmentation(schema.AugmentConfig(enabled=True, **sizes))
    x = np.random.default_rng(2).random((16, 28, 28, 1)).astype(np.float32) ** 4  # dark, like MNIST
    y = np.asarray(layer(x, training=True))
    assert np.abs(y - x).max() > 1e-3 and np.array_equal(np.asarray(layer(x, training=False)), x)
    if size != "noise":
        assert y.min() >= 0.0 and y.max() <= 1.0
    if size == "brightness":
        assert (y >= x - 1e-6).all()


def test_inference_model_copies_weights_and_drops_random_ops(tmp_path):
    """What ``train`` saves: same outputs as the augmented model at inference, and TFLite converts it (a random
    layer in the graph would stop the converter)."""
    model = models.build("cnn", dataclasses.replace(augmented("cnn"), dtype_policy="float32"), (28, 28), 10)
    stripped = models.inference_model(model)
    assert models.inference_model(stripped) is stripped
    x = np.random.default_rng(1).random((5, 28, 28), np.float32)
    assert np.allclose(model(x, training=False), stripped(x), atol=1e-6)
    writers.export(stripped, tmp_path, ("tflite",))
    assert np.allclose(loaders.load(tmp_path / "model.tflite", "tflite")(x), stripped(x), atol=1e-5)


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_trains_low_precision_and_saves_float32(policy):
    cfg = dataclasses.replace(augmented("cnn"), dtype_policy=policy)
    model = models.compiled("cnn", cfg, (28, 28), 10, steps_per_epoch=10)
    conv = next(layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D))
    assert conv.compute_dtype == policy.removeprefix("mixed_") and conv.variable_dtype == "float32"
    assert model.layers[-1].compute_dtype == "float32"  # the softmax stays float32
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer) == (policy == "mixed_float16")
    saved = models.inference_model(model)
    assert layer_table(saved) == CNN_TABLE
    assert {layer.dtype_policy.name for layer in saved.layers} == {"float32"}
    assert all(np.array_equal(a, b) for a, b in zip(saved.get_weights(), model.get_weights()))
    if policy == "mixed_bfloat16" and hardware.isa_level(os.environ.get("ONEDNN_MAX_CPU_ISA", "").strip().upper()) \
            < hardware.NO_BF16_PRIMITIVES:
        return  # capped below AVX-512 (the AVX2 kind's emulation), oneDNN cannot run bf16 at all: train refuses it
    images = np.random.default_rng(0).random((8, 28, 28), dtype=np.float32)
    trained, served = model.predict(images, verbose=0), saved.predict(images, verbose=0)
    assert served.dtype == np.float32 and np.allclose(trained, served, atol=0.02)
