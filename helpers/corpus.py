"""What is in a corpus and how it is divided: utterances, the manifest, labels, the split.

The first steps of notebook 03, in order::

    manifest = load_manifest("train-dataset")          # every file once: speaker, chapter, length
    labels = speaker_to_index(manifest.utterances)     # "103" -> 0, "1034" -> 1, ...
    train, val = split_utterances(manifest.utterances, val_fraction=0.3, seed=0)

A corpus folder is ``root/<speaker>/<file>.flac`` (or LibriSpeech's ``root/<speaker>/<chapter>/...``);
nothing here decodes audio beyond the file headers.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .audio import AudioError, audio_info
from .paths import MANIFEST_NAME, atomic_write_text, download_command, is_audio_file

_NAME_PATTERN = re.compile(r"^(?P<speaker>[^-]+)-(?P<chapter>[^-]+)-(?P<utt>.+)$")

# --------------------------------------------------------------------------------------------------
# Manifest: what is in the corpus, read once


@dataclass(frozen=True)
class Utterance:
    """One audio file of the corpus.

    ``path`` is relative to the corpus root; ``frames`` and ``sample_rate`` are the file's own, so a
    crop can be placed without opening the file.
    """

    path: str
    speaker: str
    chapter: str | None
    frames: int
    sample_rate: int

    @property
    def seconds(self) -> float:
        """Duration (s)."""
        return self.frames / self.sample_rate


@dataclass
class Manifest:
    """Every readable file under ``root``, and the files that were skipped with the reason."""

    root: Path
    utterances: list[Utterance]
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line: files, speakers, hours, skipped."""
        hours = sum(u.seconds for u in self.utterances) / 3600
        speakers = len({u.speaker for u in self.utterances})
        text = f"{len(self.utterances)} files, {speakers} speakers, {hours:.2f} h of audio"
        return text + (f", {len(self.skipped)} skipped" if self.skipped else "")


def find_audio_files(root: str | os.PathLike) -> list[Path]:
    """Audio files of a corpus, sorted: ``root/<speaker>/*`` and ``root/<speaker>/<chapter>/*``.

    Hidden files and folders (``.DS_Store``, macOS ``._*`` twins, the cache) are ignored.
    """
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(
            f"No dataset folder at {root}. Download the data with `{download_command()}` "
            f"(or make a synthetic one with `{download_command('--tier', 'synthetic')}`)."
        )
    files = []
    for pattern in ("*/*", "*/*/*"):
        for path in root.glob(pattern):
            parts = path.relative_to(root).parts
            if is_audio_file(path) and not any(p.startswith(".") for p in parts):
                files.append(path)
    return sorted(files)


def parse_name(relative: Path) -> tuple[str, str | None]:
    """``(speaker, chapter)`` of a file from its path relative to the corpus root.

    The speaker is the first folder (never a number parsed out of a string); the chapter is the
    second folder in the nested LibriSpeech layout, else the middle field of a
    ``<speaker>-<chapter>-<utt>`` file name, else ``None``.
    """
    parts = relative.parts
    if len(parts) == 3:
        return parts[0], parts[1]
    match = _NAME_PATTERN.match(relative.stem)
    return parts[0], (match["chapter"] if match else None)


def load_manifest(
    root: str | os.PathLike, refresh: bool = False, progress: bool = True
) -> Manifest:
    """List every audio file under ``root`` with its speaker, chapter, length and rate.

    Headers are read once and cached in ``root/.manifest.json``, keyed by each file's size and
    modification time; later calls only read new or changed files. An unreadable or empty file is
    skipped, and a warning names it (all of them are in ``Manifest.skipped``).

    Raises
    ------
    FileNotFoundError
        If ``root`` is missing or holds no audio files.
    """
    root = Path(root)
    files = find_audio_files(root)
    if not files:
        raise FileNotFoundError(
            f"No audio files (.flac, .wav, .ogg) in {root}: expected {root}/<speaker>/<file>.flac. "
            f"Download the data with `{download_command()}` "
            f"(or `{download_command('--tier', 'synthetic')}` for a small synthetic corpus)."
        )
    cache_path = root / MANIFEST_NAME
    cached: dict[str, dict] = {}
    if cache_path.exists() and not refresh:
        try:
            cached = json.loads(cache_path.read_text())["files"]
        except (ValueError, KeyError):
            warnings.warn(f"{cache_path} is not a valid manifest: rebuilding it", stacklevel=2)

    utterances, skipped, entries = [], [], {}
    for path in tqdm(files, desc="reading headers", disable=not progress, leave=False):
        relative = path.relative_to(root)
        key = relative.as_posix()
        stat = path.stat()
        entry = cached.get(key)
        if not isinstance(entry, dict) or (entry.get("size"), entry.get("mtime_ns")) != (
            stat.st_size,
            stat.st_mtime_ns,
        ):
            try:
                info = audio_info(path)
                entry = {"frames": info.frames, "sample_rate": info.sample_rate}
            except AudioError as error:
                entry = {"error": str(error)}
            entry.update(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        entries[key] = entry
        if "error" in entry:
            skipped.append((key, entry["error"]))
            continue
        speaker, chapter = parse_name(relative)
        utterances.append(Utterance(key, speaker, chapter, entry["frames"], entry["sample_rate"]))

    if entries != cached:
        try:
            atomic_write_text(cache_path, json.dumps({"version": 1, "files": entries}))
        except OSError as error:
            warnings.warn(f"cannot cache the manifest in {cache_path} ({error})", stacklevel=2)
    if skipped:
        listed = "\n  ".join(f"{p}: {why}" for p, why in skipped[:5])
        more = f"\n  ... and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(f"skipped {len(skipped)} unreadable file(s):\n  {listed}{more}", stacklevel=2)
    if not utterances:
        raise FileNotFoundError(
            f"None of the {len(files)} audio files in {root} is readable (see the warning above). "
            f"Delete the folder and download the data again: `{download_command('--tier', 'small')}` "
            "(or `--tier full`)."
        )
    return Manifest(root, utterances, skipped)


# --------------------------------------------------------------------------------------------------
# Labels


def speaker_to_index(utterances: Sequence[Utterance]) -> dict[str, int]:
    """Map each speaker to a class index ``0..n_speakers-1``, in sorted order.

    Speaker ids of the real corpus are numbers like 19, 103, 8975: used as class indices they would
    need a 8976-way output layer with mostly dead classes. Numeric ids sort as numbers, others as text.
    """
    speakers = {u.speaker for u in utterances}
    order = sorted(speakers, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))
    return {speaker: index for index, speaker in enumerate(order)}


