"""Notebook 03's checks accept the reference answers and reject the mistakes students make."""

from __future__ import annotations

import random
from pathlib import Path

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
import pytest
import soundfile as sf
import torch
from test_checks_core import Case, accepts, rejects, right, wrong
from torch.utils.data import DataLoader, Dataset

from helpers import checks
from helpers.audio import SAMPLE_RATE, fit_length, load_audio
from helpers.corpus import Manifest, Utterance, speaker_to_index, split_utterances
from helpers.dataset import make_loader
from helpers.features import make_feature
from helpers.plots import plot_features

matplotlib.use("Agg")

# --------------------------------------------------------------------------------------------------
# Corpus statistics


def corpus_stats(utterances):
    return {
        "files": len(utterances),
        "speakers": len({u.speaker for u in utterances}),
        "hours": sum(u.seconds for u in utterances) / 3600,
    }


def stats_changed(**changes):
    def compute(utterances):
        stats = corpus_stats(utterances)
        for key, change in changes.items():
            stats[key] = change(utterances, stats[key])
        return stats

    return compute


def stats_missing_key(utterances):
    stats = corpus_stats(utterances)
    return {"n_files": stats["files"], "speakers": stats["speakers"], "hours": stats["hours"]}


def stats_of_another_corpus(utterances):
    return {"files": 40, "speakers": 4, "hours": 0.03}  # numbers copied from one run


# --------------------------------------------------------------------------------------------------
# Label map


def make_label_map(utterances):
    speakers = sorted({u.speaker for u in utterances})
    return {speaker: index for index, speaker in enumerate(speakers)}


def labels_raw_ids(utterances):
    return {u.speaker: int(u.speaker) for u in utterances}


def labels_file_order(utterances):
    return {s: i for i, s in enumerate(dict.fromkeys(u.speaker for u in utterances))}


def labels_reversed(utterances):
    return {s: i for i, s in enumerate(sorted({u.speaker for u in utterances}, reverse=True))}


def labels_numeric_keys(utterances):
    return {int(s): i for s, i in make_label_map(utterances).items()}


def labels_from_one(utterances):
    return {s: i + 1 for s, i in make_label_map(utterances).items()}


def labels_of_first_files(utterances):
    return make_label_map(utterances[:4])  # ignores most of its input


# --------------------------------------------------------------------------------------------------
# Split


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


def split_practical(utterances, val_fraction=0.3, seed=0):
    """The original practical's split: unseeded global shuffle, int() rounding."""
    train, val = [], []
    for speaker in sorted({u.speaker for u in utterances}):
        files = [u for u in utterances if u.speaker == speaker]
        n_val = int(len(files) * val_fraction)
        shuffled = [files[i] for i in np.random.permutation(len(files))]
        val += shuffled[:n_val]
        train += shuffled[n_val:]
    return train, val


def split_globally_seeded(utterances, val_fraction=0.3, seed=0):
    np.random.seed(seed)  # reproducible, but resets everyone's random state
    train, val = [], []
    for speaker in sorted({u.speaker for u in utterances}):
        files = sorted((u for u in utterances if u.speaker == speaker), key=lambda u: u.path)
        n_val = min(len(files) - 1, max(1, round(val_fraction * len(files))))
        order = np.random.permutation(len(files))
        val += [files[i] for i in order[:n_val]]
        train += [files[i] for i in order[n_val:]]
    return train, val


def split_int_rounding(utterances, val_fraction=0.3, seed=0):
    rng = np.random.default_rng(seed)
    train, val = [], []
    for speaker in sorted({u.speaker for u in utterances}):
        files = sorted((u for u in utterances if u.speaker == speaker), key=lambda u: u.path)
        order = rng.permutation(len(files))
        n_val = int(len(files) * val_fraction)
        val += [files[i] for i in order[:n_val]]
        train += [files[i] for i in order[n_val:]]
    return train, val


def split_input_order(utterances, val_fraction=0.3, seed=0):
    rng = np.random.default_rng(seed)
    by_speaker: dict[str, list] = {}
    for utterance in utterances:  # not sorted: the split follows the order of the list
        by_speaker.setdefault(utterance.speaker, []).append(utterance)
    train, val = [], []
    for speaker in sorted(by_speaker):
        files = by_speaker[speaker]
        n_val = min(len(files) - 1, max(1, round(val_fraction * len(files))))
        order = rng.permutation(len(files))
        val += [files[i] for i in order[:n_val]]
        train += [files[i] for i in order[n_val:]]
    return train, val


