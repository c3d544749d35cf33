"""Notebook 02's checks accept the reference answers and reject the mistakes students make."""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import torch
from test_checks_core import Case, accepts, rejects, right, wrong

# --------------------------------------------------------------------------------------------------
# Reference answers (the solution notebook's, condensed) and other correct ones


def magnitude_spectrum(signal, sample_rate):
    return np.fft.rfftfreq(len(signal), d=1 / sample_rate), np.abs(np.fft.rfft(signal))


def dominant_frequency(signal, sample_rate, fmin=60.0, fmax=400.0):
    frequencies, magnitudes = magnitude_spectrum(signal, sample_rate)
    band = (frequencies >= fmin) & (frequencies <= fmax)
    return float(frequencies[band][np.argmax(magnitudes[band])])


def stft_db(y, n_fft=400, hop_length=160, window="hann"):
    spectrum = librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=window)
    return librosa.amplitude_to_db(np.abs(spectrum), ref=np.max)


def stft_db_unclipped(y, n_fft, hop_length, window):
    magnitude = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=window))
    return librosa.amplitude_to_db(magnitude, ref=np.max, top_db=None)  # no floor: fine


def resolution(n_fft, sample_rate):
    return 1000 * n_fft / sample_rate, sample_rate / n_fft


def mel_and_mfcc(y, sample_rate, n_fft=400, hop_length=160, n_mels=80, n_mfcc=40):
    mel = librosa.feature.melspectrogram(
        y=y, sr=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    mel_db = librosa.power_to_db(mel, ref=np.max)
    return mel_db, librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc)


def mfcc_from_waveform(y, rate, n_fft, hop, n_mels, n_mfcc):
    """The other correct route: the MFCC from the waveform, with the same settings."""
    mel_db, _ = mel_and_mfcc(y, rate, n_fft, hop, n_mels, n_mfcc)
    options = {"n_fft": n_fft, "hop_length": hop, "n_mels": n_mels}
    return mel_db, librosa.feature.mfcc(y=y, sr=rate, n_mfcc=n_mfcc, **options)


def pool_over_time(features):
    return features.mean(axis=-1)


# --------------------------------------------------------------------------------------------------
# Wrong answers


def spectrum_no_spacing(s, r):
    return np.fft.rfftfreq(len(s)), np.abs(np.fft.rfft(s))


def spectrum_full_fft(s, r):
    return np.fft.fftfreq(len(s), 1 / r), np.abs(np.fft.fft(s))


def spectrum_bin_numbers(s, r):
    return np.arange(len(s) // 2 + 1), np.abs(np.fft.rfft(s))


def spectrum_constant_rate(s, r):
    return np.fft.rfftfreq(len(s), d=1 / 16_000), np.abs(np.fft.rfft(s))


def spectrum_fixed_n(s, r):
    return np.fft.rfftfreq(1024, d=1 / r), np.abs(np.fft.rfft(s, n=1024))


def spectrum_complex(s, r):
    return np.fft.rfftfreq(len(s), 1 / r), np.fft.rfft(s)


def spectrum_power(s, r):
    return np.fft.rfftfreq(len(s), 1 / r), np.abs(np.fft.rfft(s)) ** 2


def spectrum_db(s, r):
    return np.fft.rfftfreq(len(s), 1 / r), 20 * np.log10(np.abs(np.fft.rfft(s)))


def dominant_no_band(signal, rate, fmin=60, fmax=400):
    frequencies, magnitudes = magnitude_spectrum(signal, rate)
    return float(frequencies[np.argmax(magnitudes)])


def dominant_no_upper_bound(signal, rate, fmin=60, fmax=400):
    return dominant_frequency(signal, rate, fmin, rate / 2)


def dominant_bin_index(signal, rate, fmin=60, fmax=400):
    frequencies, magnitudes = magnitude_spectrum(signal, rate)
    band = (frequencies >= fmin) & (frequencies <= fmax)
    return int(np.argmax(magnitudes[band]))


def dominant_fixed_band(signal, rate, fmin=60, fmax=400):
    return dominant_frequency(signal, rate, 60.0, 400.0)


def stft_center_false(y, n, h, w):
    return librosa.amplitude_to_db(
        np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w, center=False)), ref=np.max
    )


