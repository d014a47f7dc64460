"""DVC pipeline stages for MNIST digit classification; run each as ``python -m stages.<name>``."""
