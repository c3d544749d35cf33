"""Checks for notebook 03, the dataset: corpus statistics, the label map, the split, a crop Dataset.

The checks run the student's code on small corpora of their own (speakers with 2 to 25 files, raw ids
like the real ones, a file at 8 kHz, a clip shorter than the crop), where the usual mistakes show, and
watch what it does: which windows soundfile decodes, whether a global random generator moves, how many
modules are built per item, whether the crop moves from one epoch to the next.
"""

from __future__ import annotations

import tempfile
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch

from ..audio import SAMPLE_RATE, fit_length, load_audio
from ..corpus import Utterance
from ..features import FEATURE_KINDS, make_feature
from .core import (
    as_number,
    call,
    check,
    count_modules,
    expect,
    fail,
    passed,
    record_decodes,
    watch_global_rngs,
    write_test_audio,
)

__all__ = [
    "batch_figure",
    "batch_loader",
    "corpus_stats",
    "crop_dataset",
    "label_map",
    "speaker_split",
]


def _fake_corpus(counts: dict[str, int], rates: dict[str, int] | None = None) -> list[Utterance]:
    """Utterances (no files) of speakers with the given numbers of files, two chapters each.

    File ``i`` of a speaker lasts ``2 + i % 5`` seconds, at 16 kHz unless ``rates`` says otherwise.
    """
    rates = rates or {}
    utterances = []
    for speaker, n in counts.items():
        rate = rates.get(speaker, SAMPLE_RATE)
        for i in range(n):
            chapter = str(100 + i % 2)
            path = f"{speaker}/{speaker}-{chapter}-{i:04d}.flac"
            utterances.append(Utterance(path, speaker, chapter, rate * (2 + i % 5), rate))
    return utterances


# --------------------------------------------------------------------------------------------------
# Exercise: corpus statistics


@check(
    "Three numbers about the list you are given: how many files, how many different speakers, and "
    "how long they last together, in hours.",
    "Each Utterance is one file; several files share a speaker, so count the *distinct* speakers. "
    "An Utterance knows its own duration in seconds (its files are not all at 16 kHz).",
    'Return a dict with the keys "files" (the length of the list), "speakers" (the size of the set '
    'of speaker ids) and "hours" (the sum of every duration in seconds, divided by 3600).',
)
def corpus_stats(
    compute: Callable[[Sequence[Utterance]], object], utterances: Sequence[Utterance] | None = None
) -> None:
    """Check ``compute(utterances) -> {"files": …, "speakers": …, "hours": …}``.

    Tried on a test corpus (6 speakers, one of them at 8 kHz), then on ``utterances``.
    """
    corpora = [
        ("a test corpus", _fake_corpus({"19": 2, "103": 3, "250": 4, "8975": 6}, {"250": 8_000}))
    ]
    if utterances is not None:
        corpora.append(("the course corpus", list(utterances)))
    for name, corpus in corpora:
        stats = call(compute, corpus, what=f"corpus_stats({name})")
        _check_stats(stats, corpus, name)
    files, speakers = len(corpora[-1][1]), len({u.speaker for u in corpora[-1][1]})
    hours = sum(u.seconds for u in corpora[-1][1]) / 3600
    passed(f"{files} files, {speakers} speakers, {hours:.2f} h")