def split_seed_ignored(utterances, val_fraction=0.3, seed=0):
    return split_per_speaker(utterances, val_fraction, seed=42)


def split_whole_corpus(utterances, val_fraction=0.3, seed=0):
    ordered = sorted(utterances, key=lambda u: u.path)
    order = np.random.default_rng(seed).permutation(len(ordered))
    n_val = round(val_fraction * len(ordered))
    return [ordered[i] for i in order[n_val:]], [ordered[i] for i in order[:n_val]]


def split_overlapping(utterances, val_fraction=0.3, seed=0):
    train, val = split_per_speaker(utterances, val_fraction, seed)
    return train + val[:1], val


def split_paths(utterances, val_fraction=0.3, seed=0):
    train, val = split_per_speaker(utterances, val_fraction, seed)
    return [u.path for u in train], [u.path for u in val]


# --------------------------------------------------------------------------------------------------
# The crop Dataset: the reference, and wrong variants overriding one step


class CropDataset(Dataset):
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

    def start(self, utterance, index, room):
        return int(np.random.default_rng([self.seed, self.epoch, index]).integers(0, room + 1))

    def read(self, utterance, index):
        crop_frames = round(self.crop_seconds * utterance.sample_rate)
        room = max(0, utterance.frames - crop_frames)
        start = self.start(utterance, index, room)
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
        waveform = super().read(utterance, index)
        real = min(utterance.frames, len(waveform))
        return torch.roll(waveform, len(waveform) - real)


class HardCodedThreeSeconds(CropDataset):
    def read(self, utterance, index):
        room = max(0, utterance.frames - 3 * utterance.sample_rate)
        start = self.start(utterance, index, room)
        waveform = load_audio(
            self.root / utterance.path, start=start, frames=3 * utterance.sample_rate
        )
        return fit_length(waveform, 3 * SAMPLE_RATE)


class Torchaudio(CropDataset):
    def read(self, utterance, index):
        data, _ = sf.read(self.root / utterance.path, dtype="float32")  # the whole file
        return fit_length(torch.from_numpy(data), 3 * SAMPLE_RATE)


class NeverMoves(CropDataset):
    def start(self, utterance, index, room):
        return 0


class GlobalRandom(CropDataset):
    def start(self, utterance, index, room):
        return random.randint(0, room)


class StoredGenerator(CropDataset):
    """A generator made once: the crops depend on how many items were read before."""

    def start(self, utterance, index, room):
        if not hasattr(self, "rng"):
            self.rng = np.random.default_rng(self.seed)
        return int(self.rng.integers(0, room + 1))


class SeedIgnored(CropDataset):
    def start(self, utterance, index, room):
        return int(np.random.default_rng([self.epoch, index]).integers(0, room + 1))


class PastTheEnd(CropDataset):
    def start(self, utterance, index, room):
        return int(
            np.random.default_rng([self.seed, self.epoch, index]).integers(0, utterance.frames)
        )


CORPUS: dict[str, list[Utterance]] = {}
"""The course corpus of the session's ``manifest`` fixture (set by ``course_corpus``)."""


def utterances() -> list[Utterance]:
    return CORPUS["utterances"]


# --------------------------------------------------------------------------------------------------
# The DataLoader and a batch on screen


def make_batches(dataset, batch_size, seed):
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=True, generator=generator)


def batches_unshuffled(dataset, batch_size, seed):
    return DataLoader(dataset, batch_size=batch_size)


def batches_global_rng(dataset, batch_size, seed):
    return DataLoader(dataset, batch_size=batch_size, shuffle=True)


def batches_size_ignored(dataset, batch_size, seed):
    return DataLoader(dataset, shuffle=True, generator=torch.Generator().manual_seed(seed))


def batches_constant_seed(dataset, batch_size, seed):
    return DataLoader(dataset, batch_size, shuffle=True, generator=torch.Generator().manual_seed(0))


class ReseededEveryEpoch:
    """A loader that reseeds its generator at every pass: the same order every epoch."""

    def __init__(self, dataset, batch_size, seed):
        self.dataset, self.batch_size, self.seed = dataset, batch_size, seed

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed)
        return iter(DataLoader(self.dataset, self.batch_size, shuffle=True, generator=generator))


def show_batch(x, y, kind, n=3):
    fig, axes = plt.subplots(n, 1, figsize=(8, 3 * n), layout="constrained")
    for i, ax in enumerate(axes):
        plot_features(x[i], kind, ax=ax, title=f"item {i}: speaker index {int(y[i])}")
    return fig


