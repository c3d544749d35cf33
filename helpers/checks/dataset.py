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
import soundfile as sf
import torch

from ..audio import SAMPLE_RATE, fit_length, load_audio
from ..corpus import Utterance
from ..features import FEATURE_KINDS, make_feature
from . import core
from .core import Mistake, Observed, as_number, call, exercise, record_decodes, returns_pair

__all__ = ["batch_figure", "batch_loader", "corpus_stats", "crop_dataset", "label_map", "speaker_split"]  # fmt: skip


def _fake_corpus(counts: dict[str, int], rates: dict[str, int] | None = None) -> list[Utterance]:
    """Utterances (no files) of speakers with the given numbers of files, two chapters each.

    File ``i`` of a speaker lasts ``2 + i % 5`` seconds, at 16 kHz unless ``rates`` says otherwise.
    """
    utterances = []
    for speaker, n in counts.items():
        rate = (rates or {}).get(speaker, SAMPLE_RATE)
        for i in range(n):
            path = f"{speaker}/{speaker}-{100 + i % 2}-{i:04d}.flac"
            utterances.append(Utterance(path, speaker, str(100 + i % 2), rate * (2 + i % 5), rate))
    return utterances


def _corpora(test: list[Utterance], utterances: Sequence[Utterance] | None) -> list:
    """``[(name, corpus)]``: the check's test corpus, then the notebook's if it was passed."""
    given = [] if utterances is None else [("the course corpus", list(utterances))]
    return [("a test corpus", test), *given]


# Exercise: corpus statistics

# fmt: off
STATS = [
    Mistake(lambda o: not isinstance(o.stats, dict),
            "corpus_stats returned a {kind}; expected a dict with the keys \"files\", \"speakers\" and \"hours\"."),
    Mistake(lambda o: not {"files", "speakers", "hours"} <= set(o.stats),
            "The dict has no key {missing} (it has {has}): use exactly the keys \"files\", \"speakers\" and \"hours\"."),
    Mistake(lambda o: o.stats["files"] != o.files,
            "{where} \"files\" is {stats[files]!r}: every Utterance in the list is one file; count the list you are given."),
    Mistake(lambda o: o.stats["speakers"] == o.files != o.speakers,
            "{where} \"speakers\" is {stats[speakers]!r}, the number of files: a speaker has many files; count the *distinct* speaker ids."),
    Mistake(lambda o: o.stats["speakers"] != o.speakers,
            "{where} \"speakers\" is {stats[speakers]!r}: count the distinct values of u.speaker in the list you are given."),
    *(Mistake(lambda o, k=k: np.isclose(o.hours, o.seconds * k, rtol=1e-3),
              f"{{where}} \"hours\" is {{hours:.4g}}: that is the total in {unit}. An hour is 3600 seconds.")
      for k, unit in [(1, "seconds"), (1 / 60, "minutes"), (SAMPLE_RATE, "samples")]),
    Mistake(lambda o: np.isclose(o.hours, o.assumed, rtol=1e-3) and not np.isclose(o.assumed, o.seconds / 3600, rtol=1e-3),
            "{where} \"hours\" is {hours:.4g}: every file was taken to be at 16000 Hz, but some are not. Each Utterance knows its own duration in seconds (u.seconds)."),
    Mistake(lambda o: not np.isclose(o.hours, o.seconds / 3600, rtol=1e-3),
            "{where} \"hours\" is {hours:.4g}; the files add up to {total:.4g} h: add up the duration of every file, in seconds, then convert to hours."),
]
# fmt: on


