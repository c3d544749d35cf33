"""Channel and session augmentation on waveform batches: what a recording does to a voice, simulated.

A speaker model trained on a few sessions per speaker learns the *recordings* along with the voices:
the room, the microphone, the background. Tested on a new session, or on a student's laptop, it meets
a channel it never heard. Augmentation shows it many channels at training time, so that only the voice
is left to learn (the idea of the Kaldi x-vector and SpeechBrain ECAPA recipes):

===================  ==============================================================================
module               what it simulates
===================  ==============================================================================
``SpeedPerturb``     a faster or slower talker: resampled by 0.9, 1.0 or 1.1 (pitch and formants
                     move too)
``RandomReverb``     a room: convolution with an exponentially decaying noise burst, RT60 0.2–0.8 s
``AddNoise``         background noise, white to brown, at a random SNR (5–20 dB)
``RandomEQ``         a microphone or a phone line: random low and high cut-offs plus a random
                     smooth equaliser (±6 dB)
===================  ==============================================================================

Every module takes and returns a batch of waveforms ``(batch, samples)`` (float, any device, so that
it runs on the GPU too), changes each clip with probability ``p``, and is the identity in ``eval()``
mode: validation and test audio are never augmented. Each module draws from its own generator,
seeded by ``seed``: the same module built with the same seed augments the same batches the same way.
The parameters drawn for the last batch are in ``module.last`` (e.g. ``last["snr_db"]``).

``make_augment("speed,reverb,noise,eq")`` chains them in that order (room, then noise, then the
device), each with its own seed; put it before the feature transform::

    augment = make_augment("reverb,noise,eq", seed=0).train()
    features = feature(augment(waveforms))   # (batch, samples) -> (batch, n_mfcc, frames)
"""

from __future__ import annotations

import math
from fractions import Fraction

import torch
import torchaudio.functional as AF
from torch import nn

from .audio import SAMPLE_RATE

AUGMENTATIONS = ("speed", "reverb", "noise", "eq")
"""Names ``make_augment`` accepts, in the order it applies them."""


class WaveformAugment(nn.Module):
    """Base class: a seeded random change of ``(batch, samples)`` waveforms, applied in training only.

    ``p``: probability that a clip of the batch is changed; ``seed``: of the module's own generator.
    """

    def __init__(self, p: float, seed: int) -> None:
        super().__init__()
        if not 0 <= p <= 1:
            raise ValueError(f"p must be a probability in [0, 1], not {p}")
        self.p, self.seed = p, seed
        self.last: dict[str, torch.Tensor] = {}
        self._generator: torch.Generator | None = None

    def reseed(self, seed: int | None = None) -> None:
        """Start the random sequence again (from ``seed``, or from the module's seed)."""
        self.seed = self.seed if seed is None else seed
        self._generator = None

    def generator(self, device: torch.device) -> torch.Generator:
        """The module's generator on ``device``, created (and seeded) on first use."""
        if self._generator is None or self._generator.device != device:
            self._generator = torch.Generator(device=device).manual_seed(self.seed)
        return self._generator

    def uniform(self, low: float, high: float, batch: int, device: torch.device) -> torch.Tensor:
        """``(batch,)`` numbers uniform in ``[low, high)``, from the module's generator."""
        rand = torch.rand(batch, generator=self.generator(device), device=device)
        return low + (high - low) * rand

    def chosen(self, batch: int, device: torch.device) -> torch.Tensor:
        """``(batch,)`` booleans, each True with probability ``p``: the clips to change."""
        return torch.rand(batch, generator=self.generator(device), device=device) < self.p

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → ``(batch, samples)``: augmented in training, unchanged in eval.

        Only the chosen clips are computed; ``last`` holds their parameters and ``last["chosen"]``
        says which clips they are.
        """
        if not self.training or self.p == 0:
            return waveforms
        if waveforms.ndim != 2:
            raise ValueError(
                f"expected waveforms (batch, samples), got shape {tuple(waveforms.shape)}"
            )
        chosen = self.chosen(len(waveforms), waveforms.device)
        out = waveforms.clone()
        if chosen.any():
            out[chosen] = self.augment(waveforms[chosen]).to(waveforms.dtype)
        self.last["chosen"] = chosen
        return out

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Change every clip of ``waveforms`` ``(n, samples)`` (subclasses; ``forward`` passes the
        chosen clips), drawing the parameters from ``generator`` and recording them in ``last``."""
        raise NotImplementedError

    def extra_repr(self) -> str:
        return f"p={self.p}, seed={self.seed}"


def _power(waveforms: torch.Tensor) -> torch.Tensor:
    """Mean power of each clip, ``(batch, 1)``."""
    return waveforms.square().mean(dim=-1, keepdim=True)


