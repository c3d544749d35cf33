"""Checks for the dataset exercises (03): corpus statistics, labels, the split and a crop Dataset.

The split and Dataset checks run the student's code on a small corpus of their own (speakers with 2 to
25 files, raw ids like the real ones, a clip shorter than the crop), where the usual mistakes show.
"""

from __future__ import annotations

import inspect
import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from unittest import mock

import numpy as np
import soundfile as sf
import torch
from torch import nn

from ..audio import SAMPLE_RATE, fit_length, load_audio
from ..corpus import Utterance
from ..features import FEATURE_KINDS, make_feature
from ._common import expect, passed

__all__ = ["corpus_stats", "crop_dataset", "label_map", "speaker_split"]


def corpus_stats(stats: object, utterances: Sequence[Utterance]) -> None:
    """``stats == {"files": …, "speakers": …, "hours": …}`` for these utterances."""
    expect(
        isinstance(stats, dict),
        f"corpus_stats returned a {type(stats).__name__}; expected a dict.",
        'Return {"files": ..., "speakers": ..., "hours": ...}.',
    )
    missing = {"files", "speakers", "hours"} - set(stats)
    expect(
        not missing,
        f"The dict has no key {', '.join(sorted(missing))}.",
        'Use the keys "files", "speakers" and "hours".',
    )
    files, speakers = len(utterances), len({u.speaker for u in utterances})
    seconds = sum(u.seconds for u in utterances)
    expect(
        stats["files"] == files,
        f'"files" is {stats["files"]!r}; the manifest lists {files} files.',
        "Every Utterance is one file: count them.",
    )
    expect(
        stats["speakers"] != files or files == speakers,
        f'"speakers" is {stats["speakers"]!r}, the number of files: each speaker has many files.',
        "Count the *distinct* speakers, e.g. with a set of u.speaker.",
    )
    expect(
        stats["speakers"] == speakers,
        f'"speakers" is {stats["speakers"]!r}; the manifest has {speakers} distinct speakers.',
        "Count the distinct values of u.speaker.",
    )
    hours = float(stats["hours"])
    for factor, unit in [(3600, "seconds"), (60, "minutes"), (3600 * SAMPLE_RATE, "samples")]:
        expect(
            not np.isclose(hours, factor * seconds / 3600, rtol=1e-3),
            f'"hours" is {hours:.4g}: that is the total in {unit}.',
            "hours = total seconds / 3600; an Utterance knows its length in seconds (u.seconds).",
        )
    expect(
        np.isclose(hours, seconds / 3600, rtol=1e-3),
        f'"hours" is {hours:.4g}; the files add up to {seconds / 3600:.4g} h.',
        "Add u.seconds over all files, then divide by 3600.",
    )
    passed(f"{files} files, {speakers} speakers, {seconds / 3600:.2f} h")


def _fake_corpus(counts: dict[str, int]) -> list[Utterance]:
    """Utterances (no files) of speakers with the given numbers of files, two chapters each."""
    return [
        Utterance(f"{s}/{s}-{c}-{i:04d}.flac", s, str(c), 16_000 * 4, 16_000)
        for s, n in counts.items()
        for i in range(n)
        for c in [100 + i % 2]
    ]


