"""helpers.synthetic: the corpus layout, its determinism, its files, and that its voices differ."""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import FILES_PER_SPEAKER, N_SPEAKERS

from helpers.features import make_feature
from helpers.synthetic import (
    MARKER,
    SAMPLE_RATE,
    Voice,
    main,
    make_synthetic_corpus,
    make_voices,
    synthesize_utterance,
)

_spec = importlib.util.spec_from_file_location(
    "corpora", Path(__file__).parents[1] / "tools/corpora.py"
)
corpora = sys.modules["corpora"] = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(corpora)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_corpus_layout_and_files(corpus: Path) -> None:
    speakers = sorted(p for p in corpus.iterdir() if p.is_dir())
    assert len(speakers) == N_SPEAKERS
    ids = [int(p.name) for p in speakers]
    assert ids != list(range(N_SPEAKERS))  # real-looking ids, not class indices
    assert (corpus / MARKER).exists()
    durations = []
    for folder in speakers:
        files = sorted(folder.glob("*.flac"))
        assert len(files) == FILES_PER_SPEAKER
        chapters = set()
        for path in files:
            speaker, chapter, utt = path.stem.split("-")
            assert speaker == folder.name and len(utt) == 4
            chapters.add(chapter)
            info = sf.info(path)
            assert (info.samplerate, info.channels, info.subtype) == (SAMPLE_RATE, 1, "PCM_16")
            durations.append(info.duration)
        assert len(chapters) == 2
    assert min(durations) <= 2.5  # the corpus's short clip, shorter than a 3-s crop
    assert all(2.0 - 1e-3 <= d <= 4.0 + 1e-3 for d in durations)


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    small = {"n_speakers": 2, "files_per_speaker": 2, "min_seconds": 0.5, "max_seconds": 0.8}
    a = make_synthetic_corpus(tmp_path / "a", seed=3, progress=False, **small)
    b = make_synthetic_corpus(tmp_path / "b", seed=3, progress=False, **small)
    c = make_synthetic_corpus(tmp_path / "c", seed=4, progress=False, **small)

    def contents(root: Path) -> dict[str, bytes]:
        return {
            p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.flac"))
        }

    assert contents(a) == contents(b)
    assert contents(a) != contents(c)
    assert not list(tmp_path.glob(".*partial*"))  # the temporary folders are gone


def test_complete_corpus_is_kept(tmp_path: Path) -> None:
    small = {"n_speakers": 2, "files_per_speaker": 1, "min_seconds": 0.5, "max_seconds": 0.5}
    dest = make_synthetic_corpus(tmp_path / "c", seed=0, progress=False, **small)
    stamps = {p: p.stat().st_mtime_ns for p in dest.rglob("*.flac")}
    again = make_synthetic_corpus(dest, seed=99, progress=False, **small)  # kept, not regenerated
    assert again == dest and {p: p.stat().st_mtime_ns for p in dest.rglob("*.flac")} == stamps


def test_incomplete_corpus_is_replaced(tmp_path: Path) -> None:
    dest = tmp_path / "c"
    (dest / "junk").mkdir(parents=True)
    make_synthetic_corpus(dest, 2, 1, 0.5, 0.5, progress=False)
    assert not (dest / "junk").exists() and (dest / MARKER).exists()


def test_librispeech_layout(nested_corpus: Path) -> None:
    files = sorted(nested_corpus.rglob("*.flac"))
    assert len(files) == 12
    for path in files:
        speaker, chapter, name = path.relative_to(nested_corpus).parts
        assert name.startswith(f"{speaker}-{chapter}-")


def test_bad_arguments(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="layout"):
        make_synthetic_corpus(tmp_path / "x", layout="tree")
    with pytest.raises(ValueError, match="n_speakers"):
        make_synthetic_corpus(tmp_path / "x", n_speakers=1)
    with pytest.raises(ValueError, match="min_seconds"):
        make_synthetic_corpus(tmp_path / "x", min_seconds=3, max_seconds=2)


def test_utterance_length_range_and_dtype() -> None:
    rng = np.random.default_rng(0)
    voice = make_voices(1, rng)[0]
    assert isinstance(voice, Voice)
    audio = synthesize_utterance(voice, 1.25, rng)
    assert audio.shape == (20_000,) and audio.dtype == np.float32
    assert np.abs(audio).max() <= 1.0 and np.abs(audio).max() > 0.01


def test_voices_come_in_families() -> None:
    voices = make_voices(6, np.random.default_rng(0), family_size=3)
    pitch = np.log([v.f0 for v in voices])
    within = np.mean([abs(pitch[0] - pitch[1]), abs(pitch[1] - pitch[2]), abs(pitch[3] - pitch[5])])
    across = abs(pitch[:3].mean() - pitch[3:].mean())
    assert within < across