@exercise(
    "Three numbers about the list you are given: how many files, how many different speakers, and how long they last together, in hours.",
    "Each Utterance is one file; several files share a speaker, so count the *distinct* speakers. An Utterance knows its own duration in seconds (its files are not all at 16 kHz).",
    'Return a dict with the keys "files" (the length of the list), "speakers" (the size of the set of speaker ids) and "hours" (the sum of every duration in seconds, divided by 3600).',
)
def corpus_stats(
    compute: Callable[[Sequence[Utterance]], object], utterances: Sequence[Utterance] | None = None
) -> None:
    """Check ``compute(utterances) -> {"files": …, "speakers": …, "hours": …}``.

    Requires, on a test corpus (one speaker at 8 kHz) and on ``utterances``: a dict with exactly
    these keys, the number of files in the list, of distinct speakers, and the total duration in
    hours from each file's own rate.
    """
    test = _fake_corpus({"19": 2, "103": 3, "250": 4, "8975": 6}, {"250": 8_000})
    for name, corpus in _corpora(test, utterances):
        stats = call(compute, corpus, what=f"corpus_stats({name})")
        files, speakers = len(corpus), len({u.speaker for u in corpus})
        seen = Observed(stats=stats, kind=type(stats).__name__, files=files, speakers=speakers)
        seen.where = f"On {name} ({files} files of {speakers} speakers)"
        seen.update(seconds=sum(u.seconds for u in corpus), hours=0.0, total=0.0)
        seen.assumed = sum(u.frames for u in corpus) / SAMPLE_RATE / 3600
        if isinstance(stats, dict):
            missing = sorted({"files", "speakers", "hours"} - set(stats))
            seen.update(missing=", ".join(map(repr, missing)), has=sorted(map(str, stats)))
            core.verdict(seen, STATS[:5])
            seen.update(hours=as_number(stats["hours"], '"hours"'), total=seen.seconds / 3600)
        core.verdict(seen, STATS)
    core.passed(f"{seen.files} files, {seen.speakers} speakers, {seen.seconds / 3600:.2f} h")


# Exercise: the label map

# fmt: off
LABELS = [
    Mistake(lambda o: not isinstance(o.mapping, dict),
            "{where} the function returned a {kind}; expected a dict speaker → index."),
    Mistake(lambda o: set(o.mapping) != o.speakers and {str(k) for k in o.mapping} == o.speakers,
            "{where} the keys are numbers; an Utterance's speaker is a string like '103': key the dict by u.speaker exactly as the manifest gives it."),
    Mistake(lambda o: set(o.mapping) != o.speakers,
            "{where} the dict has {size} keys, not one per speaker of the list it was given."),
    Mistake(lambda o: all(str(v) == k for k, v in o.mapping.items()),
            "{where} the indices are the raw speaker ids. A classifier with one output per class index would need as many outputs as the largest id, most never used, and CrossEntropyLoss expects labels 0 … n_classes − 1: number the speakers 0, 1, 2, … instead."),
    Mistake(lambda o: not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in o.mapping.values()),
            "{where} some indices are not integers: a class index is an int."),
    Mistake(lambda o: sorted(o.mapping.values()) != list(range(o.size)),
            "{where} the indices are {indices}…; expected each of 0 … {last} once."),
    Mistake(lambda o: any(other != o.mapping for other in o.again),
            "{where} the same speakers listed in another order get other indices: the numbering follows the order of the files. Sort the distinct speakers before numbering them, so the map is the same in every run."),
    Mistake(lambda o: o.order not in (sorted(o.speakers), o.numeric),
            "{where} the speakers are not numbered in sorted order: sort the distinct speakers (as text, or as numbers), then number them."),
]
# fmt: on


