"""Notebook 01's checks accept the reference answers and reject the mistakes students make.

Each reference answer is the solution notebook's, condensed; each wrong answer is a plausible mistake,
and the case names the words the check's message must use to name it.
"""

from __future__ import annotations

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio
from IPython.display import Audio, display
from test_checks_core import Case, accepts, rejects, right, wrong

from helpers import checks
from helpers.audio import SAMPLE_RATE, audio_info, load_audio

# --------------------------------------------------------------------------------------------------
# Reference answers


def duration_seconds(waveform, sample_rate):
    return waveform.shape[-1] / sample_rate


def load_with_librosa(path):
    waveform, sample_rate = librosa.load(path)
    return waveform, sample_rate


def load_with_torchaudio(path):
    waveform, sample_rate = torchaudio.load(path)
    return waveform, sample_rate


def read_window(path, start_seconds, seconds):
    rate = audio_info(path).sample_rate
    return load_audio(path, start=round(start_seconds * rate), frames=round(seconds * rate))


def play_window(waveform, sample_rate, start_seconds, seconds):
    first = round(start_seconds * sample_rate)
    window = waveform[..., first : first + round(seconds * sample_rate)]
    return Audio(np.asarray(window), rate=sample_rate)


def play_window_torch(waveform, sample_rate, start_seconds, seconds):
    first = round(start_seconds * sample_rate)  # a tensor straight to the player, no numpy
    return Audio(waveform[..., first : first + round(seconds * sample_rate)], rate=sample_rate)


def read_window_int(path, start_seconds, seconds):
    rate = audio_info(path).sample_rate  # int() truncates: one sample earlier than round()
    return load_audio(path, start=int(start_seconds * rate), frames=int(seconds * rate))


def play_window_int(waveform, sample_rate, start_seconds, seconds):
    first = int(start_seconds * sample_rate)  # 1.75 s × 22050 Hz = 38587.5: one sample earlier
    return Audio(
        np.asarray(waveform[..., first : first + int(seconds * sample_rate)]), rate=sample_rate
    )


def play_window_end(waveform, sample_rate, start_seconds, seconds):
    first, end = int(start_seconds * sample_rate), round((start_seconds + seconds) * sample_rate)
    return Audio(np.asarray(waveform[..., first:end]), rate=sample_rate)  # one sample longer


# --------------------------------------------------------------------------------------------------
# Wrong answers


def librosa_file_rate(path):
    return librosa.load(path, sr=None)


def librosa_stereo(path):
    return librosa.load(path, mono=False)


def librosa_constant_rate(path):
    return librosa.load(path)[0], SAMPLE_RATE


def librosa_first_second(path):
    return librosa.load(path, duration=1.0)


def librosa_torch(path):
    waveform, rate = librosa.load(path)
    return torch.from_numpy(waveform), rate


def librosa_swapped(path):
    waveform, rate = librosa.load(path)
    return rate, waveform


def librosa_normalised(path):
    waveform, rate = librosa.load(path)
    return waveform / np.abs(waveform).max(), rate


def librosa_soundfile(path):
    data, rate = sf.read(path, dtype="float32")
    return data, rate


def torchaudio_typo(path):
    waveform, sample_rate = torchaudio.loadd(path)  # a typo the notebook's fallback cell swallows
    return waveform, sample_rate


def torchaudio_soundfile(path):
    data, rate = sf.read(path, dtype="float32", always_2d=True)
    return torch.from_numpy(data.T.copy()), rate


def torchaudio_squeezed(path):
    waveform, rate = torchaudio.load(path)
    return waveform[0], rate


def torchaudio_transposed(path):
    waveform, rate = torchaudio.load(path, channels_first=False)
    return waveform, rate


def torchaudio_constant_rate(path):
    waveform, _ = torchaudio.load(path)
    return waveform, SAMPLE_RATE


def torchaudio_librosa_rate(path):
    waveform, _ = torchaudio.load(path)
    return waveform, 22_050


def torchaudio_numpy(path):
    waveform, rate = torchaudio.load(path)
    return waveform.numpy(), rate


def torchaudio_scaled(path):
    waveform, rate = torchaudio.load(path)
    return 2 * waveform, rate


