"""helpers.augment: shapes, seeds, eval mode, and that each module does what its units say."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.audio import SAMPLE_RATE
from helpers.augment import (
    AUGMENTATIONS,
    AddNoise,
    RandomEQ,
    RandomReverb,
    SpeedPerturb,
    WaveformAugment,
    decaying_noise_rir,
    make_augment,
)

pytestmark = pytest.mark.usefixtures("one_thread")

MODULES = {
    "noise": lambda seed: AddNoise(p=1.0, seed=seed),
    "reverb": lambda seed: RandomReverb(p=1.0, seed=seed),
    "eq": lambda seed: RandomEQ(p=1.0, seed=seed),
    "speed": lambda seed: SpeedPerturb(factors=(0.9, 1.1), seed=seed),
}


def speech_like(batch: int = 6, seconds: float = 1.0, seed: int = 0) -> torch.Tensor:
    """Harmonic bursts with pauses, ``(batch, samples)``: energy at many frequencies, not constant."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    f0 = 100 + 100 * torch.rand(batch, 1, generator=g)
    tone = sum(torch.sin(2 * math.pi * k * f0 * t) / k for k in range(1, 20))
    gate = (torch.sin(2 * math.pi * 3 * t) > -0.3).float()
    return 0.1 * tone * gate


@pytest.mark.parametrize("name", MODULES)
def test_shape_dtype_and_change(name: str) -> None:
    x = speech_like()
    y = MODULES[name](0).train()(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    assert torch.isfinite(y).all()
    assert not torch.allclose(y, x, atol=1e-4)  # p=1: every clip changed


@pytest.mark.parametrize("name", MODULES)
def test_same_seed_same_output_other_seed_other_output(name: str) -> None:
    x = speech_like()
    a, b, c = MODULES[name](3), MODULES[name](3), MODULES[name](4)
    first = a(x)
    assert torch.equal(first, b(x))
    assert not torch.equal(first, c(x))
    assert not torch.equal(first, a(x))  # the sequence moves on from batch to batch...
    a.reseed()
    assert torch.equal(first, a(x))  # ...and starts again when reseeded


@pytest.mark.parametrize("name", MODULES)
def test_identity_in_eval_mode(name: str) -> None:
    x = speech_like()
    module = MODULES[name](0).eval()
    assert module(x) is x


def test_probability_chooses_clips() -> None:
    x = speech_like(batch=400, seconds=0.05)
    module = AddNoise(p=0.25, seed=0)
    y = module(x)
    changed = (y != x).any(dim=1)
    assert torch.equal(changed, module.last["chosen"])
    assert 0.18 < changed.float().mean() < 0.32
    assert torch.equal(AddNoise(p=0.0)(x), x)
    with pytest.raises(ValueError, match="probability"):
        AddNoise(p=1.5)


def test_noise_snr_within_range() -> None:
    x = speech_like(batch=64)
    module = AddNoise(snr_db=(5.0, 20.0), p=1.0, seed=1)
    y = module(x)
    measured = 10 * torch.log10(x.square().mean(1) / (y - x).square().mean(1))
    assert torch.allclose(measured, module.last["snr_db"], atol=0.01)
    assert measured.min() >= 5.0 - 0.01 and measured.max() <= 20.0 + 0.01
    assert measured.max() - measured.min() > 8  # spread over the range, not one value


def test_noise_colour_tilts_the_spectrum() -> None:
    """A white-ish noise (β near 0) has as much power above 4 kHz as below; a brown one far less."""
    x = torch.zeros(64, SAMPLE_RATE) + 1e-3
    module = AddNoise(p=1.0, seed=0)
    noise = module(x) - x
    power = torch.fft.rfft(noise).abs().square()
    freqs = torch.fft.rfftfreq(SAMPLE_RATE, d=1 / SAMPLE_RATE)
    high_share = power[:, freqs > 4000].sum(1) / power.sum(1)
    beta = module.last["beta"]
    assert high_share[beta < 0.3].min() > 0.3
    assert high_share[beta > 1.7].max() < 0.05


def schroeder_rt60(rir: torch.Tensor) -> float:
    """RT60 (s) of an impulse response from the slope of its Schroeder decay curve, -5 to -25 dB."""
    energy = rir[1:].double().square().flip(0).cumsum(0).flip(0)  # the tail, without the direct
    decay_db = 10 * torch.log10(energy / energy[0])
    t = torch.arange(len(decay_db), dtype=torch.float64) / SAMPLE_RATE
    fit = (decay_db <= -5) & (decay_db >= -25)
    slope = torch.linalg.lstsq(
        torch.stack([t[fit], torch.ones_like(t[fit])], 1), decay_db[fit, None]
    ).solution[0, 0]
    return float(-60 / slope)


def test_reverb_rt60_within_range() -> None:
    x = speech_like(batch=32)
    module = RandomReverb(rt60=(0.2, 0.8), p=1.0, seed=2)
    module(x)
    drawn = module.last["rt60"]
    assert drawn.min() >= 0.2 and drawn.max() <= 0.8 and drawn.max() - drawn.min() > 0.3
    for rt60, rir in zip(drawn, module.last["rir"]):
        assert schroeder_rt60(rir) == pytest.approx(float(rt60), rel=0.15)


def test_decaying_noise_rir_decays_60_db_in_rt60() -> None:
    rt60 = torch.tensor([0.3, 0.6])
    rir = decaying_noise_rir(rt60, SAMPLE_RATE, torch.Generator().manual_seed(0))
    assert rir.shape == (2, SAMPLE_RATE) and torch.all(rir[:, 0] == 1.0)
    assert schroeder_rt60(rir[0]) == pytest.approx(0.3, rel=0.1)
    assert schroeder_rt60(rir[1]) == pytest.approx(0.6, rel=0.1)


def test_reverb_smears_time_and_keeps_power() -> None:
    x = torch.zeros(4, SAMPLE_RATE)
    x[:, 1000] = 1.0  # a click
    module = RandomReverb(rt60=(0.5, 0.5), p=1.0, seed=0)
    y = module(x)
    assert torch.allclose(y.square().mean(1), x.square().mean(1), rtol=1e-3)
    assert torch.all(y[:, :999].abs() < 1e-4)  # causal: nothing before the click
    late = y[:, 1000 + SAMPLE_RATE // 10 :].square().sum(1) / y.square().sum(1)
    # Direct sound and tail carry equal energy; 10 ** (-6 * 0.1 / 0.5) of the tail's is past 100 ms.
    assert torch.allclose(late, torch.tensor(0.5 * 10**-1.2), rtol=0.3)


@pytest.mark.parametrize("seconds", [0.3, 1.2001])  # full lengths below and above a power of two
def test_reverb_is_the_linear_convolution_with_its_rir(seconds: float) -> None:
    """The power-of-two FFTs of ``RandomReverb`` (tools/bench.py --augment: 2-4x faster) give what
    ``AF.fftconvolve`` gives: no wrap-around of the tail into the clip's start."""
    import torchaudio.functional as AF

    x = speech_like(batch=5, seconds=seconds, seed=1)
    module = RandomReverb(p=1.0, seed=3)
    y = module(x)
    wet = AF.fftconvolve(x, module.last["rir"])[:, : x.shape[1]]
    wet = wet * (x.square().mean(1, keepdim=True) / wet.square().mean(1, keepdim=True)).sqrt()
    torch.testing.assert_close(y, wet, atol=1e-4, rtol=1e-3)


def test_eq_band_limits_at_its_cut_offs() -> None:
    """Telephone-band cut-offs (300–3400 Hz): -12.3 dB an octave outside each, 0 dB inside."""
    g = torch.Generator().manual_seed(0)
    x = torch.randn(8, SAMPLE_RATE, generator=g)
    module = RandomEQ(low_cut=(300, 300), high_cut=(3400, 3400), max_gain_db=0.0, p=1.0)
    y = module(x)
    spectrum_in, spectrum_out = (torch.fft.rfft(v).abs().square() for v in (x, y))
    freqs = torch.fft.rfftfreq(SAMPLE_RATE, d=1 / SAMPLE_RATE)

    def gain_db(low: float, high: float) -> torch.Tensor:
        band = (freqs > low) & (freqs < high)
        return 10 * torch.log10(spectrum_out[:, band].sum(1) / spectrum_in[:, band].sum(1))

    octave_out = -10 * math.log10(1 + 2**4)  # 2nd-order Butterworth, one octave past the cut-off
    assert torch.allclose(gain_db(145, 155), torch.tensor(octave_out), atol=0.5)
    assert torch.allclose(gain_db(6700, 6900), torch.tensor(octave_out), atol=0.5)
    assert torch.all(gain_db(20, 60) < -25) and torch.all(gain_db(7900, 8000) < -14)
    assert torch.all(gain_db(800, 1500).abs() < 0.5)  # passband untouched
    assert torch.all((module.last["low_cut"] == 300) & (module.last["high_cut"] == 3400))


def test_eq_gains_stay_within_max_gain() -> None:
    module = RandomEQ(low_cut=(1.0, 1.0), high_cut=(8000.0, 8000.0), max_gain_db=6.0, n_bands=1)
    freqs = torch.linspace(200, 4000, 500)
    gain = module.gain_db(freqs, 256)
    assert gain.max() <= 6.0 + 1e-3 and gain.min() >= -6.0 - 0.1
    assert gain.max() > 4 and gain.min() < -4


@pytest.mark.parametrize("factor", [0.9, 1.1])
def test_speed_perturbation_moves_the_pitch(factor: float) -> None:
    t = torch.arange(SAMPLE_RATE) / SAMPLE_RATE
    x = torch.sin(2 * math.pi * 1000 * t)[None].repeat(2, 1)
    module = SpeedPerturb(factors=(factor,))
    y = module(x)
    spectrum = torch.fft.rfft(y[0, : SAMPLE_RATE // 2 if factor > 1 else None]).abs()
    peak = spectrum.argmax() * SAMPLE_RATE / (2 * (len(spectrum) - 1))
    assert float(peak) == pytest.approx(1000 * factor, rel=0.01)
    assert torch.all(module.last["factor"] == factor)


def test_speed_perturbation_keeps_factor_one_unchanged() -> None:
    x = speech_like(batch=30)
    module = SpeedPerturb(factors=(0.9, 1.0, 1.1), seed=0)
    y = module(x)
    same = module.last["factor"] == 1.0
    assert 0 < same.sum() < 30
    assert torch.equal(y[same], x[same]) and not torch.allclose(y[~same], x[~same])


def test_bad_input_and_options() -> None:
    with pytest.raises(ValueError, match=r"\(batch, samples\)"):
        AddNoise(p=1.0)(torch.zeros(2, 3, 100))
    with pytest.raises(ValueError, match="rt60"):
        RandomReverb(rt60=(0.8, 0.2))
    with pytest.raises(ValueError, match="unknown augmentation"):
        make_augment("reverb,echo")


def test_make_augment_orders_and_seeds_the_chain() -> None:
    chain = make_augment("eq, noise,reverb", p=0.3, seed=10)
    assert [type(m) for m in chain] == [RandomReverb, AddNoise, RandomEQ]
    assert [m.seed for m in chain] == [11, 12, 13] and all(m.p == 0.3 for m in chain)
    assert isinstance(make_augment("none"), torch.nn.Identity)
    assert isinstance(make_augment(""), torch.nn.Identity)
    assert len(make_augment(list(AUGMENTATIONS))) == 4
    x = speech_like()
    assert torch.equal(
        make_augment("reverb,noise", seed=1)(x), make_augment("reverb,noise", seed=1)(x)
    )
    assert make_augment("reverb,noise").eval()(x) is x


def test_base_class_needs_augment() -> None:
    with pytest.raises(NotImplementedError):
        WaveformAugment(p=1.0, seed=0)(torch.zeros(1, 10))


class CountingAugment(torch.nn.Module):
    """Records the batches it sees and marks them, to check where ``fit`` applies it."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x + 1000.0


def test_fit_augments_training_batches_only_and_before_the_features() -> None:
    from torch.utils.data import DataLoader, TensorDataset

    from helpers.training import fit

    x = torch.randn(32, 8)
    y = torch.arange(32) % 2
    seen_by_features: list[float] = []

    class Feature(torch.nn.Module):
        def forward(self, batch: torch.Tensor) -> torch.Tensor:
            seen_by_features.append(float(batch.mean()))
            return batch

    model = torch.nn.Linear(8, 2)
    augment = CountingAugment()
    train = DataLoader(TensorDataset(x, y), batch_size=8)
    val = DataLoader(TensorDataset(x, y), batch_size=16)
    fit(model, train, val, epochs=2, batch_transform=Feature(), augment=augment,
        device="cpu", progress=False)  # fmt: skip
    assert augment.calls == 2 * 4  # every training batch, no validation batch
    augmented = [m for m in seen_by_features if m > 500]
    assert len(augmented) == 8 and len(seen_by_features) == 8 + 2 * 2  # the features saw both


def test_torchaudio_mixing_and_convolution_equal_the_hand_written_formulas() -> None:
    """``add_noise`` and ``fftconvolve`` (issue 20) give what the kit computed by hand before."""
    import torchaudio.functional as AF

    generator = torch.Generator().manual_seed(0)
    clips, noise = torch.randn(2, 4, 8_000, generator=generator)
    snr = torch.tensor([5.0, 10.0, 15.0, 20.0])
    power = lambda x: x.square().mean(-1, keepdim=True)  # noqa: E731
    by_hand = clips + (power(clips) / power(noise) / 10 ** (snr[:, None] / 10)).sqrt() * noise
    torch.testing.assert_close(AF.add_noise(clips, noise, snr), by_hand)
    rir = torch.randn(4, 3_000, generator=generator)
    n_fft = 2 ** math.ceil(math.log2(8_000 + 3_000 - 1))
    full = torch.fft.irfft(torch.fft.rfft(clips, n_fft) * torch.fft.rfft(rir, n_fft), n_fft)
    torch.testing.assert_close(
        AF.fftconvolve(clips, rir), full[:, : 8_000 + 3_000 - 1], atol=1e-3, rtol=1e-4
    )