def show_variant(pick=lambda x, i: x[i], title=True, returns=True):
    def show(x, y, kind, n=3):
        fig, axes = plt.subplots(n, 1)
        for i, ax in enumerate(axes):
            plot_features(pick(x, i), kind, ax=ax, title=f"label {int(y[i])}" if title else "MFCC")
        if returns:
            return fig
        plt.show()

    return show


def show_imshow_unlabelled(x, y, kind, n=3):
    fig, axes = plt.subplots(n, 1)
    for i, ax in enumerate(axes):
        ax.imshow(x[i].numpy(), origin="lower", aspect="auto")
        ax.set_title(f"label {int(y[i])}")
    return fig


def show_transposed(x, y, kind, n=3):
    fig, axes = plt.subplots(n, 1)
    for i, ax in enumerate(axes):
        ax.imshow(x[i].numpy().T, aspect="auto")
        ax.set(title=f"label {int(y[i])}", xlabel="coefficient", ylabel="frame")
    return fig


CASES: list[Case] = [
    right("corpus_stats", "reference", lambda: (corpus_stats, utterances())),
    wrong(
        "corpus_stats",
        "speakers = files",
        lambda: (stats_changed(speakers=lambda u, v: len(u)), utterances()),
        "distinct",
    ),
    wrong(
        "corpus_stats",
        "hours in seconds",
        lambda: (stats_changed(hours=lambda u, v: v * 3600), utterances()),
        "in seconds",
    ),
    wrong(
        "corpus_stats",
        "hours in minutes",
        lambda: (stats_changed(hours=lambda u, v: v * 60), utterances()),
        "in minutes",
    ),
    wrong(
        "corpus_stats",
        "every file at 16 kHz",
        lambda: (
            stats_changed(hours=lambda u, v: sum(x.frames for x in u) / 16_000 / 3600),
            utterances(),
        ),
        "taken to be at 16000 Hz",
    ),
    wrong(
        "corpus_stats", "missing key", lambda: (stats_missing_key, utterances()), "no key 'files'"
    ),
    wrong(
        "corpus_stats",
        "a list",
        lambda: (lambda u: list(corpus_stats(u).values()), utterances()),
        "dict",
    ),
    wrong(
        "corpus_stats",
        "ignores its input",
        lambda: (stats_of_another_corpus, utterances()),
        '"files" is 40',
    ),
    right("label_map", "reference", lambda: (make_label_map, utterances())),
    right("label_map", "the kit's", lambda: (speaker_to_index, utterances())),
    wrong("label_map", "raw ids", lambda: (labels_raw_ids, utterances()), "raw speaker ids"),
    wrong("label_map", "file order", lambda: (labels_file_order, utterances()), "another order"),
    wrong(
        "label_map",
        "reverse order",
        lambda: (labels_reversed, utterances()),
        "not numbered in sorted order",
    ),
    wrong(
        "label_map", "numeric keys", lambda: (labels_numeric_keys, utterances()), "keys are numbers"
    ),
    wrong("label_map", "from 1", lambda: (labels_from_one, utterances()), "each of 0"),
    wrong(
        "label_map",
        "ignores its input",
        lambda: (labels_of_first_files, utterances()),
        "not one per speaker",
    ),
    right("speaker_split", "reference", lambda: (split_per_speaker, utterances())),
    right("speaker_split", "the kit's", lambda: (split_utterances, utterances())),
    wrong(
        "speaker_split",
        "the practical's",
        lambda: (split_practical, utterances()),
        "numpy's global",
    ),
    wrong(
        "speaker_split",
        "np.random.seed",
        lambda: (split_globally_seeded, utterances()),
        "numpy's global",
    ),
    wrong(
        "speaker_split",
        "int() rounding",
        lambda: (split_int_rounding, utterances()),
        r"0\.3 × 2 = 0\.6",
    ),
    wrong(
        "speaker_split", "input order", lambda: (split_input_order, utterances()), "reverse order"
    ),
    wrong(
        "speaker_split",
        "seed ignored",
        lambda: (split_seed_ignored, utterances()),
        "argument 'seed' changes",
    ),
    wrong(
        "speaker_split",
        "whole corpus",
        lambda: (split_whole_corpus, utterances()),
        "of \\*each\\* speaker",
    ),
    wrong(
        "speaker_split", "overlap", lambda: (split_overlapping, utterances()), "both train and val"
    ),
    wrong("speaker_split", "paths", lambda: (split_paths, utterances()), "Utterance"),
    right("crop_dataset", "reference", lambda: (CropDataset,)),
    wrong("crop_dataset", "feature per item", lambda: (FeaturePerItem,), "created for every item"),
    wrong("crop_dataset", "raw id label", lambda: (RawIdLabel,), "raw speaker id"),
    wrong("crop_dataset", "string label", lambda: (StringLabel,), "string"),
    wrong("crop_dataset", "no padding", lambda: (NoPadding,), "not padded"),
    wrong("crop_dataset", "whole file", lambda: (WholeFile,), "decoded to cut a 3-s crop"),
    wrong("crop_dataset", "librosa rate", lambda: (LibrosaRate,), "a 3-s crop at 16000 Hz"),
    wrong("crop_dataset", "padded in front", lambda: (PadInFront,), "followed by silence"),
    wrong("crop_dataset", "3 s hard-coded", lambda: (HardCodedThreeSeconds,), "crop_seconds=2.0"),
    wrong("crop_dataset", "soundfile whole file", lambda: (Torchaudio,), "decoded to cut"),
    wrong("crop_dataset", "never moves", lambda: (NeverMoves,), "never moves"),
    wrong("crop_dataset", "global random", lambda: (GlobalRandom,), "Python's random"),
    wrong(
        "crop_dataset", "stored generator", lambda: (StoredGenerator,), "twice in the same epoch"
    ),
    wrong("crop_dataset", "seed ignored", lambda: (SeedIgnored,), "argument 'seed' changes"),
    wrong("crop_dataset", "past the end", lambda: (PastTheEnd,), "no room to move"),
    right("batch_loader", "reference", lambda: (make_batches,)),
    right(
        "batch_loader",
        "the kit's make_loader",
        lambda: (lambda d, b, s: make_loader(d, b, shuffle=True, seed=s, num_workers=0),),
    ),
    wrong("batch_loader", "no shuffle", lambda: (batches_unshuffled,), "does not shuffle"),
    wrong("batch_loader", "global generator", lambda: (batches_global_rng,), "torch's global"),
    wrong("batch_loader", "batch size ignored", lambda: (batches_size_ignored,), r"\[1, 1, 1"),
    wrong(
        "batch_loader", "constant seed", lambda: (batches_constant_seed,), "argument 'seed' changes"
    ),
    wrong(
        "batch_loader", "reseeded every epoch", lambda: (ReseededEveryEpoch,), "repeats the first"
    ),
    right("batch_figure", "reference", lambda: (show_batch,)),
    wrong(
        "batch_figure", "same item", lambda: (show_variant(pick=lambda x, i: x[0]),), "shows item 0"
    ),
    wrong(
        "batch_figure",
        "batch mean",
        lambda: (show_variant(pick=lambda x, i: x.mean(0)),),
        "average of the batch",
    ),
    wrong("batch_figure", "no label", lambda: (show_variant(title=False),), "does not say"),
    wrong("batch_figure", "plt.show", lambda: (show_variant(returns=False),), "not a matplotlib"),
    wrong("batch_figure", "transposed", lambda: (show_transposed,), "transposed"),
    wrong("batch_figure", "no axis labels", lambda: (show_imshow_unlabelled,), "no axis labels"),
]


