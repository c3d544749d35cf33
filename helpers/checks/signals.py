"""Checks for the signals exercises: loading audio (01) and time and frequency (02).

Checks that take the student's *function* call it on small signals whose answer is known (a 440 Hz
sine, a harmonic buzz), so a wrong answer is caught whatever file the notebook happens to use.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ..audio import audio_info
from ._common import expect, passed

__all__ = [
    "audio_window",
    "dominant_frequency",
    "duration",
    "librosa_loading",
    "magnitude_spectrum",
    "mel_and_mfcc",
    "pool_over_time",
    "stft_db",
    "stft_resolution",
    "torchaudio_loading",
]

LIBROSA_RATE = 22_050
"""librosa.load's default rate (Hz)."""


def _array(value: object, what: str) -> np.ndarray:
    """``value`` as a numpy array (from numpy, torch or a list), or a clear error."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception:  # anything numpy cannot take
        expect(False, f"{what} is a {type(value).__name__}, not an array.", "Return a numpy array.")
        raise  # unreachable: expect raised


def _number(value: object, what: str) -> float:
    """``value`` as a float (Python, numpy or a 0-d tensor), or a clear error."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        expect(
            False,
            f"{what} should be one number, got {type(value).__name__} {value!r:.60}.",
            "Return a float (e.g. `float(x)`), not a tuple, array or string.",
        )
        raise


# --------------------------------------------------------------------------------------------------
# 01 · Loading audio


def librosa_loading(waveform: object, sample_rate: object, path: str | os.PathLike) -> None:
    """``librosa.load(path)`` with its defaults: mono numpy at 22 050 Hz, the whole file."""
    info = audio_info(path)
    expect(
        isinstance(waveform, np.ndarray),
        f"The waveform is a {type(waveform).__name__}; librosa.load returns a numpy array.",
        "Unpack both results: `waveform, sample_rate = librosa.load(path)`.",
    )
    expect(
        waveform.ndim == 1,
        f"The waveform has shape {waveform.shape}; librosa gives one axis (samples,) for mono.",
        "Keep librosa's default mono=True.",
    )
    expect(
        sample_rate != info.sample_rate or info.sample_rate == LIBROSA_RATE,
        f"The sample rate is {sample_rate} Hz, the file's own rate: you kept it (sr=None?).",
        f"This exercise uses librosa's default, which resamples everything to {LIBROSA_RATE} Hz.",
    )
    expect(
        sample_rate == LIBROSA_RATE,
        f"The sample rate is {sample_rate!r}; librosa.load's default is {LIBROSA_RATE} Hz.",
        "Call librosa.load(path) without sr= and return the rate it gives back.",
    )
    expected = info.seconds * LIBROSA_RATE
    expect(
        abs(len(waveform) - expected) <= 2,
        f"The waveform holds {len(waveform)} samples; the whole file at {LIBROSA_RATE} Hz "
        f"holds about {expected:.0f}.",
        "Load the whole file (no offset= or duration=).",
    )
    passed(
        f"librosa resampled {info.sample_rate} Hz → {LIBROSA_RATE} Hz: "
        f"{len(waveform)} samples for {info.seconds:.2f} s"
    )


