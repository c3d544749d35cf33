"""Checks for notebook 01, loading audio: duration, ``librosa.load``, ``torchaudio.load``, windows.

The answers read files the check writes (mono and stereo, 8 to 44.1 kHz), where a constant rate, a
dropped channel or a window that never moves shows.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from itertools import product
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from ..audio import SAMPLE_RATE, audio_info, load_audio
from . import core
from .core import Mistake, Observed, as_number, call, exercise, passed, verdict

__all__ = ["audio_player", "audio_window", "duration", "librosa_loading", "torchaudio_loading"]
LIBROSA_RATE = 22_050  # librosa.load's default rate (Hz)


def _noise(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Quiet noise on a 220 Hz sine, ``(frames,)`` or ``(frames, channels)``, in [-0.5, 0.5]."""
    t = np.arange(round(seconds * rate)) / rate
    noise = np.random.default_rng(seed).uniform(-1, 1, (len(t), channels))
    data = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None] + 0.1 * noise
    data[:, 1:] *= 0.5  # the second channel differs from the first
    return (data[:, 0] if channels == 1 else data).astype(np.float32)


@contextmanager
def _test_files(specs: list[tuple[str, float, int, int]], extra: object) -> Iterator[list[Path]]:
    """Write ``(name, seconds, rate, channels)`` files into a temporary folder; add ``extra``."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / name for name, *_ in specs]
        for number, (path, (_, seconds, rate, channels)) in enumerate(zip(paths, specs)):
            sf.write(path, _noise(seconds, rate, channels, number), rate, subtype="PCM_16")
        yield paths + ([Path(extra)] if extra is not None else [])  # type: ignore[arg-type]


def _loaded(result: object, file: Path, what: str) -> Observed:
    """The observation of a loader's ``(waveform, rate)`` for ``file``."""
    info, (waveform, rate) = audio_info(file), core.returns_pair(result, what, "(waveform, rate)")
    layout = "mono" if info.channels == 1 else f"{info.channels}-channel"
    seen = Observed(waveform=waveform, rate=rate, info=info, kind=type(waveform).__name__)
    seen.update(what=what, shape=tuple(np.shape(waveform)))
    return Observed(seen, file=f"For a {info.seconds:g}-s {layout} file at {info.sample_rate} Hz")


SWAPPED = Mistake(lambda o: np.ndim(o.waveform) == 0 and np.ndim(o.rate) >= 1,
                  "{what} returned (a number, an array): the wrong order, waveform first.")  # fmt: skip