def test_speakers_are_told_apart_by_their_features(corpus: Path) -> None:
    """A nearest-centroid rule on mean MFCCs beats chance by far: the voices carry identity."""
    feature = make_feature("mfcc_pooled")
    rows, labels = [], []
    for s, folder in enumerate(sorted(p for p in corpus.iterdir() if p.is_dir())):
        for path in sorted(folder.glob("*.flac")):
            waveform = torch.from_numpy(sf.read(path, dtype="float32")[0])
            rows.append(feature(waveform))
            labels.append(s)
    x, y = torch.stack(rows), torch.tensor(labels)
    x = (x - x.mean(0)) / x.std(0)
    correct = 0
    for i in range(len(y)):  # leave-one-out
        others = torch.arange(len(y)) != i
        centroids = torch.stack([x[others & (y == s)].mean(0) for s in range(N_SPEAKERS)])
        correct += int(torch.cdist(x[i : i + 1], centroids).argmin() == y[i])
    assert correct / len(y) >= 0.5  # chance: 0.25 (this corpus: 0.7)


def test_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(tmp_path / "cli"), "--speakers", "2", "--files", "1", "--min-seconds", "0.5"]
    assert main([*argv, "--max-seconds", "0.6", "--layout", "librispeech"]) == 0
    assert "synthetic corpus ready" in capsys.readouterr().out
    assert len(list((tmp_path / "cli").glob("*/*/*.flac"))) == 2


# --------------------------------------------------------------------------------------------------
# The experiment corpora of tools/corpora.py: recording sessions, closer voices, short words


def test_default_options_are_the_default_corpus(tmp_path: Path) -> None:
    """The experiment options, at their defaults, leave the default corpus's bytes unchanged."""
    small = {"n_speakers": 3, "files_per_speaker": 2, "min_seconds": 0.4, "max_seconds": 0.5}
    plain = make_synthetic_corpus(tmp_path / "plain", seed=2, progress=False, **small)
    explicit = make_synthetic_corpus(
        tmp_path / "explicit", seed=2, progress=False, family_size=3, voice_spread=1.0,
        recorder=None, **small,
    )  # fmt: skip
    assert flac_bytes(plain) == flac_bytes(explicit)


def flac_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*.flac"))}


def test_sessions_corpus_same_seed_same_bytes(tmp_path: Path) -> None:
    small = {"n_speakers": 2, "files_per_speaker": 3, "chapters_per_speaker": 3}
    small.update(min_seconds=0.5, max_seconds=0.6, progress=False)
    a, b, c = (
        make_synthetic_corpus(tmp_path / n, seed=s, recorder=corpora.SessionRecorder(s), **small)
        for n, s in (("a", 5), ("b", 5), ("c", 6))
    )
    assert flac_bytes(a) == flac_bytes(b) != flac_bytes(c)
    for path in a.rglob("*.flac"):
        audio, rate = sf.read(path)
        assert rate == SAMPLE_RATE and 0.01 < np.abs(audio).max() <= 1.0


def test_sessions_corpus_lists_each_chapter_recording(tmp_path: Path, monkeypatch) -> None:
    """sessions.tsv names the device, room, SNR and noise of every (speaker, chapter) in the files."""
    small = {"n_speakers": 3, "files_per_speaker": 4, "chapters_per_speaker": 2}
    small.update(min_seconds=0.3, max_seconds=0.4)
    monkeypatch.setitem(corpora.CORPORA, "close", {**corpora.CORPORA["close"], **small})
    root = corpora.make_corpus("close", tmp_path / "s", seed=0, progress=False)
    rows = [line.split("\t") for line in (root / corpora.SESSIONS_FILE).read_text().splitlines()]
    assert rows[0] == ["speaker", "chapter", "device", "rt60_s", "snr_db", "noise"]
    on_disk = {tuple(p.stem.split("-")[:2]) for p in root.rglob("*.flac")}
    assert {(r[0], r[1]) for r in rows[1:]} == on_disk and len(rows) == 1 + 3 * 2
    assert all(r[2] in corpora.SESSION_DEVICES and r[5] in corpora.NOISE_KINDS for r in rows[1:])
    assert all(0 <= float(r[3]) <= 0.6 and 8 <= float(r[4]) <= 25 for r in rows[1:])


def test_draw_session_ranges() -> None:
    rng = np.random.default_rng(0)
    sessions = [corpora.draw_session(rng) for _ in range(400)]
    assert {s.device for s in sessions} == set(corpora.SESSION_DEVICES)
    assert {s.noise for s in sessions} == set(corpora.NOISE_KINDS)
    assert all(8 <= s.snr_db <= 25 for s in sessions)
    rooms = [s.rt60 for s in sessions if s.rt60 > 0]
    assert 0.45 < len(rooms) / len(sessions) < 0.75 and all(0.2 <= r <= 0.6 for r in rooms)
    assert all(0.85 < s.f0_drift < 1.15 and 0.7 < s.rate_drift < 1.4 for s in sessions)


def test_room_response_decays_60_db_in_rt60() -> None:
    for rt60 in (0.3, 0.8):
        rir = corpora.room_response(rt60, np.random.default_rng(1))
        assert len(rir) == round(rt60 * SAMPLE_RATE) and rir[0] == 1.0
        energy = np.cumsum(rir[::-1] ** 2)[::-1]
        decay_db = 10 * np.log10(energy / energy[0])
        t = np.arange(len(rir)) / SAMPLE_RATE
        fit = (decay_db < -5) & (decay_db > -25)
        slope = np.polyfit(t[fit], decay_db[fit], 1)[0]  # dB per second
        assert -60 / slope == pytest.approx(rt60, rel=0.25)