def duration(duration_seconds: Callable[[object, int], float]) -> None:
    """``duration_seconds(waveform, sample_rate)``: samples on the last axis ÷ rate, in seconds."""
    cases = [
        (np.zeros(22_050, dtype=np.float32), 22_050, 1.0, "a (22050,) numpy waveform at 22050 Hz"),
        (torch.zeros(1, 24_000), 16_000, 1.5, "a (1, 24000) torch waveform at 16000 Hz"),
        (torch.zeros(2, 8_000), 16_000, 0.5, "a (2, 8000) stereo torch waveform at 16000 Hz"),
        (np.zeros(3 * 44_100), 44_100, 3.0, "a (132300,) numpy waveform at 44100 Hz"),
    ]
    for waveform, rate, expected, described in cases:
        got = _number(duration_seconds(waveform, rate), "duration_seconds(...)")
        samples = waveform.shape[-1]
        if np.isclose(got, expected):
            continue
        expect(
            not np.isclose(got, samples),
            f"For {described} you returned {got:g}: that is the number of samples.",
            "Divide the number of samples by the sample rate to get seconds.",
        )
        expect(
            not np.isclose(got, len(waveform) / rate),
            f"For {described} you returned {got:g}: len() counted the first axis (channels).",
            "Samples are on the *last* axis: use waveform.shape[-1].",
        )
        expect(
            not np.isclose(got, 1000 * expected),
            f"For {described} you returned {got:g}: milliseconds, not seconds.",
            "Return seconds: samples / rate.",
        )
        expect(
            not np.isclose(got, samples // rate),
            f"For {described} you returned {got:g}: integer division drops the fraction.",
            "Use / (true division), not //.",
        )
        expect(
            False,
            f"For {described} you returned {got:g}; expected {expected:g} s.",
            "duration (s) = number of samples on the last axis / sample rate (Hz).",
        )
    passed("duration = samples on the last axis / sample rate, in seconds")


def torchaudio_loading(waveform: object, sample_rate: object, path: str | os.PathLike) -> None:
    """``torchaudio.load(path)``: a ``(channels, samples)`` float tensor at the file's own rate."""
    info = audio_info(path)
    expect(
        isinstance(waveform, torch.Tensor),
        f"The waveform is a {type(waveform).__name__}; torchaudio.load returns a torch.Tensor.",
        "Unpack both results: `waveform, sample_rate = torchaudio.load(path)`.",
    )
    expect(
        sample_rate != LIBROSA_RATE or info.sample_rate == LIBROSA_RATE,
        f"The sample rate is {LIBROSA_RATE} Hz: that is librosa's default, not the file's rate.",
        "torchaudio.load does not resample: return the rate it gives back.",
    )
    expect(
        sample_rate == info.sample_rate,
        f"The sample rate is {sample_rate!r}; the file is at {info.sample_rate} Hz.",
        "Return the rate torchaudio.load gives back, unchanged.",
    )
    expect(
        waveform.ndim == 2,
        f"The waveform has shape {tuple(waveform.shape)}; torchaudio gives (channels, samples).",
        "Return torchaudio's tensor as it is (no squeeze here); later code uses shape[-1].",
    )
    expect(
        tuple(waveform.shape) != (info.frames, info.channels) or info.frames == info.channels,
        f"The waveform has shape {tuple(waveform.shape)}: (samples, channels), transposed.",
        "torchaudio's convention is (channels, samples); soundfile's is the transpose.",
    )
    expect(
        tuple(waveform.shape) == (info.channels, info.frames),
        f"The waveform has shape {tuple(waveform.shape)}; the file holds "
        f"{info.channels} channel(s) × {info.frames} samples.",
        "Load the whole file at its own rate.",
    )
    reference, _ = sf.read(os.fspath(path), dtype="float32", always_2d=True)
    expect(
        np.allclose(waveform.detach().cpu().float().numpy(), reference.T, atol=1e-4),
        "The samples differ from the file's content.",
        "Return the float waveform in [-1, 1] as loaded (torchaudio's default normalize=True).",
    )
    passed(
        f"torchaudio kept the file's {info.sample_rate} Hz: "
        f"shape {tuple(waveform.shape)} = (channels, samples)"
    )


def audio_window(read_window: Callable[..., object]) -> None:
    """``read_window(path, start_seconds, seconds)``: just that window, as a 1-D tensor.

    Tried on a 3-s test file written to a temporary folder, so the answer is known exactly.
    """
    rate = 16_000
    data = np.random.default_rng(0).uniform(-0.5, 0.5, 3 * rate).astype(np.float32)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "test.flac"
        sf.write(path, data, rate)
        data, _ = sf.read(path, dtype="float32")  # what the file holds after 16-bit encoding
        for start_s, seconds in [(0.5, 1.0), (2.0, 0.75)]:
            got = read_window(path, start_s, seconds)
            expect(
                isinstance(got, torch.Tensor) and got.ndim == 1,
                f"read_window returned {type(got).__name__} of shape {tuple(np.shape(got))}; "
                "expected a 1-D tensor (samples,).",
                "Return what helpers.audio.load_audio returns.",
            )
            start, frames = round(start_s * rate), round(seconds * rate)
            case = f"the {seconds:g} s starting at {start_s:g} s of a 3-s file at {rate} Hz"
            expect(
                len(got) != round(seconds),
                f"For {case} you returned {len(got)} sample(s): seconds were used as samples.",
                "frames= and start= count samples: multiply seconds by the file's sample rate.",
            )
            expect(
                len(got) == frames,
                f"For {case} you returned {len(got)} samples; expected {frames}.",
                "frames = round(seconds × sample rate), at the file's rate (audio_info(path)).",
            )
            expect(
                np.allclose(got.numpy(), data[start : start + frames], atol=1e-4),
                f"For {case} you returned other samples than the file holds there.",
                "start = round(start_seconds × sample rate), in samples at the file's rate.",
            )
    passed("reads just the window asked for, placed in samples at the file's rate")


# --------------------------------------------------------------------------------------------------
# 02 · Time and frequency


def _two_sines(rate: int = 16_000, n: int = 1_600) -> np.ndarray:
    t = np.arange(n) / rate
    return np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1_000 * t)