@exercise(
    "A classifier needs classes numbered 0, 1, 2, … with no gaps, and the same numbers in every run.",
    "The raw speaker ids ('19', '8975') are not class indices; and numbering speakers in the order their files come gives another map whenever the files come in another order.",
    "Put the distinct speaker ids of the utterances in sorted order, then give each its position in that sorted list (enumerate), keyed by the id string exactly as the manifest spells it.",
)
def label_map(
    make_map: Callable[[Sequence[Utterance]], dict], utterances: Sequence[Utterance] | None = None
) -> None:
    """Check ``make_map(utterances) -> {speaker id: class index}``.

    Requires, on a test corpus whose ids sort differently as text and as numbers, and on
    ``utterances``: one key per speaker, the id string; int values 0 … n−1, each once, in sorted
    order (as text or as numbers); the same map whatever order the files come in.
    """
    test = _fake_corpus({"8975": 2, "19": 3, "250": 2, "103": 4})
    for name, corpus in _corpora(test, utterances):
        mapping = call(make_map, corpus, what=f"make_label_map({name})")
        speakers = {u.speaker for u in corpus}
        seen = Observed(mapping=mapping, kind=type(mapping).__name__, speakers=speakers)
        seen.where = f"On {name} ({len(speakers)} speakers)"
        core.verdict(seen, LABELS[:1])
        shuffled = list(corpus)
        np.random.default_rng(0).shuffle(shuffled)
        seen.again = [
            call(make_map, order, what="make_label_map") for order in (shuffled, corpus[::-1])
        ]
        seen.update(size=len(mapping), last=len(mapping) - 1, indices=sorted(mapping.values())[:8])
        seen.order = sorted(mapping, key=mapping.get)
        seen.numeric = sorted(speakers, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))
        core.verdict(seen, LABELS)
    if seen.order == seen.numeric == sorted(speakers):
        kind = "sorted"
    elif seen.order == seen.numeric:
        kind = "sorted as numbers, like the kit's"
    else:
        kind = "sorted as text (the kit sorts numeric ids as numbers: fine, if one map is kept)"
    core.passed(
        f"{len(speakers)} speakers → 0 … {len(speakers) - 1}, {kind}, whatever the file order"
    )


# Exercise: the split

# fmt: off
SPLIT = [
    Mistake(lambda o: not all(isinstance(u, Utterance) for u in o.train + o.val),
            "train and val should hold Utterance objects (not paths or indices)."),
    Mistake(lambda o: set(_paths(o.train)) & set(_paths(o.val)),
            "{where}, some files are in both train and val: each file goes to exactly one side."),
    Mistake(lambda o: _paths(o.train + o.val) != _paths(o.corpus),
            "{where}, train + val hold {sides} files; the corpus has {files}: every file goes to one side, none dropped, none repeated."),
    Mistake(lambda o: o.reversed != _paths(o.val),
            "{where}, the same files in reverse order gave another split: it depends on the order the files come in. The exercise asks for the same split whatever the order of the input list: sort the files (by path) and the speakers before shuffling."),
]
# fmt: off
PROPORTIONS = [
    Mistake(lambda o: o.unbalanced,
            "{where}, speaker {unbalanced[0][0]} has {unbalanced[0][2]} of its {unbalanced[0][1]} files in validation; about {unbalanced[0][3]:.1f} expected: hold out val_fraction of *each* speaker's files (not of the whole corpus), so every speaker is split in the same proportion."),
    Mistake(lambda o: o.empty,
            "{where}, speaker {empty[0][0]} ({empty[0][1]} files) has no validation file ({fraction} × {empty[0][1]} = {empty[0][3]:g}, and int() rounds it down to 0): hold out at least one file per speaker, so that every class is validated."),
    Mistake(lambda o: o.full,
            "{where}, all {full[0][1]} files of speaker {full[0][0]} are in validation: keep at least one file of every speaker for training."),
]
# fmt: on
# fmt: on


def _paths(files: Sequence[Utterance]) -> list[str]:
    return sorted(u.path for u in files)