def _check_stats(stats: object, utterances: Sequence[Utterance], name: str) -> None:
    expect(
        isinstance(stats, dict),
        f"corpus_stats returned a {type(stats).__name__}; expected a dict.",
        'return a dict with the keys "files", "speakers" and "hours".',
    )
    assert isinstance(stats, dict)
    missing = {"files", "speakers", "hours"} - set(stats)
    expect(
        not missing,
        f"The dict has no key {', '.join(map(repr, sorted(missing)))} (it has {sorted(map(str, stats))}).",
        'use exactly the keys "files", "speakers" and "hours".',
    )
    files, speakers = len(utterances), len({u.speaker for u in utterances})
    seconds = sum(u.seconds for u in utterances)
    where = f"On {name} ({files} files of {speakers} speakers)"
    expect(
        stats["files"] == files,
        f'{where} "files" is {stats["files"]!r}.',
        "every Utterance in the list is one file: count the list you are given.",
    )
    expect(
        stats["speakers"] != files or files == speakers,
        f'{where} "speakers" is {stats["speakers"]!r}, the number of files: a speaker has many files.',
        "count the *distinct* speaker ids.",
    )
    expect(
        stats["speakers"] == speakers,
        f'{where} "speakers" is {stats["speakers"]!r}.',
        "count the distinct values of u.speaker in the list you are given.",
    )
    hours = as_number(stats["hours"], '"hours"')
    assumed = sum(u.frames for u in utterances) / SAMPLE_RATE / 3600
    for value, unit in [
        (seconds, "seconds"),
        (seconds / 60, "minutes"),
        (seconds * SAMPLE_RATE, "samples"),
    ]:
        expect(
            not np.isclose(hours, value, rtol=1e-3),
            f'{where} "hours" is {hours:.4g}: that is the total in {unit}.',
            "an hour is 3600 seconds.",
        )
    expect(
        np.isclose(assumed, seconds / 3600, rtol=1e-3) or not np.isclose(hours, assumed, rtol=1e-3),
        f'{where} "hours" is {hours:.4g}: every file was taken to be at {SAMPLE_RATE} Hz, but some '
        "are not.",
        "each Utterance knows its own duration in seconds (u.seconds).",
    )
    expect(
        np.isclose(hours, seconds / 3600, rtol=1e-3),
        f'{where} "hours" is {hours:.4g}; the files add up to {seconds / 3600:.4g} h.',
        "add up the duration of every file, in seconds, then convert to hours.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the label map


@check(
    "A classifier needs classes numbered 0, 1, 2, … with no gaps, and the same numbers in every run.",
    "The raw speaker ids ('19', '8975') are not class indices; and numbering speakers in the order "
    "their files come gives another map whenever the files come in another order.",
    "Put the distinct speaker ids of the utterances in sorted order, then give each its position in "
    "that sorted list (enumerate), keyed by the id string exactly as the manifest spells it.",
)
def label_map(
    make_map: Callable[[Sequence[Utterance]], dict], utterances: Sequence[Utterance] | None = None
) -> None:
    """Check ``make_map(utterances)``: speaker id → class index, 0..n-1 in sorted order, order-independent.

    Tried on a test corpus whose ids sort differently as text and as numbers, then on ``utterances``.
    """
    corpora = [("a test corpus", _fake_corpus({"8975": 2, "19": 3, "250": 2, "103": 4}))]
    if utterances is not None:
        corpora.append(("the course corpus", list(utterances)))
    for name, corpus in corpora:
        kind = _check_label_map(make_map, corpus, name)
    n = len({u.speaker for u in corpora[-1][1]})
    passed(f"{n} speakers → 0 … {n - 1}, {kind}, whatever the file order")


def _check_label_map(make_map: Callable, utterances: list[Utterance], name: str) -> str:
    mapping = call(make_map, utterances, what=f"make_label_map({name})")
    speakers = {u.speaker for u in utterances}
    where = f"On {name} ({len(speakers)} speakers)"
    expect(
        isinstance(mapping, dict),
        f"{where} the function returned a {type(mapping).__name__}; expected a dict speaker → index.",
        "build a dict from speaker id to class index.",
    )
    expect(
        set(mapping) == speakers or {str(k) for k in mapping} != speakers,
        f"{where} the keys are numbers; an Utterance's speaker is a string like '103'.",
        "key the dict by u.speaker exactly as the manifest gives it.",
    )
    expect(
        set(mapping) == speakers,
        f"{where} the dict has {len(mapping)} keys, not one per speaker of the list it was given.",
        "one key per distinct u.speaker of the utterances passed in.",
    )
    values = list(mapping.values())
    if all(str(v) == k for k, v in mapping.items()):
        highest = max(int(v) for v in values)
        fail(
            f"{where} the indices are the raw speaker ids (up to {highest}). A classifier with one "
            f"output per class index would need {highest + 1} outputs for {len(values)} speakers, "
            "most never used, and CrossEntropyLoss expects labels 0 … n_classes − 1.",
            "number the speakers 0, 1, 2, … instead.",
        )
    expect(
        all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values),
        f"{where} some indices are not integers.",
        "a class index is an int.",
    )
    expect(
        sorted(values) == list(range(len(values))),
        f"{where} the indices are {sorted(values)[:8]}…; expected each of 0 … {len(values) - 1} once.",
        "number the distinct speakers from 0, each once.",
    )
    shuffled = list(utterances)
    np.random.default_rng(0).shuffle(shuffled)
    again = [call(make_map, order, what="make_label_map") for order in (shuffled, utterances[::-1])]
    expect(
        all(other == mapping for other in again),
        f"{where} the same speakers listed in another order get other indices: the numbering "
        "follows the order of the files.",
        "sort the distinct speakers before numbering them, so the map is the same in every run.",
    )
    order = sorted(mapping, key=mapping.get)
    numeric = sorted(speakers, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))
    expect(
        order in (sorted(speakers), numeric),
        f"{where} the speakers are not numbered in sorted order.",
        "sort the distinct speakers (as text, or as numbers), then number them.",
    )
    if order == numeric == sorted(speakers):
        return "sorted"
    if order == numeric:
        return "sorted as numbers, like the kit's"
    return "sorted as text (the kit sorts numeric ids as numbers: fine, if one map is kept)"


