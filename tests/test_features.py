"""helpers.features: shapes, agreement with torchaudio, batches, normalisation, pooling, devices."""

from __future__ import annotations

import warnings

import pytest
import torch
import torchaudio
from conftest import tone

from helpers.features import (
    FEATURE_KINDS,
    LOG_FLOOR,
    MFCC,
    AudioFeature,
    LogSpectrogram,
    make_feature,
    normalize_over_time,
    squared_magnitude,
)

pytestmark = pytest.mark.usefixtures("one_thread")

SHAPES_3S = {
    "mfcc": (40, 301),
    "mfcc_pooled": (40,),
    "spectrogram": (201, 301),
    "spectrogram_pooled": (201,),
}


@pytest.fixture(scope="module")
def clips() -> torch.Tensor:
    """Three different 3-s clips ``(3, 48000)``: noise, a tone, and a quiet tone plus noise."""
    generator = torch.Generator().manual_seed(0)
    noise = 0.1 * torch.randn(48_000, generator=generator)
    a440 = torch.from_numpy(tone(3.0, 16_000, 440))
    return torch.stack([noise, a440, 0.01 * a440 + 0.001 * noise])


@pytest.mark.parametrize("kind", FEATURE_KINDS)
def test_shapes_for_one_clip_and_a_batch(kind: str, clips: torch.Tensor) -> None:
    module = make_feature(kind)
    assert isinstance(module, AudioFeature)
    single = module(clips[0])
    assert single.shape == SHAPES_3S[kind]
    assert single.dtype == torch.float32 and torch.isfinite(single).all()
    assert module(clips).shape == (3, *SHAPES_3S[kind])
    assert module(clips[None]).shape == (1, 3, *SHAPES_3S[kind])  # any leading axes
    assert module.n_bins == SHAPES_3S[kind][0]
    assert module.pooled == kind.endswith("_pooled")
    assert module.frames(48_000) == 301


@pytest.mark.parametrize("kind", FEATURE_KINDS)
def test_batch_equals_items(kind: str, clips: torch.Tensor) -> None:
    """A clip's features do not depend on the other clips of its batch."""
    module = make_feature(kind)
    batch = module(clips)
    for i, clip in enumerate(clips):
        torch.testing.assert_close(batch[i], module(clip), rtol=1e-5, atol=1e-5)


def test_log_spectrogram_is_torchaudio_spectrogram(clips: torch.Tensor) -> None:
    for n_fft, hop in [(400, 160), (512, 128), (1024, 256)]:
        module = LogSpectrogram(n_fft=n_fft, hop_length=hop, normalize=False)
        reference = torchaudio.transforms.Spectrogram(n_fft=n_fft, hop_length=hop, power=2.0)
        expected = torch.log(reference(clips) + LOG_FLOOR)
        got = module(clips)
        assert got.shape == expected.shape == (3, n_fft // 2 + 1, module.frames(48_000))
        torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4)


def test_squared_magnitude_is_torchaudio_power_2(clips: torch.Tensor) -> None:
    """re² + im² of the complex spectrum is what torchaudio's power=2 gives, for any framing."""
    for n_fft, win_length, hop in [(400, 400, 160), (512, 400, 128)]:
        options = dict(n_fft=n_fft, win_length=win_length, hop_length=hop)
        complex_spectrum = torchaudio.transforms.Spectrogram(**options, power=None)(clips)
        expected = torchaudio.transforms.Spectrogram(**options, power=2.0)(clips)
        got = squared_magnitude(complex_spectrum)
        assert not got.is_complex() and got.shape == expected.shape
        torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-7)


