"""A memory-mapped cache of a corpus: features (or waveforms) decoded once, sliced every epoch."""

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
    """Float16 ``(frames, n_bins)`` features (or int16 waveforms, ``feature=None``) of whole files
    in one memory-mapped ``.npy`` under ``root/.cache/``, named by a hash of the settings and files;
    crops are slices (features: to the nearest frame, ~1e-3 rounding). Disk: 32 kB/s of audio
    (waveforms), 8 kB/s (40 MFCCs), 40 kB/s (201-bin spectrogram). Pickles without its array."""

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
        self.root, self.feature, self.sample_rate = Path(root), feature, sample_rate
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
        index = json.loads(self.index_path.read_text())  # file -> (first row, rows)
        self.index: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in index.items()}
        self.__setstate__(self.__dict__)

    def __getstate__(self) -> dict:
        return self.__dict__ | {"array": None}  # a worker reopens the map: never a copy

    def __setstate__(self, state: dict) -> None:
        self.__dict__.update(state)
        self.array = np.load(self.path, mmap_mode="r")

    def _build(self, utterances: list[Utterance], progress: bool) -> None:
        """Decode every file into the map (silence, with a warning, if it fails), then the index."""
        lengths = [self._samples(u) for u in utterances]
        if self.feature is not None:  # rows: samples (waveforms) or frames (features)
            lengths = [self.feature.frames(n) for n in lengths]
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
        """Rows of ``utterance``: int16 samples, or ``(frames, n_bins)`` features."""
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

    def crop(self, utterance: Utterance, position: float, crop_seconds: float) -> torch.Tensor:
        """The crop at ``position`` (0–1 of the room left, as ``SpeakerDataset.read_crop``): float32
        waveform ``(crop_samples,)`` or ``feature.finish`` of the features, silence-padded."""
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