@exercise(
    "Split each speaker's files, not the corpus: every speaker on both sides, in the same proportion.",
    "Your own generator made from the seed (numpy's default_rng) gives the same split on every run and leaves the global random state alone; sort the files first so that their order does not matter. Round the held-out count, but keep at least one file on each side.",
    "Group the files (sorted by path) by speaker; for each speaker in sorted order, permute its files with one generator made from the seed, hold out about val_fraction of them (at least 1, at most all but 1) for validation and keep the rest for training.",
)
def speaker_split(
    split: Callable[..., tuple[Sequence[Utterance], Sequence[Utterance]]],
    utterances: Sequence[Utterance] | None = None,
) -> None:
    """Check ``split(utterances, val_fraction=0.3, seed=0) -> (train, val)``.

    Requires, on speakers with 2 to 25 files and on ``utterances``, for fractions 0.3 and 0.5: two
    lists of Utterance, disjoint, holding every file; the global random generators untouched; the
    same split for the same seed, *also when the input list comes in another order*, another for
    another seed; about val_fraction of each speaker's files in val, at least one, not all.
    """

    def val_paths(utterances: list[Utterance], val_fraction: float, seed: int) -> list[str]:
        what = f"split(utterances, val_fraction={val_fraction}, seed={seed})"
        result = call(split, utterances, val_fraction=val_fraction, seed=seed, what=what)
        return _paths(returns_pair(result, what, "(train, val)")[1])

    test = _fake_corpus({"19": 2, "103": 3, "250": 4, "1034": 7, "5678": 10, "8975": 25})
    for name, corpus in _corpora(test, utterances):
        for fraction in (0.3, 0.5):
            what = f"split(utterances, val_fraction={fraction}, seed=0)"
            with core.leaves_global_rngs(what):
                result = call(split, corpus, val_fraction=fraction, seed=0, what=what)
            train, val = (list(side) for side in returns_pair(result, what, "(train, val)"))
            seen = Observed(train=train, val=val, corpus=corpus, fraction=fraction)
            seen.update(where=f"On {name} with val_fraction={fraction}", files=len(corpus))
            seen.sides = len(train) + len(val)
            core.verdict(seen, SPLIT[:3])
            core.repeatable(val_paths, corpus, fraction, 0, what=what)
            seen.reversed = val_paths(corpus[::-1], fraction, 0)
            core.verdict(seen, SPLIT)
            core.uses_argument(val_paths, (corpus, fraction, 0), 2, 1, what=what)
            held, sizes = Counter(u.speaker for u in val), Counter(u.speaker for u in corpus)
            rows = sorted((n, s, held[s], fraction * n) for s, n in sizes.items() if n >= 2)
            rows = [(s, n, k, share) for n, s, k, share in rows]
            seen.unbalanced = [r for r in rows if r[3] >= 1.5 and abs(r[2] - r[3]) > 1]
            seen.update(
                empty=[r for r in rows if r[2] < 1], full=[r for r in rows if r[2] > r[1] - 1]
            )
            core.verdict(seen, PROPORTIONS)
    core.passed(
        "every speaker on both sides, ~val_fraction of each speaker's files held out, disjoint, "
        "reproducible from the seed alone, whatever the order of the input"
    )


# Exercise: the crop Dataset

