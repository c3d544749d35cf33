"""Checks for notebook 01, loading audio: duration, ``librosa.load``, ``torchaudio.load``, a window.

The loading checks take the student's *function* and call it on small files they write themselves (a
16 kHz mono FLAC, a 44.1 kHz or 8 kHz stereo WAV), so that a constant rate, a dropped channel or a
window that never moves shows, whatever file the notebook happens to use.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch

from ..audio import SAMPLE_RATE, audio_info, load_audio
from .core import (
    ExerciseError,
    as_number,
    call,
    check,
    diagnose,
    expect,
    fail,
    passed,
    record_decodes,
)

__all__ = ["audio_player", "audio_window", "duration", "librosa_loading", "torchaudio_loading"]

LIBROSA_RATE = 22_050
"""librosa.load's default rate (Hz)."""


def _noise(seconds: float, rate: int, channels: int = 1, seed: int = 0) -> np.ndarray:
    """Quiet noise with a slow sine on top, ``(frames,)`` or ``(frames, channels)``, in [-0.5, 0.5]."""
    rng = np.random.default_rng(seed)
    frames = round(seconds * rate)
    t = np.arange(frames) / rate
    data = 0.3 * np.sin(2 * np.pi * 220 * t)[:, None] + 0.1 * rng.uniform(-1, 1, (frames, channels))
    data[:, 1:] *= 0.5  # the second channel differs from the first
    return (data[:, 0] if channels == 1 else data).astype(np.float32)


@contextmanager
def _test_files(specs: list[tuple[str, float, int, int]]) -> Iterator[list[Path]]:
    """Write ``(name, seconds, rate, channels)`` test files into a temporary folder."""
    with tempfile.TemporaryDirectory() as folder:
        paths = []
        for number, (name, seconds, rate, channels) in enumerate(specs):
            path = Path(folder) / name
            sf.write(path, _noise(seconds, rate, channels, seed=number), rate, subtype="PCM_16")
            paths.append(path)
        yield paths


def _describe(path: Path) -> str:
    info = audio_info(path)
    layout = "mono" if info.channels == 1 else f"{info.channels}-channel"
    return f"a {info.seconds:g}-s {layout} file at {info.sample_rate} Hz"


def _pair(result: object, what: str) -> tuple[Any, Any]:
    expect(
        isinstance(result, tuple | list) and len(result) == 2,
        f"{what} returned {type(result).__name__}; expected a pair (waveform, sample_rate).",
        "return two things, the waveform first and the sample rate second.",
    )
    waveform, rate = result  # type: ignore[misc]
    expect(
        not (np.ndim(waveform) == 0 and np.ndim(rate) >= 1),
        f"{what} returned (a number, an array): the pair is in the wrong order.",
        "the waveform comes first, then the sample rate.",
    )
    return waveform, rate


# --------------------------------------------------------------------------------------------------
# Exercise: duration


@check(
    "A duration is a number of samples divided by how many samples there are per second.",
    "The waveform can be (samples,) or (channels, samples): which axis holds the samples in both?",
    "Take the length of the last axis (not len(), which counts the first axis), divide it by the "
    "rate in Hz with true division, and return seconds.",
)
def duration(duration_seconds: Callable[[object, int], float]) -> None:
    """Check ``duration_seconds(waveform, sample_rate)``: samples on the last axis ÷ rate, in seconds."""
    cases = [
        (np.zeros(22_050, dtype=np.float32), 22_050, 1.0, "a (22050,) numpy waveform at 22050 Hz"),
        (torch.zeros(1, 24_000), 16_000, 1.5, "a (1, 24000) torch waveform at 16000 Hz"),
        (torch.zeros(2, 8_000), 16_000, 0.5, "a (2, 8000) stereo torch waveform at 16000 Hz"),
        (np.zeros(3 * 44_100), 44_100, 3.0, "a (132300,) numpy waveform at 44100 Hz"),
    ]
    for waveform, rate, expected, described in cases:
        result = call(duration_seconds, waveform, rate, what="duration_seconds(waveform, rate)")
        got = as_number(result, "duration_seconds(...)")
        samples = waveform.shape[-1]
        if np.isclose(got, expected):
            continue
        mistakes = [
            (samples, "that is the number of samples", "divide by the sample rate to get seconds."),
            (
                len(waveform) / rate,
                "len() counted the first axis, the channels",
                "the samples are on the last axis of the waveform.",
            ),
            (1000 * expected, "milliseconds, not seconds", "return seconds."),
            (
                samples // rate,
                "integer division dropped the fraction",
                "use true division (/), not floor division (//).",
            ),
            (1 / expected, "rate ÷ samples, upside down", "samples ÷ rate."),
        ]
        for value, problem, where in mistakes:
            expect(
                not np.isclose(got, value),
                f"For {described} you returned {got:g}: {problem}.",
                where,
            )
        fail(
            f"For {described} you returned {got:g}; expected {expected:g} s.",
            "duration (s) = number of samples on the last axis / sample rate (Hz).",
        )
    passed("duration = samples on the last axis / sample rate, in seconds")