def magnitude_spectrum(spectrum: Callable[[np.ndarray, int], tuple[object, object]]) -> None:
    """``spectrum(signal, sample_rate) -> (frequencies in Hz, magnitudes)`` of a real signal."""
    rate, n = 16_000, 1_600
    result = spectrum(_two_sines(rate, n), rate)
    expect(
        isinstance(result, tuple) and len(result) == 2,
        f"magnitude_spectrum returned {type(result).__name__}; expected a pair.",
        "Return (frequencies, magnitudes).",
    )
    freqs, mags = _array(result[0], "frequencies"), _array(result[1], "magnitudes")
    bins = n // 2 + 1
    expect(
        len(freqs) != n,
        f"You returned {len(freqs)} frequencies for {n} samples: np.fft.fft's full spectrum, "
        "whose second half mirrors the first (negative frequencies).",
        "For a real signal use np.fft.rfft and np.fft.rfftfreq: n // 2 + 1 bins from 0 Hz.",
    )
    expect(
        freqs.shape == (bins,),
        f"frequencies have shape {freqs.shape}; for {n} samples expected ({bins},).",
        "np.fft.rfftfreq(len(signal), d=1 / sample_rate).",
    )
    expect(
        not np.isclose(freqs.max(), 0.5),
        "The frequencies go up to 0.5: cycles per sample, not Hz.",
        "Tell rfftfreq the time between samples: d = 1 / sample_rate.",
    )
    expect(
        not np.isclose(freqs.max(), n // 2),
        f"The frequencies go up to {freqs.max():g}: bin numbers, not Hz.",
        "Use np.fft.rfftfreq(len(signal), d=1 / sample_rate).",
    )
    expect(
        np.allclose(freqs, np.fft.rfftfreq(n, 1 / rate)),
        f"The frequencies run from {freqs.min():g} to {freqs.max():g}; at {rate} Hz they should "
        f"run from 0 to {rate // 2} Hz (the Nyquist frequency) in steps of {rate / n:g} Hz.",
        "np.fft.rfftfreq(len(signal), d=1 / sample_rate).",
    )
    expect(
        not np.iscomplexobj(mags),
        "The magnitudes are complex numbers.",
        "The magnitude is the absolute value of the FFT: np.abs(np.fft.rfft(signal)).",
    )
    expect(
        mags.shape == (bins,),
        f"magnitudes have shape {mags.shape}; expected ({bins},), one per frequency.",
        "np.abs(np.fft.rfft(signal)).",
    )
    peak = freqs[int(np.argmax(mags))]
    expect(
        np.isclose(peak, 440),
        f"The test signal is a 440 Hz sine plus a weaker 1000 Hz one, but your spectrum peaks "
        f"at {peak:g} Hz.",
        "Magnitudes and frequencies must come from the same signal, bin for bin.",
    )
    ratio = mags[44] / mags[100]
    expect(
        not np.isclose(ratio, 4, rtol=0.05),
        "The 440 Hz sine is twice as loud as the 1000 Hz one, but your values differ by 4×: "
        "that is power (squared magnitude).",
        "Return the magnitude np.abs(...), not its square.",
    )
    expect(
        np.isclose(ratio, 2, rtol=0.05),
        f"The 440 Hz sine is twice as loud as the 1000 Hz one, but your values differ by "
        f"{ratio:.3g}×.",
        "Return the plain magnitude np.abs(np.fft.rfft(signal)) (no dB, no log).",
    )
    passed(f"{bins} bins from 0 to {rate // 2} Hz, {rate / n:g} Hz apart; the peak is at 440 Hz")


def dominant_frequency(find: Callable[..., object]) -> None:
    """``find(signal, sample_rate, fmin, fmax)``: frequency (Hz) of the strongest bin in the band."""
    rate, n = 16_000, 3_200  # 5 Hz bins: 150 and 220 Hz fall exactly on bins
    t = np.arange(n) / rate
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 11))
    cases = [
        (buzz + 2.0, 150.0, "a 150 Hz buzz on a DC offset of 2 (0 Hz)"),
        (
            np.sin(2 * np.pi * 220 * t) + 3 * np.sin(2 * np.pi * 660 * t),
            220.0,
            "220 Hz plus a louder 660 Hz tone, above fmax=400",
        ),
    ]
    for signal, expected, described in cases:
        got = _number(find(signal, rate, 60.0, 400.0), "dominant_frequency(...)")
        if np.isclose(got, expected):
            continue
        expect(
            not np.isclose(got, 0.0),
            f"For {described} you found 0 Hz: the DC offset (the signal's mean), not a tone.",
            "Only search the bins between fmin and fmax.",
        )
        expect(
            not np.isclose(got, 660.0),
            f"For {described} you found 660 Hz, outside 60–400 Hz.",
            "Only search the bins whose frequency lies between fmin and fmax.",
        )
        expect(
            not np.isclose(got, expected * n / rate)
            and not np.isclose(got, (expected - 60) * n / rate),
            f"For {described} you returned {got:g}: a bin number, not Hz.",
            "Look the bin's frequency up in the frequencies array.",
        )
        expect(
            False,
            f"For {described} you found {got:g} Hz; the strongest bin in 60–400 Hz is "
            f"at {expected:g} Hz.",
            "argmax over the magnitudes of the bins inside the band, then that bin's frequency.",
        )
    passed("finds the strongest frequency inside the band, in Hz")


