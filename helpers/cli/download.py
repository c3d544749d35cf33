"""``python data_download.py``: fetch a data tier (argparse + ``main`` over :mod:`helpers.download`).

Exit codes: 0 success, 1 download/check/unpack failure, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from .. import download
from ..download import DownloadError

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def _sha256_arg(text: str) -> str:
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text.strip()):
        raise argparse.ArgumentTypeError(f"not a SHA-256 hex digest (64 hex digits): {text!r}")
    return text.strip().lower()


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``data_download.py``."""
    parser = argparse.ArgumentParser(
        prog="data_download.py",
        description="Download a data tier and unpack it to DEST/<speaker>/*.flac. Safe to re-run: "
        "an interrupted download resumes, and a complete data folder is left alone.",
        epilog="Tiers: small = LibriSpeech dev-clean (337 MB, 40 speakers; --with-test-clean adds "
        "346 MB, 40 more), full = the practical's train-dataset (5.5 GB, ~250 speakers), "
        f"synthetic = generated voices. ${download.MIRROR_ENV} sets a default --url. "
        "Exit codes: 0 success, 1 download/check/unpack failure, 2 usage error, 130 interrupted.",
    )
    add = parser.add_argument
    add("--tier", choices=download.TIERS, help="which data (default: full)")
    add("--dest", type=Path, metavar="DIR", help="data folder (default: the tier's folder)")
    add("--archive-dir", type=Path, metavar="DIR", help="keep archives here; reuse them from here")
    add(
        "--source",
        choices=download.SOURCES,
        default="auto",
        help="full tier: where from; auto = "
        "Google Drive, then Cloud Storage, then OpenSLR train-clean-100 (default)",
    )
    what = parser.add_mutually_exclusive_group()
    what.add_argument("--url", help="a mirror (a file, or a folder ending in /), tried first")
    what.add_argument("--archive", type=Path, metavar="FILE", help="unpack this .tar.gz instead")
    what.add_argument("--synthetic", action="store_true", help="the same as --tier synthetic")
    add("--with-test-clean", action="store_true", help="small tier: add test-clean (80 speakers)")
    add("--sha256", type=_sha256_arg, metavar="HEX", help="expected SHA-256 of the archive")
    add("--keep-archive", action="store_true", help="keep downloaded archives after unpacking")
    add("--retry", action="store_true", help="retry sources that failed earlier in this runtime")
    add("--quiet", action="store_true", help="no progress bars or messages")
    synthetic = parser.add_argument_group("synthetic corpus (with --tier synthetic)")
    synthetic.add_argument("--speakers", type=int, metavar="N", help="number of speakers")
    synthetic.add_argument("--files", type=int, metavar="N", help="files per speaker")
    synthetic.add_argument("--seed", type=int, metavar="S", help="random seed")
    return parser


def _parse(parser: argparse.ArgumentParser, argv: list[str] | None) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if args.synthetic and args.tier not in (None, "synthetic"):
        parser.error("--synthetic is --tier synthetic: pass only one")
    args.tier = "synthetic" if args.synthetic else args.tier or "full"
    synthetic_only = (args.speakers, args.files, args.seed)
    if args.tier != "synthetic" and any(v is not None for v in synthetic_only):
        parser.error("--speakers, --files and --seed only go with --tier synthetic")
    if args.tier == "synthetic" and (args.sha256 or args.url or args.archive):
        parser.error("--sha256, --url and --archive do not go with --tier synthetic")
    return args


def main(argv: list[str] | None = None) -> int:
    """Run ``data_download.py``; an error is printed to stderr as one paragraph, no traceback.

    Parameters
    ----------
    argv : list of str, optional
        Arguments (default ``sys.argv[1:]``).

    Returns
    -------
    int
        0 success, 1 download/check/unpack failure, 2 usage error, 130 interrupted.
    """
    parser = build_parser()
    try:
        args = _parse(parser, argv)
    except SystemExit as exc:  # argparse: --help or a usage error
        return exc.code if isinstance(exc.code, int) else EXIT_OK
    try:
        if args.tier == "synthetic":
            options = {"n_speakers": args.speakers, "files_per_speaker": args.files}
            download.make_synthetic(args.dest, quiet=args.quiet, seed=args.seed, **options)
        else:
            download.fetch_tier(
                args.tier,
                args.dest,
                archive_dir=args.archive_dir,
                url=args.url,
                with_test_clean=args.with_test_clean,
                quiet=args.quiet,
                source=args.source,
                archive=args.archive,
                sha256=args.sha256,
                keep_archive=args.keep_archive,
                retry=args.retry,
            )
    except DownloadError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return EXIT_USAGE if exc.kind == "usage" else EXIT_FAILED
    except KeyboardInterrupt:
        again = download.download_command(*(argv if argv is not None else sys.argv[1:]))
        print(f"\n{parser.prog}: interrupted. Run `{again}` again: it resumes.", file=sys.stderr)
        return EXIT_INTERRUPTED
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
