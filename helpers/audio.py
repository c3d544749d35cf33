"""Reading audio files: the whole file or a window of it, as a mono float tensor at a known rate.

Not ``torchaudio.load``, which decodes the *whole* file even for 3 seconds of it: ``soundfile`` seeks
inside a FLAC/WAV/OGG file and decodes only the window asked for, so a 3-s crop costs the same for a
6-s file as for a 35-s one.
"""

from __future__ import annotations

import functools
import os
import warnings
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import torch
import torchaudio

from .paths import download_command

SAMPLE_RATE = 16_000  # Hz: every waveform in the course is brought to the dataset's rate

_warned_rates: set[tuple[int, int]] = set()


class AudioError(RuntimeError):
    """A file that cannot be read as audio. The message names the file and what to do."""


@dataclass(frozen=True)
class AudioInfo:
    """What a file's header says, read without decoding the audio."""

    frames: int  # samples per channel
    sample_rate: int  # Hz
    channels: int

    @property
    def seconds(self) -> float:
        """Duration (s)."""
        return self.frames / self.sample_rate


def _fail(path: str | os.PathLike, problem: str) -> AudioError:
    return AudioError(
        f"{os.fspath(path)}: {problem}. Delete or replace this file (to restore a downloaded tier, "
        f"delete its folder and run `{download_command('--tier', 'small')}`, or `--tier full`)."
    )


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Length, rate and channels from an audio file's header; :class:`AudioError` if it is not
    readable audio or holds no samples."""
    try:
        info = sf.info(os.fspath(path))
    except Exception as error:  # soundfile raises several types for unreadable files
        raise _fail(path, f"not a readable audio file ({error})") from None
    if info.frames <= 0:
        raise _fail(path, "the file holds no audio (0 samples)")
    return AudioInfo(int(info.frames), int(info.samplerate), info.channels)


@functools.cache
def _resampler(rate: int, new_rate: int) -> torchaudio.transforms.Resample:
    """torchaudio's windowed-sinc resampler, built once per pair of rates (as costly as using it)."""
    return torchaudio.transforms.Resample(rate, new_rate)


def load_audio(
    path: str | os.PathLike,
    sample_rate: int | None = SAMPLE_RATE,
    start: int = 0,
    frames: int = -1,
) -> torch.Tensor:
    """A file, or only its window of ``frames`` samples (``-1``: to the end) from sample ``start``
    (both at the file's rate), as a mono float32 waveform ``(samples,)`` in [-1, 1] (channels
    averaged), resampled to ``sample_rate`` Hz (``None``: the file's rate; a note says so once per
    pair of rates)."""
    try:
        data, file_rate = sf.read(
            os.fspath(path), frames=frames, start=max(start, 0), dtype="float32", always_2d=True
        )
    except Exception as error:  # soundfile raises several types for unreadable files
        raise _fail(path, f"cannot decode audio ({error})") from None
    if data.shape[0] == 0:
        raise _fail(path, f"no audio in the window start={start}, frames={frames}")
    # (frames, 1) is contiguous, so column 0 is a free view; several channels are averaged to one.
    mono = data[:, 0] if data.shape[1] == 1 else data.mean(axis=1, dtype=np.float32)
    waveform = torch.from_numpy(np.ascontiguousarray(mono))
    if sample_rate is None or file_rate == sample_rate:
        return waveform
    if (file_rate, sample_rate) not in _warned_rates:
        _warned_rates.add((file_rate, sample_rate))
        what = f"{os.fspath(path)} is at {file_rate} Hz: resampling to {sample_rate} Hz"
        warnings.warn(f"{what} (said once for every {file_rate} Hz file)", stacklevel=2)
    return _resampler(file_rate, sample_rate)(waveform)


def fit_length(waveform: torch.Tensor, samples: int) -> torch.Tensor:
    """Cut or zero-pad (silence at the end) the last axis of ``waveform`` to ``samples`` samples."""
    length = waveform.shape[-1]
    if length >= samples:
        return waveform[..., :samples]
    return torch.nn.functional.pad(waveform, (0, samples - length))