def test_mfcc_is_torchaudio_mfcc_with_log_mels(clips: torch.Tensor) -> None:
    for n_mfcc, n_mels, n_fft in [(40, 80, 400), (13, 40, 512)]:
        module = MFCC(n_mfcc=n_mfcc, n_mels=n_mels, n_fft=n_fft, normalize=False)
        reference = torchaudio.transforms.MFCC(
            16_000,
            n_mfcc=n_mfcc,
            log_mels=True,
            melkwargs={"n_fft": n_fft, "hop_length": 160, "n_mels": n_mels},
        )
        torch.testing.assert_close(module(clips), reference(clips), rtol=1e-4, atol=1e-3)


def test_mfcc_is_dct_of_log_mel(clips: torch.Tensor) -> None:
    module = MFCC(n_mfcc=40, n_mels=80, normalize=False)
    mel = torchaudio.transforms.MelSpectrogram(16_000, n_fft=400, hop_length=160, n_mels=80)
    dct = torchaudio.functional.create_dct(40, 80, norm="ortho")  # (n_mels, n_mfcc)
    expected = torch.einsum("mc,bmt->bct", dct, torch.log(mel(clips) + LOG_FLOOR))
    torch.testing.assert_close(module(clips), expected, rtol=1e-4, atol=1e-3)


def test_the_practicals_256_mfcc_is_reachable(clips: torch.Tensor) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torchaudio notes that 1 of the 256 mel bands is empty
        module = make_feature("mfcc", n_mfcc=256, n_mels=256, n_fft=1024)
        pooled = make_feature("mfcc_pooled", n_mfcc=256, n_mels=256, n_fft=1024)
    out = module(clips[0])
    assert out.shape == (256, 301)
    assert torch.isfinite(out).all()
    assert pooled(clips).shape == (3, 256)


def test_spectrogram_peak_is_at_the_tone(clips: torch.Tensor) -> None:
    pooled = make_feature("spectrogram_pooled")(clips[1])  # a 440-Hz tone, bins 40 Hz apart
    assert int(pooled.argmax()) == 11  # 440 / 40


def test_normalised_kinds_have_zero_mean_unit_std_per_bin(clips: torch.Tensor) -> None:
    for kind in ("mfcc", "spectrogram"):
        out = make_feature(kind)(clips[0])
        torch.testing.assert_close(out.mean(-1), torch.zeros(out.shape[0]), atol=1e-4, rtol=0)
        torch.testing.assert_close(out.std(-1), torch.ones(out.shape[0]), atol=1e-3, rtol=0)


def test_normalisation_removes_gain_and_pooling_keeps_it(clips: torch.Tensor) -> None:
    """Loudness says nothing about the speaker: a louder copy gives the same normalised features."""
    module = make_feature("spectrogram")
    gap = (module(clips[0]) - module(10 * clips[0])).abs()
    # Equal but where the power is within a few decades of LOG_FLOOR (a few noise bins).
    assert gap.median() < 1e-4 and gap.mean() < 1e-2
    pooled = make_feature("spectrogram_pooled")
    difference = pooled(10 * clips[0]) - pooled(clips[0])  # log(100 p) - log(p) = 4.6
    torch.testing.assert_close(difference, torch.full_like(difference, 4.60517), atol=0.02, rtol=0)


@pytest.mark.parametrize("kind", ["mfcc", "spectrogram"])
def test_pooled_is_the_time_average_of_extract(kind: str, clips: torch.Tensor) -> None:
    pooled = make_feature(f"{kind}_pooled")
    torch.testing.assert_close(pooled(clips), pooled.extract(clips).mean(-1))
    full = make_feature(kind)
    torch.testing.assert_close(full(clips), normalize_over_time(full.extract(clips)))
    torch.testing.assert_close(full.finish(full.extract(clips)), full(clips))


def test_normalize_over_time_matches_the_textbook_formula() -> None:
    x = torch.randn(2, 5, 50) * 3 + 7
    expected = (x - x.mean(-1, keepdim=True)) / (x.std(-1, keepdim=True) + 1e-5)
    torch.testing.assert_close(normalize_over_time(x), expected)
    assert normalize_over_time(torch.full((3, 10), 4.0)).abs().max() == 0  # constant bin: zeros


