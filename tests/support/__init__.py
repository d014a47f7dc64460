"""The tests' own helpers, imported as ``tests.support.<module>`` (what bench shares with them is in ``harness/``).

- ``committed``: the committed params.yaml, never the user's; ``idxfiles``: MNIST's files and their digests
- ``dvcrepo``: throwaway DVC repositories and DVC's view of the project (session fixtures)
- ``serving``: the session's ``digits.serve`` and raw-socket helpers; ``browser``, ``vega_libs``: headless Chromium
- ``hostile``: hostile image files; ``fuzzing``: what the long fuzzing runs share
"""
