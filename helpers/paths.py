"""Where things live: folders, data tiers, the ``.complete`` marker written last (stdlib only)."""

import os
import shlex
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent  # the checkout: notebooks/, helpers/...
DATA_DIR = REPO_ROOT / "data"  # the data tiers, their downloaded archives, the synthetic corpora
FULL_DATA = REPO_ROOT / "train-dataset"  # the practical's dataset (~250 speakers, 5.5 GB)
SMALL_DATA = DATA_DIR / "small"  # LibriSpeech dev-clean (+ test-clean) as <speaker>/<file>.flac
SYNTHETIC_DATA = DATA_DIR / "synthetic"  # 24 speakers × 12 files of 2–8 s, when no real data
SYNTHETIC_TINY = DATA_DIR / "synthetic-tiny"  # quick mode and CI: 8 speakers × 8 files of 2–6 s
CHECKPOINT_DIR = REPO_ROOT / "checkpoints"  # 05's best model for 06 and 07 (without Drive)
COMPLETE_MARKER = ".complete"  # written last into a finished data folder
AUDIO_SUFFIXES = (".flac", ".wav", ".ogg")  # read as audio (lower case)
MANIFEST_NAME = ".manifest.json"  # the manifest cache inside a corpus folder
CACHE_DIR_NAME = ".cache"  # the FeatureCache folder inside a corpus folder


def is_audio_file(path: str | os.PathLike) -> bool:
    """Whether ``path`` has one of :data:`AUDIO_SUFFIXES` (case-insensitive)."""
    return str(path).lower().endswith(AUDIO_SUFFIXES)


def is_complete(folder: str | os.PathLike) -> bool:
    """Whether ``folder`` holds the :data:`COMPLETE_MARKER` (written last into a data folder)."""
    return (Path(folder) / COMPLETE_MARKER).is_file()


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> Path:
    """Write ``data`` through a temporary file renamed into place: never half a file."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` as UTF-8 with :func:`atomic_write_bytes`."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def download_command(*args: str) -> str:
    """``python data_download.py ARGS`` as it runs from the current folder."""
    script, cwd = REPO_ROOT / "data_download.py", Path.cwd().resolve()
    inside = cwd == REPO_ROOT or REPO_ROOT in cwd.parents
    return shlex.join(["python", os.path.relpath(script, cwd) if inside else str(script), *args])