def torchaudio_first_half_second(path):
    return torchaudio.load(path, num_frames=4_000)


def window_in_seconds(path, start_seconds, seconds):
    rate = audio_info(path).sample_rate
    return load_audio(path, start=round(start_seconds * rate), frames=round(seconds))


def window_never_moves(path, start_seconds, seconds):
    return load_audio(path, frames=round(seconds * audio_info(path).sample_rate))


def window_constant_rate(path, start_seconds, seconds):
    return load_audio(
        path, start=round(start_seconds * SAMPLE_RATE), frames=round(seconds * SAMPLE_RATE)
    )


def window_sliced_from_whole_file(path, start_seconds, seconds):
    whole = load_audio(path)  # at 16 kHz
    return whole[
        round(start_seconds * SAMPLE_RATE) : round((start_seconds + seconds) * SAMPLE_RATE)
    ]


def window_numpy(path, start_seconds, seconds):
    return read_window(path, start_seconds, seconds).numpy()


def play_constant_rate(waveform, sample_rate, start_seconds, seconds):
    first = round(start_seconds * sample_rate)
    return Audio(waveform[..., first : first + round(seconds * sample_rate)], rate=SAMPLE_RATE)


def play_first_axis(waveform, sample_rate, start_seconds, seconds):
    first = round(start_seconds * sample_rate)
    return Audio(waveform[first : first + round(seconds * sample_rate)], rate=sample_rate)


def play_whole(waveform, sample_rate, start_seconds, seconds):
    return Audio(waveform, rate=sample_rate)


def play_seconds_as_samples(waveform, sample_rate, start_seconds, seconds):
    first = round(start_seconds * sample_rate)
    return Audio(waveform[..., first : first + round(seconds)], rate=sample_rate)


def play_from_start(waveform, sample_rate, start_seconds, seconds):
    return Audio(waveform[..., : round(seconds * sample_rate)], rate=sample_rate)


def play_displayed(waveform, sample_rate, start_seconds, seconds):
    first = round(start_seconds * sample_rate)
    window = waveform[..., first : first + round(seconds * sample_rate)]
    display(Audio(window, rate=sample_rate))