# --------------------------------------------------------------------------------------------------
# Exercise: the split


@check(
    "Split each speaker's files, not the corpus: every speaker on both sides, in the same proportion.",
    "Your own generator made from the seed (numpy's default_rng) gives the same split on every run "
    "and leaves the global random state alone; sort the files first so that their order does not "
    "matter. Round the held-out count, but keep at least one file on each side.",
    "Group the files (sorted by path) by speaker; for each speaker in sorted order, permute its files "
    "with one generator made from the seed, hold out about val_fraction of them (at least 1, at most "
    "all but 1) for validation and keep the rest for training.",
)
def speaker_split(
    split: Callable[..., tuple[Sequence[Utterance], Sequence[Utterance]]],
    utterances: Sequence[Utterance] | None = None,
) -> None:
    """Check ``split(utterances, val_fraction=0.3, seed=0) -> (train, val)``: per speaker, seeded, disjoint.

    Tried on a small corpus of speakers with 2, 3, 4, 7, 10 and 25 files, then on ``utterances``.
    """
    test_corpus = _fake_corpus({"19": 2, "103": 3, "250": 4, "1034": 7, "5678": 10, "8975": 25})
    corpora = [("a test corpus", test_corpus)]
    if utterances is not None:
        corpora.append(("the course corpus", list(utterances)))
    for name, corpus in corpora:
        for fraction in (0.3, 0.5):
            _check_split(split, corpus, fraction, name)
    passed(
        "every speaker on both sides, ~val_fraction of each speaker's files held out, disjoint, "
        "reproducible from the seed alone"
    )


def _paths(files: Sequence[Utterance]) -> list[str]:
    return sorted(u.path for u in files)


def _run_split(
    split: Callable, corpus: list[Utterance], fraction: float, seed: int
) -> tuple[list, list]:
    what = f"split(utterances, val_fraction={fraction}, seed={seed})"
    with watch_global_rngs() as moved:
        result = call(split, corpus, val_fraction=fraction, seed=seed, what=what)
    expect(
        not moved,
        f"{what} drew from {' and '.join(moved)}: the split then depends on what every other cell "
        "drew before (and changes it for them).",
        "draw from your own generator made from the seed (numpy's default_rng), not from the "
        "global np.random / random / torch functions or their seed().",
    )
    expect(
        isinstance(result, tuple | list) and len(result) == 2,
        f"The split returned {type(result).__name__}; expected a pair (train, val).",
        "return two lists of Utterance: (train, val).",
    )
    train, val = (list(part) for part in result)
    expect(
        all(isinstance(u, Utterance) for u in train + val),
        "train and val should hold Utterance objects.",
        "put the utterances themselves in the lists (not paths or indices).",
    )
    return train, val


