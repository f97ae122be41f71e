"""publish — the Causerie command line; the commands live in causerie.cli.

Installed as the ``publish`` command; ``python publish.py`` works the same
from a checkout."""

from causerie.cli.main import cli, main

__all__ = ["cli", "main"]

if __name__ == "__main__":
    main()
