"""The DVC pipeline's stages, one module each, run as ``python -m stages.<name>`` (see dvc.yaml); the work is
done by the ``digits`` library.

The one thing importing this package does, and why here: the stages import TensorFlow (through Keras) at their
top, and its C++ start-up lines would bury a stage's own, so TensorFlow's first import is silenced before any
stage module runs (``digits.runtime.quiet``; ``MNIST_TF_LOGS=1`` keeps the lines)."""
from digits.runtime import quiet

quiet.install()
