"""The self-checks of notebooks 01–03 pass on reference answers and fail, helpfully, on wrong ones.

Each reference answer is the solution notebook's, condensed; each wrong answer is a mistake students
make (the original practical made several of them), and the test asserts the check names it.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf
import torch
from torch.utils.data import Dataset

from helpers import checks
from helpers.audio import SAMPLE_RATE, audio_info, fit_length, load_audio
from helpers.checks import ExerciseError
from helpers.corpus import Manifest, Utterance, speaker_to_index, split_utterances
from helpers.features import make_feature


def fails(check: Callable[..., None], *args: object, match: str) -> str:
    """Run a check that must fail; assert its message matches and carries a hint."""
    with pytest.raises(ExerciseError, match=match) as error:
        check(*args)
    assert "\nHint: " in str(error.value)
    return str(error.value)


@pytest.fixture
def path(manifest: Manifest) -> Path:
    """The first file of the test corpus, as the notebooks pick it."""
    return manifest.root / manifest.utterances[0].path


# --------------------------------------------------------------------------------------------------
# 01 · Loading audio


def test_duration(capsys: pytest.CaptureFixture[str]) -> None:
    checks.duration(lambda w, rate: w.shape[-1] / rate)
    assert capsys.readouterr().out.startswith("✓ ")
    fails(checks.duration, lambda w, rate: w.shape[-1], match="number of samples")
    fails(checks.duration, lambda w, rate: len(w) / rate, match="first axis")
    fails(checks.duration, lambda w, rate: 1000 * w.shape[-1] / rate, match="milliseconds")
    fails(checks.duration, lambda w, rate: w.shape[-1] // rate, match="integer division")
    fails(checks.duration, lambda w, rate: (w.shape[-1], rate), match="one number")


def test_librosa_loading(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    y, rate = librosa.load(path)
    checks.librosa_loading(y, rate, path)
    assert "22050 Hz" in capsys.readouterr().out
    y16, rate16 = librosa.load(path, sr=None)
    fails(checks.librosa_loading, y16, rate16, path, match="file's own rate")
    fails(checks.librosa_loading, y, rate16, path, match="file's own rate")
    fails(checks.librosa_loading, y[: len(y) // 2], rate, path, match="samples")
    fails(checks.librosa_loading, torch.from_numpy(y), rate, path, match="numpy")


def torchaudio_reference(path: Path) -> tuple[torch.Tensor, int]:
    """torchaudio.load's answer (through soundfile if torchcodec/FFmpeg are unavailable)."""
    try:
        import torchaudio

        return torchaudio.load(path)
    except Exception:
        data, rate = sf.read(path, dtype="float32", always_2d=True)
        return torch.from_numpy(data.T.copy()), rate


