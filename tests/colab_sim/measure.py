"""Measure what a student waits for in each notebook's setup cell, in simulated Colab runtimes.

For every solution notebook, three fresh runtimes run its setup cell only:

- ``no Drive``: Drive not mounted, so the tier's archive is downloaded (from the loopback mirror);
- ``Drive, 1st``: Drive mounted but empty: downloaded once and kept on Drive;
- ``Drive, next``: Drive holding the archive: nothing downloaded, only checked and unpacked.

Then, with ``--throughput MB``, the rate at which a kept archive is checked and unpacked (the
``Drive, next`` path) on an archive of about that size, to scale the figures to the real tiers.

Run from the repository root (prints a Markdown table)::

    PYTHONPATH=$PWD python -m tests.colab_sim.measure [--throughput 200]

The data server is on loopback, so download times here are not the internet's: the table's
``fetched`` column (bytes) is what a real runtime downloads, with the tiny archives of the tests.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .runtime import Course, setup_index

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))
from archives import librispeech_members, make_tar_gz  # noqa: E402  (the download tests' builder)

SCENARIOS = {"no Drive": {}, "Drive, 1st": {"AUDIO_COURSE_DRIVE": "1"}}


def measure_notebook(course: Course, path: Path) -> dict[str, tuple[float, int]]:
    """``scenario -> (setup-cell seconds, bytes fetched)`` for one notebook."""
    cells = setup_index(nbformat.read(path, as_version=4)) + 1
    figures = {}
    course.forget_drive()
    for name, env in [*SCENARIOS.items(), ("Drive, next", {"AUDIO_COURSE_DRIVE": "1"})]:
        run = course.runtime(**env).run(path, cells)
        if run.error is not None:
            raise RuntimeError(f"{path.name}, {name}: {run.error}")
        figures[name] = (run.setup_seconds, run.bytes_fetched)
    return figures


def throughput(megabytes: int) -> tuple[int, float]:
    """Check and unpack a kept ``dev-clean.tar.gz`` of ~``megabytes`` MB; return (bytes, seconds)."""
    from helpers.download import fetch_tier

    with tempfile.TemporaryDirectory() as tmp:
        kept = Path(tmp) / "archives"
        kept.mkdir()
        files = max(1, megabytes * 1_000_000 // (40 * 250_000))
        members = librispeech_members(
            n_speakers=40, n_chapters=1, n_files=files, subset="dev-clean"
        )
        rng = random.Random(0)
        members = {
            k: (rng.randbytes(250_000) if k.endswith(".flac") else v) for k, v in members.items()
        }
        archive = make_tar_gz(kept / "dev-clean.tar.gz", members)
        import hashlib

        sha = hashlib.sha256(archive.read_bytes()).hexdigest()
        os.environ.pop("AUDIO_COURSE_DATA_URL", None)
        start = time.perf_counter()
        fetch_tier("small", Path(tmp) / "small", archive_dir=kept, sha256=sha, quiet=True)
        return archive.stat().st_size, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    """Print the table of setup-cell times and bytes; return 0."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--throughput", type=int, metavar="MB", help="also measure unpacking")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp, Course.create(Path(tmp), ROOT) as course:
        print(
            "| notebook | tier | no Drive: s, fetched | Drive 1st: s, fetched | Drive next: s, fetched |"
        )
        print("|---|---|---|---|---|")
        for path in sorted((ROOT / "solutions").glob("*.ipynb")):
            figures = measure_notebook(course, path)
            cells = " | ".join(f"{s:.1f} s, {b / 1e6:.2f} MB" for s, b in figures.values())
            print(f"| {path.stem} | small | {cells} |", flush=True)
    if args.throughput:
        size, seconds = throughput(args.throughput)
        print(
            f"\nkept archive of {size / 1e6:.0f} MB checked and unpacked in {seconds:.1f} s "
            f"({size / 1e6 / seconds:.0f} MB/s)"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
