"""The library behind the MNIST pipeline: params, data, models, training, metrics, model formats, images.

The DVC stages (``stages/``) and the ``predict`` command are thin entry points over it.
"""
from digits.runtime import quiet

# Before any module imports TensorFlow (through Keras): its C++ start-up lines bury a stage's own.
quiet.install()
