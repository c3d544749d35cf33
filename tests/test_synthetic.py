"""helpers.synthetic: the corpus layout, its determinism, its files, and that its voices differ."""

from __future__ import annotations

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
