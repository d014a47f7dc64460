"""What a run is told: ``params.yaml`` loaded and checked, and what is fixed rather than a param.

- ``schema``: the frozen dataclasses that mirror ``params.yaml`` and ``load_params``, allowed values beside each field
- ``rules``: the allowed-value checks those fields declare, and ``ParamsError``
- ``convert``: parsed YAML to those dataclasses, by type
- ``fixed``: the names a key may take and the fixed output paths (``PATHS``), which are not params
- ``catalog``: the IDX datasets ``dataset`` may name: their files, pinned digests and class names
"""
