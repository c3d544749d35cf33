"""Checks for notebook 02, time and frequency: spectrum, dominant frequency, STFT, mel and MFCC.

Each check calls the student's function on signals whose answer is known (a 440 Hz sine, a buzz, a
chirp) at more than one setting, so that an ignored argument or a default left in place shows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from . import core
from .core import Mistake, Observed, as_array, as_number, call, exercise, returns_pair, verdict

__all__ = ["dominant_frequency", "magnitude_spectrum", "mel_and_mfcc", "pool_over_time"]
__all__ += ["stft_db", "stft_resolution"]


def _frames(n: int, hop: int, n_fft: int | None = None) -> int:
    """Frames of librosa's STFT of ``n`` samples: centred, or not when ``n_fft`` is given."""
    return 1 + n // hop if n_fft is None else 1 + (n - n_fft) // hop


def _close_db(got: np.ndarray, reference: np.ndarray) -> bool:
    """True when two dB arrays agree within 0.5 dB once their maxima are aligned (80-dB floor)."""
    aligned = np.maximum(got - got.max(), -80)
    return bool(np.allclose(aligned, reference - reference.max(), atol=0.5))


SPECTRUM = [
    Mistake(lambda o: o.freqs.shape == (o.n,),
            "{case} you returned {n} frequencies: the full FFT, with negative frequencies."),
    Mistake(lambda o: o.freqs.shape != (o.bins,),
            "{case} the frequencies have shape {freqs.shape}, not ({bins},): no fixed n=."),
    Mistake(lambda o: np.isclose(o.freqs.max(), 0.5),
            "{case} the frequencies stop at 0.5: cycles per sample, not Hz (d=, in seconds)."),
    Mistake(lambda o: np.isclose(o.freqs.max(), o.n // 2),
            "{case} the frequencies stop at {n2}: bin numbers, not Hz."),
    Mistake(lambda o: not np.allclose(o.freqs, o.true) and np.allclose(o.freqs * o.true.max(), o.true * o.freqs.max()),
            "{case} the frequencies are for another sample rate than {rate} Hz: a constant?"),
    Mistake(lambda o: not np.allclose(o.freqs, o.true),
            "{case} the frequencies should run from 0 to {nyquist} Hz, one per real-FFT bin."),
    Mistake(lambda o: np.iscomplexobj(o.mags),
            "{case} the magnitudes are complex, the FFT itself: take each bin's absolute value."),
    Mistake(lambda o: o.mags.shape != (o.bins,),
            "{case} the magnitudes have shape {mags.shape}, not ({bins},), one per frequency."),
    Mistake(lambda o: not np.isclose(o.freqs[np.argmax(o.mags)], 440),
            "{case} the spectrum of a 440 Hz sine (and a weaker 1 kHz one) peaks elsewhere."),
    Mistake(lambda o: np.isclose(o.ratio, 4, rtol=0.05),
            "{case} 440 Hz is twice as loud as 1 kHz, but 4× in yours: power, not magnitude."),
    Mistake(lambda o: not np.isclose(o.ratio, 2, rtol=0.05),
            "{case} 440 Hz is twice as loud as 1 kHz, not in yours: the plain magnitude, no dB."),
]  # fmt: skip


@exercise("""A real signal's spectrum has n // 2 + 1 bins, from 0 Hz up to half the sample rate.
numpy's real FFT has a companion for the bins' frequencies; it needs the sample spacing (s).
Frequencies: real-FFT bins of len(signal) samples 1 / rate apart; magnitudes: |real FFT|.""")
def magnitude_spectrum(spectrum: Callable[[np.ndarray, int], tuple[object, object]]) -> None:
    """Check ``spectrum(signal, sample_rate) -> (frequencies in Hz, magnitudes)`` for 1600 samples
    at 16 kHz and 1000 at 8 kHz: ``n // 2 + 1`` frequencies from 0 Hz to Nyquist (the rate passed
    in), and the plain magnitude of each bin of the same signal (not complex, power or dB)."""
    for rate, n in [(16_000, 1_600), (8_000, 1_000)]:
        t = np.arange(n) / rate
        signal = np.sin(2 * np.pi * 440 * t) + 0.5 * np.sin(2 * np.pi * 1_000 * t)
        what = f"magnitude_spectrum(signal, {rate})"
        freqs, mags = returns_pair(call(spectrum, signal, rate, what=what), what, "(freqs, mags)")
        seen = Observed(freqs=as_array(freqs, "frequencies"), mags=as_array(mags, "magnitudes"))
        seen.update(rate=rate, n=n, n2=n // 2, bins=n // 2 + 1, nyquist=rate // 2, ratio=0.0)
        seen.update(true=np.fft.rfftfreq(n, 1 / rate), case=f"For {n} samples at {rate} Hz")
        if seen.mags.shape == (seen.bins,) and not np.iscomplexobj(seen.mags):
            seen.ratio = seen.mags[round(440 * n / rate)] / seen.mags[round(1_000 * n / rate)]
        verdict(seen, SPECTRUM)
    core.passed("n // 2 + 1 bins from 0 Hz to the Nyquist frequency; the peak is at 440 Hz")


DOMINANT = [
    Mistake(lambda o: np.isclose(o.got, 0.0),
            "For {case} you found 0 Hz: the DC offset (the mean), not a tone: search the band."),
    Mistake(lambda o: o.fmin > 400 and np.isclose(o.got, 220.0),
            "For {case} you found 220 Hz: the band is fixed in your code, not the arguments."),
    Mistake(lambda o: not o.fmin <= o.got <= o.fmax and np.isclose(o.got, 660.0),
            "For {case} you found {got:g} Hz, outside {fmin:g}–{fmax:g} Hz: search the band."),
    Mistake(lambda o: any(np.isclose(o.got, (o.expected - f) * o.n / o.rate) for f in (0, o.fmin)),
            "For {case} you returned {got:g}: a bin number, not Hz."),
    Mistake(lambda o: True,
            "For {case} you found {got:g} Hz; the band's strongest bin is at {expected:g} Hz."),
]  # fmt: skip


@exercise("""Search only the bins whose frequency lies inside the band, and answer in Hz.
Mask the bins between fmin and fmax (the arguments), find the loudest, read its frequency.
Keep the frequencies and magnitudes inside [fmin, fmax]; return the frequency at the max.""")
def dominant_frequency(find: Callable[..., object]) -> None:
    """Check ``find(signal, sample_rate, fmin, fmax)``: the frequency in Hz of the strongest bin in
    [fmin, fmax] (the arguments), for a buzz on a DC offset and tones outside the band."""
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
            verdict(Observed(seen, case=case), DOMINANT)
    core.passed("finds the strongest frequency inside the band it is given, in Hz")


STFT = [
    Mistake(lambda o: np.iscomplexobj(o.got), "{setting} you returned complex numbers: the STFT."),
    Mistake(lambda o: o.got.shape == o.shape[::-1],
            "{setting} you returned {got.shape}: (frames, bins), transposed."),
    Mistake(lambda o: o.got.ndim != 2, "{setting} you returned {got.ndim} axes, not (bins, frames)."),
    Mistake(lambda o: o.got.shape[0] != o.shape[0],
            "{setting} you returned {got.shape[0]} bins, not {shape[0]}: n_fft not passed (default n_fft)?"),
    Mistake(lambda o: o.got.shape[1] == _frames(o.n, o.hop, o.n_fft) != o.shape[1],
            "{setting} you returned {got.shape[1]} frames, not {shape[1]}: center=False."),
    Mistake(lambda o: o.got.shape[1] == _frames(o.n, o.n_fft // 4) != o.shape[1],
            "{setting} you returned {got.shape[1]} frames: librosa's default hop (n_fft // 4)."),
    Mistake(lambda o: o.got.shape[1] != o.shape[1],
            "{setting}: {got.shape[1]} frames, not {shape[1]}; they depend on hop_length and on centring."),
    Mistake(lambda o: any(np.allclose(o.got, o.magnitude**k, rtol=1e-3, atol=1e-6) for k in (1, 2)),
            "{setting} you returned power or magnitudes, not decibels."),
    Mistake(lambda o: _close_db(o.got, o.halved),
            "{setting} your dB values are half: power's conversion (10·log10) of magnitudes."),
    Mistake(lambda o: o.window != "hann" and _close_db(o.got, o.hann),
            "{setting} you returned a Hann-windowed STFT: the window argument is not used."),
    Mistake(lambda o: abs(o.got.max()) > 0.5,
            "{setting} the top is {top:.1f} dB: 0 dB must be the loudest bin (the reference)."),
    Mistake(lambda o: not _close_db(o.got, o.reference),
            "{setting} your dB values differ from the STFT's with exactly these settings."),
]  # fmt: skip


@exercise("""Three steps: the STFT with the settings passed in, its magnitude, then decibels.
Pass all three settings on (librosa's defaults differ); convert *amplitudes* to dB.
librosa.stft with the settings → absolute value → amplitude to dB, ref the maximum.""")
def stft_db(compute: Callable[..., object]) -> None:
    """Check ``compute(y, n_fft, hop_length, window)`` for a chirp with (512, 100, "hann") and (256,
    64, "boxcar"): shape ``(1 + n_fft // 2, 1 + len(y) // hop_length)`` (centred), ``20·log10`` of
    the STFT's magnitude with these settings, 0 dB at the loudest bin; any floor below -80 dB."""
    import librosa

    t = np.arange(16_000) / 16_000
    y = np.sin(2 * np.pi * (200 + 1500 * t) * t).astype(np.float32)
    y += 0.01 * np.cos(2 * np.pi * 3000 * t).astype(np.float32)
    for n_fft, hop, window in [(512, 100, "hann"), (256, 64, "boxcar")]:
        what = f"stft_db(y, {n_fft}, {hop}, {window!r})"
        got = as_array(call(compute, y, n_fft, hop, window, what=what), "the dB spectrogram")
        stft = (librosa.stft(y, n_fft=n_fft, hop_length=hop, window=w) for w in (window, "hann"))
        magnitude, hann = map(np.abs, stft)
        seen = Observed(got=got, magnitude=magnitude, n=len(y), hop=hop, n_fft=n_fft, window=window)
        seen.update(top=got.max() if got.size else 0.0, hann=librosa.amplitude_to_db(hann))
        seen.setting = f"With n_fft={n_fft}, hop_length={hop}, window={window!r}"
        seen.reference = librosa.amplitude_to_db(magnitude, ref=np.max)
        seen.update(shape=seen.reference.shape, halved=librosa.power_to_db(magnitude))
        verdict(seen, STFT)
    core.passed("dB spectrogram (1 + n_fft // 2, frames), 0 dB at the loudest bin, as asked")


RESOLUTION = [
    Mistake(lambda o: np.isclose(o.ms, o.n_fft / o.rate),
            "{case} the window lasts {ms:g}: seconds, not milliseconds."),
    Mistake(lambda o: np.isclose(o.ms, 1000 * o.rate / o.n_fft),
            "{case} the window lasts {ms:g} ms: rate ÷ n_fft, upside down."),
    Mistake(lambda o: not np.isclose(o.ms, 1000 * o.n_fft / o.rate),
            "{case} the window lasts {ms:g} ms? It holds n_fft samples of 1 / rate seconds."),
    Mistake(lambda o: np.isclose(o.hz, o.rate / 2 / o.n_fft),
            "{case} the bins are {hz:.4g} Hz apart: half the true spacing."),
    Mistake(lambda o: np.isclose(o.hz, o.rate / (o.n_fft // 2 + 1)),
            "{case} the bins are {hz:.4g} Hz apart: about twice the true spacing."),
    Mistake(lambda o: not np.isclose(o.hz, o.rate / o.n_fft),
            "{case} the bins are {hz:.4g} Hz apart? The FFT splits the rate in n_fft steps."),
]  # fmt: skip


@exercise("""The window lasts n_fft samples; the bins share the band from 0 Hz to the sample rate.
A sample lasts 1 / sample_rate s; an FFT of n_fft samples splits the rate into n_fft steps.
Window: n_fft times one sample's length, in ms. Spacing: the rate over the window's samples.""")
def stft_resolution(resolution: Callable[[int, int], tuple[object, object]]) -> None:
    """Check ``resolution(n_fft, sample_rate) -> (window ms, bin spacing Hz)`` for three pairs:
    ``1000 · n_fft / rate`` ms and ``rate / n_fft`` Hz."""
    for n_fft, rate in [(400, 16_000), (2_048, 22_050), (512, 8_000)]:
        what = f"resolution({n_fft}, {rate})"
        ms, hz = returns_pair(call(resolution, n_fft, rate, what=what), what, "(window_ms, bin_hz)")
        seen = Observed(ms=as_number(ms, "window_ms"), hz=as_number(hz, "bin_hz"), rate=rate)
        verdict(Observed(seen, n_fft=n_fft, case=f"For n_fft={n_fft} at {rate} Hz"), RESOLUTION)
    core.passed("n_fft=400 at 16 kHz: 25 ms windows, bins 40 Hz apart")


MEL_AND_MFCC = [
    Mistake(lambda o: o.mel.shape == (o.frames, o.n_mels),
            "mel_db has shape {mel.shape}: (frames, bands), transposed: keep librosa's order."),
    Mistake(lambda o: o.mel.ndim != 2 or o.mel.shape[0] != o.n_mels,
            "mel_db has shape {mel.shape}, not {n_mels} mel bands: pass n_mels= on."),
    Mistake(lambda o: o.mel.shape[1] == _frames(o.n, 512) != o.frames,
            "mel_db has {mel.shape[1]} frames, from librosa's default hop: pass hop_length= on."),
    Mistake(lambda o: o.mel.shape[1] == _frames(o.n, o.hop, o.n_fft) != o.frames,
            "mel_db has {mel.shape[1]} frames, not {frames}: center=False; keep the default."),
    Mistake(lambda o: o.mel.shape[1] != o.frames,
            "mel_db has {mel.shape[1]} frames, not {frames}: they depend on hop_length."),
    Mistake(lambda o: np.allclose(o.mel, o.power, rtol=1e-3, atol=1e-8),
            "mel_db is the mel power itself, not decibels."),
    Mistake(lambda o: _close_db(o.mel, o.doubled),
            "mel_db is twice what it should be: the amplitude conversion (20·log10) of power."),
    Mistake(lambda o: not _close_db(o.mel, o.log_mel),
            "mel_db differs from the log-mel spectrogram of these settings (maxima aligned)."),
    Mistake(lambda o: o.mfcc.shape == (o.frames, o.n_mfcc),
            "mfcc has shape {mfcc.shape}: (frames, coefficients), transposed."),
    Mistake(lambda o: o.mfcc.ndim != 2 or o.mfcc.shape[0] != o.n_mfcc,
            "mfcc has shape {mfcc.shape}, not {n_mfcc} coefficients: pass n_mfcc= on."),
    Mistake(lambda o: o.mfcc.shape[1] != o.frames,
            "mfcc has {mfcc.shape[1]} frames, mel_db {frames}: framed differently; use S=."),
    Mistake(lambda o: np.allclose(o.mfcc[1:], o.of_power[1:], atol=o.tolerance),
            "mfcc is the cosine transform of the mel *power*, not of its dB."),
    Mistake(lambda o: not np.allclose(o.mfcc[1:], o.reference[1:], atol=o.tolerance),
            "mfcc differs from the cosine transform of your log-mel spectrogram (S=, n_mfcc)."),
]  # fmt: skip


@exercise("""Mel first (power, then dB), then the MFCC of *that* log-mel spectrogram, all settings on.
The mel spectrogram is power; librosa's defaults (hop 512, 128 bands, 20 MFCCs) differ.
Mel power with every setting → power to dB → the MFCC of that (S=), n_mfcc: one framing.""")
def mel_and_mfcc(compute: Callable[..., tuple[object, object]]) -> None:
    """Check ``compute(y, rate, n_fft, hop_length, n_mels, n_mfcc) -> (mel_db, mfcc)``, hop 160,
    64 bands, 13 MFCCs: the mel power in dB (up to an offset), (n_mels, centred frames); the MFCC of
    that (n_mfcc, frames), coefficient 0 aside (the MFCC from the waveform is fine too)."""
    import librosa

    rate, n_fft, hop, n_mels, n_mfcc = 16_000, 400, 160, 64, 13
    t = np.arange(rate) / rate
    noise = 0.05 * np.random.default_rng(0).standard_normal(rate)
    y = (0.5 * np.sin(2 * np.pi * 300 * t) * (t < 0.6) + noise).astype(np.float32)
    what = f"mel_and_mfcc(y, {rate}, {n_fft}, {hop}, {n_mels}, {n_mfcc})"
    result = call(compute, y, rate, n_fft, hop, n_mels, n_mfcc, what=what)
    mel, mfcc = returns_pair(result, what, "(mel_db, mfcc)")
    power = librosa.feature.melspectrogram(y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    seen = Observed(mel=as_array(mel, "mel_db"), mfcc=as_array(mfcc, "mfcc"), power=power, n=len(y))
    seen.update(frames=power.shape[1], n_fft=n_fft, hop=hop, n_mels=n_mels, n_mfcc=n_mfcc)
    seen.update(doubled=librosa.amplitude_to_db(power), log_mel=librosa.power_to_db(power))
    seen.reference = librosa.feature.mfcc(S=seen.log_mel, n_mfcc=n_mfcc)
    seen.of_power = librosa.feature.mfcc(S=power, n_mfcc=n_mfcc)
    seen.tolerance = 1e-2 * np.abs(seen.reference[1:]).max()
    verdict(seen, MEL_AND_MFCC)
    core.passed(f"mel spectrogram ({n_mels}, {seen.frames}) in dB, MFCC ({n_mfcc}, {seen.frames})")


POOLED = [
    Mistake(lambda o: o.got.ndim == 0, "{case} you returned one number, the mean over every axis."),
    Mistake(lambda o: o.got.shape == (*o.expected.shape, 1),
            "{case} you returned shape {got.shape}: the time axis kept with length 1."),
    Mistake(lambda o: o.got.shape in o.other_axes,
            "{case} you returned shape {got.shape}: averaged over axis {axis}, {axis_name}."),
    Mistake(lambda o: o.got.shape != o.expected.shape,
            "{case} you returned shape {got.shape}, not {expected.shape}: average over time only."),
    Mistake(lambda o: np.allclose(o.got, o.data.sum(axis=-1), rtol=1e-4),
            "{case} you summed over time: the values grow with the clip's length."),
    Mistake(lambda o: not np.allclose(o.got, o.expected, rtol=1e-4, atol=1e-5),
            "{case} your values are not the mean over time (a maximum? a median?)."),
]  # fmt: skip


@exercise("""Pooling over time turns (…, bins, frames) into (…, bins): one average per bin.
Time is the *last* axis, whatever comes before it. Average, do not add (a sum grows).
The mean along the last axis only, that axis dropped; the features are numpy arrays.""")
def pool_over_time(pool: Callable[[object], object]) -> None:
    """Check ``pool(features)`` on numpy (40, 301) float32, (4, 40, 150) and (201, 120) float64
    arrays, as the notebook passes them: the mean over the last axis, dropped."""
    rng = np.random.default_rng(0)
    for features, case in [
        ((rng.standard_normal((40, 301)) + 3).astype(np.float32), "a numpy array (40, 301), an MFCC"),
        (rng.standard_normal((4, 40, 150)).astype(np.float32), "a numpy batch (4, 40, 150)"),
        (rng.standard_normal((201, 120)) + 1, "a numpy spectrogram (201 bins, 120 frames)"),
    ]:  # fmt: skip
        got = as_array(call(pool, features.copy(), what=f"pool_over_time({case})"), "the result")
        other = [tuple(np.delete(features.shape, axis)) for axis in range(features.ndim - 1)]
        axis = other.index(got.shape) if got.shape in other else 0
        seen = Observed(got=got, data=features, expected=features.mean(axis=-1), other_axes=other)
        names = ["the batch", "the features", "time"][-features.ndim :]
        seen.update(case=f"For {case}", axis=axis, axis_name=names[axis])
        verdict(seen, POOLED)
    core.passed("mean over the last axis (time): (…, bins, frames) → (…, bins)")
