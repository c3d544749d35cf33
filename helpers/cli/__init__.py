"""Command lines of the kit: ``python -m helpers.cli.train``, ``python -m helpers.cli.bench``.

Not part of the library: nothing in ``helpers`` imports them.
"""