@pytest.fixture(autouse=True)
def course_corpus(manifest: Manifest) -> None:
    CORPUS["utterances"] = manifest.utterances


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    accepts(case, capsys)


@pytest.mark.parametrize("case", [c for c in CASES if c.match is not None], ids=str)
def test_rejects(case: Case) -> None:
    rejects(case)


def test_label_map_accepts_both_sorts(capsys: pytest.CaptureFixture[str]) -> None:
    checks.label_map(make_label_map)
    assert "sorted as text" in capsys.readouterr().out
    checks.label_map(speaker_to_index)
    assert "sorted as numbers" in capsys.readouterr().out


def test_crop_dataset_check_restores_what_it_patches() -> None:
    read, init = sf.SoundFile.read, torch.nn.Module.__init__
    checks.crop_dataset(CropDataset)
    with pytest.raises(checks.ExerciseError):
        checks.crop_dataset(FeaturePerItem)
    assert sf.SoundFile.read is read and torch.nn.Module.__init__ is init


def test_split_order_message_states_the_requirement() -> None:
    """Issue 18: a split that depends on the input order is rejected, and the message says that the
    exercise asks for the same split whatever the order of the input list (as its text states)."""
    message = rejects(
        wrong("speaker_split", "order", lambda: (split_input_order, utterances()), "reverse order")
    )
    assert "whatever the order of the input list" in message
