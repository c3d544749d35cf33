"""Small ``.tar.gz`` archives in each data tier's real layout, for tests that download data.

Two kinds of content:

- fake FLAC bytes (fast; for tests of the download itself): :func:`course_members` (the practical's
  flat ``train-dataset/<speaker>/<file>.flac``) and :func:`librispeech_members` (LibriSpeech's nested
  ``LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` with ``.trans.txt``);
- real, decodable FLAC (synthetic voices of :mod:`helpers.synthetic`; for tests that then read and
  train on the audio, e.g. the Colab simulation): :func:`small_tier_archive` (dev-clean or
  test-clean, LibriSpeech's layout) and :func:`full_tier_archive` (``train-dataset/``).

:func:`make_tar_gz` writes any ``{member name: bytes}`` mapping; :func:`sha256_of` gives the checksum
to pass as ``sha256=`` / ``$AUDIO_COURSE_DATA_SHA256``.
"""

from __future__ import annotations

import hashlib
import io
import random
import tarfile
import tempfile
from pathlib import Path

from helpers.synthetic import make_synthetic_corpus


def fake_flac(seed: int, size: int = 12_000) -> bytes:
    return b"fLaC" + random.Random(seed).randbytes(size)  # incompressible, like real FLAC


def course_members(n_speakers: int = 3, n_files: int = 2, top: str = "train-dataset/"):
    members = {}
    for s in range(n_speakers):
        speaker = 100 + 37 * s
        for u in range(n_files):
            members[f"{top}{speaker}/{speaker}-{500 + s}-{u:04d}.flac"] = fake_flac(s * 100 + u)
    return members


def _librispeech_extras(
    subset: str, chapters: dict[tuple[int, int], list[str]]
) -> dict[str, bytes]:
    """The text files of a LibriSpeech archive: top-level READMEs and one transcript per chapter."""
    speakers = sorted({s for s, _ in chapters})
    members = {
        "LibriSpeech/README.TXT": b"LibriSpeech ASR corpus (test copy)\n",
        "LibriSpeech/LICENSE.TXT": b"CC BY 4.0\n",
        "LibriSpeech/SPEAKERS.TXT": b"; ID | SEX | SUBSET | MINUTES | NAME\n"
        + b"".join(f"{s} | F | {subset} | 1.0 | Reader {s}\n".encode() for s in speakers),
        "LibriSpeech/CHAPTERS.TXT": b"; ID | READER | MINUTES | SUBSET | PROJ. | BOOK ID\n"
        + b"".join(f"{c} | {s} | 1.0 | {subset} | 1 | 1\n".encode() for s, c in chapters),
    }
    for (speaker, chapter), utterances in chapters.items():
        lines = "".join(f"{u} HELLO WORLD\n" for u in utterances)
        members[f"LibriSpeech/{subset}/{speaker}/{chapter}/{speaker}-{chapter}.trans.txt"] = (
            lines.encode()
        )
    return members


def librispeech_members(
    n_speakers: int = 2, n_chapters: int = 2, n_files: int = 2, subset: str = "train-clean-100"
):
    """Fake-FLAC members in LibriSpeech's nested layout, with its text files."""
    audio, chapters = {}, {}
    for s in range(n_speakers):
        speaker = 19 + 7 * s
        for c in range(n_chapters):
            chapter = 198 + c
            names = [f"{speaker}-{chapter}-{u:04d}" for u in range(n_files)]
            chapters[(speaker, chapter)] = names
            for u, name in enumerate(names):
                audio[f"LibriSpeech/{subset}/{speaker}/{chapter}/{name}.flac"] = fake_flac(
                    s + c + u
                )
    return {**_librispeech_extras(subset, chapters), **audio}


def make_tar_gz(
    path: Path, members: dict[str, bytes], extra: list[tarfile.TarInfo] = (), dirs: bool = True
) -> Path:
    """Write ``members`` (name -> bytes, folders added when ``dirs``) and ``extra`` to ``path``."""
    with tarfile.open(path, "w:gz") as tar:
        if dirs:
            seen = set()
            for name in members:
                parts = name.split("/")[:-1]
                for i in range(1, len(parts) + 1):
                    folder = "/".join(parts[:i])
                    if folder not in seen:
                        seen.add(folder)
                        info = tarfile.TarInfo(folder)
                        info.type, info.mode = tarfile.DIRTYPE, 0o755
                        tar.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isreg() else None)
    return path


def _synthetic_files(layout: str, n_speakers: int, files: int, seed: int) -> dict[Path, bytes]:
    """Real FLAC files of a synthetic corpus, by path relative to the corpus folder."""
    with tempfile.TemporaryDirectory() as tmp:
        root = make_synthetic_corpus(
            Path(tmp) / "corpus",
            n_speakers=n_speakers,
            files_per_speaker=files,
            min_seconds=2.0,
            max_seconds=3.0,
            seed=seed,
            layout=layout,
            progress=False,
        )
        return {p.relative_to(root): p.read_bytes() for p in sorted(root.rglob("*.flac"))}


def small_tier_archive(
    path: Path,
    subset: str = "dev-clean",
    n_speakers: int = 4,
    files_per_speaker: int = 4,
    seed: int = 0,
    speaker_offset: int | None = None,
) -> Path:
    """A LibriSpeech ``<subset>.tar.gz`` of real FLAC in the official layout, at ``path``.

    ``LibriSpeech/{README,LICENSE,SPEAKERS,CHAPTERS}.TXT`` and
    ``LibriSpeech/<subset>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac`` with one
    ``<speaker>-<chapter>.trans.txt`` per chapter. Speaker ids are the synthetic corpus's plus
    ``speaker_offset`` (default 0 for dev-clean, 10,000 otherwise: test-clean's speakers differ).
    """
    offset = (0 if subset == "dev-clean" else 10_000) if speaker_offset is None else speaker_offset
    audio, chapters = {}, {}
    for rel, data in _synthetic_files("librispeech", n_speakers, files_per_speaker, seed).items():
        speaker, chapter, utt = rel.stem.split("-")
        speaker = int(speaker) + offset
        name = f"{speaker}-{chapter}-{utt}"
        chapters.setdefault((speaker, int(chapter)), []).append(name)
        audio[f"LibriSpeech/{subset}/{speaker}/{chapter}/{name}.flac"] = data
    return make_tar_gz(path, {**_librispeech_extras(subset, chapters), **audio})


def full_tier_archive(
    path: Path, n_speakers: int = 6, files_per_speaker: int = 4, seed: int = 0
) -> Path:
    """The practical's ``train-dataset.tar.gz`` layout, ``train-dataset/<speaker>/<file>.flac``,
    of real FLAC, at ``path``."""
    files = _synthetic_files("flat", n_speakers, files_per_speaker, seed)
    return make_tar_gz(path, {f"train-dataset/{rel.as_posix()}": d for rel, d in files.items()})


def sha256_of(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
