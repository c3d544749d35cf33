"""Command lines: ``python -m helpers.cli.train`` and, behind ``python data_download.py``, ``download``."""