def test_torchaudio_loading(path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    waveform, rate = torchaudio_reference(path)
    checks.torchaudio_loading(waveform, rate, path)
    assert "(channels, samples)" in capsys.readouterr().out
    fails(checks.torchaudio_loading, waveform, 22_050, path, match="librosa's default")
    fails(checks.torchaudio_loading, waveform[0], rate, path, match=r"\(channels, samples\)")
    fails(checks.torchaudio_loading, waveform.T, rate, path, match="transposed")
    fails(checks.torchaudio_loading, waveform.numpy(), rate, path, match="torch.Tensor")
    fails(checks.torchaudio_loading, 2 * waveform, rate, path, match="samples differ")


def read_window(path: Path, start_seconds: float, seconds: float) -> torch.Tensor:
    rate = audio_info(path).sample_rate
    return load_audio(path, start=round(start_seconds * rate), frames=round(seconds * rate))


def test_audio_window(capsys: pytest.CaptureFixture[str]) -> None:
    checks.audio_window(read_window)
    assert capsys.readouterr().out.startswith("✓ ")
    fails(
        checks.audio_window,
        lambda p, s0, s: load_audio(p, start=round(s0 * SAMPLE_RATE), frames=round(s)),
        match="seconds were used as samples",
    )
    fails(
        checks.audio_window,
        lambda p, s0, s: load_audio(p, frames=round(s * SAMPLE_RATE)),
        match="other samples",
    )
    fails(
        checks.audio_window,
        lambda p, s0, s: load_audio(p, start=round(s0 * 22_050), frames=round(s * 22_050)),
        match="expected 16000",
    )
    fails(
        checks.audio_window,
        lambda p, s0, s: read_window(p, s0, s).numpy(),
        match="1-D tensor",
    )


# --------------------------------------------------------------------------------------------------
# 02 · Time and frequency


def magnitude_spectrum(signal: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    return np.fft.rfftfreq(len(signal), d=1 / rate), np.abs(np.fft.rfft(signal))


def test_magnitude_spectrum(capsys: pytest.CaptureFixture[str]) -> None:
    checks.magnitude_spectrum(magnitude_spectrum)
    assert "440 Hz" in capsys.readouterr().out
    fails(
        checks.magnitude_spectrum,
        lambda s, r: (np.fft.rfftfreq(len(s)), np.abs(np.fft.rfft(s))),
        match="cycles per sample",
    )
    fails(
        checks.magnitude_spectrum,
        lambda s, r: (np.fft.fftfreq(len(s), 1 / r), np.abs(np.fft.fft(s))),
        match="negative frequencies",
    )
    fails(
        checks.magnitude_spectrum,
        lambda s, r: (np.arange(len(s) // 2 + 1), np.abs(np.fft.rfft(s))),
        match="bin numbers",
    )
    fails(
        checks.magnitude_spectrum,
        lambda s, r: (np.fft.rfftfreq(len(s), 1 / r), np.fft.rfft(s)),
        match="complex",
    )
    fails(
        checks.magnitude_spectrum,
        lambda s, r: (np.fft.rfftfreq(len(s), 1 / r), np.abs(np.fft.rfft(s)) ** 2),
        match="power",
    )
    fails(
        checks.magnitude_spectrum,
        lambda s, r: (np.fft.rfftfreq(len(s), 1 / r), 20 * np.log10(np.abs(np.fft.rfft(s)))),
        match="no dB",
    )


def dominant_frequency(signal: np.ndarray, rate: int, fmin: float = 60, fmax: float = 400) -> float:
    frequencies, magnitudes = magnitude_spectrum(signal, rate)
    band = (frequencies >= fmin) & (frequencies <= fmax)
    return float(frequencies[band][np.argmax(magnitudes[band])])


def test_dominant_frequency(capsys: pytest.CaptureFixture[str]) -> None:
    checks.dominant_frequency(dominant_frequency)
    assert capsys.readouterr().out.startswith("✓ ")

    def no_band(signal, rate, fmin=60, fmax=400):
        frequencies, magnitudes = magnitude_spectrum(signal, rate)
        return float(frequencies[np.argmax(magnitudes)])

    def no_upper_bound(signal, rate, fmin=60, fmax=400):
        return dominant_frequency(signal, rate, fmin, rate / 2)

    def bin_index(signal, rate, fmin=60, fmax=400):
        frequencies, magnitudes = magnitude_spectrum(signal, rate)
        band = (frequencies >= fmin) & (frequencies <= fmax)
        return int(np.argmax(magnitudes[band]))

    fails(checks.dominant_frequency, no_band, match="DC offset")
    fails(checks.dominant_frequency, no_upper_bound, match="outside 60–400")
    fails(checks.dominant_frequency, bin_index, match="bin number")


def stft_db(y: np.ndarray, n_fft: int = 400, hop_length: int = 160, window: str = "hann"):
    spectrum = librosa.stft(y, n_fft=n_fft, hop_length=hop_length, window=window)
    return librosa.amplitude_to_db(np.abs(spectrum), ref=np.max)


def test_stft_db(capsys: pytest.CaptureFixture[str]) -> None:
    checks.stft_db(stft_db)
    assert capsys.readouterr().out.startswith("✓ ")
    # other dB references and no clipping are fine: only the shape of the picture matters
    checks.stft_db(
        lambda y, n, h, w: librosa.amplitude_to_db(
            np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w)), top_db=None
        )
    )
    fails(checks.stft_db, lambda y, n, h, w: stft_db(y, n, h, w).T, match="transposed")
    fails(checks.stft_db, lambda y, n, h, w: stft_db(y, n, 512, w), match="hop_length")
    fails(checks.stft_db, lambda y, n, h, w: stft_db(y, 2048, h, w), match="n_fft")
    fails(checks.stft_db, lambda y, n, h, w: stft_db(y, n, h, "hann"), match="window")
    fails(
        checks.stft_db,
        lambda y, n, h, w: np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w)),
        match="magnitudes, not decibels",
    )
    fails(
        checks.stft_db,
        lambda y, n, h, w: librosa.power_to_db(
            np.abs(librosa.stft(y, n_fft=n, hop_length=h, window=w)), ref=np.max
        ),
        match="half",
    )
    fails(
        checks.stft_db,
        lambda y, n, h, w: librosa.stft(y, n_fft=n, hop_length=h, window=w),
        match="complex",
    )


