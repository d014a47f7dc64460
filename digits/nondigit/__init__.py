"""The "not a digit" detector and what it learns from.

- ``detector``: its layers, training and threshold; ``detector_data``: its training and check sets
- ``nondigits``, ``marks``: synthetic things that are not digits
- ``ood``: out-of-distribution scores from a classifier's own layers (compared in bench)
"""
