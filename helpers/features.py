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
"""Added to the power before the log so that silence gives a finite value."""


def normalize_over_time(features: torch.Tensor, eps: float = 1e-5) -> torch.Tensor:
    """Give each bin zero mean and unit variance over the frames of its own clip.

    ``features`` has shape ``(..., bins, frames)``; so does the result.
    """
    mean = features.mean(dim=-1, keepdim=True)
    std = features.std(dim=-1, keepdim=True)
    return (features - mean) / (std + eps)


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

    def finish(self, features: torch.Tensor) -> torch.Tensor:
        """Pool (``(..., n_bins)``) or normalise (``(..., n_bins, frames)``) what ``extract`` gave."""
        if self.pooled:
            return features.mean(dim=-1)
        return normalize_over_time(features) if self.normalize else features

    def forward(self, waveform: torch.Tensor) -> torch.Tensor:
        return self.finish(self.extract(waveform))

    def extra_repr(self) -> str:
        return self.config

    def frames(self, samples: int) -> int:
        """Number of frames for a waveform of ``samples`` samples (centred frames)."""
        return samples // self.hop_length + 1


class LogSpectrogram(AudioFeature):
    """Log power spectrogram: ``(..., samples)`` → ``(..., n_fft // 2 + 1, frames)``.

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
            n_fft=n_fft, hop_length=hop_length, power=2.0
        )

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        return torch.log(self.spectrogram(waveform) + LOG_FLOOR)


class MFCC(AudioFeature):
    """Mel-frequency cepstral coefficients: ``(..., samples)`` → ``(..., n_mfcc, frames)``.

    The power spectrogram is pooled into ``n_mels`` triangular bands spaced like pitch perception
    (the mel scale), its log taken, and a DCT decorrelates the bands; the first ``n_mfcc`` coefficients
    describe the spectral envelope — the vocal tract, hence the speaker — and drop the fine harmonic
    detail of the pitch.

    Parameters
    ----------
    sample_rate : int
        Rate of the input (Hz).
    n_mfcc : int
        Coefficients kept; at most ``n_mels``. 40 keeps the envelope well for speaker recognition.
        (The original practical quotes ``(256, frames)``: that needs ``n_mfcc=256, n_mels=256`` and a
        larger ``n_fft`` such as 1024, else many mel bands hold no FFT bin at all.)
    n_mels : int
        Mel bands. 80 is the usual choice for 16-kHz speech.
    n_fft, hop_length : int
        As for ``LogSpectrogram`` (samples).
    pooled, normalize : bool
        See ``AudioFeature``.

    Notes
    -----
    ``torchaudio.transforms.MFCC`` clips its dB values relative to the loudest value of the *whole
    input tensor*, so a clip's features would depend on the other clips of its batch; taking a plain
    log keeps every clip independent.
    """

    def __init__(
        self,
        sample_rate: int = SAMPLE_RATE,
        n_mfcc: int = 40,
        n_mels: int = 80,
        n_fft: int = 400,
        hop_length: int = 160,
        pooled: bool = False,
        normalize: bool = True,
    ) -> None:
        super().__init__(pooled, normalize)
        if n_mfcc > n_mels:
            raise ValueError(f"n_mfcc={n_mfcc} cannot exceed n_mels={n_mels}")
        self.n_bins, self.hop_length = n_mfcc, hop_length
        self.config = (
            f"sample_rate={sample_rate}, n_mfcc={n_mfcc}, n_mels={n_mels}, n_fft={n_fft}, "
            f"hop_length={hop_length}, pooled={pooled}, normalize={normalize}"
        )
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
        )
        dct = torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho")  # (n_mels, n_mfcc)
        self.register_buffer("dct", dct.T.contiguous())  # (n_mfcc, n_mels)

    def extract(self, waveform: torch.Tensor) -> torch.Tensor:
        log_mel = torch.log(self.mel(waveform) + LOG_FLOOR)  # (..., n_mels, frames)
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