CASES: list[Case] = [
    right("duration", "reference", lambda: (duration_seconds,)),
    wrong("duration", "samples", lambda: (lambda w, r: w.shape[-1],), "number of samples"),
    wrong("duration", "len", lambda: (lambda w, r: len(w) / r,), "first axis"),
    wrong(
        "duration", "milliseconds", lambda: (lambda w, r: 1000 * w.shape[-1] / r,), "milliseconds"
    ),
    wrong(
        "duration", "floor division", lambda: (lambda w, r: w.shape[-1] // r,), "integer division"
    ),
    wrong("duration", "upside down", lambda: (lambda w, r: r / w.shape[-1],), "upside down"),
    wrong("duration", "a tuple", lambda: (lambda w, r: (w.shape[-1], r),), "one number"),
    right("librosa_loading", "reference", lambda: (load_with_librosa,)),
    wrong("librosa_loading", "sr=None", lambda: (librosa_file_rate,), "its own rate"),
    wrong("librosa_loading", "mono=False", lambda: (librosa_stereo,), "mixes the channels"),
    wrong("librosa_loading", "constant rate", lambda: (librosa_constant_rate,), "a constant"),
    wrong("librosa_loading", "duration=", lambda: (librosa_first_second,), "whole file"),
    wrong("librosa_loading", "torch tensor", lambda: (librosa_torch,), "torchaudio's type"),
    wrong("librosa_loading", "pair swapped", lambda: (librosa_swapped,), "wrong order"),
    wrong("librosa_loading", "normalised", lambda: (librosa_normalised,), "scaled by"),
    wrong("librosa_loading", "soundfile", lambda: (librosa_soundfile,), "its own rate"),
    right("torchaudio_loading", "reference", lambda: (load_with_torchaudio,)),
    wrong("torchaudio_loading", "typo", lambda: (torchaudio_typo,), "loadd.*not a missing FFmpeg"),
    wrong(
        "torchaudio_loading",
        "soundfile",
        lambda: (torchaudio_soundfile,),
        "never called torchaudio.load",
    ),
    wrong(
        "torchaudio_loading",
        "librosa",
        lambda: (librosa_file_rate,),
        "never called torchaudio.load",
    ),
    wrong(
        "torchaudio_loading", "squeezed", lambda: (torchaudio_squeezed,), r"\(channels, samples\)"
    ),
    wrong(
        "torchaudio_loading", "channels_first=False", lambda: (torchaudio_transposed,), "transposed"
    ),
    wrong(
        "torchaudio_loading", "constant rate", lambda: (torchaudio_constant_rate,), "course's rate"
    ),
    wrong(
        "torchaudio_loading",
        "librosa rate",
        lambda: (torchaudio_librosa_rate,),
        "librosa's default",
    ),
    wrong("torchaudio_loading", "numpy", lambda: (torchaudio_numpy,), "torch.Tensor"),
    wrong("torchaudio_loading", "scaled", lambda: (torchaudio_scaled,), "samples differ"),
    wrong(
        "torchaudio_loading", "num_frames", lambda: (torchaudio_first_half_second,), "whole file"
    ),
    right("audio_window", "reference", lambda: (read_window,)),
    right("audio_window", "int() instead of round()", lambda: (read_window_int,)),
    wrong(
        "audio_window",
        "seconds as samples",
        lambda: (window_in_seconds,),
        "seconds were used as samples",
    ),
    wrong("audio_window", "never moves", lambda: (window_never_moves,), "does not start where"),
    wrong(
        "audio_window", "constant rate", lambda: (window_constant_rate,), "this file is at 8000 Hz"
    ),
    wrong(
        "audio_window",
        "whole file sliced",
        lambda: (window_sliced_from_whole_file,),
        "whole file was read",
    ),
    wrong("audio_window", "numpy", lambda: (window_numpy,), "1-D tensor"),
    right("audio_player", "reference", lambda: (play_window,)),
    right("audio_player", "a tensor given to the player", lambda: (play_window_torch,)),
    right("audio_player", "int() instead of round()", lambda: (play_window_int,)),
    right("audio_player", "end rounded on its own", lambda: (play_window_end,)),
    wrong("audio_player", "constant rate", lambda: (play_constant_rate,), "plays at 16000 Hz"),
    wrong("audio_player", "first axis", lambda: (play_first_axis,), "channel axis"),
    wrong("audio_player", "whole clip", lambda: (play_whole,), "whole 3-s clip"),
    wrong(
        "audio_player",
        "seconds as samples",
        lambda: (play_seconds_as_samples,),
        "seconds were used as samples",
    ),
    wrong("audio_player", "from the start", lambda: (play_from_start,), "does not start at 0.5 s"),
    wrong("audio_player", "displayed", lambda: (play_displayed,), "returned None"),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    accepts(case, capsys)


@pytest.mark.parametrize("case", [c for c in CASES if c.match is not None], ids=str)
def test_rejects(case: Case) -> None:
    rejects(case)


def test_loading_checks_also_try_the_notebooks_file(tmp_path, capsys) -> None:
    path = tmp_path / "course.flac"
    sf.write(path, np.zeros(8_000, np.float32) + 0.1, 16_000)
    checks.librosa_loading(load_with_librosa, path)
    checks.torchaudio_loading(load_with_torchaudio, path)
    assert capsys.readouterr().out.count("✓") == 2


def test_torchaudio_check_stands_in_when_torchaudio_cannot_decode(monkeypatch, capsys) -> None:
    def broken(*args, **kwargs):
        raise RuntimeError("Could not load libtorchcodec")

    monkeypatch.setattr(torchaudio, "load", broken)
    checks.torchaudio_loading(load_with_torchaudio)
    out = capsys.readouterr().out
    assert out.startswith("✓") and "soundfile stood in" in out and "libtorchcodec" in out
    assert torchaudio.load is broken  # restored


def test_audio_window_restores_soundfile() -> None:
    read, seek, close = sf.SoundFile.read, sf.SoundFile.seek, sf.SoundFile.close
    checks.audio_window(read_window)
    with pytest.raises(checks.ExerciseError):
        checks.audio_window(window_sliced_from_whole_file)
    assert (sf.SoundFile.read, sf.SoundFile.seek, sf.SoundFile.close) == (read, seek, close)
