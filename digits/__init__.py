"""The library behind the MNIST pipeline, one subpackage per job (docs/pipeline.md). The DVC stages (``stages/``) and
the commands (``python -m digits.predict``, ``digits.serve``, ``digits.compare``) are thin entry points over it.
Importing it does nothing: the entry points silence TensorFlow's start-up lines themselves
(``digits.runtime.quiet.install``)."""