# --------------------------------------------------------------------------------------------------
# Exercise: librosa.load


@check(
    "librosa.load has defaults for the rate and the channels: this exercise wants them all.",
    "With its defaults librosa mixes the channels down to one and resamples to 22 050 Hz; the "
    "rate you return must be the one librosa gives back with the samples.",
    "Call librosa.load on the path with no other argument, unpack the two things it returns, and "
    "return both unchanged, the waveform first.",
)
def librosa_loading(load_with_librosa: Callable[[object], tuple], path: object = None) -> None:
    """Check ``load_with_librosa(path)``: librosa's defaults, a mono numpy array at 22 050 Hz.

    Tried on a 16 kHz mono FLAC and a 44.1 kHz stereo WAV written for the check, then on ``path``.
    """
    import librosa

    specs = [("mono.flac", 1.5, 16_000, 1), ("stereo.wav", 1.0, 44_100, 2)]
    with _test_files(specs) as files:
        for file in [*files, *([Path(path)] if path is not None else [])]:
            described = _describe(file)
            what = f"load_with_librosa(path) on {described}"
            waveform, rate = _pair(call(load_with_librosa, file, what=what), what)
            reference, _ = librosa.load(file)
            _check_librosa_answer(waveform, rate, reference, audio_info(file), described)
    passed(
        f"librosa's defaults: mono numpy waveforms at {LIBROSA_RATE} Hz, whatever the file's "
        "rate and channels"
    )


def _check_librosa_answer(
    waveform: object, rate: object, reference: np.ndarray, info: Any, described: str
) -> None:
    expect(
        not isinstance(waveform, torch.Tensor),
        f"For {described} the waveform is a torch tensor: that is torchaudio's type.",
        "this exercise uses librosa, which returns a numpy array.",
    )
    expect(
        isinstance(waveform, np.ndarray),
        f"For {described} the waveform is a {type(waveform).__name__}, not a numpy array.",
        "return the array librosa gives back.",
    )
    assert isinstance(waveform, np.ndarray)
    expect(
        waveform.ndim == 1,
        f"For {described} the waveform has shape {waveform.shape}: librosa's default mixes the "
        "channels down to one axis (samples,).",
        "keep librosa's default for the channels (mono).",
    )
    file_rate_samples = abs(len(waveform) - info.frames) <= 2
    expect(
        not (rate == info.sample_rate and file_rate_samples),
        f"For {described} you return its own rate, {rate} Hz, and its samples: librosa's default "
        "would resample it.",
        f"this exercise uses librosa's default rate ({LIBROSA_RATE} Hz): no sr= argument.",
    )
    expect(
        not file_rate_samples or info.sample_rate == LIBROSA_RATE,
        f"For {described} the waveform has the file's {info.frames} samples but you say "
        f"{rate} Hz: the rate and the samples do not belong together.",
        "return the rate librosa gives back together with the samples.",
    )
    expected = info.seconds * LIBROSA_RATE
    right_length = abs(len(waveform) - expected) <= 2
    expect(
        not (right_length and rate != LIBROSA_RATE),
        f"For {described} the samples are at {LIBROSA_RATE} Hz but you return a rate of {rate!r}: "
        "a constant, or another call's rate?",
        "return the rate librosa.load gives back, unchanged.",
    )
    expect(
        rate == LIBROSA_RATE,
        f"For {described} the sample rate is {rate!r}; librosa.load's default is {LIBROSA_RATE} Hz.",
        "use librosa's default rate and return the rate it gives back.",
    )
    expect(
        right_length,
        f"For {described} the waveform holds {len(waveform)} samples; the whole file at "
        f"{LIBROSA_RATE} Hz holds about {expected:.0f}.",
        "load the whole file: no offset= or duration=.",
    )
    _check_librosa_samples(waveform, reference, described)


