"""Command lines of the kit: ``python -m helpers.cli.train``."""