# fmt: off
ITEMS = [
    Mistake(lambda o: o.length != 2,
            "len(dataset) is {length} for 2 utterances: __len__ returns the number of utterances."),
    Mistake(lambda o: o.built > 0,
            "Getting two items of kind {kind!r} built {built} nn.Module(s): a feature module is created for every item. Build it once, in __init__, and only apply it in __getitem__."),
    Mistake(lambda o: not o.decodes,
            "The items were not read with soundfile (through helpers.audio.load_audio): read the crop with load_audio(path, start=..., frames=...)."),
    Mistake(lambda o: o.decoded > 3 * SAMPLE_RATE,
            "{decoded} samples of the 5-s file were decoded to cut a 3-s crop out of them: pass start= and frames= (in samples) to load_audio, so that only the crop is decoded."),
    Mistake(lambda o: o.short_start > 0,
            "The 1.2-s clip was read from sample {short_start} on: a clip shorter than the crop has no room to move, so its window must start at 0 (the start is drawn in [0, file length − crop length])."),
]
# fmt: off
ITEM = [
    Mistake(lambda o: isinstance(o.y, str),
            "The label of the {item} is the string {y!r}: return the class index from the label map, an int."),
    Mistake(lambda o: not (isinstance(o.y, int | np.integer) or (isinstance(o.y, torch.Tensor) and o.y.ndim == 0)),
            "The label of the {item} is a {y.__class__.__name__}: return the class index as an int."),
    Mistake(lambda o: int(o.y) == int(o.speaker),
            "The label of the {item} is {y}, the raw speaker id: look the speaker up in the label map (indices 0 … n_speakers − 1)."),
    Mistake(lambda o: int(o.y) != o.label,
            "The label of the {item} is {y}; the map says {label}: look the speaker up in the label map you were given."),
    Mistake(lambda o: not isinstance(o.x, torch.Tensor),
            "The features of the {item} are a {x.__class__.__name__}: return the feature module's output (a torch.Tensor)."),
    Mistake(lambda o: len(o.shape) == 2 and o.shape[1:] != o.expected[1:] and o.shape[:1] == o.expected[:1] and o.seconds < 3 and o.shape[-1] < o.expected[-1],
            "The features of the {item} have {shape[1]} frames: the short clip was not padded. Pad every crop to exactly crop_seconds at 16 kHz (fit_length)."),
    Mistake(lambda o: len(o.shape) == 2 and o.shape[1:] != o.expected[1:] and o.shape[:1] == o.expected[:1],
            "The features of the {item} have {shape[1]} frames; a 3-s crop at 16000 Hz (48000 samples) gives {expected[1]}: the crop is crop_seconds × the file's rate samples long when read, and crop_seconds × 16000 after padding."),
    Mistake(lambda o: o.shape != o.expected,
            "The features of the {item} have shape {shape}; expected {expected}: apply the module of make_feature({kind!r}) to the (samples,) crop."),
    Mistake(lambda o: not torch.isfinite(o.x).all(),
            "The features of the {item} hold NaN or infinite values: feed the module a float waveform, padded with zeros."),
    Mistake(lambda o: o.seconds < 3 and not torch.allclose(o.x, o.padded, atol=1e-3),
            "For the 1.2-s clip, the {kind!r} features are not those of the clip followed by silence: a clip shorter than the crop is read whole and padded at the *end* with zeros."),
]
# fmt: on
# fmt: off
MOVES = [
    Mistake(lambda o: len(set(o.starts)) == 1,
            "Over 6 epochs the 3-s crop of a 5-s file always starts at sample {starts[0]}: the crop never moves, so the model sees the same 3 s every epoch and 2 s of the file never. Draw the start at random from a generator that depends on self.epoch."),
    Mistake(lambda o: not all(0 <= s <= o.room for s in o.starts),
            "Over 6 epochs the crop started at {starts}: past the last start that fits, {room}. The start can move from 0 to file length − crop length (in samples at the file's rate)."),
    Mistake(lambda o: o.again != o.starts[0],
            "Reading item 0 twice in the same epoch gave two different crops: the crop depends on how many items were read before (a generator kept in the dataset?), so re-runs and DataLoader workers disagree. Make a fresh generator in __getitem__ from (seed, epoch, index)."),
    Mistake(lambda o: o.after_other != o.starts[0],
            "Item 0 got another crop when item 1 was read first: the crops depend on the order of reads. Seed a generator per item from (seed, epoch, index)."),
    Mistake(lambda o: o.two_seconds != (40, 201),
            "With crop_seconds=2.0 an MFCC item has shape {two_seconds}; expected (40, 201): use self.crop_seconds, not a hard-coded 3 s."),
]
# fmt: on
# fmt: on


def _make_test_corpus(root: Path) -> tuple[list[Utterance], dict[str, int]]:
    """A 5-s file of speaker 8975 and a 1.2-s one of speaker 19, at 16 kHz."""
    rng = np.random.default_rng(0)
    utterances = []
    for speaker, seconds in [("8975", 5.0), ("19", 1.2)]:
        frames = round(seconds * SAMPLE_RATE)
        tone = 0.3 * np.sin(
            2 * np.pi * (120 + 40 * int(speaker) % 200) * np.arange(frames) / SAMPLE_RATE
        )
        (root / speaker).mkdir()
        path = f"{speaker}/{speaker}-1-0000.flac"
        sf.write(
            root / path, tone + 0.05 * rng.standard_normal(frames), SAMPLE_RATE, subtype="PCM_16"
        )
        utterances.append(Utterance(path, speaker, "1", frames, SAMPLE_RATE))
    return utterances, {"19": 0, "8975": 1}


def _crop_start(dataset: object, index: int, total: int) -> int:
    """Where the window of ``dataset[index]`` starts in the file of ``total`` frames."""
    with record_decodes() as decodes:
        call(dataset.__getitem__, index, what=f"dataset[{index}]")  # type: ignore[attr-defined]
    return next((d.start for d in decodes if d.total == total), -1)