def _reference_stft_db(y: np.ndarray, n_fft: int, hop_length: int, window: str) -> np.ndarray:
    import librosa

    spectrum = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=window))
    return librosa.amplitude_to_db(spectrum, ref=np.max)


def stft_db(compute: Callable[..., object]) -> None:
    """``compute(y, n_fft, hop_length, window)``: the STFT magnitude in dB, ``(bins, frames)``."""
    import librosa

    rate = 16_000
    t = np.arange(rate) / rate
    y = (np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.01 * np.cos(2 * np.pi * 3000 * t)).astype(
        np.float32
    )
    for n_fft, hop, window in [(512, 100, "hann"), (256, 64, "boxcar")]:
        ref = _reference_stft_db(y, n_fft, hop, window)
        got = _array(compute(y, n_fft, hop, window), "the dB spectrogram")
        setting = f"n_fft={n_fft}, hop_length={hop}, window={window!r}"
        expect(
            not np.iscomplexobj(got),
            "The result is complex: the STFT itself, not its magnitude in dB.",
            "Take np.abs(...) of the STFT, then librosa.amplitude_to_db.",
        )
        expect(
            got.shape != ref.shape[::-1],
            f"With {setting} you returned shape {got.shape}: (frames, bins), transposed.",
            "librosa.stft gives (1 + n_fft // 2 frequency bins, frames): keep that order.",
        )
        expect(
            got.ndim == 2 and got.shape[0] == ref.shape[0],
            f"With {setting} you returned {got.shape[0] if got.ndim else 0} frequency bins; "
            f"n_fft={n_fft} gives {ref.shape[0]}.",
            "Pass n_fft= to librosa.stft.",
        )
        expect(
            got.shape[1] == ref.shape[1],
            f"With {setting} you returned {got.shape[1]} frames; a hop of {hop} samples over "
            f"{len(y)} samples gives {ref.shape[1]} (1 + len(y) // hop_length).",
            "Pass hop_length= to librosa.stft.",
        )
        magnitude = np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, window=window))
        for wrong, problem in [
            (magnitude, "magnitudes, not decibels"),
            (magnitude**2, "power, not decibels"),
        ]:
            expect(
                not np.allclose(got, wrong, rtol=1e-3, atol=1e-6),
                f"With {setting} you returned {problem}.",
                "Convert with librosa.amplitude_to_db(np.abs(stft), ref=np.max).",
            )
        mine = np.maximum(got - got.max(), -80.0)
        halved = librosa.power_to_db(magnitude, ref=np.max)
        expect(
            not np.allclose(mine, halved - halved.max(), atol=0.5),
            "Your dB values are half what they should be: power_to_db applied to magnitudes.",
            "Use amplitude_to_db on |STFT| (20·log10), or power_to_db on |STFT|² (10·log10).",
        )
        expect(
            np.allclose(mine, ref, atol=0.5),
            f"With {setting} your dB values differ from the STFT's (up to an offset) by up to "
            f"{np.abs(mine - ref).max():.1f} dB.",
            "Pass n_fft, hop_length and window to librosa.stft, take np.abs, then "
            "librosa.amplitude_to_db (ref=np.max puts the loudest bin at 0 dB).",
        )
    passed("dB spectrogram of shape (1 + n_fft // 2, frames), with the given n_fft, hop and window")