def save_label_map(mapping: dict[str, int], path: str | os.PathLike) -> None:
    """Write a ``speaker_to_index`` map to a JSON file (next to a checkpoint, say)."""
    Path(path).write_text(json.dumps(mapping, indent=1))


def load_label_map(path: str | os.PathLike) -> dict[str, int]:
    """Read a map written by ``save_label_map``."""
    mapping = json.loads(Path(path).read_text())
    return {str(speaker): int(index) for speaker, index in mapping.items()}


# --------------------------------------------------------------------------------------------------
# Split


def split_utterances(
    utterances: Sequence[Utterance],
    val_fraction: float = 0.3,
    seed: int = 0,
    by: str = "file",
) -> tuple[list[Utterance], list[Utterance]]:
    """Split every speaker's files between training and validation, reproducibly.

    Each speaker keeps ``round(val_fraction * n)`` of its files (at least one) for validation, so every
    speaker is in both sets and the classifier is tested on all its classes.

    Parameters
    ----------
    utterances : sequence of Utterance
        The corpus.
    val_fraction : float
        Share of each speaker's files held out.
    seed : int
        Same seed and files, same split — whatever order the files came in.
    by : {"file", "chapter"}
        ``"chapter"`` holds out whole recording sessions: files of one chapter share a microphone, a
        room and a day, so a model could recognise the *recording* instead of the voice if a chapter
        sits on both sides (leakage), and validation accuracy would flatter it. A speaker with a single
        chapter falls back to a file split, with a warning.

    A speaker with a single file cannot be in both sets: it goes to training and a warning names it.
    """
    if by not in ("file", "chapter"):
        raise ValueError(f"by must be 'file' or 'chapter', not {by!r}")
    per_speaker: dict[str, list[Utterance]] = defaultdict(list)
    for utterance in sorted(utterances, key=lambda u: u.path):
        per_speaker[utterance.speaker].append(utterance)

    train: list[Utterance] = []
    val: list[Utterance] = []
    lonely, single_chapter = [], []
    for speaker in sorted(per_speaker):
        files = per_speaker[speaker]
        rng = np.random.default_rng([seed, _stable_int(speaker)])
        if len(files) < 2:
            lonely.append(speaker)
            train += files
            continue
        n_val = min(len(files) - 1, max(1, round(val_fraction * len(files))))
        chapters = sorted({u.chapter for u in files if u.chapter is not None})
        if by == "chapter" and len(chapters) >= 2 and all(u.chapter for u in files):
            held: set[str] = set()
            for chapter in rng.permutation(chapters)[:-1]:  # always leave one chapter for training
                if sum(u.chapter in held for u in files) >= n_val:
                    break
                held.add(str(chapter))
            val += [u for u in files if u.chapter in held]
            train += [u for u in files if u.chapter not in held]
            continue
        if by == "chapter":
            single_chapter.append(speaker)
        order = rng.permutation(len(files))
        val += [files[i] for i in order[:n_val]]
        train += [files[i] for i in order[n_val:]]
    if lonely:
        warnings.warn(
            f"{len(lonely)} speaker(s) with a single file, kept for training only: {lonely[:10]}",
            stacklevel=2,
        )
    if single_chapter:
        warnings.warn(
            f"{len(single_chapter)} speaker(s) with one chapter split by file: {single_chapter[:10]}",
            stacklevel=2,
        )
    return train, val


def _stable_int(text: str) -> int:
    """A hash of ``text`` that is the same in every process (``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "little")


def holdout_speakers(speakers: Sequence[str], n_unseen: int, seed: int = 0) -> tuple[list, list]:
    """Split speakers into ``(seen, unseen)``: train on the first, verify on the ``n_unseen`` others.

    The same seed and speakers give the same split, whatever their order; no speaker is on both sides.
    """
    pool = [str(s) for s in np.random.default_rng(seed).permutation(sorted(set(speakers)))]
    return pool[n_unseen:], pool[:n_unseen]


def describe_split(train: Sequence[Utterance], val: Sequence[Utterance]) -> dict[str, float]:
    """Counts of a split, for printing: files, speakers and hours on each side."""
    return {
        "train_files": len(train),
        "val_files": len(val),
        "train_speakers": len({u.speaker for u in train}),
        "val_speakers": len({u.speaker for u in val}),
        "train_hours": round(sum(u.seconds for u in train) / 3600, 3),
        "val_hours": round(sum(u.seconds for u in val) / 3600, 3),
    }


def utterances_to_json(utterances: Sequence[Utterance]) -> list[dict]:
    """Plain dicts of utterances (to save a split next to a checkpoint)."""
    return [asdict(u) for u in utterances]
