"""The DVC pipeline's stages, one module each, run as ``python -m stages.<name>`` (see dvc.yaml); the work is
done by the ``digits`` library."""
