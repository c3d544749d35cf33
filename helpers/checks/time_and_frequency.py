"""Checks for notebook 02, time and frequency: spectrum, dominant frequency, STFT, resolution, mel/MFCC.

Each check calls the student's *function* on small signals whose answer is known (a 440 Hz sine, a
harmonic buzz, a chirp), at more than one setting, so that an argument that is ignored (a rate, an
``n_fft``, a window, a band) or a default left in place shows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import core
from .core import Mistake, Observed, as_array, as_number, call, exercise, returns_pair

__all__ = ["dominant_frequency", "magnitude_spectrum", "mel_and_mfcc", "pool_over_time", "stft_db", "stft_resolution"]  # fmt: skip


def _frames(n: int, n_fft: int, hop: int, center: bool = True) -> int:
    """Frames of librosa's STFT of ``n`` samples."""
    return 1 + n // hop if center else 1 + (n - n_fft) // hop


def _close_db(got: np.ndarray, reference: np.ndarray) -> bool:
    """True when two dB arrays agree within 0.5 dB once their maxima are aligned (80-dB floor)."""
    return bool(
        np.allclose(np.maximum(got - got.max(), -80), reference - reference.max(), atol=0.5)
    )


# Exercise: the magnitude spectrum

# fmt: off
FREQUENCIES = [
    Mistake(lambda o: o.freqs.shape == (o.n,),
            "{case} you returned {n} frequencies, one per sample: the full FFT, whose second half mirrors the first (negative frequencies). A real signal needs only the non-negative half."),
    Mistake(lambda o: o.freqs.shape != (o.bins,),
            "{case} the frequencies have shape {freqs.shape}; expected ({bins},), one per bin of the real FFT of the whole signal (no fixed n=)."),
    Mistake(lambda o: np.isclose(o.freqs.max(), 0.5),
            "{case} the frequencies go up to 0.5: cycles per sample, not Hz. Tell the frequency function the time between samples (d=), in seconds."),
    Mistake(lambda o: np.isclose(o.freqs.max(), o.n // 2),
            "{case} the frequencies go up to {n2}: bin numbers, not Hz. Use numpy's bin-frequency function with the sample spacing."),
    Mistake(lambda o: not np.allclose(o.freqs, o.true) and np.allclose(o.freqs / o.freqs.max(), o.true / o.true.max()),
            "{case} the frequencies stop at another frequency than {nyquist} Hz: they were computed for another sample rate than the {rate} Hz passed in. Use the sample_rate argument, not a constant."),
    Mistake(lambda o: not np.allclose(o.freqs, o.true),
            "{case} the frequencies should run from 0 to {nyquist} Hz (the Nyquist frequency), one per real-FFT bin, in Hz."),
]
# fmt: off
MAGNITUDES = [
    Mistake(lambda o: np.iscomplexobj(o.mags),
            "{case} the magnitudes are complex numbers: the FFT itself. A magnitude is the absolute value of each complex bin."),
    Mistake(lambda o: o.mags.shape != (o.bins,),
            "{case} the magnitudes have shape {mags.shape}; expected ({bins},), one per frequency, from the real FFT of the whole signal."),
    Mistake(lambda o: not np.isclose(o.freqs[np.argmax(o.mags)], 440),
            "{case} the test signal is a 440 Hz sine plus a weaker 1000 Hz one, but your spectrum does not peak at 440 Hz: magnitudes and frequencies must come from the same signal, bin for bin."),
    Mistake(lambda o: np.isclose(_ratio(o), 4, rtol=0.05),
            "{case} the 440 Hz sine is twice as loud as the 1000 Hz one, but your values differ by 4×: that is power (squared magnitude), not the magnitude."),
    Mistake(lambda o: not np.isclose(_ratio(o), 2, rtol=0.05),
            "{case} the 440 Hz sine is twice as loud as the 1000 Hz one, but your values do not differ by 2×: return the plain magnitude, no dB, no log, no normalisation."),
]
# fmt: on
# fmt: on


def _ratio(o: Observed) -> float:
    return float(o.mags[round(440 * o.n / o.rate)] / o.mags[round(1_000 * o.n / o.rate)])


@exercise(
    "A real signal's spectrum has n // 2 + 1 bins, from 0 Hz up to half the sample rate.",
    "numpy has an FFT made for real signals, with a companion that gives each bin's frequency; that companion needs the time between two samples, in seconds, to answer in Hz.",
    "Frequencies: the real-FFT bin frequencies for len(signal) samples spaced 1 / sample_rate seconds apart. Magnitudes: the absolute value of the real FFT of the signal (no square, no dB).",
)
def magnitude_spectrum(spectrum: Callable[[np.ndarray, int], tuple[object, object]]) -> None:
    """Check ``spectrum(signal, sample_rate) -> (frequencies in Hz, magnitudes)``.

    Requires, for 1600 samples at 16 kHz and 1000 at 8 kHz: ``n // 2 + 1`` frequencies from 0 Hz to
    Nyquist in Hz (the rate passed in), and the plain magnitude of each bin (not complex, power or
    dB) of the same signal.
    """
    for rate, n in [(16_000, 1_600), (8_000, 1_000)]:
        t = np.arange(n) / rate
        signal = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1_000 * t)
        what = f"magnitude_spectrum(signal, {rate})"
        freqs, mags = returns_pair(call(spectrum, signal, rate, what=what), what, "(freqs, mags)")
        seen = Observed(freqs=as_array(freqs, "frequencies"), mags=as_array(mags, "magnitudes"))
        seen.update(rate=rate, n=n, n2=n // 2, bins=n // 2 + 1, nyquist=rate // 2)
        seen.update(true=np.fft.rfftfreq(n, 1 / rate), case=f"For {n} samples at {rate} Hz")
        core.verdict(seen, FREQUENCIES)
        core.verdict(seen, MAGNITUDES)
    core.passed("n // 2 + 1 bins from 0 Hz to the Nyquist frequency; the peak is at 440 Hz")


# Exercise: the dominant frequency

# fmt: off
DOMINANT = [
    Mistake(lambda o: np.isclose(o.got, 0.0),
            "For {case} you found 0 Hz: the DC offset (the signal's mean), not a tone. Only search the bins between fmin and fmax."),
    Mistake(lambda o: o.fmin > 400 and np.isclose(o.got, 220.0),
            "For {case} you found 220 Hz, outside {fmin:g}–{fmax:g} Hz: the band is fixed in your code instead of taken from the arguments."),
    Mistake(lambda o: not o.fmin <= o.got <= o.fmax and np.isclose(o.got, 660.0),
            "For {case} you found {got:g} Hz, outside {fmin:g}–{fmax:g} Hz: only search the bins whose frequency lies between fmin and fmax."),
    Mistake(lambda o: any(np.isclose(o.got, (o.expected - f) * o.n / o.rate) for f in (0, o.fmin)),
            "For {case} you returned {got:g}: a bin number, not Hz. Look the bin's frequency up in the frequencies array (inside the band, if you cut it)."),
    Mistake(lambda o: True,
            "For {case} you found {got:g} Hz; the strongest bin in {fmin:g}–{fmax:g} Hz is at {expected:g} Hz."),
]
# fmt: on


@exercise(
    "Search only the bins whose frequency lies inside the band, and answer in Hz.",
    "Build a mask of the bins between fmin and fmax (from the arguments, not from constants), find the loudest bin inside it, then look up that bin's frequency.",
    "With the frequencies and magnitudes of your magnitude_spectrum: keep the entries whose frequency is within [fmin, fmax], take the position of the largest kept magnitude, and return the kept frequency at that position as a float.",
)
def dominant_frequency(find: Callable[..., object]) -> None:
    """Check ``find(signal, sample_rate, fmin, fmax)``.

    Requires: one number, the frequency in Hz of the strongest bin whose frequency lies in
    [fmin, fmax] (the arguments), for a buzz on a DC offset and tones outside the band.
    """
    rate, n = 16_000, 3_200  # 5 Hz bins: 150, 220 and 660 Hz fall exactly on bins
    t = np.arange(n) / rate
    buzz = sum(np.sin(2 * np.pi * 150 * k * t) / k for k in range(1, 11))
    mixture = np.sin(2 * np.pi * 220 * t) + 3 * np.sin(2 * np.pi * 660 * t)
    for signal, fmin, fmax, expected, case in [
        (buzz + 2.0, 60.0, 400.0, 150.0, "a 150 Hz buzz on a DC offset of 2 (0 Hz)"),
        (mixture, 60.0, 400.0, 220.0, "220 Hz plus a louder 660 Hz tone, in 60–400 Hz"),
        (mixture[::-1] * 0.5, 500.0, 800.0, 660.0, "220 Hz and a louder 660 Hz, in 500–800 Hz"),
    ]:
        what = f"dominant_frequency(signal, {rate}, {fmin:g}, {fmax:g})"
        got = as_number(call(find, signal, rate, fmin, fmax, what=what), what)
        if not np.isclose(got, expected):
            seen = Observed(got=got, expected=expected, fmin=fmin, fmax=fmax, n=n, rate=rate)
            core.verdict(Observed(seen, case=case), DOMINANT)
    core.passed("finds the strongest frequency inside the band it is given, in Hz")


# Exercise: the STFT in dB

# fmt: off
STFT_SHAPE = [
    Mistake(lambda o: np.iscomplexobj(o.got),
            "With {setting} the result is complex: the STFT itself, not its magnitude in dB."),
    Mistake(lambda o: o.got.shape == o.shape[::-1],
            "With {setting} you returned shape {got.shape}: (frames, bins), transposed. librosa.stft gives (1 + n_fft // 2 frequency bins, frames): keep that order."),
    Mistake(lambda o: o.got.ndim != 2,
            "With {setting} you returned an array with {got.ndim} axes; expected the 2-D (bins, frames) dB spectrogram of the 1-D signal."),
    Mistake(lambda o: o.got.shape[0] == 1025 != o.shape[0],
            "With {setting} you returned {got.shape[0]} frequency bins, what librosa's default n_fft (2048) gives; n_fft={n_fft} gives {shape[0]}: pass n_fft= on to librosa.stft."),
    Mistake(lambda o: o.got.shape[0] != o.shape[0],
            "With {setting} you returned {got.shape[0]} frequency bins; n_fft={n_fft} gives {shape[0]}: pass n_fft= on to librosa.stft."),
    Mistake(lambda o: o.got.shape[1] == _frames(o.n, o.n_fft, o.hop, center=False) != o.shape[1],
            "With {setting} you returned {got.shape[1]} frames; expected {shape[1]}: without centring (center=False) the first frame starts at sample 0 and the last ends inside the signal. Keep librosa's default centred frames."),
    Mistake(lambda o: o.got.shape[1] == _frames(o.n, o.n_fft, o.n_fft // 4) != o.shape[1],
            "With {setting} you returned {got.shape[1]} frames; expected {shape[1]}: that is the frame count of librosa's default hop (n_fft // 4). Pass hop_length= on to librosa.stft."),
    Mistake(lambda o: o.got.shape[1] != o.shape[1],
            "With {setting} you returned {got.shape[1]} frames; a hop of {hop} samples over {n} centred samples gives {shape[1]} (1 + len(y) // hop_length): the number of frames depends on hop_length and on centring."),
]
# fmt: off
STFT_VALUES = [
    Mistake(lambda o: np.allclose(o.got, o.magnitude, rtol=1e-3, atol=1e-6),
            "With {setting} you returned magnitudes, not decibels: convert them to dB (librosa has a function for amplitudes)."),
    Mistake(lambda o: np.allclose(o.got, o.magnitude**2, rtol=1e-3, atol=1e-6),
            "With {setting} you returned power, not decibels: convert the magnitude to dB (librosa has a function for amplitudes)."),
    Mistake(lambda o: _close_db(o.got, o.halved),
            "With {setting} your dB values are half what they should be: a power-to-dB conversion (10·log10) applied to magnitudes, which need the amplitude conversion (20·log10)."),
    Mistake(lambda o: o.window != "hann" and _close_db(o.got, o.hann),
            "With {setting} you computed a Hann-windowed STFT: the window argument is not used."),
    Mistake(lambda o: abs(o.got.max()) > 0.5,
            "With {setting} the loudest bin is at {top:.1f} dB: 0 dB must be the loudest bin (the docstring asks for it), so the dB reference is the spectrogram's own maximum, not 1.0."),
    Mistake(lambda o: not _close_db(o.got, o.reference),
            "With {setting} your dB values differ from those of the STFT with exactly these settings, its absolute value, then amplitude to dB."),
]
# fmt: on
# fmt: on


@exercise(
    "Three steps: the STFT with the settings passed in, its magnitude, then decibels.",
    "Pass n_fft, hop_length and window on to librosa.stft (its defaults differ), keep librosa's (frequency bins, frames) order and its default centred frames, and convert *amplitudes* to dB.",
    "librosa.stft(...) with all three settings → absolute value → librosa's amplitude-to-dB conversion with the maximum as reference, so that the loudest bin is 0 dB.",
)
def stft_db(compute: Callable[..., object]) -> None:
    """Check ``compute(y, n_fft, hop_length, window)``: the STFT magnitude in dB.

    Requires, for a chirp with (512, 100, "hann") and (256, 64, "boxcar"): shape
    ``(1 + n_fft // 2, 1 + len(y) // hop_length)`` (centred frames), ``20·log10`` of the magnitude
    of the STFT with exactly these settings, with 0 dB at the loudest bin; a floor (or none) below
    the top 80 dB is fine.
    """
    import librosa

    t = np.arange(16_000) / 16_000
    y = (np.sin(2 * np.pi * (200 + 1500 * t) * t) + 0.01 * np.cos(2 * np.pi * 3000 * t)).astype(
        np.float32
    )

    def magnitude(n_fft: int, hop: int, window: str) -> np.ndarray:
        return np.abs(librosa.stft(y, n_fft=n_fft, hop_length=hop, window=window))

    for n_fft, hop, window in [(512, 100, "hann"), (256, 64, "boxcar")]:
        what = f"stft_db(y, {n_fft}, {hop}, {window!r})"
        got = as_array(call(compute, y, n_fft, hop, window, what=what), "the dB spectrogram")
        seen = Observed(got=got, magnitude=magnitude(n_fft, hop, window), n=len(y), hop=hop)
        seen.update(n_fft=n_fft, window=window, top=got.max() if got.size else 0.0)
        seen.setting = f"n_fft={n_fft}, hop_length={hop}, window={window!r}"
        seen.reference = librosa.amplitude_to_db(seen.magnitude, ref=np.max)
        seen.update(shape=seen.reference.shape, halved=librosa.power_to_db(seen.magnitude))
        seen.hann = librosa.amplitude_to_db(magnitude(n_fft, hop, "hann"))
        core.verdict(seen, STFT_SHAPE)
        core.verdict(seen, STFT_VALUES)
    core.passed(
        "dB spectrogram (1 + n_fft // 2, frames), 0 dB at the loudest bin, with the given settings"
    )


# Exercise: time and frequency resolution

# fmt: off
RESOLUTION = [
    Mistake(lambda o: np.isclose(o.ms, o.n_fft / o.rate),
            "For {case} the window lasts {ms:g}: seconds, not milliseconds (there are 1000 ms in a second)."),
    Mistake(lambda o: np.isclose(o.ms, 1000 * o.rate / o.n_fft),
            "For {case} you say the window lasts {ms:g} ms: rate ÷ n_fft, upside down. Time = number of samples × duration of one sample."),
    Mistake(lambda o: not np.isclose(o.ms, 1000 * o.n_fft / o.rate),
            "For {case} you say the window lasts {ms:g} ms: the window holds n_fft samples; a sample lasts 1 / sample_rate seconds."),
    Mistake(lambda o: np.isclose(o.hz, o.rate / 2 / o.n_fft),
            "For {case} you say the bins are {hz:.4g} Hz apart: half the true spacing. The kept bins cover 0 … sample_rate / 2 in n_fft / 2 steps."),
    Mistake(lambda o: np.isclose(o.hz, o.rate / (o.n_fft // 2 + 1)),
            "For {case} you say the bins are {hz:.4g} Hz apart: about twice the true spacing. There are n_fft // 2 + 1 bins, but they cover only 0 … sample_rate / 2."),
    Mistake(lambda o: not np.isclose(o.hz, o.rate / o.n_fft),
            "For {case} you say the bins are {hz:.4g} Hz apart: the FFT splits the sample rate into as many steps as the window has samples."),
]
# fmt: on


@exercise(
    "The window lasts n_fft samples; the bins share the band from 0 Hz to the sample rate.",
    "A sample lasts 1 / sample_rate seconds (then convert to milliseconds); the FFT of n_fft samples splits the sample rate into n_fft equal steps (only those up to Nyquist are kept).",
    "Window length in ms: n_fft samples times the length of one sample, times 1000. Bin spacing: the sample rate divided into as many steps as there are samples in the window.",
)
def stft_resolution(resolution: Callable[[int, int], tuple[object, object]]) -> None:
    """Check ``resolution(n_fft, sample_rate) -> (window length in ms, bin spacing in Hz)``.

    Requires, for three (n_fft, rate) pairs: a pair of numbers, ``1000 · n_fft / rate`` ms and
    ``rate / n_fft`` Hz.
    """
    for n_fft, rate in [(400, 16_000), (2_048, 22_050), (512, 8_000)]:
        what = f"resolution({n_fft}, {rate})"
        ms, hz = returns_pair(call(resolution, n_fft, rate, what=what), what, "(window_ms, bin_hz)")
        seen = Observed(ms=as_number(ms, "window_ms"), hz=as_number(hz, "bin_hz"), rate=rate)
        core.verdict(Observed(seen, n_fft=n_fft, case=f"n_fft={n_fft} at {rate} Hz"), RESOLUTION)
    core.passed("n_fft=400 at 16 kHz: 25 ms windows, bins 40 Hz apart")


# Exercise: mel spectrogram and MFCC

# fmt: off
MEL = [
    Mistake(lambda o: o.mel.shape == (o.frames, o.n_mels),
            "mel_db has shape {mel.shape}: (frames, mel bands), transposed. librosa's order is (mel bands, frames): keep it."),
    Mistake(lambda o: o.mel.shape[:1] == (128,),
            "mel_db has 128 mel bands, librosa's default; the check asked for {n_mels}: pass n_mels= on to the mel spectrogram."),
    Mistake(lambda o: o.mel.ndim != 2 or o.mel.shape[0] != o.n_mels,
            "mel_db has shape {mel.shape}; the check asked for {n_mels} mel bands: pass n_mels= on to the mel spectrogram."),
    Mistake(lambda o: o.mel.shape[1] == _frames(o.n, o.n_fft, 512) != o.frames,
            "mel_db has {mel.shape[1]} frames; expected {frames}: the frame count of librosa's default hop (512). Pass hop_length= on."),
    Mistake(lambda o: o.mel.shape[1] == _frames(o.n, o.n_fft, o.hop, center=False) != o.frames,
            "mel_db has {mel.shape[1]} frames; expected {frames}: frames without centring (center=False). Keep librosa's default centred frames."),
    Mistake(lambda o: o.mel.shape[1] != o.frames,
            "mel_db has {mel.shape[1]} frames; with hop_length={hop} expected {frames}: the frame count depends on hop_length (and on centring)."),
    Mistake(lambda o: np.allclose(o.mel, o.power, rtol=1e-3, atol=1e-8),
            "mel_db is the mel power itself, not decibels: convert the mel power to dB."),
    Mistake(lambda o: _close_db(o.mel, o.doubled),
            "Your mel dB values are twice what they should be: an amplitude-to-dB conversion (20·log10) applied to power. The mel spectrogram is power (|STFT|²): it needs the power conversion (10·log10)."),
    Mistake(lambda o: not _close_db(o.mel, o.log_mel),
            "mel_db differs from librosa's log-mel spectrogram (after aligning the maxima): the mel power with the sample rate, n_fft, hop_length and n_mels passed in, then to dB."),
]
# fmt: off
MFCC = [
    Mistake(lambda o: o.mfcc.shape == (o.frames, o.n_mfcc),
            "mfcc has shape {mfcc.shape}: (frames, coefficients), transposed. librosa's order is (coefficients, frames): keep it."),
    Mistake(lambda o: o.mfcc.ndim != 2,
            "mfcc has {mfcc.ndim} axes; expected the 2-D (coefficients, frames) array."),
    Mistake(lambda o: o.mfcc.shape[0] != o.n_mfcc,
            "mfcc has {mfcc.shape[0]} coefficients; the check asked for {n_mfcc} (librosa's default is 20): pass n_mfcc= on to the MFCC function."),
    Mistake(lambda o: o.mfcc.shape[1] != o.frames,
            "mfcc has {mfcc.shape[1]} frames but your mel spectrogram has {frames}: they were framed differently (the MFCC computed from the waveform with librosa's default n_fft and hop?). Compute it from your log-mel spectrogram (S=)."),
    Mistake(lambda o: np.allclose(o.mfcc[1:], o.of_power[1:], atol=o.tolerance),
            "mfcc is the cosine transform of the mel *power*: MFCCs are computed from the log (dB) mel spectrogram."),
    Mistake(lambda o: not np.allclose(o.mfcc[1:], o.reference[1:], atol=o.tolerance),
            "mfcc differs from the cosine transform of the log-mel spectrogram with these settings: compute it from your own mel_db (S=) with n_mfcc."),
]
# fmt: on
# fmt: on


@exercise(
    "Mel first (power, then dB), then the MFCC of *that* log-mel spectrogram, with every setting passed in.",
    "librosa's mel spectrogram returns power: it needs the power-to-dB conversion. Its defaults (hop 512, 128 mel bands, 20 coefficients) differ from the check's: pass every argument on. Both outputs keep librosa's order (bands or coefficients, frames).",
    "Mel power with the sample rate, n_fft, hop_length and n_mels → power to dB with the maximum as reference → the MFCC function given that dB spectrogram (S=) and n_mfcc, so both outputs share one framing.",
)
def mel_and_mfcc(compute: Callable[..., tuple[object, object]]) -> None:
    """Check ``compute(y, sample_rate, n_fft, hop_length, n_mels, n_mfcc) -> (mel in dB, MFCC)``.

    Requires, with hop 160, 64 bands and 13 coefficients (all unlike librosa's defaults): the mel
    power spectrogram in dB (10·log10, up to an offset) ``(n_mels, frames)`` with centred frames,
    and the MFCC of that log-mel spectrogram ``(n_mfcc, frames)``, coefficient 0 aside (it moves
    with the dB reference); an MFCC from the waveform with the same settings is fine.
    """
    import librosa

    rate, n_fft, hop, n_mels, n_mfcc = 16_000, 400, 160, 64, 13
    t = np.arange(rate) / rate
    noise = 0.05 * np.random.default_rng(0).standard_normal(rate)
    y = (0.5 * np.sin(2 * np.pi * 300 * t) * (t < 0.6) + noise).astype(np.float32)
    what = f"mel_and_mfcc(y, {rate}, {n_fft}, {hop}, {n_mels}, {n_mfcc})"
    mel, mfcc = returns_pair(
        call(compute, y, rate, n_fft, hop, n_mels, n_mfcc, what=what), what, "(mel_db, mfcc)"
    )
    power = librosa.feature.melspectrogram(y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    seen = Observed(mel=as_array(mel, "mel_db"), mfcc=as_array(mfcc, "mfcc"), power=power, n=len(y))
    seen.update(frames=power.shape[1], n_fft=n_fft, hop=hop, n_mels=n_mels, n_mfcc=n_mfcc)
    seen.update(doubled=librosa.amplitude_to_db(power), log_mel=librosa.power_to_db(power))
    seen.reference = librosa.feature.mfcc(S=seen.log_mel, n_mfcc=n_mfcc)
    seen.of_power = librosa.feature.mfcc(S=power, n_mfcc=n_mfcc)
    seen.tolerance = 1e-2 * np.abs(seen.reference[1:]).max()
    core.verdict(seen, MEL)
    core.verdict(seen, MFCC)
    core.passed(
        f"mel spectrogram ({n_mels}, {seen.frames}) in dB and MFCC ({n_mfcc}, {seen.frames})"
    )


# Exercise: pooling over time

# fmt: off
POOLED = [
    Mistake(lambda o: o.got.ndim == 0,
            "For {case} you returned one number: the mean over every axis. Average over time only: one value per bin remains."),
    Mistake(lambda o: o.got.shape == (*o.expected.shape, 1),
            "For {case} you returned shape {got.shape}: the time axis is kept with length 1. Drop the averaged axis (no keepdims)."),
    Mistake(lambda o: o.got.shape in o.other_axes,
            "For {case} you returned shape {got.shape}: you averaged over axis {axis}, {axis_name}. Average over time, the *last* axis: then clips of any length give vectors of the same size."),
    Mistake(lambda o: o.got.shape != o.expected.shape,
            "For {case} you returned shape {got.shape}; expected {expected.shape}: average over the last axis (time) only."),
    Mistake(lambda o: np.allclose(o.got, o.data.sum(axis=-1), rtol=1e-4),
            "For {case} you summed over time: the values grow with the clip's length. Take the mean, not the sum."),
    Mistake(lambda o: not np.allclose(o.got, o.expected, rtol=1e-4, atol=1e-5),
            "For {case} your values are not the mean over time (a maximum? a median?): the arithmetic mean along the last axis."),
]
# fmt: on


@exercise(
    "Pooling over time turns (…, bins, frames) into (…, bins): one average per bin.",
    "Time is the *last* axis, whatever comes before it (one clip or a batch). Average, do not add: a sum grows with the clip's length.",
    "Take the mean along the last axis only (axis -1), without keeping that axis. The features are numpy arrays, as mel_and_mfcc returns them.",
)
def pool_over_time(pool: Callable[[object], object]) -> None:
    """Check ``pool(features)`` on numpy arrays, the type the notebook passes (librosa's MFCC).

    Requires, for a float32 MFCC (40, 301), a batch of MFCCs (4, 40, 150) and a float64
    spectrogram (201, 120), all numpy: the arithmetic mean over the last (time) axis, that axis
    dropped. ``features.mean(...)`` and ``np.mean(features, ...)`` both work; torch-only code
    (``dim=``) fails with a message that names the input type.
    """
    rng = np.random.default_rng(0)
    for features, case in [
        (
            (rng.standard_normal((40, 301)) + 3).astype(np.float32),
            "a numpy array (40, 301) like librosa's MFCC",
        ),
        (rng.standard_normal((4, 40, 150)).astype(np.float32), "a numpy batch (4, 40, 150)"),
        (rng.standard_normal((201, 120)) + 1, "a numpy spectrogram (201 bins, 120 frames)"),
    ]:
        what = f"pool_over_time({case})"
        got = as_array(call(pool, features.copy(), what=what), "the pooled features")
        names = ["the batch", "the features", "time"][-features.ndim :]
        other = [tuple(np.delete(features.shape, axis)) for axis in range(features.ndim - 1)]
        seen = Observed(got=got, data=features, expected=features.mean(axis=-1), case=case)
        axis = other.index(got.shape) if got.shape in other else 0
        seen.update(other_axes=other, axis=axis, axis_name=names[axis])
        core.verdict(seen, POOLED)
    core.passed("mean over the last axis (time): (…, bins, frames) → (…, bins)")
