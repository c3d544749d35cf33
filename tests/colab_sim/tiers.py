"""The tiny archives the simulation's data server holds, in each data tier's real layout.

Built with the download tests' builders (``tests/archives.py``), real decodable FLAC of synthetic
voices, so that the notebooks can read and train on them:

- ``small``: ``dev-clean.tar.gz`` in OpenSLR's LibriSpeech layout
  (``LibriSpeech/dev-clean/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac``, transcripts, READMEs);
- ``full``: ``train-dataset.tar.gz`` in the practical's layout (``train-dataset/<speaker>/<file>.flac``).

The server is an instructor's mirror folder (``AUDIO_COURSE_DATA_URL`` ending in ``/``), so the
files carry the official names.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tests/, for the builders
from archives import full_tier_archive, small_tier_archive

ARCHIVE_NAMES = {"small": "dev-clean.tar.gz", "full": "train-dataset.tar.gz"}
"""The archive's file name per tier, as the real sources name them."""


def build_small(dest: Path, n_speakers: int = 8, files_per_speaker: int = 8) -> Path:
    """Write ``dest/dev-clean.tar.gz`` (clips of 2–3 s); return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    return small_tier_archive(
        dest / ARCHIVE_NAMES["small"], "dev-clean", n_speakers, files_per_speaker, seed=1
    )


def build_full(dest: Path, n_speakers: int = 10, files_per_speaker: int = 6) -> Path:
    """Write ``dest/train-dataset.tar.gz`` (clips of 2–3 s); return its path."""
    dest.mkdir(parents=True, exist_ok=True)
    return full_tier_archive(dest / ARCHIVE_NAMES["full"], n_speakers, files_per_speaker, seed=2)
