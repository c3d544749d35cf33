"""Checks for notebook 02, time and frequency: spectrum, dominant frequency, STFT, resolution, mel/MFCC.

Each check calls the student's *function* on small signals whose answer is known (a 440 Hz sine, a
harmonic buzz, a chirp), at more than one setting, so that an argument that is ignored (a rate, an
``n_fft``, a window, a band) or a default left in place shows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .core import as_array, as_number, call, check, expect, fail, passed

__all__ = [
    "dominant_frequency",
    "magnitude_spectrum",
    "mel_and_mfcc",
    "pool_over_time",
    "stft_db",
    "stft_resolution",
]

LIBROSA_N_FFT, LIBROSA_HOP = 2048, 512
"""librosa's defaults for ``n_fft`` and the mel/MFCC ``hop_length`` (samples)."""


def _two_sines(rate: int, n: int) -> np.ndarray:
    """A 440 Hz sine plus a 1000 Hz one of half its amplitude, ``(n,)``."""
    t = np.arange(n) / rate
    return np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1_000 * t)


def _pair(result: object, what: str, names: str) -> tuple[object, object]:
    expect(
        isinstance(result, tuple | list) and len(result) == 2,
        f"{what} returned {type(result).__name__}; expected a pair {names}.",
        f"return two things: {names}.",
    )
    return result[0], result[1]  # type: ignore[index]


# --------------------------------------------------------------------------------------------------
# Exercise: the magnitude spectrum


@check(
    "A real signal's spectrum has n // 2 + 1 bins, from 0 Hz up to half the sample rate.",
    "numpy has an FFT made for real signals, with a companion that gives each bin's frequency; that "
    "companion needs the time between two samples, in seconds, to answer in Hz.",
    "Frequencies: the real-FFT bin frequencies for len(signal) samples spaced 1 / sample_rate "
    "seconds apart. Magnitudes: the absolute value of the real FFT of the signal (no square, no dB).",
)
def magnitude_spectrum(spectrum: Callable[[np.ndarray, int], tuple[object, object]]) -> None:
    """Check ``spectrum(signal, sample_rate) -> (frequencies in Hz, magnitudes)`` of a real signal."""
    for rate, n in [(16_000, 1_600), (8_000, 1_000)]:
        what = f"magnitude_spectrum(signal, {rate})"
        result = _pair(call(spectrum, _two_sines(rate, n), rate, what=what), what, "(freqs, mags)")
        _check_spectrum(
            as_array(result[0], "frequencies"), as_array(result[1], "magnitudes"), rate, n
        )
    passed("n // 2 + 1 bins from 0 Hz to the Nyquist frequency; the peak is at 440 Hz")


