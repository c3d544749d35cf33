"""helpers.audio: headers, whole files and windows, mono downmix, resampling, padding, bad files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio
from conftest import tone

from helpers.audio import SAMPLE_RATE, AudioError, AudioInfo, audio_info, fit_length, load_audio

pytestmark = pytest.mark.usefixtures("one_thread")


def first_flac(corpus: Path) -> Path:
    return sorted(corpus.glob("*/*.flac"))[1]  # [0] is the corpus's short clip


def test_audio_info_reads_the_header(corpus: Path) -> None:
    path = first_flac(corpus)
    info = audio_info(path)
    reference = sf.info(path)
    assert isinstance(info, AudioInfo)
    assert (info.frames, info.sample_rate, info.channels) == (reference.frames, 16_000, 1)
    assert info.seconds == pytest.approx(reference.frames / 16_000)
    assert 2.0 <= info.seconds <= 4.0


def test_load_whole_file_is_the_stored_samples(corpus: Path) -> None:
    path = first_flac(corpus)
    stored, _ = sf.read(path, dtype="float32")
    waveform = load_audio(path)
    assert waveform.dtype == torch.float32 and waveform.ndim == 1
    assert torch.equal(waveform, torch.from_numpy(stored))
    assert waveform.abs().max() <= 1.0


@pytest.mark.parametrize(("start", "frames"), [(0, 48_000), (12_345, 16_000), (1, 1), (20_000, -1)])
def test_window_is_the_slice_of_the_whole_file(corpus: Path, start: int, frames: int) -> None:
    path = first_flac(corpus)
    whole = load_audio(path)
    window = load_audio(path, start=start, frames=frames)
    stop = None if frames < 0 else start + frames
    assert torch.equal(window, whole[start:stop])


def test_window_past_the_end_is_cut_and_beyond_it_is_an_error(corpus: Path) -> None:
    path = first_flac(corpus)
    n = audio_info(path).frames
    assert load_audio(path, start=n - 100, frames=48_000).shape == (100,)
    with pytest.raises(AudioError, match="no audio in the window") as error:
        load_audio(path, start=n + 10, frames=100)
    assert str(path) in str(error.value)


def test_stereo_is_averaged_to_mono(tmp_path: Path, write_audio) -> None:
    left, right = tone(1.0, 16_000, 440), tone(1.0, 16_000, 1000, amplitude=0.25)
    stored = write_audio(tmp_path / "stereo.flac", np.stack([left, right], axis=1))
    assert audio_info(tmp_path / "stereo.flac").channels == 2
    waveform = load_audio(tmp_path / "stereo.flac")
    assert waveform.shape == (16_000,)
    np.testing.assert_allclose(waveform.numpy(), stored.mean(axis=1), atol=1e-7)
    window = load_audio(tmp_path / "stereo.flac", start=100, frames=50)
    np.testing.assert_allclose(window.numpy(), stored[100:150].mean(axis=1), atol=1e-7)


def test_44k_file_is_resampled_and_warned_once(
    tmp_path: Path, write_audio, reset_resample_warnings
) -> None:
    for name in ("a.flac", "b.flac"):
        write_audio(tmp_path / name, tone(1.0, 44_100, 440), rate=44_100)
    with pytest.warns(UserWarning, match="44100 Hz: resampling to 16000 Hz") as record:
        first = load_audio(tmp_path / "a.flac")
    assert len(record) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second 44.1 kHz file: no second warning
        second = load_audio(tmp_path / "b.flac")
        native = load_audio(tmp_path / "a.flac", sample_rate=None)  # own rate: no resampling
    assert first.shape == second.shape == (SAMPLE_RATE,)
    assert native.shape == (44_100,)
    stored, _ = sf.read(tmp_path / "a.flac", dtype="float32")
    reference = torchaudio.functional.resample(torch.from_numpy(stored), 44_100, SAMPLE_RATE)
    torch.testing.assert_close(first, reference, rtol=0, atol=1e-4)
    spectrum = np.abs(np.fft.rfft(first.numpy()))
    assert np.argmax(spectrum) == pytest.approx(440, abs=1)  # 1-Hz bins: still a 440-Hz tone
    window = load_audio(tmp_path / "a.flac", start=0, frames=13_230)  # 0.3 s at 44.1 kHz
    assert window.shape == (4_800,)


@pytest.mark.parametrize(("fmt", "suffix"), [("WAV", ".wav"), ("OGG", ".ogg")])
def test_wav_and_ogg(tmp_path: Path, write_audio, fmt: str, suffix: str) -> None:
    path = tmp_path / f"clip{suffix}"
    original = tone(1.5, 16_000, 300)
    stored = write_audio(path, original, format=fmt)
    info = audio_info(path)
    assert (info.frames, info.sample_rate) == (24_000, 16_000)
    waveform = load_audio(path)
    assert waveform.shape == (24_000,)
    np.testing.assert_array_equal(waveform.numpy(), stored[:, 0])
    if fmt == "WAV":  # lossless: the 16-bit samples of the tone
        np.testing.assert_allclose(waveform.numpy(), original, atol=1 / 32768)
    else:  # lossy, but still the same tone
        assert np.corrcoef(waveform.numpy(), original)[0, 1] > 0.95
    window = load_audio(path, start=8_000, frames=4_000)
    np.testing.assert_array_equal(window.numpy(), stored[8_000:12_000, 0])


@pytest.mark.parametrize("kind", ["corrupt", "empty", "header_only", "flac_header_only"])
def test_bad_files_raise_audio_error_naming_the_file(tmp_path: Path, bad_files, kind: str) -> None:
    path = bad_files(tmp_path)[kind]
    with pytest.raises(AudioError) as error:
        load_audio(path)
    assert str(path) in str(error.value)
    assert "data_download.py" in str(error.value)
    if kind == "flac_header_only":  # the header is fine: only decoding finds the problem
        assert audio_info(path).frames == 16_000
    else:
        with pytest.raises(AudioError, match=str(path)):
            audio_info(path)


def test_empty_header_says_no_audio(tmp_path: Path, bad_files) -> None:
    with pytest.raises(AudioError, match="no audio"):
        audio_info(bad_files(tmp_path)["header_only"])


def test_missing_file_is_an_audio_error(tmp_path: Path) -> None:
    with pytest.raises(AudioError, match=r"nothing\.flac"):
        load_audio(tmp_path / "nothing.flac")


def test_fit_length_pads_with_zeros_and_cuts() -> None:
    waveform = torch.arange(1, 6, dtype=torch.float32)
    padded = fit_length(waveform, 8)
    assert padded.tolist() == [1, 2, 3, 4, 5, 0, 0, 0]
    assert fit_length(waveform, 3).tolist() == [1, 2, 3]
    assert torch.equal(fit_length(waveform, 5), waveform)
    batch = torch.ones(2, 4)
    assert fit_length(batch, 6).shape == (2, 6)
    assert fit_length(batch, 6)[:, 4:].abs().sum() == 0


def test_windows_are_what_soundfile_read_gives(corpus: Path, tmp_path: Path, write_audio) -> None:
    """Every window, mono or stereo, at the start, the middle or past the end, is sf.read's samples."""
    stereo = tmp_path / "stereo.wav"
    write_audio(stereo, np.stack([tone(0.5, 16_000), tone(0.5, 16_000, 900)], 1), format="WAV")
    for path in [first_flac(corpus), stereo]:
        n = sf.info(path).frames
        for start, frames in [(0, -1), (0, 1000), (n - 5, 100), (123, 4000), (-50, 10)]:
            reference, _ = sf.read(
                path, start=max(start, 0), frames=frames, dtype="float32", always_2d=True
            )
            window = load_audio(path, start=start, frames=frames)
            np.testing.assert_array_equal(window.numpy(), reference.mean(axis=1, dtype=np.float32))


def test_load_audio_decodes_only_the_window(corpus: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """load_audio asks soundfile for just the window (start=, frames=), never the whole file."""
    calls = []
    original = sf.read

    def recording(file, frames=-1, start=0, **options):
        calls.append((start, frames))
        return original(file, frames=frames, start=start, **options)

    monkeypatch.setattr(sf, "read", recording)
    path = first_flac(corpus)
    window = load_audio(path, start=100, frames=2_000)
    assert calls == [(100, 2_000)]
    np.testing.assert_array_equal(window.numpy(), original(path, dtype="float32")[0][100:2_100])
    with pytest.raises(AudioError, match="no audio in the window"):
        load_audio(path, start=sf.info(path).frames, frames=10)
