"""The four feature kinds as ``nn.Module``s on ``torchaudio.transforms``: ``spectrogram``
``(n_fft // 2 + 1, frames)``, ``mfcc`` ``(n_mfcc, frames)``, and their ``_pooled`` means over time.

A module maps ``(samples,)`` or ``(batch, samples)`` to that shape (batch axis in front). Defaults:
16 kHz, 25 ms windows (``n_fft=400``), 10 ms hops (160): a 3-s crop has ``48000 // 160 + 1 = 301``
frames. Features are log powers; non-pooled kinds are normalised per utterance (each bin's mean and
std over the clip: cepstral mean and variance normalisation removes the microphone and loudness).
``extract`` (log features) and ``finish`` (normalise or pool) are apart so a cache keeps the first.
"""

from __future__ import annotations

import math

import torch
import torchaudio
from torch import nn

from .audio import SAMPLE_RATE

FEATURE_KINDS = ("mfcc", "mfcc_pooled", "spectrogram", "spectrogram_pooled")
LOG_FLOOR = 1e-6  # added to the power before the log (as torchaudio's MFCC with log_mels=True)


def normalize_over_time(
    features: torch.Tensor, eps: float = 1e-5, *, overwrite: bool = False
) -> torch.Tensor:
    """``(..., bins, frames)`` → ``(features - mean) / (std + eps)`` per bin over the frames.

    Unbiased std; ``overwrite=True`` reuses ``features``' memory unless autograd tracks it. Two
    passes: as accurate as ``Tensor.std``, several times faster on a CPU for one clip.
    """
    mean = features.mean(dim=-1, keepdim=True)
    if overwrite and not _tracked(features):
        centred = features.sub_(mean)
        variance = centred.square().sum(dim=-1, keepdim=True).div_(max(features.shape[-1] - 1, 1))
        return centred.div_(variance.sqrt_().add_(eps))
    centred = features - mean
    variance = centred.square().sum(dim=-1, keepdim=True) / max(features.shape[-1] - 1, 1)
    return centred / (variance.sqrt() + eps)


def _tracked(tensor: torch.Tensor) -> bool:  # autograd records it: nothing in place
    return tensor.requires_grad and torch.is_grad_enabled()


def _log(power: torch.Tensor) -> torch.Tensor:
    """``log(power + LOG_FLOOR)``, in place on ``power`` (a fresh intermediate) when allowed."""
    if _tracked(power):
        return torch.log(power + LOG_FLOOR)
    return power.add_(LOG_FLOOR).log_()


def squared_magnitude(spectrum: torch.Tensor) -> torch.Tensor:
    """``re² + im²`` of a complex spectrum: ``Spectrogram(power=2)`` without its costly sqrt."""
    return spectrum.real.square() + spectrum.imag.square()


