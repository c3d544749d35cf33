"""From a folder of audio files to batches: manifest, labels, split, Dataset and DataLoader.

The pipeline, in the order a notebook uses it::

    manifest = load_manifest("train-dataset")          # every file once: speaker, chapter, length
    labels = speaker_to_index(manifest.utterances)     # "103" -> 0, "1034" -> 1, ...
    train, val = split_utterances(manifest.utterances, val_fraction=0.3, seed=0)
    train_set = SpeakerDataset(train, labels, feature=make_feature("mfcc"), train=True)
    train_loader = make_loader(train_set, batch_size=32, shuffle=True, seed=0)

Nothing here loads the corpus into memory: a Dataset item reads just the crop it needs (or slices a
memory-mapped cache), so memory stays flat whatever the corpus size.
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
import torch
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from .audio import SAMPLE_RATE, AudioError, audio_info, fit_length, load_audio
from .features import AudioFeature

AUDIO_SUFFIXES = (".flac", ".wav", ".ogg")
MANIFEST_NAME = ".manifest.json"
CACHE_DIR = ".cache"
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
            f"No dataset folder at {root}. Download the data with `python data_download.py` "
            "(or make a synthetic one with `python data_download.py --synthetic`)."
        )
    files = []
    for pattern in ("*/*", "*/*/*"):
        for path in root.glob(pattern):
            parts = path.relative_to(root).parts
            if path.suffix.lower() in AUDIO_SUFFIXES and not any(p.startswith(".") for p in parts):
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
            "Download the data with `python data_download.py` "
            "(or `python data_download.py --synthetic` for a small synthetic corpus)."
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
            _atomic_write_text(cache_path, json.dumps({"version": 1, "files": entries}))
        except OSError as error:
            warnings.warn(f"cannot cache the manifest in {cache_path} ({error})", stacklevel=2)
    if skipped:
        listed = "\n  ".join(f"{p}: {why}" for p, why in skipped[:5])
        more = f"\n  ... and {len(skipped) - 5} more" if len(skipped) > 5 else ""
        warnings.warn(f"skipped {len(skipped)} unreadable file(s):\n  {listed}{more}", stacklevel=2)
    if not utterances:
        raise FileNotFoundError(
            f"None of the {len(files)} audio files in {root} is readable (see the warning above). "
            "Download the data again with `python data_download.py`."
        )
    return Manifest(root, utterances, skipped)


def _atomic_write_text(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(text)
    tmp.replace(path)


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


def _uniform(*keys: int) -> float:
    """A number in [0, 1) fixed by ``keys``, uniformly spread: a hash, the same in every process.

    About 2 µs, against 17 µs to seed a numpy Generator for one number.
    """
    digest = hashlib.blake2b(repr(keys).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "little") / 2**64


def _stable_int(text: str) -> int:
    """A hash of ``text`` that is the same in every process (``hash()`` is salted per process)."""
    return int.from_bytes(hashlib.sha1(text.encode()).digest()[:4], "little")


# --------------------------------------------------------------------------------------------------
# Dataset


class SpeakerDataset(Dataset):
    """``(features, label)`` pairs cut from the utterances: a fixed-length crop of each file.

    Parameters
    ----------
    utterances : sequence of Utterance
        Files of this set (from ``split_utterances``).
    speaker_to_index : dict
        Speaker to class index (from ``speaker_to_index``, built on the whole corpus).
    root : path
        The corpus folder the utterance paths are relative to.
    feature : AudioFeature or None
        Applied to each crop. ``None`` returns the waveform crop ``(samples,)`` and leaves the features
        to be computed per batch on the GPU (see ``fit(..., batch_transform=...)``).
    crop_seconds : float
        Crop length (s). Shorter files are zero-padded at the end.
    train : bool
        ``True``: a random crop, different every epoch (call ``set_epoch``), which is free data
        augmentation. ``False``: the centre crop, the same every time, so validation scores are stable.
    seed : int
        With the epoch and the item index, fixes every random crop: runs repeat exactly, with any number
        of DataLoader workers.
    sample_rate : int
        Rate of the returned waveforms (Hz); files at other rates are resampled.
    cache : FeatureCache or None
        Read crops from a memory-mapped cache instead of decoding the files (see ``FeatureCache``).
        A feature cache must hold ``feature`` (else ``ValueError``); the crops of a waveform cache
        still go through ``feature``.

    Items
    -----
    ``x`` of shape ``feature``'s output for ``crop_seconds`` of audio (e.g. ``(40, 301)`` for the default
    MFCC and 3 s), ``label`` an ``int``.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        speaker_to_index: dict[str, int],
        root: str | os.PathLike,
        feature: AudioFeature | None = None,
        crop_seconds: float = 3.0,
        train: bool = True,
        seed: int = 0,
        sample_rate: int = SAMPLE_RATE,
        cache: FeatureCache | None = None,
    ) -> None:
        self.utterances = list(utterances)
        self.speaker_to_index = speaker_to_index
        self.root = Path(root)
        self.feature = feature
        self.crop_seconds = crop_seconds
        self.crop_samples = round(crop_seconds * sample_rate)
        self.train = train
        self.seed = seed
        self.sample_rate = sample_rate
        self.cache = cache
        self.epoch = 0
        if cache is not None and cache.sample_rate != sample_rate:
            raise ValueError("the cache was built at another sample rate")
        if (
            cache is not None
            and cache.feature is not None
            and feature is not None
            and repr(cache.feature) != repr(feature)
        ):
            raise ValueError(
                f"the cache holds {cache.feature!r}, not this dataset's feature {feature!r}"
            )
        # A waveform cache gives waveforms: the feature (if any) is still applied to them.
        self._feature_after_cache = feature if cache is not None and cache.feature is None else None

    def __len__(self) -> int:
        return len(self.utterances)

    def set_epoch(self, epoch: int) -> None:
        """Choose the random crops of ``epoch`` (``fit`` calls this before each epoch)."""
        self.epoch = epoch

    def labels(self) -> list[int]:
        """Class index of every item, in order."""
        return [self.speaker_to_index[u.speaker] for u in self.utterances]

    def crop_start(self, index: int) -> float:
        """Where the crop of item ``index`` starts, as a fraction of the room left in the file.

        0 is the start of the file, 1 the last possible start; the centre (0.5) in validation. In
        training, a function of ``(seed, epoch, index)`` only: the same in every process and run.
        """
        if not self.train:
            return 0.5
        return _uniform(self.seed, self.epoch, index)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Item ``index``: ``(x, label)``, ``x`` of the feature's shape (or ``(crop_samples,)``).

        A file that cannot be decoded (corrupt past a valid header, deleted since the manifest was
        read) is reported with a warning naming it, and the next file's item is returned instead, so
        one bad file never stops training inside a DataLoader worker.

        Raises
        ------
        AudioError
            Only if no file of the dataset can be decoded at all.
        """
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        for attempt in range(len(self)):
            item = (index + attempt) % len(self)
            utterance = self.utterances[item]
            label = self.speaker_to_index[utterance.speaker]
            position = self.crop_start(item)
            if self.cache is not None:
                x = self.cache.crop(utterance, position, self.crop_seconds)
                if self._feature_after_cache is not None:
                    x = self._feature_after_cache(x)
                return x, label
            try:
                waveform = self.read_crop(utterance, position)
            except AudioError as error:  # corrupt audio past a valid header: report it, go on
                warnings.warn(f"{error} Using the next file instead.", stacklevel=2)
                continue
            return (self.feature(waveform) if self.feature is not None else waveform), label
        raise AudioError(f"none of the {len(self)} files of this dataset can be decoded")

    def read_crop(self, utterance: Utterance, position: float) -> torch.Tensor:
        """Decode only the crop: ``(crop_samples,)`` at ``sample_rate``, zero-padded if short."""
        frames = round(self.crop_seconds * utterance.sample_rate)
        start = round(position * max(0, utterance.frames - frames))
        waveform = load_audio(self.root / utterance.path, self.sample_rate, start, frames)
        return fit_length(waveform, self.crop_samples)

    def utterance_crops(self, index: int, max_crops: int = 10) -> torch.Tensor:
        """Crops that together cover the whole file, for utterance-level evaluation.

        A file of ``d`` seconds gives ``ceil(d / crop_seconds)`` crops (at most ``max_crops``), evenly
        spread from its start to its end, overlapping when they do not tile it exactly. Averaging a
        model's outputs over them scores the whole utterance, not one window of it.

        Returns
        -------
        torch.Tensor
            ``(n_crops, *item_shape)``: stacked features, or waveforms if ``feature`` is ``None``.
        """
        utterance = self.utterances[index]
        n_crops = min(max_crops, max(1, int(np.ceil(utterance.seconds / self.crop_seconds))))
        positions = np.linspace(0.0, 1.0, n_crops) if n_crops > 1 else [0.5]
        if self.cache is not None:
            crops = torch.stack(
                [self.cache.crop(utterance, p, self.crop_seconds) for p in positions]
            )
            if self._feature_after_cache is not None:
                crops = self._feature_after_cache(crops)
            return crops
        whole = load_audio(self.root / utterance.path, self.sample_rate)
        room = max(0, whole.shape[-1] - self.crop_samples)
        crops = torch.stack(
            [fit_length(whole[round(p * room) :], self.crop_samples) for p in positions]
        )
        return self.feature(crops) if self.feature is not None else crops


# --------------------------------------------------------------------------------------------------
# Cache


class FeatureCache:
    """Log features (or int16 waveforms) of whole files in one memory-mapped file next to the data.

    Built once (one pass over the corpus, with a progress bar); afterwards an item is a slice of a
    memory-mapped array: no decoding, no FFT for cached features, and the operating system keeps the
    hot part in RAM. Random crops still move every epoch: they are cut from the whole file's features.

    Parameters
    ----------
    root : path
        Corpus folder; the cache goes to ``root/.cache/`` (``cache_dir`` to put it elsewhere).
    utterances : sequence of Utterance
        Files to cache (the whole manifest, so train and validation share one cache).
    feature : AudioFeature or None
        Cache ``feature.extract`` of each file, as float16 ``(frames, n_bins)`` rows; ``crop`` then
        applies ``feature.finish``. ``None`` caches the waveform as int16 and ``crop`` returns waveforms.
    sample_rate : int
        Rate the files are decoded at (Hz).
    cache_dir : path or None
        Folder of the cache files (default ``root/.cache``).
    progress : bool
        Show a progress bar while building.

    Attributes
    ----------
    path : pathlib.Path
        The ``.npy`` array; its index (file → first row, rows) is the ``.json`` beside it. The name holds
        a hash of the feature's settings and of the files (path, length, rate): a changed setting or
        file gets a new cache, an unchanged one is reused without reading any audio.

    Notes
    -----
    Disk use for the real corpus (about 100 h): int16 waveforms take 32 kB per second of audio
    (11.5 GB for 100 h); 40 float16 MFCCs 8 kB/s (2.9 GB); a 201-bin spectrogram 40 kB/s (14.5 GB).
    Features are stored frame by frame (one row per frame), so a crop is one contiguous block of the
    file: one read, whatever the number of bins.

    Waveforms are stored as ``round(x * 32768)``, so a 16-bit file's samples come back exactly. A crop
    of cached features equals the features of the decoded crop but for the float16 rounding (about
    1e-3 relative) and in the first and last ``n_fft / (2 hop_length)`` frames, 2 with the defaults
    (the STFT pads the edges of the whole file, not of the crop); normalised kinds differ a little
    more, through the mean and deviation. A crop starts on the frame nearest to the decoded crop's
    start, at most half a hop (5 ms) away.

    A cache pickles without its array (workers of a DataLoader started with "spawn", as on macOS and
    Windows, reopen the memory map instead of copying the cache into every worker).
    """

    VERSION = 2  # bump when the layout of the files changes

    def __init__(
        self,
        root: str | os.PathLike,
        utterances: Sequence[Utterance],
        feature: AudioFeature | None = None,
        sample_rate: int = SAMPLE_RATE,
        cache_dir: str | os.PathLike | None = None,
        progress: bool = True,
    ) -> None:
        self.root = Path(root)
        self.feature = feature
        self.sample_rate = sample_rate
        kind = "waveform" if feature is None else repr(feature)
        files = sorted((u.path, u.frames, u.sample_rate) for u in utterances)
        description = json.dumps([self.VERSION, kind, sample_rate, files])
        key = hashlib.sha1(description.encode()).hexdigest()[:12]
        folder = Path(cache_dir) if cache_dir is not None else self.root / CACHE_DIR
        self.path = folder / f"{'waveform' if feature is None else 'features'}-{key}.npy"
        self.index_path = self.path.with_suffix(".json")
        self.silence: torch.Tensor | None = None
        if feature is not None:  # (n_bins,): what zero-padding a waveform turns into
            with torch.no_grad():
                self.silence = feature.extract(torch.zeros(8 * feature.hop_length))[..., 4]
        if not (self.path.exists() and self.index_path.exists()):
            folder.mkdir(parents=True, exist_ok=True)
            self._build(sorted(utterances, key=lambda u: u.path), progress)
        self.index: dict[str, tuple[int, int]] = {
            k: tuple(v) for k, v in json.loads(self.index_path.read_text()).items()
        }
        self.array = np.load(self.path, mmap_mode="r")

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["array"] = None  # reopened by __setstate__: never copy the cache into a worker
        return state

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.array = np.load(self.path, mmap_mode="r")

    def _build(self, utterances: list[Utterance], progress: bool) -> None:
        """Decode every file once and write the array, then the index (written last, atomically).

        The ``.npy`` file is written block after block with plain writes (not through a memory map,
        whose dirty pages would count as this process's memory until the end), so building a cache
        bigger than the RAM is fine. A file that fails to decode is reported with a warning and
        cached as silence, so that one bad file does not throw away the whole pass.
        """
        lengths = [self._length(u) for u in utterances]
        rows = () if self.feature is None else (self.feature.n_bins,)
        dtype = np.dtype(np.int16 if self.feature is None else np.float16)
        header = {
            "descr": np.lib.format.dtype_to_descr(dtype),
            "fortran_order": False,
            "shape": (sum(lengths), *rows),
        }
        tmp = self.path.with_name(f"{self.path.stem}.partial-{os.getpid()}.npy")
        index, offset = {}, 0
        try:
            with open(tmp, "wb") as file:
                np.lib.format.write_array_header_1_0(file, header)
                bar = tqdm(utterances, desc=f"caching {self.path.stem}", disable=not progress)
                for utterance, length in zip(bar, lengths):
                    samples = self._samples(utterance)
                    try:
                        waveform = load_audio(self.root / utterance.path, self.sample_rate)
                        waveform = fit_length(waveform, samples)
                    except AudioError as error:
                        warnings.warn(f"{error} Cached as silence.", stacklevel=3)
                        waveform = torch.zeros(samples)
                    if self.feature is None:
                        block = (waveform * 32768).round_().clamp_(-32768, 32767).numpy()
                    else:
                        with torch.no_grad():
                            block = self.feature.extract(waveform).T.numpy()  # (length, n_bins)
                    assert block.shape[0] == length, (utterance.path, block.shape, length)
                    file.write(block.astype(dtype).tobytes())  # row-major: frame after frame
                    index[utterance.path] = (offset, length)
                    offset += length
            tmp.replace(self.path)
            _atomic_write_text(self.index_path, json.dumps(index))
        finally:
            tmp.unlink(missing_ok=True)

    def _samples(self, utterance: Utterance) -> int:
        """Length of ``utterance`` at the cache's rate (samples)."""
        return round(utterance.frames * self.sample_rate / utterance.sample_rate)

    def _length(self, utterance: Utterance) -> int:
        """Rows ``utterance`` takes in the array: samples (waveforms) or frames (features)."""
        samples = self._samples(utterance)
        return samples if self.feature is None else self.feature.frames(samples)

    def crop(self, utterance: Utterance, position: float, crop_seconds: float) -> torch.Tensor:
        """The crop of ``utterance`` starting at ``position`` (0–1 of the room left), ready to use.

        The start is placed in samples exactly as ``SpeakerDataset.read_crop`` places it, then rounded
        to the nearest frame, so cached and decoded crops cover the same audio.

        Parameters
        ----------
        utterance : Utterance
            A file the cache was built with.
        position : float
            0 for the start of the file, 1 for the last possible start.
        crop_seconds : float
            Crop length (s); a shorter file is padded with silence.

        Returns
        -------
        torch.Tensor
            float32: the waveform ``(crop_samples,)``, or ``feature.finish`` of the cached features,
            e.g. ``(n_bins, frames)`` or ``(n_bins,)``.
        """
        offset, length = self.index[utterance.path]
        samples = self._samples(utterance)
        crop_samples = round(crop_seconds * self.sample_rate)
        start = round(position * max(0, samples - crop_samples))
        if self.feature is None:
            stop = min(length, start + crop_samples)
            block = self.array[offset + start : offset + stop].astype(np.float32)
            return fit_length(torch.from_numpy(block).div_(32768), crop_samples)
        wanted = self.feature.frames(crop_samples)
        first = min(round(start / self.feature.hop_length), max(0, length - wanted))
        rows = self.array[offset + first : offset + first + min(wanted, length)]  # (frames, n_bins)
        block = torch.from_numpy(np.array(rows)).float().T  # (n_bins, frames), a transposed view
        if block.shape[-1] < wanted:
            # A short file: pad with the features of silence, as decoding the padded crop does.
            pad = self.silence.unsqueeze(-1).expand(-1, wanted - block.shape[-1])
            block = torch.cat([block, pad], dim=-1)
        return self.feature.finish(block, overwrite=True)  # block is a fresh copy: reuse it


# --------------------------------------------------------------------------------------------------
# DataLoader


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed numpy and ``random`` in each worker from torch's seed."""
    import random

    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def make_loader(
    dataset: Dataset,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    num_workers: int | None = None,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader with the course's defaults.

    Parameters
    ----------
    dataset : Dataset
        E.g. a ``SpeakerDataset``.
    batch_size : int
        Items per batch.
    shuffle : bool
        Shuffle the order every epoch (training), from a generator seeded with ``seed``.
    seed : int
        Fixes the shuffling order and the workers' seeds.
    num_workers : int or None
        Processes decoding in parallel with training. ``None``: with a GPU, one per CPU core, at most 4
        (Colab has 2 cores), so the CPU decodes while the GPU trains; without one, 0 (decode in the
        main process): on a CPU-only machine workers would compete with training for the same cores.
        0 is also the simplest to debug.
    drop_last : bool
        Drop the last incomplete batch (training with BatchNorm likes full batches).

    Notes
    -----
    ``pin_memory`` is on when CUDA is available, so batches reach the GPU with an asynchronous copy.
    """
    if num_workers is None:
        num_workers = min(4, os.cpu_count() or 1) if torch.cuda.is_available() else 0
    return DataLoader(
        dataset,
        batch_size=batch_size,
        shuffle=shuffle,
        num_workers=num_workers,
        worker_init_fn=seed_worker,
        generator=torch.Generator().manual_seed(seed),
        pin_memory=torch.cuda.is_available(),
        drop_last=drop_last,
        persistent_workers=False,  # fresh workers each epoch see the dataset's new epoch number
    )


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