@exercise(
    "An item is (the features of one crop_seconds window of the file, the speaker's class index); a short file is padded at the end; the feature module is built once.",
    "Place the window in samples at the file's rate and let load_audio decode only it; draw its start from a generator made from (seed, epoch, index), so it moves when self.epoch changes but not from one read to the next; pad to crop_seconds at 16 kHz.",
    "In __init__ keep the feature module for the kind. In __getitem__: the crop length in samples at the file's rate; the room = file length − crop length (at least 0); a start drawn in [0, room] by a generator seeded with the seed, the epoch and the index; load_audio of that window; fit_length to the crop at 16 kHz; return (features, label_map[speaker]).",
)
def crop_dataset(dataset_class: type) -> None:
    """Check ``dataset_class(utterances, label_map, root, kind, crop_seconds=3.0, seed=0)``.

    Requires, for every feature kind, on a 5-s and a 1.2-s file: ``len`` = the number of
    utterances; items ``(features, label index from the map)``, the features those of
    ``make_feature(kind)`` on a ``crop_seconds`` window read with ``load_audio`` (only the window
    decoded, soundfile watched), short clips zero-padded at the end; the feature module built once
    in ``__init__`` (``nn.Module`` construction watched); the global random generators untouched;
    a crop that moves when ``dataset.epoch`` changes, stays in the file, depends only on (seed,
    epoch, index), and changes with ``seed``.
    """
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        utterances, labels = _make_test_corpus(root)
        total = utterances[0].frames
        for kind in FEATURE_KINDS:
            reference = make_feature(kind)
            what = f"{dataset_class.__name__}(utterances, label_map, root, {kind!r})"
            dataset = call(dataset_class, utterances, labels, root, kind, what=what)
            with core.watching(torch.nn.Module, "__init__") as built, record_decodes() as decodes:
                with core.leaves_global_rngs(f"Getting two items of kind {kind!r}"):
                    items = [
                        call(dataset.__getitem__, i, what=f"dataset[{i}] ({kind!r})")
                        for i in (0, 1)
                    ]
            seen = Observed(length=len(dataset), kind=kind, built=built.call_count, decodes=decodes)
            seen.decoded = max((d.frames for d in decodes if d.total == total), default=0)
            seen.short_start = max((d.start for d in decodes if d.total != total), default=0)
            core.verdict(seen, ITEMS)
            with torch.no_grad():
                padded = reference(
                    fit_length(load_audio(root / utterances[1].path), 3 * SAMPLE_RATE)
                )
            for (x, y), u in zip(items, utterances):
                item = Observed(x=x, y=y, speaker=u.speaker, label=labels[u.speaker], kind=kind)
                item.update(seconds=u.seconds, padded=padded, shape=tuple(getattr(x, "shape", ())))
                item.expected = tuple(reference(torch.zeros(3 * SAMPLE_RATE)).shape)
                item.item = f"item of kind {kind!r} for speaker {u.speaker} ({u.seconds:g} s)"
                core.verdict(item, ITEM)

        def starts(seed: int) -> list[int]:
            dataset = dataset_class(utterances, labels, root, "mfcc", seed=seed)
            return [_crop_start(dataset, 0, total) for dataset.epoch in range(6)]  # sets .epoch

        dataset = call(dataset_class, utterances, labels, root, "mfcc", what="the dataset")
        seen = Observed(starts=[_crop_start(dataset, 0, total) for dataset.epoch in range(6)])
        dataset.epoch = 0
        seen.update(room=total - 3 * SAMPLE_RATE, again=_crop_start(dataset, 0, total))
        other = dataset_class(utterances, labels, root, "mfcc")
        _crop_start(other, 1, total)
        seen.after_other = _crop_start(other, 0, total)
        two = call(
            dataset_class, utterances, labels, root, "mfcc", crop_seconds=2.0, what="the dataset"
        )
        seen.two_seconds = tuple(call(two.__getitem__, 0, what="dataset[0]")[0].shape)
        core.verdict(seen, MOVES[:4])
        what = f"{dataset_class.__name__}(..., seed=...), item 0 over 6 epochs,"
        core.uses_argument(starts, (0,), 0, 1, what=what)
        core.verdict(seen, MOVES)
    core.passed(
        "items are (features, label index) of a window that moves with the epoch, reproducibly; "
        "short clips padded; one feature module built in __init__"
    )


# Exercise: the DataLoader