def _check_librosa_samples(waveform: np.ndarray, reference: np.ndarray, described: str) -> None:
    n = min(len(waveform), len(reference))
    mine, theirs = waveform[:n].astype(np.float64), reference[:n].astype(np.float64)
    if not np.allclose(mine, theirs, atol=2e-3):
        scale = float(mine @ theirs / max(theirs @ theirs, 1e-12))
        expect(
            abs(scale - 1) < 0.02 or np.corrcoef(mine, theirs)[0, 1] < 0.99,
            f"For {described} your waveform is librosa's scaled by {scale:.3g}.",
            "return the samples as loaded, without normalising their loudness.",
        )
        fail(
            f"For {described} the samples differ from what librosa.load gives with its defaults.",
            "no resampling option (res_type=), offset or processing: return librosa's output.",
        )


# --------------------------------------------------------------------------------------------------
# Exercise: torchaudio.load


def _soundfile_load(
    uri: object,
    frame_offset: int = 0,
    num_frames: int = -1,
    normalize: bool = True,
    channels_first: bool = True,
    format: str | None = None,
    buffer_size: int = 4096,
    backend: str | None = None,
) -> tuple[torch.Tensor, int]:
    """What ``torchaudio.load`` returns, decoded by soundfile (when torchcodec/FFmpeg are missing)."""
    data, rate = sf.read(
        os.fspath(uri),  # type: ignore[arg-type]
        start=frame_offset,
        frames=num_frames,
        dtype="float32",
        always_2d=True,
    )
    waveform = torch.from_numpy(np.ascontiguousarray(data.T if channels_first else data))
    return waveform, rate


@contextmanager
def _spy_torchaudio_load() -> Iterator[dict[str, Any]]:
    """Replace ``torchaudio.load`` by a spy that counts calls and stands in when it cannot decode."""
    import torchaudio

    seen: dict[str, Any] = {"calls": 0, "stand_in": None}
    real = torchaudio.load

    def spy(uri: Any, *args: Any, **kwargs: Any) -> tuple[torch.Tensor, int]:
        seen["calls"] += 1
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return real(uri, *args, **kwargs)
        except TypeError:
            raise
        except Exception as error:  # torchcodec or FFmpeg missing or broken on this machine
            seen["stand_in"] = f"{type(error).__name__}: {error}"
            return _soundfile_load(uri, *args, **kwargs)

    torchaudio.load = spy
    try:
        yield seen
    finally:
        torchaudio.load = real


@check(
    "torchaudio.load returns two things, and its waveform has a channel axis even for mono files.",
    "Return the tensor and the rate exactly as torchaudio.load gives them: no squeeze, no "
    "transpose, no constant rate (the check tries files at 8 kHz and 16 kHz).",
    "Call torchaudio.load on the path with its defaults, unpack the tensor (channels, samples) and "
    "the file's own rate, and return both. If the check reports an AttributeError or NameError, "
    "look for a misspelt name: the notebook's fallback cell catches every error.",
)
def torchaudio_loading(
    load_with_torchaudio: Callable[[object], tuple], path: object = None
) -> None:
    """Check ``load_with_torchaudio(path)``: ``torchaudio.load``'s ``(channels, samples)`` tensor and rate.

    The check calls the function itself on an 8 kHz stereo WAV and a 16 kHz mono FLAC (then on
    ``path``), with ``torchaudio.load`` watched: a misspelt name raises here even though the notebook's
    fallback cell swallows it, and an answer that never calls ``torchaudio.load`` is caught. Where
    torchaudio cannot decode (torchcodec or FFmpeg missing), soundfile stands in for it, same output.
    """
    specs = [("stereo.wav", 0.5, 8_000, 2), ("mono.flac", 1.0, 16_000, 1)]
    with _test_files(specs) as files, _spy_torchaudio_load() as seen:
        for file in [*files, *([Path(path)] if path is not None else [])]:
            described = _describe(file)
            what = f"load_with_torchaudio(path) on {described}"
            calls = seen["calls"]
            try:
                result = load_with_torchaudio(file)
            except NotImplementedError:
                raise
            except (NameError, AttributeError) as error:
                raise ExerciseError(
                    f"{what} raised {type(error).__name__}: {error}.\nThat is a misspelt or "
                    "missing name in your code, not a missing FFmpeg: the notebook's fallback cell "
                    "catches every error, this check does not.\nHint: compare each name in your "
                    "function with the documentation of torchaudio.load."
                ) from error
            except Exception as error:  # the student's code may raise anything
                raise diagnose(error, what) from error
            expect(
                seen["calls"] > calls,
                f"{what} never called torchaudio.load: the waveform came from somewhere else "
                "(soundfile? librosa?).",
                "this exercise is about torchaudio.load itself.",
            )
            waveform, rate = _pair(result, what)
            _check_torchaudio_answer(waveform, rate, file, described)
    note = (
        f" (torchaudio could not decode here, {seen['stand_in']}; soundfile stood in for it)"
        if seen["stand_in"]
        else ""
    )
    passed(f"torchaudio keeps each file's own rate and gives (channels, samples){note}")