STFT_WRONG = {
    "transposed": (lambda y, n, h, w: stft_db(y, n, h, w).T, "transposed"),
    "default hop": (lambda y, n, h, w: stft_db(y, n, n // 4, w), "librosa's default hop"),
    "other hop": (lambda y, n, h, w: stft_db(y, n, 160, w), "hop_length and on centring"),
    "center=False": (stft_center_false, "center=False"),
    "default n_fft": (lambda y, n, h, w: stft_db(y, 2048, h, w), "default n_fft"),
    "window ignored": (lambda y, n, h, w: stft_db(y, n, h, "hann"), "window argument is not used"),
    "magnitude": (
        lambda y, n, h, w: np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w)),
        "magnitudes, not decibels",
    ),
    "power to dB": (
        lambda y, n, h, w: librosa.power_to_db(
            np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w)), ref=np.max
        ),
        "half",
    ),
    "complex": (lambda y, n, h, w: librosa.stft(y, n_fft=n, hop_length=h, window=w), "complex"),
    "ref=1.0": (  # issue 18: 0 dB is then not the loudest bin, as the docstring requires
        lambda y, n, h, w: librosa.amplitude_to_db(
            np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w))
        ),
        "0 dB must be the loudest bin",
    ),
    "ref=1.0, no floor": (
        lambda y, n, h, w: librosa.amplitude_to_db(
            np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w)), top_db=None
        ),
        "0 dB must be the loudest bin",
    ),
}


