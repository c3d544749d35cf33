"""Download and unpack the course data set: ``python data_download.py --help``.

The logic lives in :mod:`helpers.download`.
"""

from helpers.download import main

if __name__ == "__main__":
    raise SystemExit(main())