def label_map(
    make_map: Callable[[Sequence[Utterance]], dict], utterances: Sequence[Utterance]
) -> None:
    """``make_map(utterances)``: speaker id → class index, 0..n-1 in sorted order, order-independent."""
    mapping = make_map(utterances)
    speakers = {u.speaker for u in utterances}
    expect(
        isinstance(mapping, dict),
        f"The function returned a {type(mapping).__name__}; expected a dict speaker → index.",
        "Build a dict such as {speaker: index for index, speaker in enumerate(...)}.",
    )
    expect(
        set(mapping) == speakers or {str(k) for k in mapping} != speakers,
        "The keys are numbers; an Utterance's speaker is a string like '103'.",
        "Key the dict by u.speaker exactly as the manifest gives it.",
    )
    expect(
        set(mapping) == speakers,
        f"The dict has {len(mapping)} keys; the corpus has {len(speakers)} speakers.",
        "One key per distinct u.speaker.",
    )
    values = list(mapping.values())
    if all(str(v) == k for k, v in mapping.items()) and sorted(values) != list(range(len(values))):
        highest = max(int(v) for v in values)
        expect(
            False,
            f"The indices are the raw speaker ids (up to {highest}). A classifier with one output "
            f"per class index would need {highest + 1} outputs for {len(values)} speakers, most "
            "never used, and CrossEntropyLoss expects labels 0 … n_classes − 1.",
            "Number the speakers 0, 1, 2, … in sorted order.",
        )
    expect(
        all(isinstance(v, int | np.integer) for v in values),
        "Some indices are not integers.",
        "Use enumerate() to number the speakers.",
    )
    expect(
        sorted(values) == list(range(len(values))),
        f"The indices are {sorted(values)[:8]}…; expected each of 0 … {len(values) - 1} once.",
        "enumerate() over the distinct speakers gives exactly 0 … n − 1.",
    )
    shuffled = list(utterances)
    np.random.default_rng(0).shuffle(shuffled)
    expect(
        make_map(shuffled) == mapping and make_map(list(reversed(utterances))) == mapping,
        "The same speakers listed in another order get other indices: the order follows the files.",
        "Sort the distinct speakers before numbering them, so the map is the same in every run.",
    )
    order = sorted(mapping, key=mapping.get)
    numeric = sorted(speakers, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))
    expect(
        order in (sorted(speakers), numeric),
        "The speakers are not numbered in sorted order.",
        "sorted() the distinct speakers (as text, or as numbers), then enumerate().",
    )
    if order == numeric == sorted(speakers):
        kind = "sorted"
    elif order == numeric:
        kind = "sorted as numbers, like the kit's"
    else:
        kind = "sorted as text (the kit sorts numeric ids as numbers: fine, if one map is kept)"
    passed(f"{len(mapping)} speakers → 0 … {len(mapping) - 1}, {kind}, whatever the file order")


def speaker_split(
    split: Callable[..., tuple[Sequence[Utterance], Sequence[Utterance]]],
    utterances: Sequence[Utterance] | None = None,
) -> None:
    """``split(utterances, val_fraction=0.3, seed=0) -> (train, val)``: per speaker, seeded, disjoint.

    Tried on a small corpus of speakers with 2, 3, 4, 7, 10 and 25 files, then on ``utterances``.
    """
    corpora = [
        (
            "a test corpus",
            _fake_corpus({"19": 2, "103": 3, "250": 4, "1034": 7, "5678": 10, "8975": 25}),
        )
    ]
    if utterances is not None:
        corpora.append(("the course corpus", list(utterances)))
    for name, corpus in corpora:
        for fraction in (0.3, 0.5):
            _check_split(split, corpus, fraction, name)
    passed(
        "every speaker on both sides, ~30 % of each speaker's files held out, disjoint, "
        "reproducible with the seed"
    )


def _paths(files: Sequence[Utterance]) -> list[str]:
    return sorted(u.path for u in files)