def mel_power(y, rate, n_fft, hop, n_mels, n_mfcc):
    mel = librosa.feature.melspectrogram(y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    return mel, mel_and_mfcc(y, rate, n_fft, hop, n_mels, n_mfcc)[1]


def mel_amplitude_db(y, rate, n_fft, hop, n_mels, n_mfcc):
    mel = librosa.feature.melspectrogram(y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    return librosa.amplitude_to_db(mel, ref=np.max), mel_and_mfcc(
        y, rate, n_fft, hop, n_mels, n_mfcc
    )[1]


def mel_default_hop(y, rate, n_fft, hop, n_mels, n_mfcc):
    return mel_and_mfcc(y, rate, n_fft, 512, n_mels, n_mfcc)


def mel_center_false(y, rate, n_fft, hop, n_mels, n_mfcc):
    mel = librosa.feature.melspectrogram(
        y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels, center=False
    )
    mel_db = librosa.power_to_db(mel, ref=np.max)
    return mel_db, librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc)


def mel_default_bands(y, rate, n_fft, hop, n_mels, n_mfcc):
    return mel_and_mfcc(y, rate, n_fft, hop, 128, n_mfcc)


def mfcc_default_count(y, rate, n_fft, hop, n_mels, n_mfcc):
    return mel_and_mfcc(y, rate, n_fft, hop, n_mels, 20)


def mfcc_waveform_defaults(y, rate, n_fft, hop, n_mels, n_mfcc):
    mel_db, _ = mel_and_mfcc(y, rate, n_fft, hop, n_mels, n_mfcc)
    return mel_db, librosa.feature.mfcc(y=y, sr=rate, n_mfcc=n_mfcc)


def mfcc_of_power(y, rate, n_fft, hop, n_mels, n_mfcc):
    mel = librosa.feature.melspectrogram(y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    return librosa.power_to_db(mel, ref=np.max), librosa.feature.mfcc(S=mel, n_mfcc=n_mfcc)


def mel_transposed(*args):
    mel_db, mfcc = mel_and_mfcc(*args)
    return mel_db.T, mfcc


def mfcc_transposed(*args):
    mel_db, mfcc = mel_and_mfcc(*args)
    return mel_db, mfcc.T


def pool_max(x):
    return x.amax(dim=-1) if torch.is_tensor(x) else x.max(axis=-1)


CASES: list[Case] = [
    right("magnitude_spectrum", "reference", lambda: (magnitude_spectrum,)),
    wrong("magnitude_spectrum", "no d=", lambda: (spectrum_no_spacing,), "cycles per sample"),
    wrong("magnitude_spectrum", "full fft", lambda: (spectrum_full_fft,), "negative frequencies"),
    wrong("magnitude_spectrum", "bin numbers", lambda: (spectrum_bin_numbers,), "bin numbers"),
    wrong(
        "magnitude_spectrum",
        "constant rate",
        lambda: (spectrum_constant_rate,),
        "another sample rate",
    ),
    wrong("magnitude_spectrum", "fixed n", lambda: (spectrum_fixed_n,), "no fixed n="),
    wrong("magnitude_spectrum", "complex", lambda: (spectrum_complex,), "complex"),
    wrong("magnitude_spectrum", "power", lambda: (spectrum_power,), "power"),
    wrong("magnitude_spectrum", "dB", lambda: (spectrum_db,), "no dB"),
    right("dominant_frequency", "reference", lambda: (dominant_frequency,)),
    wrong("dominant_frequency", "no band", lambda: (dominant_no_band,), "DC offset"),
    wrong(
        "dominant_frequency", "no upper bound", lambda: (dominant_no_upper_bound,), "outside 60–400"
    ),
    wrong("dominant_frequency", "bin index", lambda: (dominant_bin_index,), "bin number"),
    wrong("dominant_frequency", "fixed band", lambda: (dominant_fixed_band,), "band is fixed"),
    right("stft_db", "reference", lambda: (stft_db,)),
    right("stft_db", "no floor", lambda: (stft_db_unclipped,)),
    *(wrong("stft_db", label, lambda f=f: (f,), match) for label, (f, match) in STFT_WRONG.items()),
    right("stft_resolution", "reference", lambda: (resolution,)),
    wrong("stft_resolution", "seconds", lambda: (lambda n, r: (n / r, r / n),), "seconds"),
    wrong("stft_resolution", "half", lambda: (lambda n, r: (1000 * n / r, r / 2 / n),), "half"),
    wrong(
        "stft_resolution",
        "bins count",
        lambda: (lambda n, r: (1000 * n / r, r / (n // 2 + 1)),),
        "twice",
    ),
    wrong(
        "stft_resolution",
        "upside down",
        lambda: (lambda n, r: (1000 * r / n, r / n),),
        "upside down",
    ),
    wrong("stft_resolution", "one number", lambda: (lambda n, r: 1000 * n / r,), "pair"),
    right("mel_and_mfcc", "reference", lambda: (mel_and_mfcc,)),
    right("mel_and_mfcc", "MFCC from the waveform", lambda: (mfcc_from_waveform,)),
    wrong("mel_and_mfcc", "mel power", lambda: (mel_power,), "mel power itself"),
    wrong("mel_and_mfcc", "amplitude to dB", lambda: (mel_amplitude_db,), "twice"),
    wrong("mel_and_mfcc", "mel transposed", lambda: (mel_transposed,), "transposed"),
    wrong("mel_and_mfcc", "default hop", lambda: (mel_default_hop,), "default hop"),
    wrong("mel_and_mfcc", "center=False", lambda: (mel_center_false,), "center=False"),
    wrong("mel_and_mfcc", "default n_mels", lambda: (mel_default_bands,), "n_mels"),
    wrong("mel_and_mfcc", "default n_mfcc", lambda: (mfcc_default_count,), "n_mfcc"),
    wrong(
        "mel_and_mfcc",
        "MFCC with defaults",
        lambda: (mfcc_waveform_defaults,),
        "framed differently",
    ),
    wrong("mel_and_mfcc", "MFCC of power", lambda: (mfcc_of_power,), "mel \\*power\\*"),
    wrong("mel_and_mfcc", "mfcc transposed", lambda: (mfcc_transposed,), "transposed"),
    right("pool_over_time", "reference", lambda: (pool_over_time,)),
    wrong("pool_over_time", "axis 0", lambda: (lambda x: x.mean(axis=0),), "axis 0, the features"),
    wrong("pool_over_time", "axis 1", lambda: (lambda x: x.mean(axis=1),), "axis 1, the features"),
    wrong("pool_over_time", "sum", lambda: (lambda x: x.sum(axis=-1),), "summed"),
    wrong("pool_over_time", "max", lambda: (pool_max,), "not the mean"),
    wrong("pool_over_time", "everything", lambda: (lambda x: x.mean(),), "every axis"),
    wrong("pool_over_time", "keepdims", lambda: (lambda x: x.mean(-1, keepdims=True),), "length 1"),
    right("pool_over_time", "np.mean", lambda: (lambda x: np.mean(x, axis=-1),)),
    wrong(  # issue 18: the notebook passes numpy arrays; the message says so
        "pool_over_time", "torch-only code", lambda: (lambda x: x.mean(dim=-1),), "a numpy array"
    ),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    accepts(case, capsys)


@pytest.mark.parametrize("case", [c for c in CASES if c.match is not None], ids=str)
def test_rejects(case: Case) -> None:
    rejects(case)


def test_frame_count_mismatch_is_not_blamed_on_n_mfcc() -> None:
    """A mel framed with the default hop must not be reported as a wrong number of coefficients."""
    message = rejects(wrong("mel_and_mfcc", "default hop", lambda: (mel_default_hop,), "hop"))
    assert "n_mfcc" not in message
    message = rejects(wrong("stft_db", "center=False", lambda: (stft_center_false,), "center"))
    assert "hop_length" not in message.split("you returned")[1]