def _check_split(split: Callable, corpus: list[Utterance], fraction: float, name: str) -> None:
    train, val = _run_split(split, corpus, fraction, 0)
    where = f"On {name} with val_fraction={fraction}"
    overlap = set(_paths(train)) & set(_paths(val))
    expect(
        not overlap,
        f"{where}, {len(overlap)} file(s) are in both train and val, e.g. {min(overlap, default='')}.",
        "each file goes to exactly one side.",
    )
    expect(
        _paths(train + val) == _paths(corpus),
        f"{where}, train + val hold {len(train) + len(val)} files; the corpus has {len(corpus)}.",
        "every file goes to one side: none dropped, none repeated.",
    )
    expect(
        _paths(_run_split(split, corpus, fraction, 0)[1]) == _paths(val),
        f"{where}, two calls with seed=0 gave different validation sets: not reproducible.",
        "make the generator from the seed inside the function, once per call.",
    )
    expect(
        _paths(_run_split(split, corpus[::-1], fraction, 0)[1]) == _paths(val),
        f"{where}, the same files in reverse order gave another split: it depends on the order "
        "the files come in.",
        "sort the files (e.g. by path) and the speakers before shuffling.",
    )
    expect(
        _paths(_run_split(split, corpus, fraction, 1)[1]) != _paths(val),
        f"{where}, seed=0 and seed=1 gave the same split: the seed changes nothing (or the files "
        "are not shuffled at all).",
        "shuffle each speaker's files with a generator made from the seed argument.",
    )
    per_speaker = Counter(u.speaker for u in corpus)
    held = Counter(u.speaker for u in val)
    by_size = sorted((n, speaker) for speaker, n in per_speaker.items() if n >= 2)
    for n, speaker in by_size:
        if n * fraction >= 1.5:
            expect(
                abs(held[speaker] - fraction * n) <= 1,
                f"{where}, speaker {speaker} has {held[speaker]} of its {n} files in validation; "
                f"about {fraction * n:.1f} expected.",
                "hold out val_fraction of *each* speaker's files (not of the whole corpus), so "
                "every speaker is split in the same proportion.",
            )
    for n, speaker in by_size:
        expect(
            held[speaker] >= 1,
            f"{where}, speaker {speaker} ({n} files) has no validation file "
            f"({fraction} × {n} = {fraction * n:g}, and int() rounds it down to 0).",
            "hold out at least one file per speaker, so that every class is validated.",
        )
        expect(
            held[speaker] <= n - 1,
            f"{where}, all {n} files of speaker {speaker} are in validation: none left to train on.",
            "keep at least one file of every speaker for training.",
        )


# --------------------------------------------------------------------------------------------------
# Exercise: the crop Dataset


def _make_test_corpus(root: Path) -> tuple[list[Utterance], dict[str, int]]:
    """A 5-s file of speaker 8975 and a 1.2-s one of speaker 19, at 16 kHz."""
    rng = np.random.default_rng(0)
    utterances = []
    for speaker, seconds in [("8975", 5.0), ("19", 1.2)]:
        frames = round(seconds * SAMPLE_RATE)
        t = np.arange(frames) / SAMPLE_RATE
        tone = 0.3 * np.sin(2 * np.pi * (120 + 40 * int(speaker) % 200) * t)
        relative = f"{speaker}/{speaker}-1-0000.flac"
        (root / speaker).mkdir()
        write_test_audio(root / relative, tone + 0.05 * rng.standard_normal(frames), SAMPLE_RATE)
        utterances.append(Utterance(relative, speaker, "1", frames, SAMPLE_RATE))
    return utterances, {"19": 0, "8975": 1}


@check(
    "An item is (the features of one crop_seconds window of the file, the speaker's class index); "
    "a short file is padded at the end; the feature module is built once.",
    "Place the window in samples at the file's rate and let load_audio decode only it; draw its "
    "start from a generator made from (seed, epoch, index), so it moves when self.epoch changes but "
    "not from one read to the next; pad to crop_seconds at 16 kHz.",
    "In __init__ keep the feature module for the kind. In __getitem__: the crop length in samples at "
    "the file's rate; the room = file length − crop length (at least 0); a start drawn in "
    "[0, room] by a generator seeded with the seed, the epoch and the index; load_audio of that "
    "window; fit_length to the crop at 16 kHz; return (features, label_map[speaker]).",
)
def crop_dataset(dataset_class: type) -> None:
    """Check ``dataset_class(utterances, label_map, root, kind, crop_seconds=3.0, seed=0)``.

    Items must be ``(features, label index)`` of a ``crop_seconds`` window read with ``load_audio``
    (only that window decoded), short clips zero-padded at the end, the feature module built once in
    ``__init__``; the crop must move when ``dataset.epoch`` changes, depend only on (seed, epoch,
    index), and leave the global random generators alone.
    """
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        utterances, labels = _make_test_corpus(root)
        for kind in FEATURE_KINDS:
            _check_items(dataset_class, utterances, labels, root, kind)
        _check_crop_moves(dataset_class, utterances, labels, root)
        dataset = call(
            dataset_class, utterances, labels, root, "mfcc", crop_seconds=2.0, what="the dataset"
        )
        frames = tuple(dataset[0][0].shape)
        expect(
            frames == (40, 201),
            f"With crop_seconds=2.0 an MFCC item has shape {frames}; expected (40, 201).",
            "use self.crop_seconds, not a hard-coded 3 s.",
        )
    passed(
        "items are (features, label index) of a window that moves with the epoch, reproducibly; "
        "short clips padded; one feature module built in __init__"
    )


