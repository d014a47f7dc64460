"""DVC pipeline stages for MNIST digit classification; run each as ``python -m stages.<name>``."""
import os

# TensorFlow's C++ INFO/WARNING start-up chatter (oneDNN, CPU features) buries the Keras progress lines.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
