"""The two architectures match the seed exactly: parameter counts and output shapes layer by layer."""
from __future__ import annotations

from pathlib import Path

import pytest

from stages import config, models

PARAMS = config.load_params(Path(__file__).resolve().parents[1] / "params.yaml")

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
    model = models.build(name, getattr(PARAMS.train, name), (28, 28), 10)
    assert layer_table(model) == table
    assert model.count_params() == total
    assert model.input_shape == (None, 28, 28)
    assert model.layers[-1].activation.__name__ == "softmax"


def test_architecture_follows_params():
    cfg = config.CnnConfig(conv_filters=(8,), kernel_size=5, dense_units=16, epochs=1, batch_size=1,
                           learning_rate=1e-3, schedule="constant", label_smoothing=0.0)
    model = models.build("cnn", cfg, (28, 28), 10)
    assert [t[1] for t in layer_table(model)] == [(28, 28, 1), (28, 28, 8), (14, 14, 8), (1568,), (16,), (10,)]


def test_unknown_model_name_is_an_error():
    with pytest.raises(ValueError, match="unknown model 'resnet'"):
        models.build("resnet", PARAMS.train.cnn, (28, 28), 10)