def _check_items(
    dataset_class: type, utterances: list, labels: dict, root: Path, kind: str
) -> None:
    reference = make_feature(kind)
    what = f"{dataset_class.__name__}(utterances, label_map, root, {kind!r})"
    dataset = call(dataset_class, utterances, labels, root, kind, what=what)
    expect(
        len(dataset) == 2,
        f"len(dataset) is {len(dataset)} for 2 utterances.",
        "__len__ returns the number of utterances.",
    )
    with count_modules() as built, record_decodes() as decodes, watch_global_rngs() as moved:
        items = [call(dataset.__getitem__, i, what=f"dataset[{i}] ({kind!r})") for i in (0, 1)]
    expect(
        built[0] == 0,
        f"Getting two items of kind {kind!r} built {built[0]} nn.Module(s): a feature module is "
        "created for every item.",
        "build the feature module once, in __init__, and only apply it in __getitem__.",
    )
    expect(
        not moved,
        f"Getting two items drew from {' and '.join(moved)}: the crops then depend on every "
        "random draw made before, in any cell (and DataLoader workers repeat each other).",
        "draw the start from your own generator made from (seed, epoch, index).",
    )
    long_file = [d for d in decodes if d.total == utterances[0].frames]
    expect(
        bool(decodes),
        "The items were not read with soundfile (through helpers.audio.load_audio).",
        "read the crop with load_audio(path, start=..., frames=...).",
    )
    crop = round(3.0 * utterances[0].sample_rate)
    expect(
        all(d.frames <= crop for d in long_file),
        f"{max((d.frames for d in long_file), default=0)} samples of the 5-s file were decoded to cut a 3-s "
        "crop out of them.",
        "pass start= and frames= (in samples) to load_audio, so that only the crop is decoded.",
    )
    short_starts = [d.start for d in decodes if d.total == utterances[1].frames]
    expect(
        all(start == 0 for start in short_starts),
        f"The 1.2-s clip was read from sample {max(short_starts, default=0)} on: a clip shorter "
        "than the crop has no room to move, so its window must start at 0.",
        "the start is drawn in [0, room] with room = file length − crop length, at least 0.",
    )
    for (x, y), utterance in zip(items, utterances):
        _check_item(x, y, utterance, labels, reference, kind)
    short = utterances[1]
    with torch.no_grad():
        want = reference(fit_length(load_audio(root / short.path), 3 * SAMPLE_RATE))
    expect(
        torch.allclose(items[1][0], want, atol=1e-3),
        f"For the 1.2-s clip, the {kind!r} features are not those of the clip followed by silence.",
        "a clip shorter than the crop is read whole and padded at the *end* with zeros.",
    )


