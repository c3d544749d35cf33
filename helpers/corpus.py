"""A corpus ``root/<speaker>/[<chapter>/]<file>.flac``: manifest (headers only), labels, split."""

import hashlib
import json
import os
import re
import warnings
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from .audio import AudioError, audio_info
from .paths import MANIFEST_NAME, atomic_write_text, download_command, is_audio_file


@dataclass(frozen=True)
class Utterance:
    """One audio file: ``path`` relative to the corpus root, ``frames`` at ``sample_rate`` Hz."""

    path: str
    speaker: str
    chapter: str | None
    frames: int
    sample_rate: int

    seconds = property(lambda self: self.frames / self.sample_rate)  # duration (s)


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


def _get_data() -> str:
    synthetic = download_command("--tier", "synthetic")
    return (
        f"download the data with `{download_command()}` (or `{synthetic}` for a synthetic corpus)."
    )


def find_audio_files(root: str | os.PathLike) -> list[Path]:
    """Audio files of a corpus, sorted, hidden files and folders (``._*``, the cache) left out."""
    root = Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"No dataset folder at {root}: {_get_data()}")
    found = [p for p in [*root.glob("*/*"), *root.glob("*/*/*")] if is_audio_file(p)]
    return sorted(p for p in found if not any(s[0] == "." for s in p.relative_to(root).parts))


def parse_name(relative: Path) -> tuple[str, str | None]:
    """``(speaker, chapter)`` of a relative path: folders, else ``<speaker>-<chapter>-<utt>``."""
    parts = relative.parts
    if len(parts) == 3:
        return parts[0], parts[1]
    match = re.match(r"^[^-]+-([^-]+)-.+$", relative.stem)
    return parts[0], (match[1] if match else None)


def load_manifest(
    root: str | os.PathLike, refresh: bool = False, progress: bool = True
) -> Manifest:
    """Every audio file under ``root``, headers cached in ``root/.manifest.json`` by size and time;
    unreadable files skipped with a warning; ``FileNotFoundError`` if none is readable."""
    root = Path(root)
    if not (files := find_audio_files(root)):
        expected = f"expected {root}/<speaker>/<file>.flac"
        raise FileNotFoundError(
            f"No audio files (.flac, .wav, .ogg) in {root}: {expected}: {_get_data()}"
        )
    cache_path, cached = root / MANIFEST_NAME, {}
    if cache_path.exists() and not refresh:
        try:
            cached = json.loads(cache_path.read_text())["files"]
        except (ValueError, KeyError):
            warnings.warn(f"{cache_path} is not a valid manifest: rebuilding it", stacklevel=2)
    utterances, skipped, entries = [], [], {}
    for path in tqdm(files, desc="reading headers", disable=not progress, leave=False):
        key, stat = path.relative_to(root).as_posix(), path.stat()
        entry, stamp = cached.get(key), dict(size=stat.st_size, mtime_ns=stat.st_mtime_ns)
        if not isinstance(entry, dict) or stamp.items() - entry.items():
            try:
                info = audio_info(path)
                entry = {"frames": info.frames, "sample_rate": info.sample_rate}
            except AudioError as error:
                entry = {"error": str(error)}
            entry.update(stamp)
        entries[key] = entry
        if "error" in entry:
            skipped.append((key, entry["error"]))
        else:
            who = parse_name(path.relative_to(root))  # (speaker, chapter)
            utterances.append(Utterance(key, *who, entry["frames"], entry["sample_rate"]))
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
        what = f"None of the {len(files)} audio files in {root} is readable (see the warning above)"
        raise FileNotFoundError(f"{what}. Delete the folder and {_get_data()}")
    return Manifest(root, utterances, skipped)


def speaker_to_index(utterances: Sequence[Utterance]) -> dict[str, int]:
    """Each speaker's class index ``0..n_speakers-1`` in sorted order (numeric ids as numbers)."""
    speakers = {u.speaker for u in utterances}
    order = sorted(speakers, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))
    return {speaker: index for index, speaker in enumerate(order)}


def split_utterances(
    utterances: Sequence[Utterance], val_fraction: float = 0.3, seed: int = 0, by: str = "file"
) -> tuple[list[Utterance], list[Utterance]]:
    """Per speaker, ``round(val_fraction * n)`` files (at least one) to validation, the same for a
    seed in any order; ``by="chapter"`` holds out whole sessions (else by file, with a warning)."""
    if by not in ("file", "chapter"):
        raise ValueError(f"by must be 'file' or 'chapter', not {by!r}")
    per_speaker: dict[str, list[Utterance]] = defaultdict(list)
    for u in sorted(utterances, key=lambda u: u.path):
        per_speaker[u.speaker].append(u)
    train, val, single, one_chapter = [], [], [], []
    for speaker, files in sorted(per_speaker.items()):
        stable = int.from_bytes(hashlib.sha1(speaker.encode()).digest()[:4], "little")  # unsalted
        rng = np.random.default_rng([seed, stable])
        if len(files) < 2:
            single.append(speaker)
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
            one_chapter.append(speaker)
        order = rng.permutation(len(files))
        val += [files[i] for i in order[:n_val]]
        train += [files[i] for i in order[n_val:]]
    notes = {"a single file (training only)": single, "one chapter split by file": one_chapter}
    for what, who in notes.items():
        if who:
            warnings.warn(f"{len(who)} speaker(s) with {what}: {who[:10]}", stacklevel=2)
    return train, val


def holdout_speakers(speakers: Sequence[str], n_unseen: int, seed: int = 0) -> tuple[list, list]:
    """``(seen, unseen)`` speakers, ``n_unseen`` held out, the same for a seed in any order."""
    pool = [str(s) for s in np.random.default_rng(seed).permutation(sorted(set(speakers)))]
    return pool[n_unseen:], pool[:n_unseen]


def describe_split(train: Sequence[Utterance], val: Sequence[Utterance]) -> dict[str, float]:
    """Files, speakers and hours on each side of a split, for printing."""
    sides = {"train": train, "val": val}
    counts = {f"{s}_files": len(u) for s, u in sides.items()}
    counts |= {f"{s}_speakers": len({x.speaker for x in u}) for s, u in sides.items()}
    counts |= {f"{s}_hours": round(sum(x.seconds for x in u) / 3600, 3) for s, u in sides.items()}
    return counts
