"""``python -m digits.serve``: runs ``digits.serve.cli``, TensorFlow's start-up lines silenced first."""
from digits.runtime import quiet, runner

if __name__ == "__main__":
    quiet.install()  # before cli imports TensorFlow (through the model loaders)
    from digits.serve import cli

    runner.exit_on_error(cli.main)
