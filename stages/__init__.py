"""DVC pipeline stages for MNIST digit classification; run each as ``python -m stages.<name>``."""
from stages import quiet

# Before any stage module imports TensorFlow (through Keras): its C++ start-up lines bury the stage's own.
quiet.install()
