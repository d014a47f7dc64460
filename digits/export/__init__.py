"""A trained model's files.

- ``formats``: the format names, where each lives, and their writers
- ``loaders``: a reader per format, each with the runtime that would serve it
- ``reproducible``: the same bytes for the same weights (fixed time stamps and ids)
"""
