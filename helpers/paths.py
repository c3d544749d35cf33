"""Where things live: the kit's folders, the data tiers' folders, markers and file suffixes.

Standard library only, so that the Colab setup cell can use it before anything is installed, and so
that every other module can import it: it is the bottom of the package's import graph.

The folders under ``DATA_DIR`` are one per data tier (``small``, ``full``, ``synthetic``); a
finished data folder holds a ``.complete`` marker, written last (:func:`mark_complete`), so a half
download or a half-generated corpus never looks whole (:func:`is_complete`).
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The kit's checkout: the folder holding ``notebooks/``, ``solutions/`` and ``helpers/``."""

DATA_DIR = REPO_ROOT / "data"
"""Where the data tiers, their downloaded archives and the synthetic corpora live."""

FULL_DATA = REPO_ROOT / "train-dataset"
"""The practical's dataset (~250 speakers, 5.5 GB): where ``python data_download.py`` unpacks it."""

SMALL_DATA = DATA_DIR / "small"
"""The ``small`` tier: LibriSpeech dev-clean (+ test-clean), rebuilt as ``<speaker>/<file>.flac``."""

SYNTHETIC_DATA = DATA_DIR / "synthetic"
"""The synthetic corpus used when no real data is there (24 speakers × 12 files of 2–8 s)."""

SYNTHETIC_TINY = DATA_DIR / "synthetic-tiny"
"""The tiny synthetic corpus of quick mode and CI (8 speakers × 8 files of 2–6 s)."""

CHECKPOINT_DIR = REPO_ROOT / "checkpoints"
"""Where notebook 05 saves its best model for 06 and 07 (when Google Drive is not mounted)."""

COMPLETE_MARKER = ".complete"
"""File written last into a finished data folder: its presence means the folder is whole."""

AUDIO_SUFFIXES = (".flac", ".wav", ".ogg")
"""File suffixes (lower case) read as audio, by the manifest and by the archive extraction."""

MANIFEST_NAME = ".manifest.json"
"""The manifest cache inside a corpus folder (see :func:`helpers.corpus.load_manifest`)."""

CACHE_DIR_NAME = ".cache"
"""The feature-cache folder inside a corpus folder (see :class:`helpers.cache.FeatureCache`)."""


def is_audio_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` has one of :data:`AUDIO_SUFFIXES` (case-insensitive)."""
    return str(path).lower().endswith(AUDIO_SUFFIXES)


def is_complete(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds the :data:`COMPLETE_MARKER` written by :func:`mark_complete`."""
    return (Path(folder) / COMPLETE_MARKER).is_file()


def mark_complete(folder: str | os.PathLike, text: str = "") -> Path:
    """Write the :data:`COMPLETE_MARKER` into ``folder`` (last step of making a data folder)."""
    marker = Path(folder) / COMPLETE_MARKER
    marker.write_text(text)
    return marker


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 through a temporary file renamed into place: never half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def download_command(*args: str) -> str:
    """``python data_download.py ARGS`` as it runs from the current folder (``../`` or absolute).

    Every message that tells the user to download names the script by this, so the command works
    from ``notebooks/`` and ``solutions/`` (where a notebook runs) as well as from the repository.
    """
    script, cwd = REPO_ROOT / "data_download.py", Path.cwd().resolve()
    inside = cwd == REPO_ROOT or REPO_ROOT in cwd.parents
    return shlex.join(["python", os.path.relpath(script, cwd) if inside else str(script), *args])