# fmt: off
BATCH = [
    Mistake(lambda o: not (isinstance(o.batch, tuple | list) and len(o.batch) == 2),
            "A batch of {what} is a {batch.__class__.__name__}, not a pair (features, labels): wrap the dataset itself; each item is (features, label), a batch stacks both."),
    Mistake(lambda o: not (isinstance(o.batch[0], torch.Tensor) and o.batch[0].ndim == 3 and tuple(o.batch[0].shape[1:]) == (4, 10)),
            "A batch's features are not a tensor (batch, 4, 10): items of shape (4, 10) should stack; let the DataLoader stack the items (its default collate does it)."),
    Mistake(lambda o: not (isinstance(o.batch[1], torch.Tensor) and o.batch[1].dtype == torch.int64),
            "A batch's labels are not an int64 tensor: let the DataLoader stack the labels too."),
]
# fmt: off
ORDER = [
    Mistake(lambda o: o.sizes[0] != 8 or len(o.sizes) < 2,
            "With batch_size=8 the batches have {sizes} items: pass the batch size on to the DataLoader (its default is 1)."),
    Mistake(lambda o: sorted(o.order) != list(range(22)),
            "One epoch handed out {count} items ({sizes}); the dataset has 22, each to be seen once: iterate over the whole dataset, no sampler of your own, no dropped items."),
    Mistake(lambda o: o.order == sorted(o.order),
            "The items come in their stored order, 0, 1, 2...: the loader does not shuffle (a training loader draws a new order every epoch)."),
    Mistake(lambda o: o.second == o.batches,
            "The second pass over the loader repeats the first epoch's order: seed the generator once, when the loader is built; the DataLoader then draws a new order every epoch."),
]
# fmt: on
# fmt: on


def _epoch_order(loader: object, what: str) -> list[list[int]]:
    """The item indices of each batch of one pass over ``loader`` (items hold their index)."""
    batches = []
    for batch in call(iter, loader, what=f"iter({what})"):
        core.verdict(Observed(batch=batch, what=what), BATCH)
        batches.append([int(v) for v in batch[0][:, 0, 0]])
    return batches


@exercise(
    "A training loader hands out every item once per epoch, in batches of the size asked for, in an order that is shuffled, but the same for the same seed.",
    "torch.utils.data.DataLoader does the batching and the shuffling; without a generator of its own it shuffles with torch's global generator, so the order depends on what every other cell drew before.",
    "Make a torch.Generator, seed it with the seed argument (manual_seed), and pass it to the DataLoader together with the batch size and shuffling switched on.",
)
def batch_loader(make_batches: Callable[..., object]) -> None:
    """Check ``make_batches(dataset, batch_size, seed)``.

    Requires, for 22 items in batches of 8: batches ``(features, int64 labels)`` stacked by the
    DataLoader, every item once per epoch, shuffled; the global random generators untouched; the
    same order for the same seed, another for another seed, a new order each epoch.
    """
    features = torch.arange(22.0)[:, None, None].expand(22, 4, 10)  # item i is filled with i
    dataset = torch.utils.data.TensorDataset(features, torch.arange(22) % 5)
    what = "make_batches(dataset, batch_size=8, seed=0)"

    def order(dataset: torch.utils.data.Dataset, batch_size: int, seed: int) -> list[list[int]]:
        return _epoch_order(call(make_batches, dataset, batch_size, seed, what=what), what)

    with core.leaves_global_rngs(f"Shuffling in {what}"):
        loader = call(make_batches, dataset, 8, 0, what=what)
        batches = _epoch_order(loader, what)
        seen = Observed(batches=batches, order=[i for b in batches for i in b], second=None)
        seen.update(sizes=[len(b) for b in batches], count=len(seen.order))
        core.verdict(seen, ORDER[:3])
    core.repeatable(order, dataset, 8, 0, what=what)
    core.uses_argument(order, (dataset, 8, 0), 2, 1, what=what)
    seen.second = _epoch_order(loader, what)
    core.verdict(
        seen,
        ORDER,
        ok="batches of 8 from 22 items, shuffled, new order each epoch, same for one seed.",
    )


# Exercise: a batch on screen