class AudioFeature(nn.Module):
    """Base: ``forward(x) = finish(extract(x))``; ``pooled``: mean over time ``(..., bins)``,
    else ``(..., bins, frames)``, normalised per utterance if ``normalize``."""

    n_bins: int  # size of the feature axis
    hop_length: int  # samples between frames
    config: str  # the constructor's arguments, shown by repr() and keying caches

    def __init__(
        self, n_bins: int, n_fft: int, hop: int, pooled: bool, normalize: bool, **shown: float
    ) -> None:
        """``n_bins`` features of frames ``n_fft`` long, ``hop`` apart (samples); ``shown``: in repr."""
        super().__init__()
        self.n_bins, self.hop_length, self.pooled, self.normalize = n_bins, hop, pooled, normalize
        shown |= dict(n_fft=n_fft, hop_length=hop, pooled=pooled, normalize=normalize)
        self.config = ", ".join(f"{k}={v}" for k, v in shown.items())
        self.spectrogram = torchaudio.transforms.Spectrogram(
            n_fft=n_fft, hop_length=hop, power=None
        )  # complex: squared_magnitude takes the power

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log features ``(..., n_bins, frames)`` of a waveform ``(..., samples)``."""
        raise NotImplementedError

    def finish(self, features: torch.Tensor, *, overwrite: bool = False) -> torch.Tensor:
        """Mean ``(..., n_bins)`` or normalised ``(..., n_bins, frames)`` (``overwrite``)."""
        if self.pooled:
            return features.mean(dim=-1)
        if not self.normalize:
            return features
        return normalize_over_time(features, overwrite=overwrite)

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        """Features of a waveform ``(..., samples)``: ``finish(extract(waveform))``."""
        return self.finish(self.extract(waveform), overwrite=True)

    def extra_repr(self) -> str:
        return self.config

    def frames(self, samples: int) -> int:
        """Number of frames for a waveform of ``samples`` samples (centred frames)."""
        return samples // self.hop_length + 1


class LogSpectrogram(AudioFeature):
    """``log(Spectrogram(n_fft, hop_length, power=2)(x) + LOG_FLOOR)``: ``(..., samples)`` →
    ``(..., n_fft // 2 + 1, frames)``; ``n_fft`` = window (samples), ``hop_length`` (samples)."""

    def __init__(
        self, n_fft: int = 400, hop_length: int = 160, pooled: bool = False, normalize: bool = True
    ) -> None:
        super().__init__(n_fft // 2 + 1, n_fft, hop_length, pooled, normalize)

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log power ``(..., n_fft // 2 + 1, frames)`` of a waveform ``(..., samples)``."""
        return _log(squared_magnitude(self.spectrogram(waveform)))


class MFCC(AudioFeature):
    """MFCCs ``(..., samples)`` → ``(..., n_mfcc, frames)``: ``torchaudio.transforms.MFCC(
    log_mels=True)`` (a test pins it; ``log_mels=False`` would clip dB relative to the whole batch).

    ``n_mels`` defaults to ``max(80, n_mfcc)``; 256 MFCCs need ``n_fft >= 1024`` (else empty bands).
    ``f_max``: top of the mel bands, Hz (``None``: ``sample_rate / 2``); lower, fewer bands as wide.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        n_mfcc: int = 40,
        n_mels: int | None = None,
        n_fft: int = 400,
        hop_length: int = 160,
        pooled: bool = False,
        normalize: bool = True,
        f_max: float | None = None,
    ) -> None:
        share = math.log1p((f_max or sample_rate / 2) / 700) / math.log1p(sample_rate / 1400)
        n_mels = max(round(80 * share), n_mfcc) if n_mels is None else n_mels  # bands as wide
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} cannot exceed n_mels={n_mels}")
        shown = dict(sample_rate=sample_rate, n_mfcc=n_mfcc, n_mels=n_mels)
        shown |= {"f_max": f_max} if f_max else {}
        super().__init__(n_mfcc, n_fft, hop_length, pooled, normalize, **shown)
        # The stages of torchaudio.transforms.MFCC(log_mels=True), apart for squared_magnitude.
        self.mel_scale = torchaudio.transforms.MelScale(
            n_mels=n_mels, sample_rate=sample_rate, n_stft=n_fft // 2 + 1, f_max=f_max
        )
        dct = torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho")  # (n_mels, n_mfcc)
        self.register_buffer("dct", dct.T.contiguous())  # (n_mfcc, n_mels)

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        """Cepstral coefficients ``(..., n_mfcc, frames)`` of a waveform ``(..., samples)``."""
        power = squared_magnitude(self.spectrogram(waveform))  # (..., n_fft // 2 + 1, frames)
        log_mel = _log(self.mel_scale(power))  # (..., n_mels, frames)
        return self.dct @ log_mel


def make_feature(kind: str, sample_rate: int = SAMPLE_RATE, **options: int | bool) -> AudioFeature:
    """The module for ``kind`` (of ``FEATURE_KINDS``); ``options``: ``n_fft``, ``hop_length``,
    ``normalize``, and ``n_mfcc``, ``n_mels``, ``f_max`` for the MFCC kinds.

    >>> make_feature("mfcc")(torch.zeros(48_000)).shape
    torch.Size([40, 301])
    """
    if kind not in FEATURE_KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; choose one of {', '.join(FEATURE_KINDS)}")
    pooled = kind.endswith("_pooled")
    if kind.startswith("mfcc"):
        return MFCC(sample_rate=sample_rate, pooled=pooled, **options)
    return LogSpectrogram(pooled=pooled, **options)