def _check_item(
    x: object, y: object, utterance: Utterance, labels: dict, reference, kind: str
) -> None:
    described = f"item of kind {kind!r} for speaker {utterance.speaker} ({utterance.seconds:g} s)"
    expect(
        not isinstance(y, str),
        f"The label of the {described} is the string {y!r}.",
        "return the class index from the label map, an int.",
    )
    expect(
        isinstance(y, int | np.integer) or (isinstance(y, torch.Tensor) and y.ndim == 0),
        f"The label of the {described} is a {type(y).__name__}.",
        "return the class index as an int.",
    )
    expect(
        int(y) != int(utterance.speaker),  # type: ignore[call-overload]
        f"The label of the {described} is {int(y)}, the raw speaker id.",  # type: ignore[call-overload]
        "look the speaker up in the label map: indices 0 … n_speakers − 1.",
    )
    expect(
        int(y) == labels[utterance.speaker],  # type: ignore[call-overload]
        f"The label of the {described} is {int(y)}; the map says {labels[utterance.speaker]}.",  # type: ignore[call-overload]
        "look the speaker up in the label map you were given.",
    )
    expect(
        isinstance(x, torch.Tensor),
        f"The features of the {described} are a {type(x).__name__}.",
        "return the feature module's output (a torch.Tensor).",
    )
    assert isinstance(x, torch.Tensor)
    expected = tuple(reference(torch.zeros(3 * SAMPLE_RATE)).shape)
    shape = tuple(x.shape)
    if shape != expected and len(shape) == 2 and shape[0] == expected[0]:
        seconds = (shape[1] - 1) * reference.hop_length / SAMPLE_RATE
        expect(
            utterance.seconds >= 3 or shape[1] >= expected[1],
            f"The features of the {described} have {shape[1]} frames, about {seconds:.2f} s: the "
            "short clip was not padded.",
            "pad every crop to exactly crop_seconds at 16 kHz (fit_length).",
        )
        fail(
            f"The features of the {described} have {shape[1]} frames, about {seconds:.2f} s; a 3-s "
            f"crop at {SAMPLE_RATE} Hz ({3 * SAMPLE_RATE} samples) gives {expected[1]}.",
            "the crop is crop_seconds × the file's rate samples long when read, and crop_seconds "
            "× 16000 after padding.",
        )
    expect(
        shape == expected,
        f"The features of the {described} have shape {shape}; expected {expected}.",
        f"apply the module of make_feature({kind!r}) to the (samples,) crop.",
    )
    expect(
        bool(torch.isfinite(x).all()),
        f"The features of the {described} hold NaN or infinite values.",
        "feed the module a float waveform, padded with zeros.",
    )


def _crop_start(dataset: object, index: int, total: int) -> int:
    """Where the window of ``dataset[index]`` starts in the file of ``total`` frames."""
    with record_decodes() as decodes:
        call(dataset.__getitem__, index, what=f"dataset[{index}]")  # type: ignore[attr-defined]
    starts = [d.start for d in decodes if d.total == total]
    return starts[0] if starts else -1