def test_silence_is_finite() -> None:
    for kind in FEATURE_KINDS:
        assert torch.isfinite(make_feature(kind)(torch.zeros(16_000))).all()


@pytest.mark.parametrize("samples", [401, 16_000, 16_001, 48_000, 48_159, 48_160])
def test_frames_formula(samples: int) -> None:
    module = make_feature("spectrogram")
    assert module(torch.zeros(samples)).shape[-1] == module.frames(samples)


def test_gradients_flow_through_the_features() -> None:
    waveform = torch.randn(2, 8_000, requires_grad=True)
    for kind in FEATURE_KINDS:
        waveform.grad = None
        make_feature(kind)(waveform).square().sum().backward()
        assert waveform.grad is not None and torch.isfinite(waveform.grad).all()
        assert waveform.grad.abs().sum() > 0


def test_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown feature kind"):
        make_feature("mel")
    with pytest.raises(ValueError, match="cannot exceed"):
        make_feature("mfcc", n_mfcc=100, n_mels=80)


def test_mel_bands_default_to_80_or_n_mfcc_if_more() -> None:
    assert "n_mels=80," in repr(make_feature("mfcc", n_mfcc=40))
    assert "n_mels=128," in repr(make_feature("mfcc", n_mfcc=128))
    assert make_feature("mfcc", n_mfcc=128)(torch.zeros(16_000)).shape[0] == 128


def test_f_max_makes_a_16khz_clip_and_its_8khz_recording_alike(clips: torch.Tensor) -> None:
    """Mel bands up to 4 kHz (the CLI's default when a corpus has 8-kHz files) see the same clip
    read from an 8-kHz file (down to 8 kHz and back up, as ``load_audio`` reads it) almost as
    itself; over the full band the empty 4-8 kHz bands make it another sound."""
    resample = torchaudio.functional.resample
    narrow = resample(resample(clips[0], 16_000, 8_000), 8_000, 16_000)
    gaps = {}
    for f_max in (4_000, None):
        feature = make_feature("mfcc", f_max=f_max, normalize=False)
        gaps[f_max] = (feature(clips[0]) - feature(narrow)).abs().mean()
    assert gaps[4_000] < gaps[None] / 5, gaps
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # torchaudio warns of an empty mel band
        bands = make_feature("mfcc", f_max=4_000).mel_scale.fb  # (n_fft // 2 + 1, n_mels)
    assert bands.shape == (201, 60) and (bands.sum(dim=0) > 0).all()  # the full band's width
    assert bands[101:].abs().sum() == 0  # nothing from 4 kHz (bin 100) up
    assert "f_max=4000" in repr(make_feature("mfcc", f_max=4_000))


def test_repr_shows_the_settings() -> None:
    assert "n_mfcc=40" in repr(make_feature("mfcc"))
    assert "pooled=True" in repr(make_feature("spectrogram_pooled"))
    assert repr(make_feature("mfcc")) != repr(make_feature("mfcc", n_mels=64))


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_gpu_matches_cpu(clips: torch.Tensor) -> None:
    for kind in FEATURE_KINDS:
        module = make_feature(kind)
        expected = module(clips)
        got = module.to("cuda")(clips.to("cuda")).cpu()
        torch.testing.assert_close(got, expected, rtol=1e-3, atol=1e-3)


def test_finish_leaves_its_input_alone_unless_told(clips: torch.Tensor) -> None:
    module = make_feature("spectrogram")
    features = module.extract(clips)
    kept = features.clone()
    expected = module.finish(features)
    assert torch.equal(features, kept)  # the cache and notebooks may reuse what extract gave
    assert torch.equal(normalize_over_time(kept.clone()), expected)
    reused = module.finish(features, overwrite=True)
    torch.testing.assert_close(reused, expected)
    assert reused.data_ptr() == features.data_ptr()  # no new array