DURATION = [
    Mistake(lambda o: np.isclose(o.got, o.samples),
            "{case} you returned {got:g}, the number of samples: divide it by the rate."),
    Mistake(lambda o: np.isclose(o.got, o.first / o.rate),
            "{case} you returned {got:g}: len() counts the first axis, not the samples."),
    Mistake(lambda o: np.isclose(o.got, 1000 * o.expected),
            "{case} you returned {got:g}: milliseconds, not seconds."),
    Mistake(lambda o: np.isclose(o.got, o.samples // o.rate),
            "{case} you returned {got:g}: integer division (//) dropped the fraction."),
    Mistake(lambda o: np.isclose(o.got, 1 / o.expected),
            "{case} you returned {got:g}: rate ÷ samples, upside down."),
    Mistake(lambda o: True,
            "{case} you returned {got:g}; expected {expected:g} s (samples ÷ rate)."),
]  # fmt: skip


@exercise("""A duration is a number of samples divided by how many samples there are per second.
The waveform can be (samples,) or (channels, samples): which axis holds the samples in both?
The length of the last axis (not len()) over the rate in Hz, with true division.""")
def duration(duration_seconds: Callable[[object, int], float]) -> None:
    """Check ``duration_seconds(waveform, sample_rate)``: one number, samples on the last axis ÷
    rate, in seconds, for numpy ``(samples,)`` and torch ``(channels, samples)`` waveforms."""
    for w, rate in [(np.zeros(22_050), 22_050), (torch.zeros(1, 24_000), 16_000),
                    (torch.zeros(2, 8_000), 16_000), (np.zeros(3 * 44_100), 44_100)]:  # fmt: skip
        what = f"For a {tuple(w.shape)} {type(w).__module__[:5]} waveform at {rate} Hz"
        got = as_number(call(duration_seconds, w, rate, what=what), "duration_seconds(...)")
        if not np.isclose(got, w.shape[-1] / rate):
            seen = Observed(got=got, expected=w.shape[-1] / rate, samples=w.shape[-1], rate=rate)
            verdict(Observed(seen, first=len(w), case=what), DURATION)
    passed("duration = samples on the last axis / sample rate, in seconds")


LIBROSA = [
    SWAPPED,
    Mistake(lambda o: not isinstance(o.waveform, np.ndarray),
            "{file} the waveform is a {kind}, not librosa's numpy array (tensors are torchaudio's type)."),
    Mistake(lambda o: o.waveform.ndim != 1,
            "{file} the waveform has shape {shape}: librosa's default mixes the channels to one."),
    Mistake(lambda o: o.rate == o.info.sample_rate and abs(o.shape[0] - o.info.frames) <= 2,
            "{file} you return its own rate and samples: librosa's default resamples to 22050."),
    Mistake(lambda o: abs(o.shape[0] - o.info.frames) <= 2 and o.info.sample_rate != LIBROSA_RATE,
            "{file} you return its {info.frames} samples with {rate} Hz: they do not match."),
    Mistake(lambda o: o.rate != LIBROSA_RATE and abs(o.shape[0] - o.length) <= 2,
            "{file} the samples are at 22050 Hz but the rate is {rate!r}: a constant?"),
    Mistake(lambda o: o.rate != LIBROSA_RATE,
            "{file} the rate is {rate!r}; librosa.load's default is 22050 Hz: return its rate."),
    Mistake(lambda o: abs(o.shape[0] - o.length) > 2,
            "{file} you return {shape[0]} samples, not about {length:.0f}: load the whole file."),
    Mistake(lambda o: abs(o.scaled - 1) >= 0.02,
            "{file} your waveform is librosa's scaled by {scaled:.3g}: do not normalise it."),
    Mistake(lambda o: not o.close,
            "{file} the samples differ from librosa.load's defaults: no option, no processing."),
]  # fmt: skip


@exercise("""librosa.load has defaults for the rate and the channels: this exercise wants them all.
By default librosa mixes to mono and resamples to 22 050 Hz; return the rate it gives back.
Call librosa.load on the path alone and return its two results unchanged, the waveform first.""")
def librosa_loading(load_with_librosa: Callable[[object], tuple], path: object = None) -> None:
    """Check ``load_with_librosa(path) -> (waveform, rate)`` on 16 kHz mono, 44.1 kHz stereo and
    ``path``: librosa's defaults, the whole file as 1-D numpy at 22 050 Hz, unscaled, then 22050."""
    import librosa

    specs = [("mono.flac", 1.5, 16_000, 1), ("stereo.wav", 1.0, 44_100, 2)]
    with _test_files(specs, path) as files:
        for file in files:
            what = f"load_with_librosa(path) on {file.name}"
            seen = _loaded(call(load_with_librosa, file, what=what), file, what)
            seen.update(length=seen.info.seconds * LIBROSA_RATE, close=False, scaled=1.0)
            if isinstance(seen.waveform, np.ndarray) and seen.waveform.ndim == 1:
                mine, theirs = seen.waveform.astype(float), librosa.load(file)[0].astype(float)
                mine, theirs = mine[: len(theirs)], theirs[: len(mine)]
                seen.close = np.allclose(mine, theirs, atol=2e-3)
                if not seen.close and np.corrcoef(mine, theirs)[0, 1] >= 0.99:
                    seen.scaled = mine @ theirs / max(theirs @ theirs, 1e-12)  # the best factor
            verdict(seen, LIBROSA)
    passed("librosa's defaults: mono numpy waveforms at 22050 Hz, whatever the file")


TORCHAUDIO = [
    Mistake(lambda o: o.calls == 0,
            "{what} never called torchaudio.load: this exercise is about torchaudio.load."),
    SWAPPED,
    Mistake(lambda o: not isinstance(o.waveform, torch.Tensor),
            "{file} the waveform is a {kind}; torchaudio.load gives a torch.Tensor: return it."),
    Mistake(lambda o: o.rate == LIBROSA_RATE != o.info.sample_rate,
            "{file} you return 22050 Hz, librosa's default: torchaudio.load does not resample."),
    Mistake(lambda o: o.rate == SAMPLE_RATE != o.info.sample_rate,
            "{file} you return 16000 Hz, the course's rate: return the file's, not a constant."),
    Mistake(lambda o: o.rate != o.info.sample_rate,
            "{file} the rate is {rate!r}: return the rate torchaudio.load gives, unchanged."),
    Mistake(lambda o: o.waveform.ndim != 2,
            "{file} the waveform has shape {shape}: keep (channels, samples), even for mono."),
    Mistake(lambda o: o.shape == (o.info.frames, o.info.channels) != o.shape[::-1],
            "{file} the waveform has shape {shape}: (samples, channels), transposed."),
    Mistake(lambda o: o.shape != (o.info.channels, o.info.frames),
            "{file} the waveform has shape {shape}: load the whole file, all channels."),
    Mistake(lambda o: not np.allclose(o.waveform.detach().float().numpy(), o.reference, atol=1e-4),
            "{file} the samples differ from the file's: return them as loaded, unscaled."),
]  # fmt: skip
MISSPELT = "A misspelt name, not a missing FFmpeg: the notebook's fallback cell hides it."


def _stand_in(real: Callable, fell_back: list[str]) -> Callable:
    """``torchaudio.load``, with soundfile standing in where torchcodec or FFmpeg cannot decode."""

    def load(uri: object, frame_offset: int = 0, num_frames: int = -1, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            with warnings.catch_warnings(action="ignore"):
                return real(uri, frame_offset, num_frames, *args, **kwargs)
        except TypeError:
            raise
        except Exception as error:  # torchcodec or FFmpeg missing or broken on this machine
            fell_back.append(f"{type(error).__name__}: {error}")
            options = {"frames": num_frames, "start": frame_offset, "always_2d": True}
            data, rate = sf.read(str(uri), dtype="float32", **options)
            data = data if kwargs.get("channels_first", True) is False else data.T
            return torch.from_numpy(np.ascontiguousarray(data)), rate

    return load


@exercise("""torchaudio.load returns two things; its waveform has a channel axis even for mono files.
Return its tensor and rate as they are: no squeeze, no transpose, no constant rate.
Call torchaudio.load on the path with its defaults; an AttributeError means a misspelt name.""")
def torchaudio_loading(load_with_torchaudio: Callable, path: object = None) -> None:
    """Check ``load_with_torchaudio(path) -> (waveform, rate)`` on 8 kHz stereo, 16 kHz mono and
    ``path``: ``torchaudio.load`` called (watched; soundfile stands in where it cannot decode), its
    unscaled (channels, samples) tensor of the whole file, the file's rate; misspelt names raise."""
    import torchaudio

    fell_back: list[str] = []
    specs, load = [("stereo.wav", 0.5, 8_000, 2), ("mono.flac", 1.0, 16_000, 1)], torchaudio.load
    with _test_files(specs, path) as files, core.watching(torchaudio, "load") as spy:
        spy.side_effect = _stand_in(load, fell_back)  # soundfile where torchaudio cannot decode
        for file in files:
            what, before = f"load_with_torchaudio(path) on {file.name}", spy.call_count
            try:
                result = call(load_with_torchaudio, file, what=what)
            except core.ExerciseError as error:
                if isinstance(error.__cause__, NameError | AttributeError):
                    raise core.ExerciseError(f"{error}\n{MISSPELT}") from error.__cause__
                raise
            seen = Observed(_loaded(result, file, what), calls=spy.call_count - before)
            seen.reference = sf.read(file, dtype="float32", always_2d=True)[0].T
            verdict(seen, TORCHAUDIO)
    why = f" (torchaudio could not decode, {fell_back[0]}; soundfile stood in)" if fell_back else ""
    passed(f"torchaudio keeps each file's own rate and gives (channels, samples){why}")


WINDOW = [
    Mistake(lambda o: not (isinstance(o.got, torch.Tensor) and o.got.ndim == 1),
            "{case} you returned a {kind} {shape}, not a 1-D tensor: return load_audio's."),
    Mistake(lambda o: o.decoded > o.returned + o.rate // 100,
            "{case}, {decoded} samples were decoded: the whole file was read, then cut."),
    Mistake(lambda o: len(o.got) == round(o.seconds),
            "{case} you returned {shape[0]} sample(s): seconds were used as samples."),
    Mistake(lambda o: o.rate != SAMPLE_RATE and abs(len(o.got) - o.seconds * SAMPLE_RATE**2 / o.rate) <= 2,
            "{case} the length was counted at 16000 Hz, but this file is at {rate} Hz."),
    Mistake(lambda o: abs(len(o.got) - o.length) > o.step,
            "{case} you returned {shape[0]} samples, not {length}: count at the file's rate."),
    Mistake(lambda o: not any(len(w) == len(o.got) and np.allclose(o.got, w, atol=1e-4) for w in _windows(o)),
            "{case} the samples are not the file's: the window does not start where it should."),
]  # fmt: skip


def _windows(o: Observed) -> Iterator[torch.Tensor]:
    """``load_audio``'s windows that start and last within one sample of the rounded ones."""
    first, frames = round(o.start * o.rate), round(o.seconds * o.rate)
    with warnings.catch_warnings(action="ignore"):  # load_audio's note about resampling
        for start, length in [(first + s, frames + f) for s in (0, -1, 1) for f in (0, -1, 1)]:
            yield load_audio(o.path, start=start, frames=length)


@exercise("""load_audio counts start= and frames= in samples at the file's own rate, not in seconds.
Convert both with the rate of *this* file (audio_info); the check watches what is decoded.
round(seconds × the file's rate) for the start and the length, passed to load_audio.""")
def audio_window(read_window: Callable[..., object]) -> None:
    """Check ``read_window(path, start_seconds, seconds)`` on 3-s files at 16 and 8 kHz:
    ``load_audio``'s 1-D tensor of just that window (only it decoded, soundfile watched), start and
    length in samples at the file's rate within one sample of rounding (``int()`` is fine)."""
    with _test_files([("16k.flac", 3.0, 16_000, 1), ("8k.flac", 3.0, 8_000, 1)], None) as files:
        for path, (start, seconds) in product(files, [(0.5, 1.0), (2.00005, 0.75)]):
            rate = audio_info(path).sample_rate
            case = f"For {seconds:g} s from {start:g} s of a 3-s file at {rate} Hz"
            with core.record_decodes() as decodes, warnings.catch_warnings(action="ignore"):
                got = call(read_window, path, start, seconds, what=f"read_window: {case}")
            seen = Observed(got=got, case=case, path=path, rate=rate, start=start, seconds=seconds)
            seen.update(length=round(seconds * SAMPLE_RATE), step=SAMPLE_RATE // rate)
            seen.update(kind=type(got).__name__, shape=tuple(np.shape(got)))
            seen.decoded = max([0] + [d.frames for d in decodes])
            seen.returned = round(len(got) * rate / SAMPLE_RATE) if seen.shape else 0
            verdict(seen, WINDOW)
    passed("reads just the window asked for, placed in samples at each file's own rate")


PLAYER = [
    Mistake(lambda o: any(len(o.shape) == 2 == len(s) and s[-1] == o.shape[-1] for s in o.given),
            "{case} the window was cut on the first axis, the channel axis of (1, samples)."),
    Mistake(lambda o: o.player is None,
            "{case} the function returned None (display() inside?): return the player."),
    Mistake(lambda o: o.samples is None,
            "{case} the function returned a {kind}, not an IPython.display.Audio player."),
    Mistake(lambda o: o.played_rate != o.rate,
            "{case} the player plays at {played_rate} Hz: give it this waveform's rate."),
    Mistake(lambda o: o.samples.shape[0] != 1,
            "{case} the player has {samples.shape[0]} channels: slice the samples' axis."),
    Mistake(lambda o: o.samples.shape[1] == len(o.signal),
            "{case} the player plays the whole 3-s clip: cut the window first."),
    Mistake(lambda o: o.samples.shape[1] == round(o.seconds),
            "{case} the player plays {samples.shape[1]} sample(s): seconds were used as samples."),
    Mistake(lambda o: abs(o.samples.shape[1] - o.seconds * o.rate) > 1,
            "{case} the player plays {samples.shape[1]} samples, not {seconds:g} s × {rate} Hz."),
    Mistake(lambda o: not any(_plays(o, first) for first in (o.first - 1, o.first, o.first + 1)),
            "{case} the player plays other samples: it does not start at {start:g} s."),
]  # fmt: skip


def _plays(o: Observed, first: int) -> bool:
    """True when the player's samples are the signal's from ``first`` on (up to IPython's scaling)."""
    played, wanted = o.samples[0], o.signal[max(first, 0) : max(first, 0) + o.samples.shape[1]]
    scale = np.abs(wanted).max() / max(np.abs(played).max(), 1e-9)
    return len(wanted) == len(played) and np.allclose(played * scale, wanted, atol=2e-3)


@exercise("""A player needs two things: the samples to play and the rate they were recorded at.
Cut the last axis (torchaudio has channels first), converting seconds with the rate.
Slice from round(start × rate) for round(seconds × rate) samples; give the player the rate.""")
def audio_player(play_window: Callable[..., object]) -> None:
    """Check ``play_window(waveform, rate, start_seconds, seconds) -> IPython.display.Audio`` for
    numpy (samples,) at 22 050 Hz and torch (1, samples) at 16 kHz: one channel at the waveform's
    rate, just the window (within a sample of rounding; IPython scales it)."""
    from IPython.display import Audio

    for waveform, rate, kind in [
        (_noise(3.0, LIBROSA_RATE, seed=1), LIBROSA_RATE, "a (samples,) numpy array"),
        (torch.from_numpy(_noise(3.0, SAMPLE_RATE, seed=2)[None]), SAMPLE_RATE, "a (1, n) tensor"),
    ]:
        for start, seconds in [(0.5, 1.0), (1.75, 0.5)]:
            case = f"For {seconds:g} s from {start:g} s of {kind} at {rate} Hz"
            seen = Observed(case=case, shape=tuple(waveform.shape), rate=rate, start=start)
            seen.update(seconds=seconds, first=round(start * rate), samples=None)
            seen.signal = np.asarray(waveform).reshape(-1)
            with core.watching(Audio, "__init__") as init:
                try:
                    what = f"play_window: {case}"
                    seen.player = call(play_window, waveform, rate, start, seconds, what=what)
                finally:  # the arrays given to the players built
                    data = [c.kwargs.get("data", c.args[1:2] or None) for c in init.call_args_list]
                    seen.given = [np.shape(d[0] if isinstance(d, tuple) else d) for d in data]
                    verdict(seen, PLAYER[:1])
            seen.kind = type(seen.player).__name__
            if isinstance(seen.player, Audio):
                data, played = sf.read(io.BytesIO(seen.player.data), always_2d=True)
                seen.update(samples=data.T, played_rate=int(played))
            verdict(seen, PLAYER)
    passed("the player plays just the window, at the waveform's own rate, for arrays and tensors")
