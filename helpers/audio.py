"""Reading audio files: the whole file or just a window of it, as a mono float tensor at a known rate.

Why not ``torchaudio.load``? It decodes the *whole* file (through torchcodec and FFmpeg) even when we
only want 3 seconds of it. ``soundfile`` can seek inside a FLAC/WAV/OGG file and decode only the window
asked for, so cutting a 3-s crop costs the same for a 6-s file as for a 35-s one.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass

import numpy as np
import soundfile as sf
import torch
import torchaudio

from .paths import download_command

SAMPLE_RATE = 16_000
"""The rate every waveform in the course is brought to (Hz): the rate of the dataset itself."""

_warned_rates: set[tuple[int, int]] = set()
_resamplers: dict[tuple[int, int], torchaudio.transforms.Resample] = {}


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
        f"{os.fspath(path)}: {problem}. Delete or replace this file "
        f"(to restore a downloaded tier, delete its folder and run "
        f"`{download_command('--tier', 'small')}`, or `--tier full`)."
    )


def audio_info(path: str | os.PathLike) -> AudioInfo:
    """Read the header of an audio file (FLAC, WAV, OGG, ...): length, rate and channel count.

    Raises
    ------
    AudioError
        If the file is not readable audio or holds no samples.
    """
    try:
        info = sf.info(os.fspath(path))
    except Exception as error:  # soundfile raises several types for unreadable files
        raise _fail(path, f"not a readable audio file ({error})") from None
    if info.frames <= 0:
        raise _fail(path, "the file holds no audio (0 samples)")
    return AudioInfo(
        frames=int(info.frames), sample_rate=int(info.samplerate), channels=info.channels
    )


def load_audio(
    path: str | os.PathLike,
    sample_rate: int | None = SAMPLE_RATE,
    start: int = 0,
    frames: int = -1,
) -> torch.Tensor:
    """Load a file, or a window of it, as a mono waveform.

    Parameters
    ----------
    path : path
        Audio file in any format soundfile reads (FLAC, WAV, OGG, ...).
    sample_rate : int or None
        Rate to return (Hz). A file at another rate is resampled (and a note says so, once per pair of
        rates). ``None`` keeps the file's own rate.
    start : int
        First sample to read, counted at the *file's* rate.
    frames : int
        Number of samples to read at the file's rate; ``-1`` reads to the end. Only this window is
        decoded.

    Returns
    -------
    torch.Tensor
        Shape ``(samples,)``, float32 in [-1, 1]. Several channels are averaged to one.

    Notes
    -----
    One ``soundfile.read(path, start=start, frames=frames, dtype="float32")``: soundfile seeks to
    ``start`` and decodes only ``frames`` samples, so a 3-s crop costs the same for any file length.
    """
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
    if sample_rate is not None and file_rate != sample_rate:
        if (file_rate, sample_rate) not in _warned_rates:
            _warned_rates.add((file_rate, sample_rate))
            warnings.warn(
                f"{os.fspath(path)} is at {file_rate} Hz: resampling to {sample_rate} Hz "
                f"(said once for every {file_rate} Hz file)",
                stacklevel=2,
            )
        waveform = _resample(waveform, file_rate, sample_rate)
    return waveform


def _resample(waveform: torch.Tensor, rate: int, new_rate: int) -> torch.Tensor:
    """Resample ``(samples,)`` from ``rate`` to ``new_rate`` (Hz) with torchaudio's windowed sinc.

    The filter bank of each pair of rates is built once and kept (building it costs as much as
    applying it to a 3-s clip).
    """
    if (rate, new_rate) not in _resamplers:
        _resamplers[rate, new_rate] = torchaudio.transforms.Resample(rate, new_rate)
    return _resamplers[rate, new_rate](waveform)


def fit_length(waveform: torch.Tensor, samples: int) -> torch.Tensor:
    """Cut or zero-pad the last axis of ``waveform`` to exactly ``samples`` samples.

    Padding adds silence at the end: the model sees a short clip followed by quiet, as it would hear it.
    """
    length = waveform.shape[-1]
    if length >= samples:
        return waveform[..., :samples]
    return torch.nn.functional.pad(waveform, (0, samples - length))