def test_stft_resolution(capsys: pytest.CaptureFixture[str]) -> None:
    checks.stft_resolution(lambda n, r: (1000 * n / r, r / n))
    out = capsys.readouterr().out
    assert "25 ms" in out and "40 Hz" in out
    fails(checks.stft_resolution, lambda n, r: (n / r, r / n), match="seconds")
    fails(checks.stft_resolution, lambda n, r: (1000 * n / r, r / 2 / n), match="half")
    fails(checks.stft_resolution, lambda n, r: (1000 * n / r, r / (n // 2 + 1)), match="twice")
    fails(checks.stft_resolution, lambda n, r: (1000 * r / n, r / n), match="window lasts")
    fails(checks.stft_resolution, lambda n, r: 1000 * n / r, match="pair")


def mel_and_mfcc(y, rate, n_fft=400, hop_length=160, n_mels=80, n_mfcc=40):
    mel = librosa.feature.melspectrogram(
        y=y, sr=rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    mel_db = librosa.power_to_db(mel, ref=np.max)
    return mel_db, librosa.feature.mfcc(S=mel_db, n_mfcc=n_mfcc)


def test_mel_and_mfcc(capsys: pytest.CaptureFixture[str]) -> None:
    checks.mel_and_mfcc(mel_and_mfcc)
    assert capsys.readouterr().out.startswith("✓ ")

    def mfcc_from_waveform(y, rate, n_fft, hop, n_mels, n_mfcc):
        mel_db, _ = mel_and_mfcc(y, rate, n_fft, hop, n_mels, n_mfcc)
        options = {"n_fft": n_fft, "hop_length": hop, "n_mels": n_mels}
        return mel_db, librosa.feature.mfcc(y=y, sr=rate, n_mfcc=n_mfcc, **options)

    checks.mel_and_mfcc(mfcc_from_waveform)  # the other correct route

    def power(y, rate, n_fft, hop, n_mels, n_mfcc):
        mel = librosa.feature.melspectrogram(
            y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels
        )
        return mel, mel_and_mfcc(y, rate, n_fft, hop, n_mels, n_mfcc)[1]

    def amplitude_db(y, rate, n_fft, hop, n_mels, n_mfcc):
        mel = librosa.feature.melspectrogram(
            y=y, sr=rate, n_fft=n_fft, hop_length=hop, n_mels=n_mels
        )
        mfcc = mel_and_mfcc(y, rate, n_fft, hop, n_mels, n_mfcc)[1]
        return librosa.amplitude_to_db(mel, ref=np.max), mfcc

    def transposed(*args):
        mel_db, mfcc = mel_and_mfcc(*args)
        return mel_db.T, mfcc

    def default_settings(y, rate, n_fft, hop, n_mels, n_mfcc):
        return mel_and_mfcc(y, rate)

    def mfcc_transposed(*args):
        mel_db, mfcc = mel_and_mfcc(*args)
        return mel_db, mfcc.T

    fails(checks.mel_and_mfcc, power, match="mel power itself")
    fails(checks.mel_and_mfcc, amplitude_db, match="twice")
    fails(checks.mel_and_mfcc, transposed, match="transposed")
    fails(checks.mel_and_mfcc, default_settings, match="expected")
    fails(checks.mel_and_mfcc, mfcc_transposed, match="transposed")


def test_pool_over_time(capsys: pytest.CaptureFixture[str]) -> None:
    checks.pool_over_time(lambda x: x.mean(axis=-1))
    assert capsys.readouterr().out.startswith("✓ ")
    fails(checks.pool_over_time, lambda x: x.mean(axis=0), match="axis 0, the features")
    fails(checks.pool_over_time, lambda x: x.mean(axis=1), match="axis 1, the features")
    fails(checks.pool_over_time, lambda x: x.sum(axis=-1), match="summed")

    def max_pool(x):
        return x.amax(dim=-1) if torch.is_tensor(x) else x.max(axis=-1)

    fails(checks.pool_over_time, max_pool, match="not the mean")


# --------------------------------------------------------------------------------------------------
# 03 · The dataset


def test_corpus_stats(manifest: Manifest, capsys: pytest.CaptureFixture[str]) -> None:
    utterances = manifest.utterances
    seconds = sum(u.seconds for u in utterances)
    good = {"files": len(utterances), "speakers": 4, "hours": seconds / 3600}
    checks.corpus_stats(good, utterances)
    assert "4 speakers" in capsys.readouterr().out
    fails(checks.corpus_stats, {**good, "hours": seconds}, utterances, match="in seconds")
    fails(checks.corpus_stats, {**good, "hours": seconds / 60}, utterances, match="in minutes")
    fails(checks.corpus_stats, {**good, "speakers": len(utterances)}, utterances, match="distinct")
    fails(checks.corpus_stats, {"files": 1}, utterances, match="no key")
    fails(checks.corpus_stats, list(good.values()), utterances, match="dict")


def make_label_map(utterances):
    return {s: i for i, s in enumerate(sorted({u.speaker for u in utterances}))}


def test_label_map(manifest: Manifest, capsys: pytest.CaptureFixture[str]) -> None:
    utterances = manifest.utterances
    checks.label_map(make_label_map, utterances)
    checks.label_map(speaker_to_index, utterances)
    assert capsys.readouterr().out.count("✓ 4 speakers → 0 … 3, sorted") == 2
    # ids whose text order differs from their numeric order: both sorts are accepted
    mixed = [Utterance(f"{s}/{s}-1-0.flac", s, "1", 16_000, 16_000) for s in ["8975", "19", "103"]]
    checks.label_map(make_label_map, mixed)
    assert "sorted as text" in capsys.readouterr().out
    checks.label_map(speaker_to_index, mixed)
    assert "sorted as numbers" in capsys.readouterr().out
    fails(
        checks.label_map,
        lambda utts: {u.speaker: int(u.speaker) for u in utts},
        utterances,
        match="raw speaker ids",
    )
    fails(
        checks.label_map,
        lambda utts: {s: i for i, s in enumerate(dict.fromkeys(u.speaker for u in utts))},
        utterances,
        match="another order",
    )
    fails(
        checks.label_map,
        lambda utts: {s: i for i, s in enumerate(sorted({u.speaker for u in utts}, reverse=True))},
        utterances,
        match="not numbered in sorted order",
    )
    fails(
        checks.label_map,
        lambda utts: {int(s): i for s, i in make_label_map(utts).items()},
        utterances,
        match="keys are numbers",
    )
    fails(
        checks.label_map,
        lambda utts: {s: i + 1 for s, i in make_label_map(utts).items()},
        utterances,
        match="each of 0",
    )


def split_per_speaker(utterances, val_fraction=0.3, seed=0):
    rng = np.random.default_rng(seed)
    by_speaker: dict[str, list] = {}
    for utterance in sorted(utterances, key=lambda u: u.path):
        by_speaker.setdefault(utterance.speaker, []).append(utterance)
    train, val = [], []
    for speaker in sorted(by_speaker):
        files = by_speaker[speaker]
        n_val = min(len(files) - 1, max(1, round(val_fraction * len(files))))
        order = rng.permutation(len(files))
        val += [files[i] for i in order[:n_val]]
        train += [files[i] for i in order[n_val:]]
    return train, val


def test_speaker_split(manifest: Manifest, capsys: pytest.CaptureFixture[str]) -> None:
    utterances = manifest.utterances
    checks.speaker_split(split_per_speaker, utterances)
    assert "every speaker on both sides" in capsys.readouterr().out
    checks.speaker_split(split_utterances, utterances)  # the kit's

    def seed_practical(utterances, val_fraction=0.3, seed=0):
        """The original practical's split: unseeded, int() rounding."""
        train, val = [], []
        for speaker in sorted({u.speaker for u in utterances}):
            files = [u for u in utterances if u.speaker == speaker]
            n_val = int(len(files) * val_fraction)
            shuffled = [files[i] for i in np.random.permutation(len(files))]
            val += shuffled[:n_val]
            train += shuffled[n_val:]
        return train, val

    def int_rounding(utterances, val_fraction=0.3, seed=0):
        rng = np.random.default_rng(seed)
        train, val = [], []
        for speaker in sorted({u.speaker for u in utterances}):
            files = [u for u in utterances if u.speaker == speaker]
            order = rng.permutation(len(files))
            n_val = int(len(files) * val_fraction)
            val += [files[i] for i in order[:n_val]]
            train += [files[i] for i in order[n_val:]]
        return train, val

    def seed_ignored(utterances, val_fraction=0.3, seed=0):
        return split_per_speaker(utterances, val_fraction, seed=42)

    def global_shuffle(utterances, val_fraction=0.3, seed=0):
        order = np.random.default_rng(seed).permutation(len(utterances))
        n_val = round(val_fraction * len(utterances))
        return [utterances[i] for i in order[n_val:]], [utterances[i] for i in order[:n_val]]

    def overlapping(utterances, val_fraction=0.3, seed=0):
        train, val = split_per_speaker(utterances, val_fraction, seed)
        return train + val[:1], val

    def paths(utterances, val_fraction=0.3, seed=0):
        train, val = split_per_speaker(utterances, val_fraction, seed)
        return [u.path for u in train], [u.path for u in val]

    fails(checks.speaker_split, seed_practical, utterances, match="not reproducible")
    message = fails(checks.speaker_split, int_rounding, utterances, match="no validation file")
    assert "0.3 × 2 = 0.6" in message
    fails(checks.speaker_split, seed_ignored, utterances, match="seed changes nothing")
    fails(checks.speaker_split, global_shuffle, utterances, match="each")
    fails(checks.speaker_split, overlapping, utterances, match="both train and val")
    fails(checks.speaker_split, paths, utterances, match="Utterance")


class CropDataset(Dataset):
    """The notebook's reference answer; wrong variants override one method."""

    def __init__(self, utterances, label_map, root, kind, crop_seconds=3.0, seed=0):
        self.utterances = list(utterances)
        self.label_map = label_map
        self.root = Path(root)
        self.kind = kind
        self.crop_seconds = crop_seconds
        self.seed = seed
        self.epoch = 0
        self.feature = make_feature(kind)

    def __len__(self):
        return len(self.utterances)

    def read(self, utterance, index):
        crop_frames = round(self.crop_seconds * utterance.sample_rate)
        room = max(0, utterance.frames - crop_frames)
        start = int(np.random.default_rng([self.seed, self.epoch, index]).integers(0, room + 1))
        waveform = load_audio(self.root / utterance.path, start=start, frames=crop_frames)
        return fit_length(waveform, round(self.crop_seconds * SAMPLE_RATE))

    def label(self, utterance):
        return self.label_map[utterance.speaker]

    def features(self, waveform):
        return self.feature(waveform)

    def __getitem__(self, index):
        utterance = self.utterances[index]
        return self.features(self.read(utterance, index)), self.label(utterance)


class FeaturePerItem(CropDataset):
    def features(self, waveform):
        return make_feature(self.kind)(waveform)


class RawIdLabel(CropDataset):
    def label(self, utterance):
        return int(utterance.speaker)


class StringLabel(CropDataset):
    def label(self, utterance):
        return utterance.speaker


class NoPadding(CropDataset):
    def read(self, utterance, index):
        return load_audio(self.root / utterance.path, frames=round(3 * utterance.sample_rate))


class WholeFile(CropDataset):
    def read(self, utterance, index):
        return fit_length(load_audio(self.root / utterance.path), 3 * SAMPLE_RATE)


class LibrosaRate(CropDataset):
    def read(self, utterance, index):
        waveform = load_audio(self.root / utterance.path, frames=round(3 * utterance.sample_rate))
        return fit_length(waveform, 3 * 22_050)


class PadInFront(CropDataset):
    def read(self, utterance, index):
        waveform = load_audio(self.root / utterance.path, frames=round(3 * utterance.sample_rate))
        missing = 3 * SAMPLE_RATE - len(waveform)
        return torch.nn.functional.pad(waveform, (missing, 0)) if missing > 0 else waveform


class HardCodedThreeSeconds(CropDataset):
    def read(self, utterance, index):
        waveform = load_audio(self.root / utterance.path, frames=3 * utterance.sample_rate)
        return fit_length(waveform, 3 * SAMPLE_RATE)


class Torchaudio(CropDataset):
    def read(self, utterance, index):
        waveform, _ = torchaudio_reference(self.root / utterance.path)
        return fit_length(waveform[0], 3 * SAMPLE_RATE)


def test_crop_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    checks.crop_dataset(CropDataset)
    assert "one feature module built in __init__" in capsys.readouterr().out
    fails(checks.crop_dataset, FeaturePerItem, match="created for every item")
    fails(checks.crop_dataset, RawIdLabel, match="raw speaker id")
    fails(checks.crop_dataset, StringLabel, match="string")
    fails(checks.crop_dataset, NoPadding, match="not padded")
    fails(checks.crop_dataset, WholeFile, match="whole 5-s file was decoded")
    fails(checks.crop_dataset, LibrosaRate, match="a 3-s crop at 16000 Hz")
    fails(checks.crop_dataset, PadInFront, match="followed by silence")
    fails(checks.crop_dataset, HardCodedThreeSeconds, match="crop_seconds=2.0")
    message = fails(checks.crop_dataset, Torchaudio, match="not read with soundfile|whole")
    assert "load_audio" in message


def test_crop_dataset_check_restores_what_it_patches() -> None:
    read, init = sf.read, torch.nn.Module.__init__
    checks.crop_dataset(CropDataset)
    with pytest.raises(ExerciseError):
        checks.crop_dataset(FeaturePerItem)
    assert sf.read is read and torch.nn.Module.__init__ is init