def _check_torchaudio_answer(waveform: object, rate: object, file: Path, described: str) -> None:
    info = audio_info(file)
    expect(
        isinstance(waveform, torch.Tensor),
        f"For {described} the waveform is a {type(waveform).__name__}; torchaudio.load returns a "
        "torch.Tensor.",
        "return torchaudio's tensor as it is.",
    )
    assert isinstance(waveform, torch.Tensor)
    expect(
        rate != LIBROSA_RATE or info.sample_rate == LIBROSA_RATE,
        f"For {described} you return {LIBROSA_RATE} Hz: librosa's default, not the file's rate.",
        "torchaudio.load does not resample: return the rate it gives back.",
    )
    expect(
        not (rate == SAMPLE_RATE and info.sample_rate != SAMPLE_RATE),
        f"For {described} you return {SAMPLE_RATE} Hz: the course's rate, not this file's.",
        "return the rate torchaudio.load reads from the file, not a constant.",
    )
    expect(
        rate == info.sample_rate,
        f"For {described} the sample rate is {rate!r}.",
        "return the rate torchaudio.load gives back, unchanged.",
    )
    shape = tuple(waveform.shape)
    expect(
        waveform.ndim == 2,
        f"For {described} the waveform has shape {shape}: torchaudio gives (channels, samples), "
        "two axes even for mono.",
        "return torchaudio's tensor as it is: no squeeze, no channel picked or averaged here.",
    )
    expect(
        shape != (info.frames, info.channels) or info.frames == info.channels,
        f"For {described} the waveform has shape {shape}: (samples, channels), transposed.",
        "torchaudio's default order is (channels, samples) (soundfile's is the transpose): keep "
        "the default, no channels_first= and no transpose.",
    )
    expect(
        shape == (info.channels, info.frames),
        f"For {described} the waveform has shape {shape}; the file holds {info.channels} "
        f"channel(s) × {info.frames} samples.",
        "load the whole file at its own rate: no frame_offset= or num_frames=.",
    )
    reference, _ = sf.read(file, dtype="float32", always_2d=True)
    expect(
        np.allclose(waveform.detach().cpu().float().numpy(), reference.T, atol=1e-4),
        f"For {described} the samples differ from the file's content.",
        "return the float waveform in [-1, 1] as loaded, without scaling or processing it.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: a window


@check(
    "load_audio counts start= and frames= in samples at the file's own rate, not in seconds.",
    "Convert both times with the rate of *this* file (read its header with audio_info); the check "
    "tries a 16 kHz and an 8 kHz file, and watches how much of each file is decoded.",
    "Samples = round(seconds × the file's rate), for the start and for the length; pass both to "
    "load_audio so that only the window is decoded, and return its tensor unchanged.",
)
def audio_window(read_window: Callable[..., object]) -> None:
    """Check ``read_window(path, start_seconds, seconds)``: just that window, as a 1-D tensor.

    Tried on 3-s files at 16 kHz and 8 kHz written for the check (``load_audio`` resamples the second
    to 16 kHz), with soundfile watched, so that decoding the whole file to slice it is caught.
    """
    with tempfile.TemporaryDirectory() as folder:
        for rate in (SAMPLE_RATE, 8_000):
            path = Path(folder) / f"test-{rate}.flac"
            sf.write(path, _noise(3.0, rate), rate)
            for start_s, seconds in [(0.5, 1.0), (2.0, 0.75)]:
                _check_window(read_window, path, rate, start_s, seconds)
    passed("reads just the window asked for, placed in samples at each file's own rate")


def _check_window(
    read_window: Callable[..., object], path: Path, rate: int, start_s: float, seconds: float
) -> None:
    start, frames = round(start_s * rate), round(seconds * rate)
    case = f"the {seconds:g} s starting at {start_s:g} s of a 3-s file at {rate} Hz"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # load_audio's note about resampling the 8 kHz file
        with record_decodes() as decodes:
            got = call(read_window, path, start_s, seconds, what=f"read_window for {case}")
        wanted = load_audio(path, start=start, frames=frames)
    expect(
        isinstance(got, torch.Tensor) and got.ndim == 1,
        f"For {case} read_window returned {type(got).__name__} of shape {tuple(np.shape(got))}; "
        "expected a 1-D tensor (samples,).",
        "return what helpers.audio.load_audio returns.",
    )
    assert isinstance(got, torch.Tensor)
    decoded = max((d.frames for d in decodes), default=0)
    returned = round(len(got) * rate / SAMPLE_RATE)  # in samples at the file's rate
    expect(
        decoded <= returned + rate // 100,
        f"For {case} {decoded} samples were decoded to return {len(got)}: the whole file was read, "
        "then cut.",
        "pass the window to load_audio (start=, frames=) so that only it is decoded.",
    )
    out_rate = SAMPLE_RATE  # load_audio resamples to 16 kHz
    expect(
        len(got) != round(seconds),
        f"For {case} you returned {len(got)} sample(s): seconds were used as samples.",
        "start= and frames= count samples: multiply the seconds by the file's sample rate.",
    )
    if rate != SAMPLE_RATE and len(got) == round(seconds * SAMPLE_RATE * SAMPLE_RATE / rate):
        fail(
            f"For {case} you returned {len(got) / out_rate:g} s of audio: the seconds were turned "
            f"into samples at {SAMPLE_RATE} Hz, but this file is at {rate} Hz.",
            "use the rate of the file itself, from its header (audio_info), not a constant.",
        )
    expect(
        len(got) == len(wanted),
        f"For {case} you returned {len(got)} samples; expected {len(wanted)} "
        f"({seconds:g} s at {out_rate} Hz, after load_audio's resampling).",
        "frames = round(seconds × the file's rate), counted at the file's rate.",
    )
    expect(
        np.allclose(got.numpy(), wanted.numpy(), atol=1e-4),
        f"For {case} you returned other samples than the file holds there: the window does not "
        "start where it should.",
        "start = round(start_seconds × the file's rate), in samples.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: a player for a window


def _played(player: object, case: str) -> tuple[np.ndarray, int]:
    """The samples ``(channels, samples)`` and the rate an ``IPython.display.Audio`` will play."""
    import io

    from IPython.display import Audio

    expect(
        player is not None,
        f"For {case} the function returned None: a player shown with display() inside the "
        "function cannot be checked (or reused).",
        "return the player object; the notebook cell displays it.",
    )
    expect(
        isinstance(player, Audio),
        f"For {case} the function returned a {type(player).__name__}, not an IPython.display.Audio "
        "player.",
        "build the player with IPython.display.Audio, giving it the samples and their rate.",
    )
    data, rate = sf.read(io.BytesIO(player.data), dtype="float32", always_2d=True)
    return data.T, int(rate)


@contextmanager
def _spy_audio() -> Iterator[list[tuple[int, ...]]]:
    """Record the shape of the data given to every ``IPython.display.Audio`` built in the block."""
    from IPython.display import Audio

    shapes: list[tuple[int, ...]] = []
    original = Audio.__init__

    def spy(self: Audio, data: Any = None, *args: Any, **kwargs: Any) -> None:
        if data is not None and not isinstance(data, str | bytes):
            shapes.append(tuple(np.shape(data)))
        original(self, data, *args, **kwargs)

    Audio.__init__ = spy  # type: ignore[method-assign]
    try:
        yield shapes
    finally:
        Audio.__init__ = original  # type: ignore[method-assign]


def _check_sliced_axis(given: list[tuple[int, ...]], shape: tuple[int, ...], case: str) -> None:
    for data_shape in given:
        expect(
            not (len(shape) == 2 and len(data_shape) == 2 and data_shape[-1] == shape[-1]),
            f"For {case} the player was given an array of shape {data_shape}: the window was cut "
            "on the first axis, which is the channel axis of a (1, samples) tensor.",
            "cut the window on the last axis, the one that holds the samples.",
        )


@check(
    "A player needs two things: the samples to play and the rate they were recorded at.",
    "Cut the window on the axis that holds the samples (the last one: torchaudio adds a channel "
    "axis in front), with its start and length converted from seconds with the waveform's own rate; "
    "the check tries a librosa-like (samples,) array at 22 050 Hz and a torchaudio-like "
    "(1, samples) tensor at 16 kHz.",
    "first sample = round(start × rate), number of samples = round(seconds × rate), slice the last "
    "axis from the first sample on, and give the player the same rate as the waveform.",
)
def audio_player(play_window: Callable[..., object]) -> None:
    """Check ``play_window(waveform, sample_rate, start_seconds, seconds)``: an ``Audio`` player.

    The player's WAV bytes are decoded: their rate must be the waveform's and their samples (IPython
    scales them to the loudest) the window's, for a numpy ``(samples,)`` array at 22 050 Hz and a
    torch ``(1, samples)`` tensor at 16 kHz.
    """
    signals = [
        (_noise(3.0, LIBROSA_RATE, seed=1), LIBROSA_RATE, "a (samples,) numpy array"),
        (
            torch.from_numpy(_noise(3.0, SAMPLE_RATE, seed=2))[None],
            SAMPLE_RATE,
            "a (1, samples) tensor",
        ),
    ]
    for waveform, rate, kind in signals:
        for start_s, seconds in [(0.5, 1.0), (1.75, 0.5)]:
            case = f"{seconds:g} s from {start_s:g} s of {kind} at {rate} Hz"
            with _spy_audio() as given:
                try:
                    player = call(
                        play_window,
                        waveform,
                        rate,
                        start_s,
                        seconds,
                        what=f"play_window for {case}",
                    )
                except ExerciseError:
                    _check_sliced_axis(given, waveform.shape, case)
                    raise
            _check_sliced_axis(given, waveform.shape, case)
            samples, played_rate = _played(player, case)
            _check_played(
                samples, played_rate, np.asarray(waveform).reshape(-1), rate, start_s, seconds, case
            )
    passed("the player plays just the window, at the waveform's own rate, for arrays and tensors")


def _check_played(
    got: np.ndarray,
    got_rate: int,
    signal: np.ndarray,
    rate: int,
    start_s: float,
    seconds: float,
    case: str,
) -> None:
    expect(
        got_rate == rate,
        f"For {case} the player plays at {got_rate} Hz: it would sound "
        f"{'higher and faster' if got_rate > rate else 'lower and slower'} than the recording.",
        "give the player the rate of this waveform (the function's sample_rate argument), not a constant.",
    )
    first, n = round(start_s * rate), round(seconds * rate)
    expect(
        got.shape[0] == 1,
        f"For {case} the player has {got.shape[0]} channels: it was given a 2-D slice whose first "
        "axis is not the channel axis.",
        "slice the last axis (the samples), and keep the channel axis in front or drop it.",
    )
    played = got[0]
    if len(played) == len(signal):
        fail(
            f"For {case} the player plays the whole {len(signal) / rate:g}-s clip.",
            "cut the window before building the player.",
        )
    expect(
        len(played) != round(seconds),
        f"For {case} the player plays {len(played)} sample(s): seconds were used as samples.",
        "convert the length from seconds to samples with the rate.",
    )
    expect(
        len(played) == n,
        f"For {case} the player plays {len(played)} samples ({len(played) / rate:.3f} s); expected {n}.",
        "number of samples = seconds × rate, for the window's length.",
    )
    wanted = signal[first : first + n]
    scale = np.abs(wanted).max() / max(
        np.abs(played).max(), 1e-9
    )  # IPython normalises the loudness
    expect(
        np.allclose(played * scale, wanted, atol=2e-3),
        f"For {case} the player plays other samples than the window: it does not start at "
        f"{start_s:g} s.",
        "the first sample of the window is the start in seconds times the rate.",
    )