def _shown_arrays(ax: object) -> list[np.ndarray]:
    """The 2-D arrays an Axes shows as images (``imshow``) or meshes (``pcolormesh``, ``specshow``)."""
    shown = [np.asarray(image.get_array()) for image in getattr(ax, "images", [])]
    meshes = [c.get_array() for c in getattr(ax, "collections", [])]
    return shown + [np.asarray(a) for a in meshes if a is not None and np.ndim(a) == 2]


# fmt: off
FIGURE = [
    Mistake(lambda o: not o.is_figure,
            "show_batch returned {kind}, not a matplotlib Figure: return the figure (plt.subplots gives it to you); the notebook cell shows it."),
    Mistake(lambda o: o.count != 3,
            "The figure shows {count} feature image(s) of the right size; expected 3, one per item: draw n panels, one item of the batch in each."),
]
# fmt: off
PANEL = [
    Mistake(lambda o: o.shown.shape != (40, 301),
            "Panel {panel} shows an image of shape {shown.shape}: it is transposed, time up and coefficients across. Draw the item as it is, (coefficients, frames): plot_features puts time across."),
    Mistake(lambda o: np.allclose(o.shown, o.batch.mean(axis=0), atol=1e-4),
            "Panel {panel} shows the average of the batch, not one item: index the batch on its first axis to get one item."),
    Mistake(lambda o: not o.matches,
            "Panel {panel} shows an image that is none of the batch's items: draw one item of the batch as it is."),
    Mistake(lambda o: o.matches[0] != o.panel - 1,
            "Panel {panel} shows item {matches[0]} of the batch; panel i should show item i (each panel its own item): use the loop's index to pick the item."),
    Mistake(lambda o: str(o.label) not in o.ax.get_title(),
            "Panel {panel} is titled {title!r}: it does not say the item's label, {label}. Put each item's label in its panel's title."),
    Mistake(lambda o: not (o.ax.get_xlabel() and o.ax.get_ylabel()),
            "Panel {panel} has no axis labels: plot_features labels both axes; with your own imshow, set them yourself."),
]
# fmt: on
# fmt: on


@exercise(
    "One panel per item: each shows the features of one item of the batch, as an image of coefficients (up) against time (across), titled with that item's label.",
    "Index the batch on its first axis to get one item (n_mfcc, frames); plot_features draws it with axis labels; give each panel its own item, not the same one or the batch's mean.",
    "Make a figure with n axes (plt.subplots), and for i in range(n) draw item i with plot_features(..., ax=axes[i]) and a title holding label i; return the figure.",
)
def batch_figure(show_batch: Callable[..., object]) -> None:
    """Check ``show_batch(x, y, kind, n) -> Figure`` for a batch of 5 MFCCs, ``n=3``.

    Requires: a returned matplotlib Figure with 3 feature images of the item's size; item ``i``
    drawn as it is, (coefficients, frames), in panel ``i``, titled with its label, axes labelled.
    """
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    x = torch.randn(5, 40, 301, generator=torch.Generator().manual_seed(4))
    y = torch.tensor([7, 3, 11, 0, 5])
    before = set(plt.get_fignums())
    try:
        figure = call(show_batch, x, y, "mfcc", 3, what="show_batch(x, y, 'mfcc', 3)")
        panels = []
        if isinstance(figure, Figure):
            for ax in figure.axes:
                arrays = [a for a in _shown_arrays(ax) if a.shape in ((40, 301), (301, 40))]
                panels += [(ax, arrays[0])] if arrays else []
        seen = Observed(is_figure=isinstance(figure, Figure), kind=type(figure).__name__)
        seen.count = len(panels)
        core.verdict(seen, FIGURE)
        for i, (ax, shown) in enumerate(panels):
            seen = Observed(ax=ax, shown=shown, batch=x.numpy(), panel=i + 1, label=int(y[i]))
            seen.matches = [
                k
                for k in range(5)
                if shown.shape == (40, 301) and np.allclose(shown, x[k], atol=1e-4)
            ]
            core.verdict(Observed(seen, title=ax.get_title()), PANEL)
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
    core.passed("three panels, item i of the batch in panel i, with its label and axis labels.")
