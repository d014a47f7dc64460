"""``python -m digits.serve``: runs ``digits.serve.cli``."""
from digits.runtime import runner
from digits.serve import cli

if __name__ == "__main__":
    runner.exit_on_error(cli.main)
