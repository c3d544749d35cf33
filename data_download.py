"""Download and unpack a data tier of the course: ``python data_download.py --help``.

The command line is :mod:`helpers.cli.download`; the logic lives in :mod:`helpers.download`.
"""

from helpers.cli.download import main

if __name__ == "__main__":
    raise SystemExit(main())