def _check_split(split: Callable, corpus: list[Utterance], fraction: float, name: str) -> None:
    result = split(corpus, val_fraction=fraction, seed=0)
    expect(
        isinstance(result, tuple) and len(result) == 2,
        f"The split returned {type(result).__name__}; expected a pair (train, val).",
        "Return two lists of Utterance: (train, val).",
    )
    train, val = (list(part) for part in result)
    expect(
        all(isinstance(u, Utterance) for u in train + val),
        "train and val should hold Utterance objects.",
        "Put the utterances themselves in the lists (not paths or indices).",
    )
    where = f"On {name} with val_fraction={fraction}"
    overlap = set(_paths(train)) & set(_paths(val))
    expect(
        not overlap,
        f"{where}, {len(overlap)} file(s) are in both train and val, e.g. {min(overlap, default='')}.",
        "Each file goes to exactly one side.",
    )
    expect(
        _paths(train + val) == _paths(corpus),
        f"{where}, train + val hold {len(train) + len(val)} files; the corpus has {len(corpus)}.",
        "Every file goes to one side: none dropped, none repeated.",
    )
    again = split(corpus, val_fraction=fraction, seed=0)
    expect(
        _paths(again[1]) == _paths(val),
        f"{where}, two calls with seed=0 gave different validation sets: not reproducible.",
        "Draw from a generator made from the seed, rng = np.random.default_rng(seed), instead of "
        "np.random.* or random.* (their state changes from one call to the next).",
    )
    other = split(corpus, val_fraction=fraction, seed=1)
    expect(
        _paths(other[1]) != _paths(val),
        f"{where}, seed=0 and seed=1 gave the same split: the seed changes nothing (or the files "
        "are not shuffled at all).",
        "Shuffle each speaker's files with rng = np.random.default_rng(seed).",
    )
    per_speaker = Counter(u.speaker for u in corpus)
    held = Counter(u.speaker for u in val)
    by_size = sorted((n, speaker) for speaker, n in per_speaker.items() if n >= 2)
    for n, speaker in by_size:
        expect(
            abs(held[speaker] - fraction * n) <= 1,
            f"{where}, speaker {speaker} has {held[speaker]} of its {n} files in validation; "
            f"about {fraction * n:.1f} expected.",
            "Hold out val_fraction of *each* speaker's files (not of the whole corpus), so "
            "every speaker is split in the same proportion.",
        )
    for n, speaker in by_size:
        expect(
            held[speaker] >= 1,
            f"{where}, speaker {speaker} ({n} files) has no validation file "
            f"({fraction} × {n} = {fraction * n:g}, and int() rounds it down to 0).",
            "Hold out at least one file per speaker (e.g. max(1, round(fraction × n))) so that "
            "every class is validated.",
        )
        expect(
            held[speaker] <= n - 1,
            f"{where}, all {n} files of speaker {speaker} are in validation: none left to train on.",
            "Keep at least one file of every speaker for training.",
        )


# --------------------------------------------------------------------------------------------------
# The crop Dataset


@contextmanager
def _count_modules():
    """Count ``nn.Module`` constructions inside the block: ``with _count_modules() as count: …``."""
    count = [0]
    original = nn.Module.__init__

    def counting(self, *args, **kwargs):
        count[0] += 1
        original(self, *args, **kwargs)

    with mock.patch.object(nn.Module, "__init__", counting):
        yield count


@contextmanager
def _record_reads():
    """Record ``(frames, stop)`` of every ``sf.read`` inside the block (``load_audio`` calls it)."""
    calls: list[tuple[int, int | None]] = []
    sf_read = sf.read
    signature = inspect.signature(sf_read)

    def recording_sf(*args, **kwargs):
        bound = signature.bind(*args, **kwargs)
        calls.append((bound.arguments.get("frames", -1), bound.arguments.get("stop")))
        return sf_read(*args, **kwargs)

    with mock.patch.object(sf, "read", recording_sf):
        yield calls


def _make_test_corpus(root: Path) -> tuple[list[Utterance], dict[str, int]]:
    """A 5-s file of speaker 8975 and a 1.2-s one of speaker 19, at 16 kHz."""
    rng = np.random.default_rng(0)
    utterances = []
    for speaker, seconds in [("8975", 5.0), ("19", 1.2)]:
        frames = round(seconds * SAMPLE_RATE)
        t = np.arange(frames) / SAMPLE_RATE
        tone = 0.3 * np.sin(2 * np.pi * (120 + 40 * int(speaker) % 200) * t)
        audio = (tone + 0.05 * rng.standard_normal(frames)).astype(np.float32)
        relative = f"{speaker}/{speaker}-1-0000.flac"
        (root / speaker).mkdir()
        sf.write(root / relative, audio, SAMPLE_RATE)
        utterances.append(Utterance(relative, speaker, "1", frames, SAMPLE_RATE))
    return utterances, {"19": 0, "8975": 1}