class AddNoise(WaveformAugment):
    """Add coloured Gaussian noise at a random signal-to-noise ratio, uniform in ``snr_db`` (dB).

    The SNR is ``10 log10(P_clip / P_noise)`` with powers averaged over the whole clip, silences
    included (``torchaudio.functional.add_noise`` mixes). Above 100 Hz the noise power falls as
    ``1 / f^β``, ``β`` uniform in ``[0, 2]`` (white to brown: fans, traffic, rumble); flat below.
    """

    def __init__(
        self, snr_db: tuple[float, float] = (5.0, 20.0), p: float = 0.5, seed: int = 0
    ) -> None:
        super().__init__(p, seed)
        self.snr_db = (float(snr_db[0]), float(snr_db[1]))

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        batch, samples = waveforms.shape
        device = waveforms.device
        snr = self.uniform(*self.snr_db, batch, device)
        beta = self.uniform(0.0, 2.0, batch, device)
        white = torch.randn(batch, samples, generator=self.generator(device), device=device)
        spectrum = torch.fft.rfft(white)
        freqs = torch.fft.rfftfreq(samples, d=1 / SAMPLE_RATE, device=device).clamp(min=100.0)
        spectrum = spectrum * (freqs[None, :] / 100.0) ** (-beta[:, None] / 2)  # ∝ 1 / f^β
        noise = torch.fft.irfft(spectrum, n=samples)
        self.last = {"snr_db": snr, "beta": beta}
        return AF.add_noise(waveforms, noise, snr)  # noise scaled to the SNR of the whole clip

    def extra_repr(self) -> str:
        return f"snr_db={self.snr_db}, {super().extra_repr()}"


