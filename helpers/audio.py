"""Reading audio: a file or a window (``soundfile`` decodes only the window), mono, resampled."""

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
    """What a file's header says: ``frames`` per channel at ``sample_rate`` Hz, ``channels``."""

    frames: int
    sample_rate: int
    channels: int
    seconds = property(lambda self: self.frames / self.sample_rate)  # duration (s)


def _fail(path: str | os.PathLike, problem: str) -> AudioError:
    return AudioError(
        f"{os.fspath(path)}: {problem}. Delete or replace this file (to restore a downloaded tier, "
        f"delete its folder and run `{download_command('--tier', 'small')}`, or `--tier full`)."
    )


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """A file's :class:`AudioInfo`; :class:`AudioError` if unreadable or empty."""
    try:
        info = sf.info(os.fspath(path))
    except Exception as error:  # soundfile raises several types for unreadable files
        raise _fail(path, f"not a readable audio file ({error})") from None
    if info.frames <= 0:
        raise _fail(path, "the file holds no audio (0 samples)")
    return AudioInfo(int(info.frames), int(info.samplerate), info.channels)


@functools.cache
def _resampler(rate: int, new_rate: int) -> torchaudio.transforms.Resample:
    """torchaudio's resampler, built once per pair of rates."""
    return torchaudio.transforms.Resample(rate, new_rate)


def load_audio(
    path: str | os.PathLike, sample_rate: int | None = SAMPLE_RATE, start: int = 0, frames: int = -1
) -> torch.Tensor:
    """Mono float32 ``(samples,)`` of ``frames`` (``-1``: all) from ``start`` (file's rate),
    resampled to ``sample_rate`` Hz (``None``: the file's; a warning once per pair of rates)."""
    try:
        window = dict(frames=frames, start=max(start, 0), dtype="float32", always_2d=True)
        data, file_rate = sf.read(os.fspath(path), **window)
    except Exception as error:  # soundfile raises several types for unreadable files
        raise _fail(path, f"cannot decode audio ({error})") from None
    if data.shape[0] == 0:
        raise _fail(path, f"no audio in the window start={start}, frames={frames}")
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
    """Cut or zero-pad (at the end) the last axis of ``waveform`` to ``samples`` samples."""
    missing = max(0, samples - waveform.shape[-1])
    return torch.nn.functional.pad(waveform[..., :samples], (0, missing))
