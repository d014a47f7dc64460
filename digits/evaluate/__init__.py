"""Scoring a trained model and showing the results.

- ``metrics``: confusion counts, accuracy, loss, F1, calibration error, the headline
- ``robustness``: the corrupted suite's file and its accuracy per corruption
- ``figures``: the matplotlib plots; ``summary``: the lines a run ends with
"""
