"""The four feature kinds of the course, as ``nn.Module``s built on ``torchaudio.transforms``.

=====================  ==================================  =========================================
kind                   shape for one clip                  what it is
=====================  ==================================  =========================================
``spectrogram``        ``(n_fft // 2 + 1, frames)``        log power of each frequency bin, per frame
``spectrogram_pooled`` ``(n_fft // 2 + 1,)``               its average over time: the mean spectrum
``mfcc``               ``(n_mfcc, frames)``                cepstral coefficients of the log-mel
``mfcc_pooled``        ``(n_mfcc,)``                       their average over time
=====================  ==================================  =========================================

Every module takes a waveform ``(samples,)`` or a batch ``(batch, samples)`` and returns the shape above,
with the batch axis in front when there is one: the same code serves one clip in a Dataset worker and a
whole batch on the GPU. With the defaults (16 kHz, ``n_fft=400`` = 25 ms windows, ``hop_length=160`` =
10 ms hops, the usual framing for speech) a 3-s crop gives ``frames = 48000 // 160 + 1 = 301``.

Two steps make features trainable:

* **log compression** — power spans many orders of magnitude; its logarithm is roughly how loud we hear
  it and keeps values in a range a network likes;
* **per-utterance normalisation** (non-pooled kinds) — subtracting each bin's mean over the clip and
  dividing by its standard deviation removes a constant microphone colouring and the loudness, which say
  something about the recording, not about the speaker (cepstral mean and variance normalisation).
  Pooled kinds skip it: the mean over time is exactly the information they keep.

Each module also splits its work in two, ``extract`` (log features of any length) and ``finish``
(normalise or pool), so that a cache can store the first for whole files and crop before the second.
"""

from __future__ import annotations

import torch
import torchaudio
from torch import nn

from .audio import SAMPLE_RATE

FEATURE_KINDS = ("mfcc", "mfcc_pooled", "spectrogram", "spectrogram_pooled")
"""The feature kinds ``make_feature`` builds."""

LOG_FLOOR = 1e-6
"""Added to the power before the log so that silence gives a finite value (torchaudio's MFCC uses
the same offset with ``log_mels=True``)."""


def normalize_over_time(
    features: torch.Tensor, eps: float = 1e-5, *, overwrite: bool = False
) -> torch.Tensor:
    """Give each bin zero mean and unit variance over the frames of its own clip.

    ``features`` ``(..., bins, frames)``, at least two frames, → ``(features - mean) / (std + eps)``
    with each bin's mean and unbiased std over the frames (``eps``: a constant bin gives zeros).
    ``overwrite=True`` reuses the memory of ``features`` (ignored when autograd tracks them). Two
    passes (mean, then squared deviations): as accurate as ``Tensor.std``, several times faster on a
    CPU for one clip.
    """
    mean = features.mean(dim=-1, keepdim=True)
    if overwrite and not _tracked(features):
        centred = features.sub_(mean)
        variance = centred.square().sum(dim=-1, keepdim=True).div_(max(features.shape[-1] - 1, 1))
        return centred.div_(variance.sqrt_().add_(eps))
    centred = features - mean
    variance = centred.square().sum(dim=-1, keepdim=True) / max(features.shape[-1] - 1, 1)
    return centred / (variance.sqrt() + eps)


def _tracked(tensor: torch.Tensor) -> bool:
    """Whether autograd records operations on ``tensor`` (then nothing may be done in place)."""
    return tensor.requires_grad and torch.is_grad_enabled()


def _log(power: torch.Tensor) -> torch.Tensor:
    """``log(power + LOG_FLOOR)``, in place on ``power`` (a fresh intermediate) when allowed."""
    if _tracked(power):
        return torch.log(power + LOG_FLOOR)
    return power.add_(LOG_FLOOR).log_()


def squared_magnitude(spectrum: torch.Tensor) -> torch.Tensor:
    """Power ``|z|²`` of a complex spectrum (any shape), as ``re² + im²``: ``Spectrogram(power=2)``.

    ``Spectrogram(power=2)`` takes ``|z|`` (a square root) and squares it again, which on a CPU costs
    more than the STFT itself; the features ask torchaudio for the complex spectrum instead.
    """
    return spectrum.real.square() + spectrum.imag.square()


