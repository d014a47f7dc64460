"""The robustness suite: MNIST-C style corrupted copies of the test set.

- ``corruptions``: the families by name, and the suite made from a split
- ``blur``, ``geometry``, ``overlays``: the families' pixel work; ``pixels``: the conversions they share
"""
