"""A trained model's files.

- ``formats``: the format names and where each lives; ``writers``: a model saved in each
- ``loaders``: a reader per format, each with the runtime that would serve it
- ``reproducible``: the same bytes for the same weights (fixed time stamps and ids)
"""