def decaying_noise_rir(rt60: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Synthetic room impulse responses ``(batch, length)`` at ``SAMPLE_RATE``, one per ``rt60`` (s).

    A unit direct sound, then noise (from ``generator``) whose amplitude envelope is
    ``10 ** (-3 t / rt60)``: the energy falls by 60 dB after ``rt60`` seconds (Sabine's RT60); the
    tail carries about as much energy as the direct sound, as a few metres from a talker.
    """
    t = torch.arange(length, device=rt60.device) / SAMPLE_RATE
    envelope = 10 ** (-3 * t[None, :] / rt60[:, None])
    noise = torch.randn(len(rt60), length, generator=generator, device=rt60.device)
    tail = noise * envelope
    tail = tail / (tail.square().sum(dim=-1, keepdim=True).sqrt() + 1e-12)
    tail[:, 0] = 1.0
    return tail


class RandomReverb(WaveformAugment):
    """Reverberate each clip in a simulated room of RT60 uniform in ``rt60`` (s; 0.2 is a furnished
    office, 0.8 a bare hall): ``decaying_noise_rir`` convolved by ``torchaudio.functional.fftconvolve``,
    rescaled to the input's power, the tail past the clip's end dropped.
    """

    def __init__(
        self, rt60: tuple[float, float] = (0.2, 0.8), p: float = 0.5, seed: int = 0
    ) -> None:
        super().__init__(p, seed)
        if not 0 < rt60[0] <= rt60[1]:
            raise ValueError(f"need 0 < rt60[0] <= rt60[1] (seconds), not {rt60}")
        self.rt60 = (float(rt60[0]), float(rt60[1]))

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        batch, samples = waveforms.shape
        device = waveforms.device
        rt60 = self.uniform(*self.rt60, batch, device)
        rir = decaying_noise_rir(rt60, round(self.rt60[1] * SAMPLE_RATE), self.generator(device))
        wet = AF.fftconvolve(waveforms, rir)[:, :samples]
        self.last = {"rt60": rt60, "rir": rir}
        return wet * (_power(waveforms) / (_power(wet) + 1e-12)).sqrt()

    def extra_repr(self) -> str:
        return f"rt60={self.rt60}, {super().extra_repr()}"


class RandomEQ(WaveformAugment):
    """Band-limit and equalise each clip like a random microphone or phone line.

    The gain curve (on the spectrum of the whole clip) is a high-pass at ``low_cut`` Hz and a
    low-pass at ``high_cut`` Hz (2nd-order Butterworth magnitudes; ``(300, 3400)`` is the telephone
    band), times ``n_bands`` one-octave bell curves at random log-spaced centres between 100 Hz and
    7 kHz, each with a gain uniform in ``±max_gain_db``.
    """

    def __init__(
        self,
        low_cut: tuple[float, float] = (50.0, 400.0),
        high_cut: tuple[float, float] = (3000.0, 8000.0),
        max_gain_db: float = 6.0,
        n_bands: int = 4,
        p: float = 0.5,
        seed: int = 0,
    ) -> None:
        super().__init__(p, seed)
        self.low_cut, self.high_cut = tuple(map(float, low_cut)), tuple(map(float, high_cut))
        self.max_gain_db, self.n_bands = float(max_gain_db), n_bands

    def gain_db(self, freqs: torch.Tensor, batch: int) -> torch.Tensor:
        """Draw ``batch`` gain curves (dB) at ``freqs`` (Hz): ``(batch, len(freqs))``."""
        device = freqs.device
        low = self.uniform(*self.low_cut, batch, device)[:, None]
        high = self.uniform(*self.high_cut, batch, device)[:, None]
        f = freqs[None, :].clamp(min=1.0)
        butterworth = 1 / (1 + (low / f) ** 4) / (1 + (f / high) ** 4)  # power gains
        gain = 10 * torch.log10(butterworth + 1e-10)
        for _ in range(self.n_bands):
            centre = torch.exp(self.uniform(math.log(100.0), math.log(7000.0), batch, device))
            boost = self.uniform(-self.max_gain_db, self.max_gain_db, batch, device)
            octaves = torch.log2(f / centre[:, None])
            gain = gain + boost[:, None] * torch.exp(-0.5 * (octaves / 0.5) ** 2)
        self.last = {"low_cut": low[:, 0], "high_cut": high[:, 0]}
        return gain

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        samples = waveforms.shape[-1]
        freqs = torch.fft.rfftfreq(samples, d=1 / SAMPLE_RATE, device=waveforms.device)
        gain = 10 ** (self.gain_db(freqs, len(waveforms)) / 20)  # amplitude gains
        return torch.fft.irfft(torch.fft.rfft(waveforms) * gain, n=samples)

    def extra_repr(self) -> str:
        return (
            f"low_cut={self.low_cut}, high_cut={self.high_cut}, max_gain_db={self.max_gain_db}, "
            f"n_bands={self.n_bands}, {super().extra_repr()}"
        )


class SpeedPerturb(WaveformAugment):
    """Play each clip faster or slower (Kaldi's speed perturbation): tempo, pitch and formants move.

    A factor ``f`` of ``factors`` (equally likely) resamples the clip from ``f × 16 kHz`` to 16 kHz
    (``f = 1.1``: 10 % faster and higher), then cuts or zero-pads it back to the input's length.
    """

    def __init__(
        self, factors: tuple[float, ...] = (0.9, 1.0, 1.1), p: float = 1.0, seed: int = 0
    ) -> None:
        super().__init__(p, seed)
        self.factors = tuple(float(f) for f in factors)

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        batch, samples = waveforms.shape
        device = waveforms.device
        pick = torch.randint(
            len(self.factors), (batch,), generator=self.generator(device), device=device
        )
        out = waveforms.clone()
        for k, factor in enumerate(self.factors):
            rows = (pick == k).nonzero()[:, 0]
            if factor == 1.0 or len(rows) == 0:
                continue
            ratio = Fraction(factor).limit_denominator(100)
            fast = AF.resample(waveforms[rows], ratio.numerator, ratio.denominator)
            fast = fast[:, :samples]
            out[rows] = torch.nn.functional.pad(fast, (0, samples - fast.shape[-1]))
        self.last = {"factor": torch.tensor(self.factors, device=device)[pick]}
        return out

    def extra_repr(self) -> str:
        return f"factors={self.factors}, {super().extra_repr()}"


def make_augment(
    names: str | list[str] | tuple[str, ...], p: float = 0.5, seed: int = 0
) -> nn.Module:
    """Chain augmentations by name (any of ``AUGMENTATIONS``) in the order speed → room → noise → device.

    ``names``: ``"reverb,noise,eq"``, a list, or ``"none"``/``""``; ``p``: each module's probability
    of changing a clip (speed always draws, 1 of 3 factors is 1.0); module ``i`` of ``AUGMENTATIONS``
    is seeded with ``seed + i``. Returns an ``nn.Sequential`` (``nn.Identity`` for none).
    """
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",") if n.strip() and n.strip() != "none"]
    unknown = sorted(set(names) - set(AUGMENTATIONS))
    if unknown:
        raise ValueError(
            f"unknown augmentation(s) {unknown}; choose from {', '.join(AUGMENTATIONS)}"
        )
    builders = {
        "speed": lambda s: SpeedPerturb(seed=s),
        "reverb": lambda s: RandomReverb(p=p, seed=s),
        "noise": lambda s: AddNoise(p=p, seed=s),
        "eq": lambda s: RandomEQ(p=p, seed=s),
    }
    modules = [builders[n](seed + i) for i, n in enumerate(AUGMENTATIONS) if n in names]
    return nn.Sequential(*modules) if modules else nn.Identity()