def _check_spectrum(freqs: np.ndarray, mags: np.ndarray, rate: int, n: int) -> None:
    bins = n // 2 + 1
    case = f"For {n} samples at {rate} Hz"
    expect(
        len(freqs) != n,
        f"{case} you returned {len(freqs)} frequencies, one per sample: the full FFT, whose "
        "second half mirrors the first (negative frequencies).",
        "a real signal needs only the non-negative half: use numpy's FFT for real input.",
    )
    expect(
        freqs.shape == (bins,),
        f"{case} the frequencies have shape {freqs.shape}; expected ({bins},).",
        "one frequency per bin of the real FFT of the whole signal (no fixed n=).",
    )
    expect(
        not np.isclose(freqs.max(), 0.5),
        f"{case} the frequencies go up to 0.5: cycles per sample, not Hz.",
        "tell the frequency function the time between samples (d=), in seconds.",
    )
    expect(
        not np.isclose(freqs.max(), n // 2),
        f"{case} the frequencies go up to {freqs.max():g}: bin numbers, not Hz.",
        "use numpy's bin-frequency function with the sample spacing.",
    )
    true = np.fft.rfftfreq(n, 1 / rate)
    if not np.allclose(freqs, true) and np.allclose(freqs / freqs.max(), true / true.max()):
        fail(
            f"{case} the frequencies go up to {freqs.max():g} Hz instead of {rate // 2} Hz: they "
            f"were computed for another sample rate than the {rate} Hz passed in.",
            "use the sample_rate argument, not a constant.",
        )
    expect(
        np.allclose(freqs, true),
        f"{case} the frequencies run from {freqs.min():g} to {freqs.max():g}; they should run "
        f"from 0 to {rate // 2} Hz (the Nyquist frequency) in steps of {rate / n:g} Hz.",
        "one frequency per real-FFT bin, in Hz.",
    )
    _check_magnitudes(mags, freqs, rate, n)


def _check_magnitudes(mags: np.ndarray, freqs: np.ndarray, rate: int, n: int) -> None:
    bins = n // 2 + 1
    case = f"For {n} samples at {rate} Hz"
    expect(
        not np.iscomplexobj(mags),
        f"{case} the magnitudes are complex numbers: the FFT itself.",
        "a magnitude is the absolute value of each complex FFT bin.",
    )
    expect(
        mags.shape == (bins,),
        f"{case} the magnitudes have shape {mags.shape}; expected ({bins},), one per frequency.",
        "the magnitudes come from the real FFT of the whole signal.",
    )
    peak = freqs[int(np.argmax(mags))]
    expect(
        np.isclose(peak, 440),
        f"{case} the test signal is a 440 Hz sine plus a weaker 1000 Hz one, but your spectrum "
        f"peaks at {peak:g} Hz.",
        "magnitudes and frequencies must come from the same signal, bin for bin.",
    )
    ratio = mags[round(440 * n / rate)] / mags[round(1_000 * n / rate)]
    expect(
        not np.isclose(ratio, 4, rtol=0.05),
        f"{case} the 440 Hz sine is twice as loud as the 1000 Hz one, but your values differ by "
        "4×: that is power (squared magnitude).",
        "return the magnitude, not its square.",
    )
    expect(
        np.isclose(ratio, 2, rtol=0.05),
        f"{case} the 440 Hz sine is twice as loud as the 1000 Hz one, but your values differ by "
        f"{ratio:.3g}×.",
        "return the plain magnitude: no dB, no log, no normalisation.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the dominant frequency


@check(
    "Search only the bins whose frequency lies inside the band, and answer in Hz.",
    "Build a mask of the bins between fmin and fmax (from the arguments, not from constants), find "
    "the loudest bin inside it, then look up that bin's frequency.",
    "With the frequencies and magnitudes of your magnitude_spectrum: keep the entries whose "
    "frequency is within [fmin, fmax], take the position of the largest kept magnitude, and return "
    "the kept frequency at that position as a float.",
)
def dominant_frequency(find: Callable[..., object]) -> None:
    """Check ``find(signal, sample_rate, fmin, fmax)``: frequency (Hz) of the strongest bin in the band."""
    rate, n = 16_000, 3_200  # 5 Hz bins: 150, 220 and 660 Hz fall exactly on bins
    t = np.arange(n) / rate
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 11))
    mixture = np.sin(2 * np.pi * 220 * t) + 3 * np.sin(2 * np.pi * 660 * t)
    cases = [
        (buzz + 2.0, (60.0, 400.0), 150.0, "a 150 Hz buzz on a DC offset of 2 (0 Hz)"),
        (mixture, (60.0, 400.0), 220.0, "220 Hz plus a louder 660 Hz tone, in 60–400 Hz"),
        (mixture[::-1] * 0.5, (500.0, 800.0), 660.0, "220 Hz and a louder 660 Hz, in 500–800 Hz"),
    ]
    for signal, (fmin, fmax), expected, described in cases:
        what = f"dominant_frequency(signal, {rate}, {fmin:g}, {fmax:g})"
        got = as_number(call(find, signal, rate, fmin, fmax, what=what), what)
        if np.isclose(got, expected):
            continue
        expect(
            not np.isclose(got, 0.0),
            f"For {described} you found 0 Hz: the DC offset (the signal's mean), not a tone.",
            "only search the bins between fmin and fmax.",
        )
        expect(
            not (fmin > 400 and np.isclose(got, 220.0)),
            f"For {described} you found 220 Hz, outside {fmin:g}–{fmax:g} Hz: the band is fixed in "
            "your code instead of taken from the arguments.",
            "use fmin and fmax as passed in.",
        )
        expect(
            (got >= fmin and got <= fmax) or not np.isclose(got, 660.0),
            f"For {described} you found {got:g} Hz, outside {fmin:g}–{fmax:g} Hz.",
            "only search the bins whose frequency lies between fmin and fmax.",
        )
        expect(
            not any(
                np.isclose(got, (f - offset) * n / rate)
                for f in (expected,)
                for offset in (0, fmin)
            ),
            f"For {described} you returned {got:g}: a bin number, not Hz.",
            "look the bin's frequency up in the frequencies array (inside the band, if you "
            "cut it).",
        )
        fail(
            f"For {described} you found {got:g} Hz; the strongest bin in {fmin:g}–{fmax:g} Hz is "
            f"at {expected:g} Hz.",
            "the loudest magnitude among the bins inside the band, then that bin's frequency.",
        )
    passed("finds the strongest frequency inside the band it is given, in Hz")