def stft_resolution(resolution: Callable[[int, int], tuple[object, object]]) -> None:
    """``resolution(n_fft, sample_rate) -> (window length in ms, bin spacing in Hz)``."""
    for n_fft, rate in [(400, 16_000), (2_048, 22_050), (512, 8_000)]:
        result = resolution(n_fft, rate)
        expect(
            isinstance(result, tuple) and len(result) == 2,
            f"resolution returned {type(result).__name__}; expected a pair.",
            "Return (window_ms, bin_hz).",
        )
        window_ms = _number(result[0], "window_ms")
        bin_hz = _number(result[1], "bin_hz")
        case = f"n_fft={n_fft} at {rate} Hz"
        expected_ms, expected_hz = 1000 * n_fft / rate, rate / n_fft
        expect(
            not np.isclose(window_ms, n_fft / rate),
            f"For {case} the window lasts {window_ms:g}: seconds, not milliseconds.",
            "Multiply by 1000.",
        )
        expect(
            np.isclose(window_ms, expected_ms),
            f"For {case} you say the window lasts {window_ms:g} ms.",
            "The window holds n_fft samples; a sample lasts 1 / sample_rate seconds.",
        )
        expect(
            not np.isclose(bin_hz, rate / 2 / n_fft),
            f"For {case} you say the bins are {bin_hz:.4g} Hz apart: half the true spacing.",
            "The bins only cover 0 … sample_rate / 2, in n_fft / 2 steps: "
            "(sample_rate / 2) / (n_fft / 2) apart.",
        )
        expect(
            not np.isclose(bin_hz, rate / (n_fft // 2 + 1)),
            f"For {case} you say the bins are {bin_hz:.4g} Hz apart: about twice the true spacing.",
            "There are n_fft // 2 + 1 bins, but they only cover 0 … sample_rate / 2: "
            "(sample_rate / 2) / (n_fft / 2) apart.",
        )
        expect(
            np.isclose(bin_hz, expected_hz),
            f"For {case} you say the bins are {bin_hz:.4g} Hz apart.",
            "Bins are spaced by sample_rate / (number of samples in the window).",
        )
    passed("n_fft=400 at 16 kHz: 25 ms windows, bins 40 Hz apart")


def mel_and_mfcc(compute: Callable[..., tuple[object, object]]) -> None:
    """``compute(y, sample_rate, n_fft, hop_length, n_mels, n_mfcc) -> (mel in dB, MFCC)``."""
    import librosa

    rate = 16_000
    rng = np.random.default_rng(0)
    t = np.arange(rate) / rate
    y = (0.5 * np.sin(2 * np.pi * 300 * t) * (t < 0.6) + 0.05 * rng.standard_normal(rate)).astype(
        np.float32
    )
    n_fft, hop, n_mels, n_mfcc = 400, 160, 64, 20
    result = compute(y, rate, n_fft, hop, n_mels, n_mfcc)
    expect(
        isinstance(result, tuple) and len(result) == 2,
        f"The function returned {type(result).__name__}; expected a pair (mel_db, mfcc).",
        "Return (mel_db, mfcc).",
    )
    mel_db, mfcc = _array(result[0], "mel_db"), _array(result[1], "mfcc")
    frames = 1 + len(y) // hop
    power = librosa.feature.melspectrogram(y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    ref_mel = librosa.power_to_db(power, ref=np.max)
    ref_mfcc = librosa.feature.mfcc(S=librosa.power_to_db(power), n_mfcc=n_mfcc)
    settings = f"n_mels={n_mels}, hop_length={hop} on {len(y)} samples"
    expect(
        mel_db.shape != (frames, n_mels),
        f"mel_db has shape {mel_db.shape}: (frames, mel bands), transposed.",
        "librosa's order is (mel bands, frames): keep it.",
    )
    expect(
        mel_db.shape == (n_mels, frames),
        f"mel_db has shape {mel_db.shape}; with {settings} expected ({n_mels}, {frames}).",
        "Pass n_fft, hop_length and n_mels to librosa.feature.melspectrogram.",
    )
    expect(
        not np.allclose(mel_db, power, rtol=1e-3, atol=1e-8),
        "mel_db is the mel power itself, not decibels.",
        "Convert the mel power to dB with librosa.power_to_db(mel, ref=np.max).",
    )
    mine = np.maximum(mel_db - mel_db.max(), -80.0)
    doubled = librosa.amplitude_to_db(power, ref=np.max)
    expect(
        not np.allclose(mine, doubled - doubled.max(), atol=0.5),
        "Your mel dB values are twice what they should be: amplitude_to_db applied to power.",
        "melspectrogram returns power (|STFT|²): use power_to_db.",
    )
    expect(
        np.allclose(mine, ref_mel, atol=0.5),
        f"mel_db differs from librosa's log-mel spectrogram by up to "
        f"{np.abs(mine - ref_mel).max():.1f} dB (after aligning the maxima).",
        "power_to_db(melspectrogram(y=y, sr=sample_rate, n_fft=..., hop_length=..., n_mels=...)).",
    )
    expect(
        mfcc.shape != (frames, n_mfcc),
        f"mfcc has shape {mfcc.shape}: (frames, coefficients), transposed.",
        "librosa's order is (coefficients, frames): keep it.",
    )
    expect(
        mfcc.shape == (n_mfcc, frames),
        f"mfcc has shape {mfcc.shape}; with n_mfcc={n_mfcc} expected ({n_mfcc}, {frames}).",
        "Pass n_mfcc= to librosa.feature.mfcc.",
    )
    # the 0th coefficient is the overall level, which moves with the dB reference: compare the rest
    expect(
        np.allclose(mfcc[1:], ref_mfcc[1:], atol=1e-2 * np.abs(ref_mfcc[1:]).max()),
        "mfcc differs from the DCT of the log-mel spectrogram with these settings.",
        "librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc) reuses your mel spectrogram, so both "
        "use the same n_fft, hop and mel bands.",
    )
    passed(f"mel spectrogram ({n_mels}, {frames}) in dB and MFCC ({n_mfcc}, {frames})")


def pool_over_time(pool: Callable[[object], object]) -> None:
    """``pool(features)``: mean over the last (time) axis, for one clip or a batch."""
    generator = torch.Generator().manual_seed(0)
    cases = [
        (torch.randn(40, 301, generator=generator) + 3, "an MFCC (40 coefficients, 301 frames)"),
        (torch.randn(4, 40, 150, generator=generator), "a batch of 4 MFCCs (4, 40, 150)"),
        (
            np.random.default_rng(0).standard_normal((201, 120)),
            "a numpy spectrogram (201 bins, 120 frames)",
        ),
    ]
    for features, described in cases:
        got = _array(pool(features), "the pooled features")
        data = _array(features, "features")
        expected = data.mean(axis=-1)
        names = ["the batch", "the features", "time"][-data.ndim :]
        for axis in range(data.ndim - 1):
            expect(
                got.shape != tuple(np.delete(data.shape, axis)),
                f"For {described} you returned shape {got.shape}: you averaged over axis {axis}, "
                f"{names[axis]}.",
                "Average over time, the *last* axis (axis=-1): then clips of any length give "
                "vectors of the same size.",
            )
        expect(
            got.shape == expected.shape,
            f"For {described} you returned shape {got.shape}; expected {expected.shape}.",
            "Average over the last axis (time) only.",
        )
        expect(
            not np.allclose(got, data.sum(axis=-1), rtol=1e-4),
            f"For {described} you summed over time: the values grow with the clip's length.",
            "Take the mean, not the sum.",
        )
        expect(
            np.allclose(got, expected, rtol=1e-4, atol=1e-5),
            f"For {described} your values are not the mean over time.",
            "features.mean(axis=-1) works for numpy arrays and torch tensors alike.",
        )
    passed("mean over the last axis (time): (…, bins, frames) → (…, bins)")