def _check_crop_moves(dataset_class: type, utterances: list, labels: dict, root: Path) -> None:
    total = utterances[0].frames
    dataset = dataset_class(utterances, labels, root, "mfcc")
    starts = []
    for epoch in range(6):
        dataset.epoch = epoch
        starts.append(_crop_start(dataset, 0, total))
    room = total - 3 * SAMPLE_RATE
    expect(
        len(set(starts)) > 1,
        f"Over 6 epochs the 3-s crop of a 5-s file always starts at sample {starts[0]}: the crop "
        "never moves, so the model sees the same 3 s every epoch and "
        f"{room / SAMPLE_RATE:g} s of the file never.",
        "draw the start at random in [0, file length − crop length], from a generator that "
        "depends on self.epoch.",
    )
    expect(
        all(0 <= s <= room for s in starts),
        f"Over 6 epochs the crop started at {starts}: past the last start that fits, {room}.",
        "the start can move from 0 to file length − crop length (in samples at the file's rate).",
    )
    dataset.epoch = 0
    expect(
        _crop_start(dataset, 0, total) == starts[0],
        "Reading item 0 twice in the same epoch gave two different crops: the crop depends on "
        "how many items were read before (a generator kept in the dataset?), so re-runs and "
        "DataLoader workers disagree.",
        "make a fresh generator in __getitem__ from (seed, epoch, index), so an item depends on "
        "nothing else.",
    )
    other = dataset_class(utterances, labels, root, "mfcc")
    _crop_start(other, 1, total)
    expect(
        _crop_start(other, 0, total) == starts[0],
        "Item 0 got another crop when item 1 was read first: the crops depend on the order of reads.",
        "seed a generator per item from (seed, epoch, index).",
    )
    reseeded = dataset_class(utterances, labels, root, "mfcc", seed=1)
    seeded_starts = []
    for epoch in range(6):
        reseeded.epoch = epoch
        seeded_starts.append(_crop_start(reseeded, 0, total))
    expect(
        seeded_starts != starts,
        "seed=0 and seed=1 gave the same crops in every epoch: the seed changes nothing.",
        "use self.seed when making the generator.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the DataLoader


class _Items(torch.utils.data.Dataset):
    """``n`` items ``(features (4, 10) filled with the index, label index % 5)``."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return torch.full((4, 10), float(index)), index % 5


def _epoch_order(loader: object, what: str) -> list[list[int]]:
    """The item indices of each batch of one pass over ``loader`` (items hold their index)."""
    batches = []
    for batch in call(iter, loader, what=f"iter({what})"):
        expect(
            isinstance(batch, tuple | list) and len(batch) == 2,
            f"A batch of {what} is a {type(batch).__name__}, not a pair (features, labels).",
            "wrap the dataset itself: each item is (features, label), a batch stacks both.",
        )
        x, y = batch
        expect(
            isinstance(x, torch.Tensor) and x.ndim == 3 and tuple(x.shape[1:]) == (4, 10),
            f"A batch's features have shape {tuple(np.shape(x))}; items of shape (4, 10) should "
            "stack into (batch, 4, 10).",
            "let the DataLoader stack the items (its default collate does it).",
        )
        expect(
            isinstance(y, torch.Tensor) and y.dtype == torch.int64,
            f"A batch's labels are {type(y).__name__} {getattr(y, 'dtype', '')}, not an int64 tensor.",
            "let the DataLoader stack the labels too: they become one int64 tensor.",
        )
        batches.append([int(v) for v in x[:, 0, 0]])
    return batches


@check(
    "A training loader hands out every item once per epoch, in batches of the size asked for, in "
    "an order that is shuffled, but the same for the same seed.",
    "torch.utils.data.DataLoader does the batching and the shuffling; without a generator of its "
    "own it shuffles with torch's global generator, so the order depends on what every other cell "
    "drew before.",
    "Make a torch.Generator, seed it with the seed argument (manual_seed), and pass it to the "
    "DataLoader together with the batch size and shuffling switched on.",
)
def batch_loader(make_batches: Callable[..., object]) -> None:
    """Check ``make_batches(dataset, batch_size, seed)``: a seeded, shuffled DataLoader."""
    dataset = _Items(22)
    what = "make_batches(dataset, batch_size=8, seed=0)"
    with watch_global_rngs() as moved:
        loader = call(make_batches, dataset, 8, 0, what=what)
        first = _epoch_order(loader, what)
        again = _epoch_order(call(make_batches, dataset, 8, 0, what=what), what)
    sizes = [len(b) for b in first]
    expect(
        sizes[0] == 8 and len(first) >= 2,
        f"With batch_size=8 the batches have {sizes} items.",
        "pass the batch size on to the DataLoader (its default is 1).",
    )
    expect(
        sorted(i for b in first for i in b) == list(range(len(dataset))),
        f"One epoch handed out {sum(sizes)} items ({sizes}); the dataset has {len(dataset)}, each "
        "to be seen once.",
        "iterate over the whole dataset: no sampler of your own, no dropped items.",
    )
    order = [i for b in first for i in b]
    expect(
        order != sorted(order),
        "The items come in their stored order, 0, 1, 2...: the loader does not shuffle.",
        "a training loader shuffles (a new order every epoch).",
    )
    expect(
        not moved,
        f"Shuffling drew from {', '.join(moved)}: the order then depends on every random draw the "
        "notebook made before, so two runs differ.",
        "give the DataLoader a generator of its own, seeded with the seed argument.",
    )
    expect(
        again == first,
        "Two loaders built with the same seed give different orders.",
        "seed the loader's generator with the seed argument.",
    )
    other = _epoch_order(call(make_batches, dataset, 8, 1, what="make_batches(..., seed=1)"), what)
    expect(
        other != first,
        "seed=0 and seed=1 give the same order: the seed argument is not used.",
        "seed the generator with the seed argument, not a constant.",
    )
    second_epoch = _epoch_order(loader, what)
    expect(
        second_epoch != first,
        "The second pass over the loader repeats the first epoch's order.",
        "seed the generator once, when the loader is built; the DataLoader then draws a new order "
        "every epoch.",
    )
    passed(
        f"batches of 8 from {len(dataset)} items, shuffled, new order each epoch, same for one seed."
    )


# --------------------------------------------------------------------------------------------------
# Exercise: a batch on screen


def _shown_arrays(ax: object) -> list[np.ndarray]:
    """The 2-D arrays an Axes shows as images (``imshow``) or meshes (``pcolormesh``, ``specshow``)."""
    shown = [np.asarray(image.get_array()) for image in getattr(ax, "images", [])]
    for collection in getattr(ax, "collections", []):
        array = collection.get_array()
        if array is not None and np.ndim(array) == 2:
            shown.append(np.asarray(array))
    return shown


@check(
    "One panel per item: each shows the features of one item of the batch, as an image of "
    "coefficients (up) against time (across), titled with that item's label.",
    "Index the batch on its first axis to get one item (n_mfcc, frames); plot_features draws it "
    "with axis labels; give each panel its own item, not the same one or the batch's mean.",
    "Make a figure with n axes (plt.subplots), and for i in range(n) draw item i with "
    "plot_features(..., ax=axes[i]) and a title holding label i; return the figure.",
)
def batch_figure(show_batch: Callable[..., object]) -> None:
    """Check ``show_batch(x, y, kind, n) -> Figure``: item ``i`` of the batch in panel ``i``."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    generator = torch.Generator().manual_seed(4)
    x = torch.randn(5, 40, 301, generator=generator)
    y = torch.tensor([7, 3, 11, 0, 5])
    before = set(plt.get_fignums())
    try:
        figure = call(show_batch, x, y, "mfcc", 3, what="show_batch(x, y, 'mfcc', 3)")
        expect(
            isinstance(figure, Figure),
            f"show_batch returned {type(figure).__name__}, not a matplotlib Figure.",
            "return the figure (plt.subplots gives it to you); the notebook cell shows it.",
        )
        panels = [(ax, _shown_arrays(ax)) for ax in figure.axes]
        panels = [
            (ax, [a for a in arrays if a.shape in ((40, 301), (301, 40))]) for ax, arrays in panels
        ]
        panels = [(ax, arrays[0]) for ax, arrays in panels if arrays]
        expect(
            len(panels) == 3,
            f"The figure shows {len(panels)} feature image(s) of the right size; expected 3, one "
            "per item.",
            "draw n panels, one item of the batch in each.",
        )
        for i, (ax, shown) in enumerate(panels):
            _check_panel(ax, shown, x, y, i)
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
    passed("three panels, item i of the batch in panel i, with its label and axis labels.")


def _check_panel(ax: object, shown: np.ndarray, x: torch.Tensor, y: torch.Tensor, i: int) -> None:
    items = x.numpy()
    expect(
        shown.shape == (40, 301),
        f"Panel {i + 1} shows an image of shape {shown.shape}: it is transposed, time up and "
        "coefficients across.",
        "draw the item as it is, (coefficients, frames): plot_features puts time across.",
    )
    expect(
        not np.allclose(shown, items.mean(axis=0), atol=1e-4),
        f"Panel {i + 1} shows the average of the batch, not one item.",
        "index the batch on its first axis to get one item.",
    )
    matches = [k for k in range(len(items)) if np.allclose(shown, items[k], atol=1e-4)]
    expect(
        matches,
        f"Panel {i + 1} shows an image that is none of the batch's items.",
        "draw one item of the batch as it is, without changing it.",
    )
    expect(
        matches[0] == i,
        f"Panel {i + 1} shows item {matches[0]} of the batch; panel i should show item i (each "
        "panel its own item).",
        "use the loop's index to pick the item.",
    )
    title = ax.get_title()
    expect(
        str(int(y[i])) in title,
        f"Panel {i + 1} is titled {title!r}: it does not say the item's label, {int(y[i])}.",
        "put each item's label in its panel's title.",
    )
    expect(
        ax.get_xlabel() and ax.get_ylabel(),
        f"Panel {i + 1} has no axis labels (x: {ax.get_xlabel()!r}, y: {ax.get_ylabel()!r}).",
        "plot_features labels both axes; with your own imshow, set them yourself.",
    )