# --------------------------------------------------------------------------------------------------
# Exercise: the STFT in dB


def _chirp(rate: int = 16_000) -> np.ndarray:
    t = np.arange(rate) / rate
    tone = np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.01 * np.cos(2 * np.pi * 3000 * t)
    return tone.astype(np.float32)


def _stft_magnitude(y: np.ndarray, n_fft: int, hop: int, window: str) -> np.ndarray:
    import librosa

    return np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, window=window))


def _frames(n: int, n_fft: int, hop: int, center: bool = True) -> int:
    """Frames of librosa's STFT of ``n`` samples."""
    return 1 + n // hop if center else 1 + (n - n_fft) // hop


@check(
    "Three steps: the STFT with the settings passed in, its magnitude, then decibels.",
    "Pass n_fft, hop_length and window on to librosa.stft (its defaults differ), keep librosa's "
    "(frequency bins, frames) order and its default centred frames, and convert *amplitudes* to dB.",
    "librosa.stft(...) with all three settings → absolute value → librosa's amplitude-to-dB "
    "conversion with the maximum as reference, so that the loudest bin is 0 dB.",
)
def stft_db(compute: Callable[..., object]) -> None:
    """Check ``compute(y, n_fft, hop_length, window)``: the STFT magnitude in dB, ``(bins, frames)``."""
    import librosa

    y = _chirp()
    for n_fft, hop, window in [(512, 100, "hann"), (256, 64, "boxcar")]:
        magnitude = _stft_magnitude(y, n_fft, hop, window)
        ref = librosa.amplitude_to_db(magnitude, ref=np.max)
        setting = f"n_fft={n_fft}, hop_length={hop}, window={window!r}"
        what = f"stft_db(y, {n_fft}, {hop}, {window!r})"
        got = as_array(call(compute, y, n_fft, hop, window, what=what), "the dB spectrogram")
        _check_stft_shape(got, ref.shape, len(y), n_fft, hop, setting)
        for wrong, problem in [
            (magnitude, "magnitudes, not decibels"),
            (magnitude**2, "power, not decibels"),
        ]:
            expect(
                not np.allclose(got, wrong, rtol=1e-3, atol=1e-6),
                f"With {setting} you returned {problem}.",
                "convert the magnitude to decibels (librosa has a function for amplitudes).",
            )
        mine = np.maximum(got - got.max(), -80.0)
        halved = librosa.power_to_db(magnitude, ref=np.max)
        expect(
            not np.allclose(mine, halved - halved.max(), atol=0.5),
            f"With {setting} your dB values are half what they should be: a power-to-dB conversion "
            "(10·log10) applied to magnitudes.",
            "magnitudes need the amplitude conversion (20·log10).",
        )
        if window != "hann":
            other = librosa.amplitude_to_db(_stft_magnitude(y, n_fft, hop, "hann"), ref=np.max)
            expect(
                not np.allclose(mine, other, atol=0.5),
                f"With {setting} you computed a Hann-windowed STFT: the window argument is not used.",
                "pass window= on to librosa.stft.",
            )
        expect(
            np.allclose(mine, ref, atol=0.5),
            f"With {setting} your dB values differ from the STFT's (up to an offset) by up to "
            f"{np.abs(mine - ref).max():.1f} dB.",
            "the STFT with exactly these settings, its absolute value, then amplitude to dB.",
        )
    passed("dB spectrogram (1 + n_fft // 2, frames) with the given n_fft, hop and window")