def band_power_db(audio: np.ndarray, low: float, high: float) -> float:
    power = np.abs(np.fft.rfft(audio)) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / SAMPLE_RATE)
    return float(10 * np.log10(power[(freqs > low) & (freqs < high)].mean() + 1e-20))


def test_telephone_session_keeps_only_the_telephone_band() -> None:
    speech = np.random.default_rng(0).normal(0, 1, SAMPLE_RATE)  # white: every band equal
    phone = corpora.Session("telephone", 0.0, 40.0, "pink", 1.0, 1.0, seed=3)
    out = corpora.record(speech, phone, np.random.default_rng(1))
    assert out.dtype == np.float32 and out.shape == speech.shape
    inside = band_power_db(out, 800, 2500)
    assert band_power_db(out, 20, 120) < inside - 25
    assert band_power_db(out, 5000, 8000) < inside - 25
    headset = corpora.record(speech, replace(phone, device="headset"), np.random.default_rng(1))
    assert band_power_db(headset, 5000, 8000) > band_power_db(headset, 800, 2500) - 15


def test_voice_spread_scales_the_family_differences() -> None:
    wide = make_voices(8, np.random.default_rng(3), family_size=4, spread=1.0)
    close = make_voices(8, np.random.default_rng(3), family_size=4, spread=0.5)
    for family in (slice(0, 4), slice(4, 8)):
        wide_pitch, close_pitch = (np.log([v.f0 for v in vs[family]]) for vs in (wide, close))
        # Same draws, half the deviations: differences between members halve exactly.
        np.testing.assert_allclose(np.diff(close_pitch), 0.5 * np.diff(wide_pitch), rtol=1e-9)


def cross_session_centroid_accuracy(root: Path) -> float:
    """Nearest-centroid on mean MFCCs, each file scored against centroids of the *other* sessions."""
    feature = make_feature("mfcc_pooled")
    rows, labels, chapters = [], [], []
    for s, folder in enumerate(sorted(p for p in root.iterdir() if p.is_dir())):
        for path in sorted(folder.glob("*.flac")):
            rows.append(feature(torch.from_numpy(sf.read(path, dtype="float32")[0])))
            labels.append(s)
            chapters.append(path.stem.split("-")[1])
    x, y = torch.stack(rows), torch.tensor(labels)
    x = (x - x.mean(0)) / x.std(0)
    correct = 0
    for i in range(len(y)):
        others = torch.tensor([c != chapters[i] for c in chapters])
        centroids = torch.stack([x[others & (y == s)].mean(0) for s in range(int(y.max()) + 1)])
        correct += int(torch.cdist(x[i : i + 1], centroids).argmin() == y[i])
    return correct / len(y)


def test_sessions_make_unseen_sessions_harder(tmp_path: Path) -> None:
    """The same voices recorded through session channels are much harder to match across sessions."""
    options = {"n_speakers": 6, "files_per_speaker": 8, "chapters_per_speaker": 4}
    options.update(min_seconds=0.8, max_seconds=1.0, seed=0, progress=False)
    mild = make_synthetic_corpus(tmp_path / "mild", **options)
    hard = make_synthetic_corpus(tmp_path / "hard", recorder=corpora.SessionRecorder(0), **options)
    mild_accuracy = cross_session_centroid_accuracy(mild)
    assert mild_accuracy > 0.6  # chance: 1/6
    assert cross_session_centroid_accuracy(hard) < mild_accuracy - 0.15


def test_short_words_corpus_same_words_some_at_8_khz(tmp_path: Path, monkeypatch) -> None:
    """The short kind: clips of 0.3-1 s, the odd words (chapters) at 8 kHz, one text per word, one
    microphone per speaker."""
    small = {"n_speakers": 2, "files_per_speaker": 4, "chapters_per_speaker": 2}
    monkeypatch.setitem(corpora.CORPORA, "short", {**corpora.CORPORA["short"], **small})
    root = corpora.make_corpus("short", tmp_path / "short", seed=0, progress=False)
    infos = {p.stem: sf.info(p) for p in root.rglob("*.flac")}
    assert sorted({i.samplerate for i in infos.values()}) == [8_000, 16_000]
    assert all(0.3 - 1e-3 <= i.duration <= 1.0 + 1e-3 for i in infos.values())
    assert all((i.samplerate == 8_000) == (int(n[-4:]) % 2 == 1) for n, i in infos.items())
    sessions = [r.split("\t") for r in (root / corpora.SESSIONS_FILE).read_text().splitlines()]
    assert len(sessions) == 1 + 2  # one microphone per speaker, not per word
    assert {r[2] for r in sessions[1:]} == {"headset"}


def test_bad_options(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="family_size"):
        make_synthetic_corpus(tmp_path / "x", family_size=0)