def crop_dataset(dataset_class: type) -> None:
    """``dataset_class(utterances, label_map, root, kind, crop_seconds=3.0)``: (features, label).

    Items must be the features of a ``crop_seconds`` window read with ``load_audio`` (only that window
    decoded), short clips zero-padded at the end, labels from the map, and the feature module built
    once in ``__init__``, not per item.
    """
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        utterances, labels = _make_test_corpus(root)
        short_one = utterances[1]
        for kind in FEATURE_KINDS:
            reference = make_feature(kind)
            expected = tuple(reference(torch.zeros(3 * SAMPLE_RATE)).shape)
            dataset = dataset_class(utterances, labels, root, kind)
            expect(
                len(dataset) == 2,
                f"len(dataset) is {len(dataset)} for 2 utterances.",
                "__len__ returns the number of utterances.",
            )
            with _count_modules() as built, _record_reads() as reads:
                items = [dataset[0], dataset[1]]
            expect(
                built[0] == 0,
                f"Getting two items of kind {kind!r} built {built[0]} nn.Module(s): a feature "
                "module is created for every item.",
                "Build the feature module once, in __init__ (self.feature = make_feature(kind)), "
                "and only apply it in __getitem__.",
            )
            expect(
                bool(reads),
                "The items were not read with soundfile (through helpers.audio.load_audio).",
                "Read the crop with load_audio(path, start=..., frames=...).",
            )
            expect(
                reads[0][0] != -1 or reads[0][1] is not None,
                "The whole 5-s file was decoded to cut a 3-s crop out of it.",
                "Pass start= and frames= (in samples) to load_audio, so only the crop is decoded.",
            )
            for (x, y), utterance in zip(items, utterances):
                described = f"item of kind {kind!r} for speaker {utterance.speaker} "
                described += f"({utterance.seconds:g} s)"
                expect(
                    not isinstance(y, str),
                    f"The label of the {described} is the string {y!r}.",
                    "Return the class index label_map[utterance.speaker], an int.",
                )
                expect(
                    isinstance(y, int | np.integer)
                    or (isinstance(y, torch.Tensor) and y.ndim == 0),
                    f"The label of the {described} is a {type(y).__name__}.",
                    "Return the class index as an int.",
                )
                expect(
                    int(y) != int(utterance.speaker),
                    f"The label of the {described} is {int(y)}, the raw speaker id.",
                    "Return label_map[utterance.speaker]: indices 0 … n_speakers − 1.",
                )
                expect(
                    int(y) == labels[utterance.speaker],
                    f"The label of the {described} is {int(y)}; the map says "
                    f"{labels[utterance.speaker]}.",
                    "Return label_map[utterance.speaker].",
                )
                expect(
                    isinstance(x, torch.Tensor),
                    f"The features of the {described} are a {type(x).__name__}.",
                    "Return the feature module's output (a torch.Tensor).",
                )
                shape = tuple(x.shape)
                if shape != expected and len(shape) == 2 and shape[0] == expected[0]:
                    seconds = (shape[1] - 1) * reference.hop_length / SAMPLE_RATE
                    expect(
                        utterance is not short_one or shape[1] >= expected[1],
                        f"The features of the {described} have {shape[1]} frames, about "
                        f"{seconds:.2f} s: the short clip was not padded.",
                        "Pad every crop to exactly crop_seconds with fit_length(waveform, samples).",
                    )
                    expect(
                        False,
                        f"The features of the {described} have {shape[1]} frames, about "
                        f"{seconds:.2f} s; a 3-s crop at {SAMPLE_RATE} Hz (48000 samples) gives "
                        f"{expected[1]}.",
                        "frames = round(crop_seconds × file's sample rate); load at 16 kHz and "
                        "fit_length to round(crop_seconds × 16000) samples.",
                    )
                expect(
                    shape == expected,
                    f"The features of the {described} have shape {shape}; expected {expected}.",
                    f"Apply the module make_feature({kind!r}) to the (samples,) crop.",
                )
                expect(
                    bool(torch.isfinite(x).all()),
                    f"The features of the {described} hold NaN or infinite values.",
                    "Feed the module a float waveform, padded with zeros.",
                )
            with torch.no_grad():
                padded = fit_length(load_audio(root / short_one.path), 3 * SAMPLE_RATE)
                want = reference(padded)
            expect(
                torch.allclose(items[1][0], want, atol=1e-3),
                f"For the 1.2-s clip, the {kind!r} features are not those of the clip followed "
                "by silence.",
                "A clip shorter than the crop is read whole and padded at the end with zeros: "
                "fit_length(load_audio(...), crop_samples).",
            )
        dataset = dataset_class(utterances, labels, root, "mfcc", crop_seconds=2.0)
        frames = tuple(dataset[0][0].shape)
        expect(
            frames == (40, 201),
            f"With crop_seconds=2.0 an MFCC item has shape {frames}; expected (40, 201).",
            "Use self.crop_seconds, not a hard-coded 3 s.",
        )
    passed(
        "items are (features, label index) of a 3-s window, short clips padded, one feature "
        "module built in __init__"
    )
