"""Deterministic image sets drawn here: digits not from MNIST, and numbers written from single digits.

- ``strokes``: digits as pen strokes; ``fonts``: digits typed in handwriting fonts
- ``photos``: photo-like images of those digits ("in the wild"); ``multidigit``: numbers with each digit's true box
"""
