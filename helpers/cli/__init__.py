"""Command lines of the kit: ``python -m helpers.cli.train``, ``python -m helpers.cli.bench``, and
``helpers.cli.download`` behind ``python data_download.py``.

Not part of the library: nothing in ``helpers`` imports them.
"""
