"""Checks for notebook 01, loading audio: duration, ``librosa.load``, ``torchaudio.load``, windows.

The loading checks call the student's *function* on small files they write themselves (a 16 kHz mono
FLAC, a 44.1 kHz or 8 kHz stereo WAV), so that a constant rate, a dropped channel or a window that
never moves shows, whatever file the notebook happens to use.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import soundfile as sf
import torch

from ..audio import SAMPLE_RATE, audio_info, load_audio
from . import core
from .core import ExerciseError, Mistake, Observed, call, exercise, verdict

__all__ = ["audio_player", "audio_window", "duration", "librosa_loading", "torchaudio_loading"]

LIBROSA_RATE = 22_050
"""librosa.load's default rate (Hz)."""


def _noise(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Quiet noise on a 220 Hz sine, ``(frames,)`` or ``(frames, channels)``, in [-0.5, 0.5]."""
    frames = round(seconds * rate)
    t = np.arange(frames) / rate
    noise = np.random.default_rng(seed).uniform(-1, 1, (frames, channels))
    data = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None] + 0.1 * noise
    data[:, 1:] *= 0.5  # the second channel differs from the first
    return (data[:, 0] if channels == 1 else data).astype(np.float32)


@contextmanager
def _test_files(specs: list[tuple[str, float, int, int]], extra: object) -> Iterator[list[Path]]:
    """Write ``(name, seconds, rate, channels)`` files into a temporary folder; add ``extra``."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, (name, seconds, rate, channels) in enumerate(specs):
            paths.append(Path(folder) / name)
            sf.write(paths[-1], _noise(seconds, rate, channels, number), rate, subtype="PCM_16")
        yield paths + ([Path(extra)] if extra is not None else [])  # type: ignore[arg-type]


def _loaded(result: object, file: Path, what: str) -> Observed:
    """The observation of a loader's ``(waveform, rate)`` for ``file``."""
    info = audio_info(file)
    layout = "mono" if info.channels == 1 else f"{info.channels}-channel"
    waveform, rate = core.returns_pair(result, what, "(waveform, sample_rate)")
    seen = Observed(waveform=waveform, rate=rate, info=info, kind=type(waveform).__name__)
    seen.file = f"a {info.seconds:g}-s {layout} file at {info.sample_rate} Hz"
    return Observed(seen, shape=tuple(np.shape(waveform)))


SWAPPED = Mistake(
    lambda o: np.ndim(o.waveform) == 0 and np.ndim(o.rate) >= 1,
    "{what} returned (a number, an array): the pair is in the wrong order, the waveform comes first.",
)


# Exercise: duration

# fmt: off
DURATION = [
    Mistake(lambda o: np.isclose(o.got, o.samples),
            "For {case} you returned {got:g}: that is the number of samples. Divide by the sample rate to get seconds."),
    Mistake(lambda o: np.isclose(o.got, o.first / o.rate),
            "For {case} you returned {got:g}: len() counted the first axis, the channels. The samples are on the last axis of the waveform."),
    Mistake(lambda o: np.isclose(o.got, 1000 * o.expected),
            "For {case} you returned {got:g}: milliseconds, not seconds."),
    Mistake(lambda o: np.isclose(o.got, o.samples // o.rate),
            "For {case} you returned {got:g}: integer division dropped the fraction; use true division (/), not floor division (//)."),
    Mistake(lambda o: np.isclose(o.got, 1 / o.expected),
            "For {case} you returned {got:g}: rate ÷ samples, upside down (samples ÷ rate)."),
    Mistake(lambda o: True,
            "For {case} you returned {got:g}; expected {expected:g} s: the number of samples on the last axis divided by the sample rate (Hz)."),
]
# fmt: on


@exercise(
    "A duration is a number of samples divided by how many samples there are per second.",
    "The waveform can be (samples,) or (channels, samples): which axis holds the samples in both?",
    "Take the length of the last axis (not len(), which counts the first axis), divide it by the rate in Hz with true division, and return seconds.",
)
def duration(duration_seconds: Callable[[object, int], float]) -> None:
    """Check ``duration_seconds(waveform, sample_rate)``.

    Requires: one number, in seconds, = samples on the last axis ÷ rate, for numpy ``(samples,)``
    and torch ``(channels, samples)`` waveforms.
    """
    for waveform, rate in [
        (np.zeros(22_050, dtype=np.float32), 22_050),
        (torch.zeros(1, 24_000), 16_000),
        (torch.zeros(2, 8_000), 16_000),
        (np.zeros(3 * 44_100), 44_100),
    ]:
        case = f"a {tuple(waveform.shape)} {type(waveform).__module__.split('.')[0]} waveform at {rate} Hz"
        result = call(duration_seconds, waveform, rate, what="duration_seconds(waveform, rate)")
        got, expected = core.as_number(result, "duration_seconds(...)"), waveform.shape[-1] / rate
        if not np.isclose(got, expected):
            seen = dict(got=got, expected=expected, samples=waveform.shape[-1], first=len(waveform))
            verdict(Observed(seen, rate=rate, case=case), DURATION)
    core.passed("duration = samples on the last axis / sample rate, in seconds")


# Exercise: librosa.load


def _compare(waveform: np.ndarray, reference: np.ndarray) -> tuple[bool, float]:
    """(close to librosa's samples?, the factor that best maps them onto the answer's, or 1)."""
    n = min(len(waveform), len(reference))
    mine, theirs = waveform[:n].astype(np.float64), reference[:n].astype(np.float64)
    if np.allclose(mine, theirs, atol=2e-3) or np.corrcoef(mine, theirs)[0, 1] < 0.99:
        return bool(np.allclose(mine, theirs, atol=2e-3)), 1.0
    return False, float(mine @ theirs / max(theirs @ theirs, 1e-12))


# fmt: off
LIBROSA = [
    SWAPPED,
    Mistake(lambda o: isinstance(o.waveform, torch.Tensor),
            "For {file} the waveform is a torch tensor: that is torchaudio's type; librosa returns a numpy array."),
    Mistake(lambda o: not isinstance(o.waveform, np.ndarray),
            "For {file} the waveform is a {kind}, not a numpy array: return the array librosa gives back."),
    Mistake(lambda o: o.waveform.ndim != 1,
            "For {file} the waveform has shape {shape}: librosa's default mixes the channels down to one axis (samples,); keep that default."),
    Mistake(lambda o: o.rate == o.info.sample_rate and abs(len(o.waveform) - o.info.frames) <= 2,
            "For {file} you return its own rate, {rate} Hz, and its samples: librosa's default would resample it to 22050 Hz (no sr= argument)."),
    Mistake(lambda o: abs(len(o.waveform) - o.info.frames) <= 2 and o.info.sample_rate != LIBROSA_RATE,
            "For {file} the waveform has the file's {info.frames} samples but you say {rate} Hz: the rate and the samples do not belong together."),
    Mistake(lambda o: o.rate != LIBROSA_RATE and abs(len(o.waveform) - o.length) <= 2,
            "For {file} the samples are at 22050 Hz but you return a rate of {rate!r}: a constant, or another call's rate? Return the rate librosa.load gives back."),
    Mistake(lambda o: o.rate != LIBROSA_RATE,
            "For {file} the sample rate is {rate!r}; librosa.load's default is 22050 Hz: return the rate it gives back."),
    Mistake(lambda o: abs(len(o.waveform) - o.length) > 2,
            "For {file} the waveform holds {shape[0]} samples; the whole file at 22050 Hz holds about {length:.0f}: load the whole file, no offset= or duration=."),
    Mistake(lambda o: abs(o.scaled - 1) >= 0.02,
            "For {file} your waveform is librosa's scaled by {scaled:.3g}: return the samples as loaded, without normalising their loudness."),
    Mistake(lambda o: not o.close,
            "For {file} the samples differ from what librosa.load gives with its defaults: no res_type=, offset or processing."),
]
# fmt: on


@exercise(
    "librosa.load has defaults for the rate and the channels: this exercise wants them all.",
    "With its defaults librosa mixes the channels down to one and resamples to 22 050 Hz; the rate you return must be the one librosa gives back with the samples.",
    "Call librosa.load on the path with no other argument, unpack the two things it returns, and return both unchanged, the waveform first.",
)
def librosa_loading(load_with_librosa: Callable[[object], tuple], path: object = None) -> None:
    """Check ``load_with_librosa(path) -> (waveform, sample_rate)``.

    Requires, for a 16 kHz mono FLAC, a 44.1 kHz stereo WAV and ``path``: librosa's defaults, i.e.
    a 1-D numpy array of the whole file mixed to mono at 22 050 Hz, unscaled, and the rate 22 050
    returned with it, the waveform first.
    """
    import librosa

    specs = [("mono.flac", 1.5, 16_000, 1), ("stereo.wav", 1.0, 44_100, 2)]
    with _test_files(specs, path) as files:
        for file in files:
            what = f"load_with_librosa(path) on {file.name}"
            seen = _loaded(call(load_with_librosa, file, what=what), file, what)
            seen.update(what=what, length=seen.info.seconds * LIBROSA_RATE, close=False, scaled=1.0)
            if isinstance(seen.waveform, np.ndarray) and seen.waveform.ndim == 1:
                seen.close, seen.scaled = _compare(seen.waveform, librosa.load(file)[0])
            verdict(seen, LIBROSA)
    core.passed(
        "librosa's defaults: mono numpy waveforms at 22050 Hz, whatever the file's rate and channels"
    )


# Exercise: torchaudio.load

# fmt: off
TORCHAUDIO = [
    Mistake(lambda o: o.calls == 0,
            "{what} never called torchaudio.load: the waveform came from somewhere else (soundfile? librosa?); this exercise is about torchaudio.load itself."),
    SWAPPED,
    Mistake(lambda o: not isinstance(o.waveform, torch.Tensor),
            "For {file} the waveform is a {kind}; torchaudio.load returns a torch.Tensor: return it as it is."),
    Mistake(lambda o: o.rate == LIBROSA_RATE != o.info.sample_rate,
            "For {file} you return 22050 Hz: librosa's default, not the file's rate. torchaudio.load does not resample."),
    Mistake(lambda o: o.rate == SAMPLE_RATE != o.info.sample_rate,
            "For {file} you return 16000 Hz: the course's rate, not this file's. Return the rate torchaudio.load reads from the file, not a constant."),
    Mistake(lambda o: o.rate != o.info.sample_rate,
            "For {file} the sample rate is {rate!r}: return the rate torchaudio.load gives back, unchanged."),
    Mistake(lambda o: o.waveform.ndim != 2,
            "For {file} the waveform has shape {shape}: torchaudio gives (channels, samples), two axes even for mono. No squeeze, no channel picked or averaged here."),
    Mistake(lambda o: o.shape == (o.info.frames, o.info.channels) != o.shape[::-1],
            "For {file} the waveform has shape {shape}: (samples, channels), transposed. Keep torchaudio's default order: no channels_first=, no transpose."),
    Mistake(lambda o: o.shape != (o.info.channels, o.info.frames),
            "For {file} the waveform has shape {shape}; the file holds {info.channels} channel(s) × {info.frames} samples: load the whole file, no frame_offset= or num_frames=."),
    Mistake(lambda o: not np.allclose(o.waveform.detach().float().numpy(), o.reference, atol=1e-4),
            "For {file} the samples differ from the file's content: return the float waveform in [-1, 1] as loaded, without scaling or processing it."),
]
# fmt: on


MISSPELT = (
    "That is a misspelt or missing name in your code, not a missing FFmpeg: the notebook's "
    "fallback cell catches every error, this check does not. Compare each name with the "
    "documentation of torchaudio.load."
)


def _stand_in(real: Callable, fell_back: list[str]) -> Callable:
    """``torchaudio.load``, with soundfile standing in where torchcodec or FFmpeg cannot decode."""

    def load(uri: object, frame_offset: int = 0, num_frames: int = -1, *args, **kwargs):  # type: ignore[no-untyped-def]
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
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


@exercise(
    "torchaudio.load returns two things, and its waveform has a channel axis even for mono files.",
    "Return the tensor and the rate exactly as torchaudio.load gives them: no squeeze, no transpose, no constant rate (the check tries files at 8 kHz and 16 kHz).",
    "Call torchaudio.load on the path with its defaults, unpack the tensor (channels, samples) and the file's own rate, and return both. If the check reports an AttributeError or NameError, look for a misspelt name: the notebook's fallback cell catches every error.",
)
def torchaudio_loading(
    load_with_torchaudio: Callable[[object], tuple], path: object = None
) -> None:
    """Check ``load_with_torchaudio(path) -> (waveform, sample_rate)``.

    Requires, for an 8 kHz stereo WAV, a 16 kHz mono FLAC and ``path``: a call of
    ``torchaudio.load`` (watched), its ``(channels, samples)`` float tensor of the whole file,
    unscaled, and the file's own rate. A misspelt name raises here although the notebook's fallback
    cell swallows it. Where torchaudio cannot decode, soundfile stands in for it, same output.
    """
    import torchaudio

    fell_back: list[str] = []
    specs = [("stereo.wav", 0.5, 8_000, 2), ("mono.flac", 1.0, 16_000, 1)]
    load = _stand_in(torchaudio.load, fell_back)
    with (
        _test_files(specs, path) as files,
        mock.patch.object(torchaudio, "load", wraps=load) as spy,
    ):
        for file in files:
            what, before = f"load_with_torchaudio(path) on {file.name}", spy.call_count
            try:
                result = call(load_with_torchaudio, file, what=what)
            except ExerciseError as error:
                if isinstance(error.__cause__, NameError | AttributeError):
                    raise ExerciseError(f"{error}\n{MISSPELT}") from error.__cause__
                raise
            seen = _loaded(result, file, what)
            seen.update(what=what, calls=spy.call_count - before)
            seen.reference = sf.read(file, dtype="float32", always_2d=True)[0].T
            verdict(seen, TORCHAUDIO)
    note = [
        f" (torchaudio could not decode here, {why}; soundfile stood in for it)"
        for why in fell_back
    ]
    core.passed(
        f"torchaudio keeps each file's own rate and gives (channels, samples){''.join(note[:1])}"
    )


# Exercise: a window

# fmt: off
WINDOW = [
    Mistake(lambda o: not (isinstance(o.got, torch.Tensor) and o.got.ndim == 1),
            "For {case} read_window returned {kind} of shape {shape}; expected a 1-D tensor (samples,): return what helpers.audio.load_audio returns."),
    Mistake(lambda o: o.decoded > o.returned + o.rate // 100,
            "For {case} {decoded} samples were decoded to return {shape[0]}: the whole file was read, then cut. Pass the window to load_audio (start=, frames=) so that only it is decoded."),
    Mistake(lambda o: len(o.got) == round(o.seconds),
            "For {case} you returned {shape[0]} sample(s): seconds were used as samples. start= and frames= count samples at the file's rate."),
    Mistake(lambda o: o.rate != SAMPLE_RATE and abs(len(o.got) - o.seconds * SAMPLE_RATE**2 / o.rate) <= 2,
            "For {case} you returned {shape[0]} samples: the seconds were turned into samples at 16000 Hz, but this file is at {rate} Hz. Use the rate of the file itself, from its header (audio_info), not a constant."),
    Mistake(lambda o: abs(len(o.got) - o.length) > o.step,
            "For {case} you returned {shape[0]} samples; expected {length} ({seconds:g} s at 16000 Hz, after load_audio's resampling): the length in samples is counted at the file's rate."),
    Mistake(lambda o: not any(len(w) == len(o.got) and np.allclose(o.got, w, atol=1e-4) for w in _windows(o)),
            "For {case} you returned other samples than the file holds there: the window does not start where it should ({start:g} s × the file's rate, in samples)."),
]
# fmt: on


def _windows(o: Observed) -> Iterator[torch.Tensor]:
    """``load_audio``'s windows that start and last within one sample of the rounded ones."""
    first, frames = round(o.start * o.rate), round(o.seconds * o.rate)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load_audio's note about resampling
        for start, length in [(first + s, frames + f) for s in (0, -1, 1) for f in (0, -1, 1)]:
            yield load_audio(o.path, start=start, frames=length)


@exercise(
    "load_audio counts start= and frames= in samples at the file's own rate, not in seconds.",
    "Convert both times with the rate of *this* file (read its header with audio_info); the check tries a 16 kHz and an 8 kHz file, and watches how much of each file is decoded.",
    "Samples = round(seconds × the file's rate), for the start and for the length; pass both to load_audio so that only the window is decoded, and return its tensor unchanged.",
)
def audio_window(read_window: Callable[..., object]) -> None:
    """Check ``read_window(path, start_seconds, seconds)``.

    Requires, for 3-s files at 16 kHz and 8 kHz: ``load_audio``'s 1-D tensor of just that window
    (only the window decoded, soundfile watched), its start and length in samples at the file's
    own rate, within one sample of rounding (``int()`` is fine).
    """
    with tempfile.TemporaryDirectory() as folder:
        for rate in (SAMPLE_RATE, 8_000):
            path = Path(folder) / f"test-{rate}.flac"
            sf.write(path, _noise(3.0, rate), rate)
            for start_s, seconds in [(0.5, 1.0), (2.00005, 0.75)]:
                case = f"the {seconds:g} s starting at {start_s:g} s of a 3-s file at {rate} Hz"
                what = f"read_window for {case}"
                with core.record_decodes() as decodes, warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # load_audio's note about resampling
                    got = call(read_window, path, start_s, seconds, what=what)
                seen = Observed(got=got, kind=type(got).__name__, shape=tuple(np.shape(got)))
                seen.update(case=case, path=path, rate=rate, start=start_s, seconds=seconds)
                seen.update(decoded=max((d.frames for d in decodes), default=0))
                seen.update(length=round(seconds * SAMPLE_RATE), step=SAMPLE_RATE // rate)
                seen.returned = round(len(got) * rate / SAMPLE_RATE) if seen.shape else 0
                verdict(seen, WINDOW)
    core.passed("reads just the window asked for, placed in samples at each file's own rate")


# Exercise: a player for a window

# fmt: off
PLAYER = [
    Mistake(lambda o: any(len(o.shape) == 2 == len(s) and s[-1] == o.shape[-1] for s in o.given),
            "For {case} the player was given an array of shape {given[0]}: the window was cut on the first axis, which is the channel axis of a (1, samples) tensor. Cut it on the last axis."),
    Mistake(lambda o: o.player is None,
            "For {case} the function returned None: a player shown with display() inside the function cannot be checked (or reused). Return the player object; the notebook cell displays it."),
    Mistake(lambda o: o.samples is None,
            "For {case} the function returned a {kind}, not an IPython.display.Audio player: build one from the samples and their rate."),
    Mistake(lambda o: o.played_rate != o.rate,
            "For {case} the player plays at {played_rate} Hz: it would sound {sounds} than the recording. Give the player the rate of this waveform (the sample_rate argument), not a constant."),
    Mistake(lambda o: o.samples.shape[0] != 1,
            "For {case} the player has {samples.shape[0]} channels: it was given a 2-D slice whose first axis is not the channel axis. Slice the last axis (the samples)."),
    Mistake(lambda o: o.samples.shape[1] == len(o.signal),
            "For {case} the player plays the whole {whole:g}-s clip: cut the window before building the player."),
    Mistake(lambda o: o.samples.shape[1] == round(o.seconds),
            "For {case} the player plays {samples.shape[1]} sample(s): seconds were used as samples. Convert the length from seconds to samples with the rate."),
    Mistake(lambda o: abs(o.samples.shape[1] - o.seconds * o.rate) > 1,
            "For {case} the player plays {samples.shape[1]} samples; expected {seconds:g} s × {rate} Hz."),
    Mistake(lambda o: not any(_plays(o, first) for first in (o.first - 1, o.first, o.first + 1)),
            "For {case} the player plays other samples than the window: it does not start at {start:g} s (sample {first} at {rate} Hz, give or take one)."),
]
# fmt: on


def _plays(o: Observed, first: int) -> bool:
    """True when the player's samples are the signal's from ``first`` on (up to IPython's scaling)."""
    played = o.samples[0]
    wanted = o.signal[max(first, 0) : max(first, 0) + len(played)]
    scale = np.abs(wanted).max() / max(np.abs(played).max(), 1e-9)
    return len(wanted) == len(played) and np.allclose(played * scale, wanted, atol=2e-3)


def _given(init: mock.MagicMock) -> list[tuple[int, ...]]:
    """The shapes of the arrays given to the players built while ``Audio.__init__`` was watched."""
    data = [c.args[1] if len(c.args) > 1 else c.kwargs.get("data") for c in init.call_args_list]
    return [tuple(np.shape(d)) for d in data if d is not None and not isinstance(d, str | bytes)]


@exercise(
    "A player needs two things: the samples to play and the rate they were recorded at.",
    "Cut the window on the axis that holds the samples (the last one: torchaudio adds a channel axis in front), with its start and length converted from seconds with the waveform's own rate; the check tries a librosa-like (samples,) array at 22 050 Hz and a torchaudio-like (1, samples) tensor at 16 kHz.",
    "first sample = round(start × rate), number of samples = round(seconds × rate), slice the last axis from the first sample on, and give the player the same rate as the waveform.",
)
def audio_player(play_window: Callable[..., object]) -> None:
    """Check ``play_window(waveform, sample_rate, start_seconds, seconds) -> IPython.display.Audio``.

    Requires, for a numpy ``(samples,)`` array at 22 050 Hz and a torch ``(1, samples)`` tensor at
    16 kHz: a returned player whose WAV holds one channel at the waveform's rate and just the
    window (IPython scales it to the loudest), start and length within one sample of rounding.
    """
    from IPython.display import Audio

    tensor = torch.from_numpy(_noise(3.0, SAMPLE_RATE, seed=2))[None]
    for waveform, rate, kind in [
        (_noise(3.0, LIBROSA_RATE, seed=1), LIBROSA_RATE, "a (samples,) numpy array"),
        (tensor, SAMPLE_RATE, "a (1, samples) tensor"),
    ]:
        for start_s, seconds in [(0.5, 1.0), (1.75, 0.5)]:
            case = f"{seconds:g} s from {start_s:g} s of {kind} at {rate} Hz"
            seen = Observed(case=case, shape=tuple(waveform.shape), rate=rate, start=start_s)
            seen.update(seconds=seconds, first=round(start_s * rate), samples=None)
            seen.update(signal=np.asarray(waveform).reshape(-1), whole=3.0, played_rate=None)
            with core.watching(Audio, "__init__") as init:
                try:
                    what = f"play_window for {case}"
                    seen.player = call(play_window, waveform, rate, start_s, seconds, what=what)
                finally:
                    seen.given = _given(init)
                    verdict(seen, PLAYER[:1])
            seen.kind = type(seen.player).__name__
            if isinstance(seen.player, Audio):
                data, played = sf.read(
                    io.BytesIO(seen.player.data), dtype="float32", always_2d=True
                )
                seen.update(samples=data.T, played_rate=int(played))
                seen.sounds = "higher and faster" if played > rate else "lower and slower"
            verdict(seen, PLAYER)
    core.passed(
        "the player plays just the window, at the waveform's own rate, for arrays and tensors"
    )
