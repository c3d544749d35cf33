"""A memory-mapped cache of a corpus: features (or waveforms) decoded once, sliced every epoch."""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from .audio import SAMPLE_RATE, AudioError, fit_length, load_audio
from .corpus import Utterance
from .features import AudioFeature
from .paths import CACHE_DIR_NAME, atomic_write_text


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
        folder = Path(cache_dir) if cache_dir is not None else self.root / CACHE_DIR_NAME
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

        The array is a ``.npy`` file made by ``np.lib.format.open_memmap`` under a temporary name,
        filled file after file and renamed when complete. Its pages belong to the file, not to this
        process: the kernel writes them back as they fill and may drop them, so a cache bigger
        than the RAM builds fine. A file that fails to decode is reported with a warning and cached
        as silence, so that one bad file does not throw away the whole pass.
        """
        lengths = [self._length(u) for u in utterances]
        rows = () if self.feature is None else (self.feature.n_bins,)
        dtype = np.int16 if self.feature is None else np.float16
        tmp = self.path.with_name(f"{self.path.stem}.partial-{os.getpid()}.npy")
        index, offset = {}, 0
        try:
            array = np.lib.format.open_memmap(tmp, "w+", dtype, (sum(lengths), *rows))
            bar = tqdm(utterances, desc=f"caching {self.path.stem}", disable=not progress)
            for utterance, length in zip(bar, lengths):
                block = self._rows(utterance)
                assert block.shape[0] == length, (utterance.path, block.shape, length)
                array[offset : offset + length] = block  # row-major: frame after frame
                index[utterance.path] = (offset, length)
                offset += length
            array.flush()
            del array  # unmapped before the rename
            tmp.replace(self.path)
            atomic_write_text(self.index_path, json.dumps(index))
        finally:
            tmp.unlink(missing_ok=True)

    def _rows(self, utterance: Utterance) -> np.ndarray:
        """What the array holds for ``utterance``: int16 samples, or ``(frames, n_bins)`` features."""
        samples = self._samples(utterance)
        try:
            waveform = fit_length(load_audio(self.root / utterance.path, self.sample_rate), samples)
        except AudioError as error:
            warnings.warn(f"{error} Cached as silence.", stacklevel=4)
            waveform = torch.zeros(samples)
        if self.feature is None:
            return (waveform * 32768).round_().clamp_(-32768, 32767).numpy()
        with torch.no_grad():
            return self.feature.extract(waveform).T.numpy()  # (frames, n_bins)

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
