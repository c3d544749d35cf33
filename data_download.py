"""Download and unpack a data tier of the course (over :mod:`helpers.download`): ``--help``."""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from helpers import download


def _sha256(text: str) -> str:
    """A SHA-256 hex digest, lower case (argparse's type)."""
    if not re.fullmatch(r"[0-9a-fA-F]{64}", text.strip()):
        raise argparse.ArgumentTypeError(f"not a SHA-256 hex digest (64 hex digits): {text!r}")
    return text.strip().lower()


def main(argv: list[str] | None = None) -> int:
    """Run ``data_download.py``; an error is one paragraph on stderr, no traceback. The exit code."""
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
    where = "full tier: where from; auto = Google Drive, then Cloud Storage, then OpenSLR train-clean-100"
    add("--source", choices=download.SOURCES, default="auto", help=f"{where} (default)")
    one = parser.add_mutually_exclusive_group().add_argument
    one("--url", help="a mirror (a file, or a folder ending in /), tried first")
    one("--archive", type=Path, metavar="FILE", help="unpack this .tar.gz instead")
    one("--synthetic", action="store_true", help="the same as --tier synthetic")
    add("--with-test-clean", action="store_true", help="small tier: add test-clean (80 speakers)")
    add("--sha256", type=_sha256, metavar="HEX", help="expected SHA-256 of the archive")
    add("--keep-archive", action="store_true", help="keep downloaded archives after unpacking")
    add("--retry", action="store_true", help="retry sources that failed earlier in this runtime")
    add("--quiet", action="store_true", help="no progress bars or messages")
    synthetic = parser.add_argument_group("synthetic corpus (with --tier synthetic)").add_argument
    synthetic("--speakers", type=int, metavar="N", help="number of speakers")
    synthetic("--files", type=int, metavar="N", help="files per speaker")
    synthetic("--seed", type=int, metavar="S", help="random seed")
    try:
        args = parser.parse_args(argv)
        if args.synthetic and args.tier not in (None, "synthetic"):
            parser.error("--synthetic is --tier synthetic: pass only one")
        args.tier = "synthetic" if args.synthetic else args.tier or "full"
        if args.tier != "synthetic" and {args.speakers, args.files, args.seed} != {None}:
            parser.error("--speakers, --files and --seed only go with --tier synthetic")
        if args.tier == "synthetic" and (args.sha256 or args.url or args.archive):
            parser.error("--sha256, --url and --archive do not go with --tier synthetic")
    except SystemExit as exc:  # argparse: --help or a usage error
        return exc.code if isinstance(exc.code, int) else 0
    try:
        if args.tier == "synthetic":
            options = {"n_speakers": args.speakers, "files_per_speaker": args.files}
            download.make_synthetic(args.dest, quiet=args.quiet, seed=args.seed, **options)
        else:
            keys = "archive_dir url quiet source archive sha256 keep_archive retry with_test_clean"
            download.fetch_tier(args.tier, args.dest, **{k: getattr(args, k) for k in keys.split()})
    except download.DownloadError as exc:
        print(f"{parser.prog}: error: {exc}", file=sys.stderr)
        return 2 if exc.kind == "usage" else 1
    except KeyboardInterrupt:
        again = download.download_command(*(argv if argv is not None else sys.argv[1:]))
        print(f"\n{parser.prog}: interrupted. Run `{again}` again: it resumes.", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