class AudioFeature(nn.Module):
    """Base class: ``forward(x) = finish(extract(x))``.

    Parameters
    ----------
    pooled : bool
        Average over time (shape ``(..., bins)``) instead of normalising (shape ``(..., bins, frames)``).
    normalize : bool
        Per-utterance normalisation of the non-pooled output.
    """

    n_bins: int  # size of the feature axis
    hop_length: int  # samples between frames
    config: str  # the constructor's arguments, shown by repr() and keying caches

    def __init__(self, pooled: bool, normalize: bool) -> None:
        super().__init__()
        self.pooled = pooled
        self.normalize = normalize

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log features ``(..., n_bins, frames)`` of a waveform ``(..., samples)``."""
        raise NotImplementedError

    def finish(self, features: torch.Tensor, *, overwrite: bool = False) -> torch.Tensor:
        """Pool (``(..., n_bins)``) or normalise (``(..., n_bins, frames)``) what ``extract`` gave.

        ``overwrite=True`` lets the normalisation reuse the memory of ``features``.
        """
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
    """Log power spectrogram: ``(..., samples)`` → ``(..., n_fft // 2 + 1, frames)``.

    Before normalisation, ``log(torchaudio.transforms.Spectrogram(n_fft, hop_length=hop_length,
    power=2)(waveform) + LOG_FLOOR)``, the power taken by ``squared_magnitude``.

    Parameters
    ----------
    n_fft : int
        FFT size, which is also the window length (samples). 400 samples = 25 ms at 16 kHz, giving
        201 frequency bins 40 Hz apart.
    hop_length : int
        Step between frames (samples); 160 = 10 ms at 16 kHz.
    pooled, normalize : bool
        See ``AudioFeature``.
    """

    def __init__(
        self, n_fft: int = 400, hop_length: int = 160, pooled: bool = False, normalize: bool = True
    ) -> None:
        super().__init__(pooled, normalize)
        self.n_bins, self.hop_length = n_fft // 2 + 1, hop_length
        self.config = (
            f"n_fft={n_fft}, hop_length={hop_length}, pooled={pooled}, normalize={normalize}"
        )
        self.spectrogram = torchaudio.transforms.Spectrogram(
            n_fft=n_fft, hop_length=hop_length, power=None
        )

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        """Log power ``(..., n_fft // 2 + 1, frames)`` of a waveform ``(..., samples)``."""
        return _log(squared_magnitude(self.spectrogram(waveform)))


class MFCC(AudioFeature):
    """Mel-frequency cepstral coefficients: ``(..., samples)`` → ``(..., n_mfcc, frames)``.

    The power spectrogram is pooled into ``n_mels`` triangular bands on the mel scale (default
    ``max(80, n_mfcc)``), its log taken, and a DCT decorrelates the bands; the first ``n_mfcc``
    coefficients describe the spectral envelope — the vocal tract, hence the speaker. (The original
    practical's ``(256, frames)`` needs ``n_mfcc=n_mels=256`` and ``n_fft`` of 1024 or more, else many
    mel bands hold no FFT bin: 43 of 256 with ``n_fft=400``.) ``n_fft``, ``hop_length``, ``pooled``,
    ``normalize``: as for ``LogSpectrogram``.

    Equal to ``torchaudio.transforms.MFCC(sample_rate, n_mfcc, log_mels=True, melkwargs=...)`` (a test
    pins it). The transform's default ``log_mels=False`` clips its dB values relative to the loudest
    value of the *whole batch*, so a clip's features would depend on its batch; the log does not.
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
    ) -> None:
        super().__init__(pooled, normalize)
        n_mels = max(80, n_mfcc) if n_mels is None else n_mels
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} cannot exceed n_mels={n_mels}")
        self.n_bins, self.hop_length = n_mfcc, hop_length
        self.config = (
            f"sample_rate={sample_rate}, n_mfcc={n_mfcc}, n_mels={n_mels}, n_fft={n_fft}, "
            f"hop_length={hop_length}, pooled={pooled}, normalize={normalize}"
        )
        # The stages of torchaudio.transforms.MFCC(log_mels=True), apart for squared_magnitude.
        self.spectrogram = torchaudio.transforms.Spectrogram(
            n_fft=n_fft, hop_length=hop_length, power=None
        )
        self.mel_scale = torchaudio.transforms.MelScale(
            n_mels=n_mels, sample_rate=sample_rate, n_stft=n_fft // 2 + 1
        )
        dct = torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho")  # (n_mels, n_mfcc)
        self.register_buffer("dct", dct.T.contiguous())  # (n_mfcc, n_mels)

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        """Cepstral coefficients ``(..., n_mfcc, frames)`` of a waveform ``(..., samples)``."""
        power = squared_magnitude(self.spectrogram(waveform))  # (..., n_fft // 2 + 1, frames)
        log_mel = _log(self.mel_scale(power))  # (..., n_mels, frames)
        return self.dct @ log_mel


def make_feature(kind: str, sample_rate: int = SAMPLE_RATE, **options: int | bool) -> AudioFeature:
    """Build the feature module for ``kind``, one of ``FEATURE_KINDS``.

    ``options`` go to the module: ``n_fft``, ``hop_length``, ``normalize`` for all kinds, and
    ``n_mfcc``, ``n_mels`` for the MFCC kinds.

    >>> make_feature("mfcc")(torch.zeros(48_000)).shape
    torch.Size([40, 301])
    """
    if kind not in FEATURE_KINDS:
        raise ValueError(f"unknown feature kind {kind!r}; choose one of {', '.join(FEATURE_KINDS)}")
    pooled = kind.endswith("_pooled")
    if kind.startswith("mfcc"):
        return MFCC(sample_rate=sample_rate, pooled=pooled, **options)
    return LogSpectrogram(pooled=pooled, **options)
