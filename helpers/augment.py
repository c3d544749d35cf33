"""Waveform augmentation (Kaldi x-vector / ECAPA recipes): simulated talkers, rooms, noise, devices,
so a speaker model learns the voice, not the recording: ``SpeedPerturb`` (×0.9/1.0/1.1),
``RandomReverb`` (RT60 0.2–0.8 s), ``AddNoise`` (white to brown, 5–20 dB SNR), ``RandomEQ``
(cut-offs and ±6 dB bells).

Each maps ``(batch, samples)`` → same shape on any device, changes a clip with probability ``p``,
is the identity in ``eval()``, draws from its own generator seeded by ``seed`` and keeps the last
draws in ``module.last``. ``make_augment`` chains them (speed → room → noise → device)::

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

AUGMENTATIONS = ("speed", "reverb", "noise", "eq")  # make_augment's names, in order applied


class WaveformAugment(nn.Module):
    """Base: a seeded change of ``(batch, samples)``, of each clip with probability ``p``."""

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

    def forward(self, waveforms: torch.Tensor) -> torch.Tensor:
        """``(batch, samples)`` → same; only chosen clips (``last["chosen"]``) are computed."""
        if not self.training or self.p == 0:
            return waveforms
        if waveforms.ndim != 2:
            raise ValueError(f"expected (batch, samples), got shape {tuple(waveforms.shape)}")
        chosen = self.uniform(0.0, 1.0, len(waveforms), waveforms.device) < self.p  # to change
        out = waveforms.clone()
        if chosen.any():
            out[chosen] = self.augment(waveforms[chosen]).to(waveforms.dtype)
        self.last["chosen"] = chosen
        return out

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        """Change every clip ``(n, samples)``, drawing from ``generator`` into ``last``."""
        raise NotImplementedError

    shown: tuple[str, ...] = ()  # attributes repr() shows before p and seed

    def extra_repr(self) -> str:
        return ", ".join(f"{k}={getattr(self, k)}" for k in (*self.shown, "p", "seed"))


def _power(waveforms: torch.Tensor) -> torch.Tensor:  # mean power of each clip, (batch, 1)
    return waveforms.square().mean(dim=-1, keepdim=True)


class AddNoise(WaveformAugment):
    """Noise at an SNR (dB, whole clip) uniform in ``snr_db`` by ``AF.add_noise``; its power falls
    as ``1 / f^β`` above 100 Hz, ``β`` uniform in ``[0, 2]`` (white to brown)."""

    shown = ("snr_db",)

    def __init__(
        self, snr_db: tuple[float, float] = (5.0, 20.0), p: float = 0.5, seed: int = 0
    ) -> None:
        super().__init__(p, seed)
        self.snr_db = (float(snr_db[0]), float(snr_db[1]))

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        (batch, samples), device = waveforms.shape, waveforms.device
        snr = self.uniform(*self.snr_db, batch, device)
        beta = self.uniform(0.0, 2.0, batch, device)
        white = torch.randn(batch, samples, generator=self.generator(device), device=device)
        spectrum = torch.fft.rfft(white)
        freqs = torch.fft.rfftfreq(samples, d=1 / SAMPLE_RATE, device=device).clamp(min=100.0)
        spectrum = spectrum * (freqs[None, :] / 100.0) ** (-beta[:, None] / 2)  # ∝ 1 / f^β
        noise = torch.fft.irfft(spectrum, n=samples)
        self.last = {"snr_db": snr, "beta": beta}
        return AF.add_noise(waveforms, noise, snr)  # noise scaled to the SNR of the whole clip


def decaying_noise_rir(rt60: torch.Tensor, length: int, generator: torch.Generator) -> torch.Tensor:
    """Room impulse responses ``(batch, length)`` at ``SAMPLE_RATE`` for ``rt60`` ``(batch,)`` (s):
    a unit direct sound, then unit-energy noise decaying as ``10 ** (-3 t / rt60)``."""
    t = torch.arange(length, device=rt60.device) / SAMPLE_RATE
    envelope = 10 ** (-3 * t[None, :] / rt60[:, None])
    noise = torch.randn(len(rt60), length, generator=generator, device=rt60.device)
    tail = noise * envelope
    tail = tail / (tail.square().sum(dim=-1, keepdim=True).sqrt() + 1e-12)
    tail[:, 0] = 1.0
    return tail


class RandomReverb(WaveformAugment):
    """Convolve with ``decaying_noise_rir`` of RT60 uniform in ``rt60`` (s), at the input's power,
    the tail past the clip's end dropped (FFTs of a power-of-two length, not ``AF.fftconvolve``'s
    ``samples + len(rir) - 1``: `python tools/bench.py --augment`)."""

    shown = ("rt60",)

    def __init__(
        self, rt60: tuple[float, float] = (0.2, 0.8), p: float = 0.5, seed: int = 0
    ) -> None:
        super().__init__(p, seed)
        if not 0 < rt60[0] <= rt60[1]:
            raise ValueError(f"need 0 < rt60[0] <= rt60[1] (seconds), not {rt60}")
        self.rt60 = (float(rt60[0]), float(rt60[1]))

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        (batch, samples), device = waveforms.shape, waveforms.device
        rt60 = self.uniform(*self.rt60, batch, device)
        rir = decaying_noise_rir(rt60, round(self.rt60[1] * SAMPLE_RATE), self.generator(device))
        size = 1 << (samples + rir.shape[1] - 2).bit_length()  # ≥ the full convolution's length
        wet = torch.fft.irfft(torch.fft.rfft(waveforms, size) * torch.fft.rfft(rir, size), size)
        wet = wet[:, :samples]
        self.last = {"rt60": rt60, "rir": rir}
        return wet * (_power(waveforms) / (_power(wet) + 1e-12)).sqrt()


class RandomEQ(WaveformAugment):
    """A random microphone: Butterworth (order 2) high-pass at ``low_cut``, low-pass at ``high_cut``
    (Hz), times ``n_bands`` one-octave bells (100 Hz–7 kHz) of gain uniform in ``±max_gain_db``."""

    shown = ("low_cut", "high_cut", "max_gain_db", "n_bands")

    def __init__(
        self, low_cut: tuple[float, float] = (50.0, 400.0),
        high_cut: tuple[float, float] = (3000.0, 8000.0), max_gain_db: float = 6.0, n_bands: int = 4,
        p: float = 0.5, seed: int = 0,
    ) -> None:  # fmt: skip
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


class SpeedPerturb(WaveformAugment):
    """Kaldi speed perturbation: resample from ``f × 16 kHz`` to 16 kHz, ``f`` one of ``factors``,
    then cut or zero-pad to the input's length."""

    shown = ("factors",)

    def __init__(
        self, factors: tuple[float, ...] = (0.9, 1.0, 1.1), p: float = 1.0, seed: int = 0
    ) -> None:
        super().__init__(p, seed)
        self.factors = tuple(float(f) for f in factors)

    def augment(self, waveforms: torch.Tensor) -> torch.Tensor:
        (batch, samples), device = waveforms.shape, waveforms.device
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


def make_augment(
    names: str | list[str] | tuple[str, ...], p: float = 0.5, seed: int = 0
) -> nn.Module:
    """``nn.Sequential`` of ``names`` (``"reverb,noise,eq"``, a list, ``"none"``) in the order of
    ``AUGMENTATIONS``, module ``i`` seeded ``seed + i``, ``p`` (not speed); or ``nn.Identity``."""
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
