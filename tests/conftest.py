"""Shared fixtures: a tiny synthetic corpus (made once per session) and writers of odd audio files.

The corpus is 4 speakers × 5 files of 2–4 s (one file of at most 2.5 s, shorter than a 3-s crop) in
the flat layout ``<speaker>/<speaker>-<chapter>-<utt>.flac``, 2 chapters per speaker. Tests that write
into a corpus (manifest cache, feature cache, extra files) use ``corpus_copy``, a fresh copy.
"""

from __future__ import annotations

import atexit
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from helpers import audio
from helpers.audio import fit_length, load_audio
from helpers.corpus import Manifest, Utterance, load_manifest
from helpers.dataset import SpeakerDataset
from helpers.synthetic import make_synthetic_corpus

# Numba's cache (librosa's compiled functions) breaks when two processes compile one function at
# once: a GUFunc cache written by both segfaults every later call (numba/numba#10128; seen here after
# `pytest -n 2`: librosa.yin then crashed every kernel of that venv). Each pytest process, and the
# kernels it starts, compiles into its own folder, never the venv's. Set before numba loads (no
# import above loads it).
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="audio-course-numba-")
atexit.register(shutil.rmtree, os.environ["NUMBA_CACHE_DIR"], ignore_errors=True)

N_SPEAKERS = 4
FILES_PER_SPEAKER = 5


@pytest.fixture(scope="session")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A read-only tiny synthetic corpus (flat layout). Do not write into it: use ``corpus_copy``."""
    return make_synthetic_corpus(
        tmp_path_factory.mktemp("corpus") / "flat",
        n_speakers=N_SPEAKERS,
        files_per_speaker=FILES_PER_SPEAKER,
        min_seconds=2.0,
        max_seconds=4.0,
        seed=0,
        progress=False,
    )


@pytest.fixture(scope="session")
def corpus6(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """6 speakers × 6 files of 2–4 s: enough for a model to beat chance (models, training, CLI)."""
    return make_synthetic_corpus(
        tmp_path_factory.getbasetemp() / "synthetic-6x6",
        n_speakers=6,
        files_per_speaker=6,
        min_seconds=2,
        max_seconds=4,
        progress=False,
    )


@pytest.fixture(scope="session")
def nested_corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A smaller corpus in LibriSpeech's nested layout ``<speaker>/<chapter>/<file>.flac``."""
    return make_synthetic_corpus(
        tmp_path_factory.mktemp("corpus") / "nested",
        n_speakers=3,
        files_per_speaker=4,
        min_seconds=1.0,
        max_seconds=1.5,
        seed=1,
        layout="librispeech",
        chapters_per_speaker=2,
        progress=False,
    )


@pytest.fixture(scope="session")
def manifest(corpus: Path, tmp_path_factory: pytest.TempPathFactory) -> Manifest:
    """The manifest of ``corpus`` (read from a copy, so that the session corpus stays untouched)."""
    copy = tmp_path_factory.mktemp("manifest") / "flat"
    shutil.copytree(corpus, copy)
    manifest = load_manifest(copy, progress=False)
    return manifest


@pytest.fixture
def corpus_copy(corpus: Path, tmp_path: Path) -> Path:
    """A private copy of ``corpus`` that a test may modify."""
    return Path(shutil.copytree(corpus, tmp_path / "corpus"))


@pytest.fixture
def one_thread():
    """Run a test with one torch thread (restored after): tiny tensors gain nothing from more, and
    on a busy 2-core machine two OpenMP threads waiting for each other make them many times slower.
    """
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture
def reset_resample_warnings(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget which rates were already reported, so that a test sees the first warning."""
    monkeypatch.setattr(audio, "_warned_rates", set())


def tone(seconds: float, rate: int, freq: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    """A sine, float32 ``(round(seconds * rate),)``."""
    t = np.arange(round(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


@pytest.fixture
def write_audio() -> Callable[..., np.ndarray]:
    """``write_audio(path, data, rate=16000, format="FLAC", subtype=None)`` → what was written.

    ``data`` is ``(frames,)`` or ``(frames, channels)`` float in [-1, 1]; the returned array is what
    soundfile reads back (float32, ``(frames, channels)``), so tests compare with the stored samples.
    """

    def write(
        path: Path,
        data: np.ndarray,
        rate: int = 16_000,
        format: str = "FLAC",
        subtype: str | None = None,
    ) -> np.ndarray:
        path.parent.mkdir(parents=True, exist_ok=True)
        if subtype is None:
            subtype = "VORBIS" if format == "OGG" else "PCM_16"
        sf.write(path, data, rate, format=format, subtype=subtype)
        stored, _ = sf.read(path, dtype="float32", always_2d=True)
        return stored

    return write


@pytest.fixture
def bad_files() -> Callable[[Path], dict[str, Path]]:
    """``bad_files(folder)`` writes unreadable files into ``folder`` and returns them by kind.

    * ``corrupt`` — random bytes named ``.flac``;
    * ``empty`` — 0 bytes;
    * ``header_only`` — a WAV header announcing 0 frames;
    * ``flac_header_only`` — a FLAC file cut right after its metadata: the header promises 1 s of
      audio, but there is none (readable header, undecodable audio).
    """

    def write(folder: Path) -> dict[str, Path]:
        folder.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(7)
        files = {
            "corrupt": folder / "corrupt.flac",
            "empty": folder / "empty.flac",
            "header_only": folder / "header_only.wav",
            "flac_header_only": folder / "flac_header_only.flac",
        }
        files["corrupt"].write_bytes(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
        files["empty"].write_bytes(b"")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            sf.write(files["header_only"], np.zeros(0, np.float32), 16_000, subtype="PCM_16")
        full = folder / "full.tmp"
        sf.write(full, tone(1.0, 16_000), 16_000, format="FLAC", subtype="PCM_16")
        data = full.read_bytes()
        full.unlink()
        files["flac_header_only"].write_bytes(data[: _flac_metadata_end(data)])
        return files

    return write


def _flac_metadata_end(data: bytes) -> int:
    """Offset of the first audio frame of a FLAC file (after ``fLaC`` and its metadata blocks)."""
    assert data[:4] == b"fLaC"
    offset = 4
    while True:
        header = data[offset]
        length = int.from_bytes(data[offset + 1 : offset + 4], "big")
        offset += 4 + length
        if header & 0x80:  # last-metadata-block flag
            return offset


# --------------------------------------------------------------------------------------------------
# Helpers shared by test_corpus, test_dataset and test_cache

CROP = 48_000  # 3 s at 16 kHz


def utt(speaker: str, name: str, chapter: str | None = None, frames: int = 64_000) -> Utterance:
    return Utterance(f"{speaker}/{name}.flac", speaker, chapter, frames, 16_000)


def long_utterances(manifest: Manifest) -> list[Utterance]:
    return [u for u in manifest.utterances if u.frames > CROP + 1_000]


def short_utterance(manifest: Manifest) -> Utterance:
    return next(u for u in manifest.utterances if u.frames < CROP)


def all_items(dataset: SpeakerDataset) -> list[tuple[torch.Tensor, int]]:
    return [dataset[i] for i in range(len(dataset))]


def expected_crop(manifest: Manifest, u: Utterance, position: float) -> torch.Tensor:
    start = round(position * max(0, u.frames - CROP))
    return fit_length(load_audio(manifest.root / u.path, start=start, frames=CROP), CROP)


def frame_aligned_position(u: Utterance, hop: int = 160) -> float:
    """A crop position whose start (in samples) is a whole number of frames."""
    room = u.frames - CROP
    return (room // 2) // hop * hop / room
