"""Tiny archives in each data tier's real layout, for the loopback server of the simulation.

- ``small``: ``dev-clean.tar.gz`` laid out as OpenSLR's LibriSpeech:
  ``LibriSpeech/dev-clean/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac``, one
  ``<speaker>-<chapter>.trans.txt`` per chapter, and ``LibriSpeech/{README,SPEAKERS,CHAPTERS}.TXT``;
- ``full``: ``train-dataset.tar.gz`` laid out as the practical's tarball:
  ``train-dataset/<speaker>/<speaker>-<chapter>-<utt>.flac``.

The voices are the synthetic ones of :mod:`helpers.synthetic`; members are sorted and dated
1 Jan 2020 so the same arguments give the same bytes.
"""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

from helpers.synthetic import make_synthetic_corpus

ARCHIVE_NAMES = {"small": "dev-clean.tar.gz", "full": "train-dataset.tar.gz"}
"""The archive's file name per tier, as the real sources name them."""

MTIME = 1_577_836_800  # 2020-01-01, so that archives are byte-identical run after run


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(data), MTIME, 0o644
    tar.addfile(info, io.BytesIO(data))


def _add_folder(tar: tarfile.TarFile, name: str) -> None:
    info = tarfile.TarInfo(name)
    info.type, info.mtime, info.mode = tarfile.DIRTYPE, MTIME, 0o755
    tar.addfile(info)


def _write_tar_gz(path: Path, fill) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=MTIME) as gz:
        with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tar:
            fill(tar)
    return path


def build_small(dest: Path, corpus: Path, n_speakers: int = 6, files_per_speaker: int = 6) -> Path:
    """Write ``dest/dev-clean.tar.gz`` in LibriSpeech's nested layout; return its path.

    Parameters
    ----------
    dest : Path
        Folder of the archive.
    corpus : Path
        Scratch folder for the synthetic corpus the archive is made of (created if absent).
    n_speakers, files_per_speaker : int
        Corpus size; clips are 2–4 s.
    """
    source = make_synthetic_corpus(
        corpus,
        n_speakers,
        files_per_speaker,
        2.0,
        4.0,
        seed=1,
        layout="librispeech",
        progress=False,
    )

    def fill(tar: tarfile.TarFile) -> None:
        top = "LibriSpeech"
        _add_folder(tar, top)
        speakers = sorted(p for p in source.iterdir() if p.is_dir())
        lines = [f"{p.name:<6}| F | dev-clean | {'Synthetic Voice ' + p.name}" for p in speakers]
        _add_bytes(tar, f"{top}/README.TXT", b"LibriSpeech ASR corpus (simulation copy)\n")
        _add_bytes(
            tar,
            f"{top}/SPEAKERS.TXT",
            ("\n".join(["; ID | SEX | SUBSET | NAME", *lines]) + "\n").encode(),
        )
        _add_bytes(tar, f"{top}/CHAPTERS.TXT", b"; ID | READER | MINUTES | SUBSET\n")
        _add_folder(tar, f"{top}/dev-clean")
        for speaker in speakers:
            _add_folder(tar, f"{top}/dev-clean/{speaker.name}")
            for chapter in sorted(p for p in speaker.iterdir() if p.is_dir()):
                prefix = f"{top}/dev-clean/{speaker.name}/{chapter.name}"
                _add_folder(tar, prefix)
                files = sorted(chapter.glob("*.flac"))
                for flac in files:
                    _add_bytes(tar, f"{prefix}/{flac.name}", flac.read_bytes())
                text = "".join(f"{f.stem} SYNTHETIC SPEECH\n" for f in files).encode()
                _add_bytes(tar, f"{prefix}/{speaker.name}-{chapter.name}.trans.txt", text)

    return _write_tar_gz(dest / ARCHIVE_NAMES["small"], fill)


def build_full(dest: Path, corpus: Path, n_speakers: int = 10, files_per_speaker: int = 6) -> Path:
    """Write ``dest/train-dataset.tar.gz`` in the practical's flat layout; return its path."""
    source = make_synthetic_corpus(
        corpus, n_speakers, files_per_speaker, 2.0, 4.0, seed=2, layout="flat", progress=False
    )

    def fill(tar: tarfile.TarFile) -> None:
        _add_folder(tar, "train-dataset")
        for speaker in sorted(p for p in source.iterdir() if p.is_dir()):
            _add_folder(tar, f"train-dataset/{speaker.name}")
            for flac in sorted(speaker.glob("*.flac")):
                _add_bytes(tar, f"train-dataset/{speaker.name}/{flac.name}", flac.read_bytes())

    return _write_tar_gz(dest / ARCHIVE_NAMES["full"], fill)