def _check_stft_shape(
    got: np.ndarray, shape: tuple[int, ...], n: int, n_fft: int, hop: int, setting: str
) -> None:
    expect(
        not np.iscomplexobj(got),
        f"With {setting} the result is complex: the STFT itself, not its magnitude in dB.",
        "take the absolute value of the STFT, then convert it to dB.",
    )
    expect(
        got.shape != shape[::-1],
        f"With {setting} you returned shape {got.shape}: (frames, bins), transposed.",
        "librosa.stft gives (1 + n_fft // 2 frequency bins, frames): keep that order.",
    )
    bins, frames = shape
    expect(
        got.ndim == 2,
        f"With {setting} you returned an array with {got.ndim} axes; expected (bins, frames).",
        "return the 2-D dB spectrogram of the 1-D signal.",
    )
    if got.shape[0] != bins:
        default = got.shape[0] == 1 + LIBROSA_N_FFT // 2
        fail(
            f"With {setting} you returned {got.shape[0]} frequency bins; n_fft={n_fft} gives {bins}"
            + (
                f": {got.shape[0]} is what librosa's default n_fft ({LIBROSA_N_FFT}) gives."
                if default
                else "."
            ),
            "pass n_fft= on to librosa.stft.",
        )
    if got.shape[1] != frames:
        if got.shape[1] == _frames(n, n_fft, hop, center=False):
            fail(
                f"With {setting} you returned {got.shape[1]} frames; expected {frames}: without "
                "centring (center=False) the first frame starts at sample 0 and the last ends "
                "inside the signal.",
                "keep librosa's default centred frames (frame k is centred on sample k × hop).",
            )
        if got.shape[1] == _frames(n, n_fft, n_fft // 4):
            fail(
                f"With {setting} you returned {got.shape[1]} frames; expected {frames}: that is the "
                f"frame count of librosa's default hop (n_fft // 4 = {n_fft // 4} samples).",
                "pass hop_length= on to librosa.stft.",
            )
        fail(
            f"With {setting} you returned {got.shape[1]} frames; a hop of {hop} samples over {n} "
            f"centred samples gives {frames} (1 + len(y) // hop_length).",
            "the number of frames depends on hop_length and on centring: check both.",
        )


# --------------------------------------------------------------------------------------------------
# Exercise: time and frequency resolution


@check(
    "The window lasts n_fft samples; the bins share the band from 0 Hz to the sample rate.",
    "A sample lasts 1 / sample_rate seconds (then convert to milliseconds); the FFT of n_fft "
    "samples splits the sample rate into n_fft equal steps (only those up to Nyquist are kept).",
    "Window length in ms: n_fft samples times the length of one sample, times 1000. Bin spacing: "
    "the sample rate divided into as many steps as there are samples in the window.",
)
def stft_resolution(resolution: Callable[[int, int], tuple[object, object]]) -> None:
    """Check ``resolution(n_fft, sample_rate) -> (window length in ms, bin spacing in Hz)``."""
    for n_fft, rate in [(400, 16_000), (2_048, 22_050), (512, 8_000)]:
        what = f"resolution({n_fft}, {rate})"
        result = _pair(call(resolution, n_fft, rate, what=what), what, "(window_ms, bin_hz)")
        window_ms = as_number(result[0], "window_ms")
        bin_hz = as_number(result[1], "bin_hz")
        case = f"n_fft={n_fft} at {rate} Hz"
        expected_ms, expected_hz = 1000 * n_fft / rate, rate / n_fft
        expect(
            not np.isclose(window_ms, n_fft / rate),
            f"For {case} the window lasts {window_ms:g}: seconds, not milliseconds.",
            "there are 1000 ms in a second.",
        )
        expect(
            not np.isclose(window_ms, 1000 * rate / n_fft),
            f"For {case} you say the window lasts {window_ms:g} ms: rate ÷ n_fft, upside down.",
            "time = number of samples × duration of one sample.",
        )
        expect(
            np.isclose(window_ms, expected_ms),
            f"For {case} you say the window lasts {window_ms:g} ms.",
            "the window holds n_fft samples; a sample lasts 1 / sample_rate seconds.",
        )
        expect(
            not np.isclose(bin_hz, rate / 2 / n_fft),
            f"For {case} you say the bins are {bin_hz:.4g} Hz apart: half the true spacing.",
            "the kept bins cover 0 … sample_rate / 2 in n_fft / 2 steps.",
        )
        expect(
            not np.isclose(bin_hz, rate / (n_fft // 2 + 1)),
            f"For {case} you say the bins are {bin_hz:.4g} Hz apart: about twice the true spacing.",
            "there are n_fft // 2 + 1 bins, but they cover only 0 … sample_rate / 2.",
        )
        expect(
            np.isclose(bin_hz, expected_hz),
            f"For {case} you say the bins are {bin_hz:.4g} Hz apart.",
            "the FFT splits the sample rate into as many steps as the window has samples.",
        )
    passed("n_fft=400 at 16 kHz: 25 ms windows, bins 40 Hz apart")


# --------------------------------------------------------------------------------------------------
# Exercise: mel spectrogram and MFCC


def _test_speech(rate: int = 16_000) -> np.ndarray:
    rng = np.random.default_rng(0)
    t = np.arange(rate) / rate
    voiced = 0.5 * np.sin(2 * np.pi * 300 * t) * (t < 0.6)
    return (voiced + 0.05 * rng.standard_normal(rate)).astype(np.float32)


@check(
    "Mel first (power, then dB), then the MFCC of *that* log-mel spectrogram, with every setting "
    "passed in.",
    "librosa's mel spectrogram returns power: it needs the power-to-dB conversion. Its defaults "
    "(hop 512, 128 mel bands, 20 coefficients) differ from the check's: pass every argument on. "
    "Both outputs keep librosa's order (bands or coefficients, frames).",
    "Mel power with the sample rate, n_fft, hop_length and n_mels → power to dB with the maximum as "
    "reference → the MFCC function given that dB spectrogram (S=) and n_mfcc, so both outputs share "
    "one framing.",
)
def mel_and_mfcc(compute: Callable[..., tuple[object, object]]) -> None:
    """Check ``compute(y, sample_rate, n_fft, hop_length, n_mels, n_mfcc) -> (mel in dB, MFCC)``.

    The check's settings (hop 160, 64 bands, 13 coefficients) all differ from librosa's defaults, so
    an argument that is not passed on shows.
    """
    import librosa

    rate, n_fft, hop, n_mels, n_mfcc = 16_000, 400, 160, 64, 13
    y = _test_speech(rate)
    what = f"mel_and_mfcc(y, {rate}, {n_fft}, {hop}, {n_mels}, {n_mfcc})"
    result = call(compute, y, rate, n_fft, hop, n_mels, n_mfcc, what=what)
    mel_db, mfcc = (
        as_array(v, n) for v, n in zip(_pair(result, what, "(mel_db, mfcc)"), ("mel_db", "mfcc"))
    )
    power = librosa.feature.melspectrogram(y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    frames = power.shape[1]
    _check_mel(mel_db, power, len(y), n_fft, hop, n_mels)
    _check_mfcc(mfcc, mel_db, power, n_mfcc, frames)
    passed(f"mel spectrogram ({n_mels}, {frames}) in dB and MFCC ({n_mfcc}, {frames})")


def _check_mel(
    mel_db: np.ndarray, power: np.ndarray, n: int, n_fft: int, hop: int, n_mels: int
) -> None:
    import librosa

    frames = power.shape[1]
    setting = f"n_mels={n_mels}, hop_length={hop} on {n} samples"
    expect(
        mel_db.shape != (frames, n_mels),
        f"mel_db has shape {mel_db.shape}: (frames, mel bands), transposed.",
        "librosa's order is (mel bands, frames): keep it.",
    )
    expect(
        mel_db.ndim == 2 and mel_db.shape[0] == n_mels,
        f"mel_db has {mel_db.shape[0] if mel_db.ndim else 0} mel bands; the check asked for {n_mels}"
        + (" (128 is librosa's default)." if mel_db.ndim and mel_db.shape[0] == 128 else "."),
        "pass n_mels= on to the mel spectrogram.",
    )
    if mel_db.shape[1] != frames:
        if mel_db.shape[1] == _frames(n, n_fft, LIBROSA_HOP):
            problem, where = (
                f"the frame count of librosa's default hop ({LIBROSA_HOP})",
                "pass hop_length= on.",
            )
        elif mel_db.shape[1] == _frames(n, n_fft, hop, center=False):
            problem, where = (
                "frames without centring (center=False)",
                "keep librosa's default centred frames.",
            )
        else:
            problem, where = "", "the frame count depends on hop_length (and on centring)."
        fail(
            f"mel_db has {mel_db.shape[1]} frames; with {setting} expected {frames}"
            + (f": {problem}." if problem else "."),
            where,
        )
    expect(
        not np.allclose(mel_db, power, rtol=1e-3, atol=1e-8),
        "mel_db is the mel power itself, not decibels.",
        "convert the mel power to dB.",
    )
    mine = np.maximum(mel_db - mel_db.max(), -80.0)
    doubled = librosa.amplitude_to_db(power, ref=np.max)
    expect(
        not np.allclose(mine, doubled - doubled.max(), atol=0.5),
        "Your mel dB values are twice what they should be: an amplitude-to-dB conversion (20·log10) "
        "applied to power.",
        "the mel spectrogram is power (|STFT|²): it needs the power conversion (10·log10).",
    )
    ref = librosa.power_to_db(power, ref=np.max)
    expect(
        np.allclose(mine, ref, atol=0.5),
        f"mel_db differs from librosa's log-mel spectrogram by up to {np.abs(mine - ref).max():.1f} "
        "dB (after aligning the maxima).",
        "the mel power with the sample rate, n_fft, hop_length and n_mels passed in, then to dB.",
    )


def _check_mfcc(
    mfcc: np.ndarray, mel_db: np.ndarray, power: np.ndarray, n_mfcc: int, frames: int
) -> None:
    import librosa

    expect(
        mfcc.shape != (frames, n_mfcc),
        f"mfcc has shape {mfcc.shape}: (frames, coefficients), transposed.",
        "librosa's order is (coefficients, frames): keep it.",
    )
    expect(
        mfcc.ndim == 2,
        f"mfcc has {mfcc.ndim} axes; expected (coefficients, frames).",
        "return the 2-D MFCC array.",
    )
    expect(
        mfcc.shape[0] == n_mfcc,
        f"mfcc has {mfcc.shape[0]} coefficients; the check asked for {n_mfcc}"
        + (" (20 is librosa's default)." if mfcc.shape[0] == 20 else "."),
        "pass n_mfcc= on to the MFCC function.",
    )
    expect(
        mfcc.shape[1] == frames,
        f"mfcc has {mfcc.shape[1]} frames but your mel spectrogram has {frames}: they were framed "
        "differently (the MFCC computed from the waveform with librosa's default n_fft and hop?).",
        "compute the MFCC from your log-mel spectrogram (S=), so both share one framing.",
    )
    # the 0th coefficient is the overall level, which moves with the dB reference: compare the rest
    ref = librosa.feature.mfcc(S=librosa.power_to_db(power), n_mfcc=n_mfcc)
    tolerance = 1e-2 * np.abs(ref[1:]).max()
    of_power = librosa.feature.mfcc(S=power, n_mfcc=n_mfcc)
    expect(
        not np.allclose(mfcc[1:], of_power[1:], atol=tolerance),
        "mfcc is the cosine transform of the mel *power*: MFCCs are computed from the log (dB) "
        "mel spectrogram.",
        "give the MFCC function your dB spectrogram, not the power.",
    )
    expect(
        np.allclose(mfcc[1:], ref[1:], atol=tolerance),
        "mfcc differs from the cosine transform of the log-mel spectrogram with these settings.",
        "compute the MFCC from your own mel_db (S=) with n_mfcc.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: pooling over time


@check(
    "Pooling over time turns (…, bins, frames) into (…, bins): one average per bin.",
    "Time is the *last* axis, whatever comes before it (one clip or a batch). Average, do not add: "
    "a sum grows with the clip's length.",
    "Take the mean along the last axis only (axis -1), without keeping that axis; it works the same "
    "for numpy arrays and torch tensors.",
)
def pool_over_time(pool: Callable[[object], object]) -> None:
    """Check ``pool(features)``: mean over the last (time) axis, for one clip or a batch."""
    generator = torch.Generator().manual_seed(0)
    cases = [
        (torch.randn(40, 301, generator=generator) + 3, "an MFCC (40 coefficients, 301 frames)"),
        (torch.randn(4, 40, 150, generator=generator), "a batch of 4 MFCCs (4, 40, 150)"),
        (
            np.random.default_rng(0).standard_normal((201, 120)) + 1,
            "a numpy spectrogram (201 bins, 120 frames)",
        ),
    ]
    for features, described in cases:
        data = as_array(features, "features").copy()
        got = as_array(
            call(pool, features, what=f"pool_over_time({described})"), "the pooled features"
        )
        _check_pooled(got, data, described)
    passed("mean over the last axis (time): (…, bins, frames) → (…, bins)")


def _check_pooled(got: np.ndarray, data: np.ndarray, described: str) -> None:
    expected = data.mean(axis=-1)
    names = ["the batch", "the features", "time"][-data.ndim :]
    expect(
        got.ndim > 0,
        f"For {described} you returned one number: the mean over every axis.",
        "average over time only: one value per bin remains.",
    )
    expect(
        got.shape != (*expected.shape, 1),
        f"For {described} you returned shape {got.shape}: the time axis is kept with length 1.",
        "drop the averaged axis (no keepdims).",
    )
    for axis in range(data.ndim - 1):
        expect(
            got.shape != tuple(np.delete(data.shape, axis)),
            f"For {described} you returned shape {got.shape}: you averaged over axis {axis}, "
            f"{names[axis]}.",
            "average over time, the *last* axis: then clips of any length give vectors of the "
            "same size.",
        )
    expect(
        got.shape == expected.shape,
        f"For {described} you returned shape {got.shape}; expected {expected.shape}.",
        "average over the last axis (time) only.",
    )
    expect(
        not np.allclose(got, data.sum(axis=-1), rtol=1e-4),
        f"For {described} you summed over time: the values grow with the clip's length.",
        "take the mean, not the sum.",
    )
    expect(
        np.allclose(got, expected, rtol=1e-4, atol=1e-5),
        f"For {described} your values are not the mean over time (a maximum? a median?).",
        "the arithmetic mean along the last axis.",
    )
