"""Checks for notebook 03, the dataset: statistics, label map, split, crop Dataset, loader, figure.

They run the student's code on small corpora of their own (2 to 25 files a speaker, real-like ids,
a file at 8 kHz, a clip shorter than the crop) and watch what it decodes, draws and builds.
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
from .core import Mistake, Observed, as_number, call, exercise, record_decodes, verdict

__all__ = ["batch_figure", "batch_loader", "corpus_stats", "crop_dataset", "label_map"]
__all__ += ["speaker_split"]


def _corpora(counts: dict[str, int], given: object, rates: dict | None = None) -> list:
    """``[(name, corpus)]``: a test corpus of speakers with ``counts`` files (two chapters each,
    file ``i`` lasting ``2 + i % 5`` s at 16 kHz or ``rates[speaker]``), then ``given`` if any."""
    test = []
    for speaker, n in counts.items():
        for i, rate in enumerate([(rates or {}).get(speaker, SAMPLE_RATE)] * n):
            path = f"{speaker}/{speaker}-{100 + i % 2}-{i:04d}.flac"
            test.append(Utterance(path, speaker, str(100 + i % 2), rate * (2 + i % 5), rate))
    return [("a test corpus", test)] + ([("the course corpus", list(given))] if given else [])


STATS = [
    Mistake(lambda o: not isinstance(o.stats, dict),
            'corpus_stats returned a {kind}, not a dict with "files", "speakers" and "hours".'),
    Mistake(lambda o: not {"files", "speakers", "hours"} <= set(o.stats),
            'The dict has no key {missing} (it has {has}): use "files", "speakers" and "hours".'),
    Mistake(lambda o: o.stats["files"] != o.files,
            '{where} "files" is {stats[files]!r}: count the list you are given.'),
    Mistake(lambda o: o.stats["speakers"] == o.files != o.speakers,
            '{where} "speakers" is {stats[speakers]!r}, the files: count *distinct* speakers.'),
    Mistake(lambda o: o.stats["speakers"] != o.speakers,
            '{where} "speakers" is {stats[speakers]!r}: count the distinct u.speaker of the list.'),
    *(Mistake(lambda o, k=k: np.isclose(o.hours, o.seconds * k, rtol=1e-3),
              f'{{where}} "hours" is {{hours:.4g}}: the total in {unit}, not hours.')
      for k, unit in [(1, "seconds"), (1 / 60, "minutes"), (SAMPLE_RATE, "samples")]),
    Mistake(lambda o: np.isclose(o.hours, o.assumed, rtol=1e-3) and not np.isclose(o.assumed, o.total, rtol=1e-3),
            '{where} "hours" is {hours:.4g}: every file taken to be at 16000 Hz (u.seconds?).'),
    Mistake(lambda o: not np.isclose(o.hours, o.total, rtol=1e-3),
            '{where} "hours" is {hours:.4g}; the files add up to {total:.4g} h.'),
]  # fmt: skip


@exercise("""Three numbers about the list you are given: files, distinct speakers, total hours.
Several files share a speaker; an Utterance knows its own duration in seconds.
A dict: "files" the list's length, "speakers" the set's size, "hours" the seconds / 3600.""")
def corpus_stats(compute: Callable[[list], object], utterances: object = None) -> None:
    """Check ``compute(utterances) -> {"files", "speakers", "hours"}`` on a test corpus (a speaker
    at 8 kHz) and ``utterances``: files, distinct speakers, total hours at each file's rate."""
    counts = {"19": 2, "103": 3, "250": 4, "8975": 6}
    for name, corpus in _corpora(counts, utterances, {"250": 8_000}):
        stats = call(compute, corpus, what=f"corpus_stats({name})")
        files, speakers = len(corpus), len({u.speaker for u in corpus})
        seen = Observed(stats=stats, kind=type(stats).__name__, files=files, speakers=speakers)
        seen.where = f"On {name} ({files} files of {speakers} speakers)"
        seen.update(seconds=sum(u.seconds for u in corpus), frames=sum(u.frames for u in corpus))
        seen.update(hours=0.0, total=seen.seconds / 3600, assumed=seen.frames / SAMPLE_RATE / 3600)
        if isinstance(stats, dict):
            missing = sorted({"files", "speakers", "hours"} - set(stats))
            seen.update(missing=", ".join(map(repr, missing)), has=sorted(map(str, stats)))
            verdict(seen, STATS[:5])
            seen.hours = as_number(stats["hours"], '"hours"')
        verdict(seen, STATS)
    core.passed(f"{files} files, {speakers} speakers, {seen.total:.2f} h")


LABELS = [
    Mistake(lambda o: not isinstance(o.mapping, dict),
            "{where} the function returned a {kind}, not a dict speaker → index."),
    Mistake(lambda o: set(o.mapping) != o.speakers and {str(k) for k in o.mapping} == o.speakers,
            "{where} the keys are numbers; a speaker is a string like '103' (u.speaker)."),
    Mistake(lambda o: set(o.mapping) != o.speakers,
            "{where} the dict has {size} keys, not one per speaker of the list it was given."),
    Mistake(lambda o: all(str(v) == k for k, v in o.mapping.items()),
            "{where} the indices are the raw speaker ids: classes are numbered 0 … n − 1."),
    Mistake(lambda o: not all(isinstance(v, int | np.integer) and not isinstance(v, bool) for v in o.mapping.values()),
            "{where} some indices are not integers: a class index is an int."),
    Mistake(lambda o: sorted(o.mapping.values()) != list(range(o.size)),
            "{where} the indices are {indices}…; expected each of 0 … {last} once."),
    Mistake(lambda o: any(other != o.mapping for other in o.again),
            "{where} the same speakers in another order get other indices: sort them first."),
    Mistake(lambda o: o.order not in (sorted(o.speakers), o.numeric),
            "{where} the speakers are not numbered in sorted order (as text or as numbers)."),
]  # fmt: skip


@exercise("""A classifier needs classes numbered 0, 1, 2, … with no gaps, the same in every run.
Raw ids ('19', '8975') are not class indices; the files' order changes from run to run.
Sort the distinct speaker ids, then give each its position in that list (id string → int).""")
def label_map(make_map: Callable[[list], dict], utterances: object = None) -> None:
    """Check ``make_map(utterances) -> {speaker id: class index}`` on a test corpus whose ids sort
    differently as text and as numbers, and on ``utterances``: the id strings as keys; int values
    0 … n−1 each once, in sorted order (text or numbers); the same map whatever the files' order."""
    for name, corpus in _corpora({"8975": 2, "19": 3, "250": 2, "103": 4}, utterances):
        mapping = call(make_map, corpus, what=f"make_label_map({name})")
        speakers = {u.speaker for u in corpus}
        seen = Observed(mapping=mapping, kind=type(mapping).__name__, speakers=speakers)
        seen.where = f"On {name} ({len(speakers)} speakers)"
        verdict(seen, LABELS[:1])
        shuffled = [corpus[i] for i in np.random.default_rng(0).permutation(len(corpus))]
        seen.again = [call(make_map, c, what="make_label_map") for c in (shuffled, corpus[::-1])]
        seen.update(size=len(mapping), last=len(mapping) - 1, indices=sorted(mapping.values())[:8])
        seen.order = sorted(mapping, key=mapping.get)
        seen.numeric = sorted(speakers, key=lambda s: (0, int(s), s) if s.isdigit() else (1, 0, s))
        verdict(seen, LABELS)
    kind = "as numbers, like the kit's" if seen.order == seen.numeric else "as text (fine, too)"
    core.passed(f"{len(speakers)} speakers → 0 … {len(speakers) - 1}, sorted {kind}, in any order")


def _paths(files: Sequence[Utterance]) -> list[str]:
    return sorted(u.path for u in files)


SPLIT = [
    Mistake(lambda o: not all(isinstance(u, Utterance) for u in o.train + o.val),
            "train and val should hold Utterance objects (not paths or indices)."),
    Mistake(lambda o: set(_paths(o.train)) & set(_paths(o.val)),
            "{where}, some files are in both train and val: each goes to one side only."),
    Mistake(lambda o: _paths(o.train + o.val) != _paths(o.corpus),
            "{where}, train + val hold {sides} files, not the corpus's {files}, each once."),
    Mistake(lambda o: o.reversed != _paths(o.val),
            "{where}, the same files in reverse order gave another split; the exercise asks for "
            "the same split whatever the order of the input list."),
    Mistake(lambda o: o.unbalanced,
            "{where}, speaker {unbalanced[0][0]} has {unbalanced[0][2]} of its {unbalanced[0][1]} "
            "files in val, not about {unbalanced[0][3]:.1f}: hold out a share of *each* speaker."),
    Mistake(lambda o: o.empty,
            "{where}, speaker {empty[0][0]} has no val file ({fraction} × {empty[0][1]} = "
            "{empty[0][3]:g}, rounded down to 0): hold out at least one per speaker."),
    Mistake(lambda o: o.full,
            "{where}, all {full[0][1]} files of speaker {full[0][0]} are in val: keep one to train."),
]  # fmt: skip


@exercise("""Split each speaker's files, not the corpus: every speaker on both sides, the same share.
A generator of your own made from the seed; sort the files first; round the held-out count.
Per speaker (sorted), permute its sorted files with the seeded generator, hold out ~fraction.""")
def speaker_split(split: Callable[..., tuple], utterances: object = None) -> None:
    """Check ``split(utterances, val_fraction, seed) -> (train, val)`` on 2 to 25 files a speaker
    and ``utterances``, fractions 0.3 and 0.5: Utterance lists, disjoint, all files; global
    generators untouched; one split per seed *whatever the input's order*; about val_fraction of
    each speaker's files in val, at least one, not all."""

    def val_paths(utterances: list[Utterance], val_fraction: float, seed: int) -> list[str]:
        what = f"split(utterances, val_fraction={val_fraction}, seed={seed})"
        result = call(split, utterances, val_fraction=val_fraction, seed=seed, what=what)
        return _paths(core.returns_pair(result, what, "(train, val)")[1])

    counts = {"19": 2, "103": 3, "250": 4, "1034": 7, "5678": 10, "8975": 25}
    for (name, corpus), fraction in [
        (c, f) for c in _corpora(counts, utterances) for f in (0.3, 0.5)
    ]:
        what = f"split(utterances, val_fraction={fraction}, seed=0)"
        with core.leaves_global_rngs(what):
            result = call(split, corpus, val_fraction=fraction, seed=0, what=what)
        train, val = (list(side) for side in core.returns_pair(result, what, "(train, val)"))
        seen = Observed(train=train, val=val, corpus=corpus, fraction=fraction, files=len(corpus))
        seen.update(where=f"On {name} with val_fraction={fraction}", sides=len(train) + len(val))
        verdict(seen, SPLIT[:3])
        core.repeatable(val_paths, corpus, fraction, 0, what=what)
        seen.reversed = val_paths(corpus[::-1], fraction, 0)
        verdict(seen, SPLIT[:4])
        core.uses_argument(val_paths, (corpus, fraction, 0), 2, 1, what=what)
        held, sizes = Counter(u.speaker for u in val), Counter(u.speaker for u in corpus)
        order = sorted(sizes, key=lambda s: (sizes[s], s))
        rows = [(s, sizes[s], held[s], fraction * sizes[s]) for s in order if sizes[s] >= 2]
        seen.unbalanced = [r for r in rows if r[3] >= 1.5 and abs(r[2] - r[3]) > 1]
        seen.update(empty=[r for r in rows if r[2] < 1], full=[r for r in rows if r[2] > r[1] - 1])
        verdict(seen, SPLIT)
    core.passed("every speaker on both sides, ~val_fraction of each held out, reproducible")


ITEMS = [
    Mistake(lambda o: o.length != 2,
            "len(dataset) is {length} for 2 utterances: __len__ counts the utterances."),
    Mistake(lambda o: o.built > 0,
            "Two items of kind {kind!r} built {built} nn.Module(s): one created for every item."),
    Mistake(lambda o: not o.decodes,
            "The items were not read with load_audio (soundfile): read the crop with it."),
    Mistake(lambda o: o.decoded > 3 * SAMPLE_RATE,
            "{decoded} samples of the 5-s file were decoded to cut a 3-s crop: pass the window."),
    Mistake(lambda o: o.short_start > 0,
            "The 1.2-s clip was read from sample {short_start}: a short clip has no room to move."),
]  # fmt: skip
ITEM = [
    Mistake(lambda o: isinstance(o.y, str),
            "The label of the {item} is the string {y!r}, not a class index from the map."),
    Mistake(lambda o: not (isinstance(o.y, int | np.integer) or (isinstance(o.y, torch.Tensor) and o.y.ndim == 0)),
            "The label of the {item} is a {y.__class__.__name__}, not an int class index."),
    Mistake(lambda o: int(o.y) == int(o.speaker),
            "The label of the {item} is {y}, the raw speaker id: look it up in the label map."),
    Mistake(lambda o: int(o.y) != o.label,
            "The label of the {item} is {y}; the label map says {label}."),
    Mistake(lambda o: not isinstance(o.x, torch.Tensor),
            "The features of the {item} are a {x.__class__.__name__}, not the module's tensor."),
    Mistake(lambda o: len(o.shape) == 2 and o.shape[0] == o.expected[0] and o.seconds < 3 and o.shape[1] < o.expected[1],
            "The features of the {item} have {shape[1]} frames: the short clip was not padded."),
    Mistake(lambda o: o.shape != o.expected,
            "The features of the {item} have shape {shape}, not {expected}: a 3-s crop at 16000 Hz's."),
    Mistake(lambda o: not torch.isfinite(o.x).all(),
            "The features of the {item} hold NaN or infinite values."),
    Mistake(lambda o: o.seconds < 3 and not torch.allclose(o.x, o.padded, atol=1e-3),
            "For the 1.2-s clip, the {kind!r} features are not the clip's followed by silence."),
]  # fmt: skip
MOVES = [
    Mistake(lambda o: len(set(o.starts)) == 1,
            "Over 6 epochs the crop of a 5-s file always starts at {starts[0]}: it never moves."),
    Mistake(lambda o: not all(0 <= s <= o.room for s in o.starts),
            "Over 6 epochs the crop started at {starts}: past {room}, the last start that fits."),
    Mistake(lambda o: o.again != o.starts[0],
            "Reading item 0 twice in the same epoch gave two crops: a generator kept in the dataset?"),
    Mistake(lambda o: o.after_other != o.starts[0],
            "Item 0 got another crop when item 1 was read first: it depends on the order of reads."),
    Mistake(lambda o: o.two_seconds != (40, 201),
            "With crop_seconds=2.0 an MFCC item has shape {two_seconds}, not (40, 201)."),
]  # fmt: skip


def _crop_start(dataset: object, index: int, total: int) -> int:
    """Where the window of ``dataset[index]`` starts in the file of ``total`` frames."""
    with record_decodes() as decodes:
        call(dataset.__getitem__, index, what=f"dataset[{index}]")  # type: ignore[attr-defined]
    return next((d.start for d in decodes if d.total == total), -1)


@exercise("""An item: the features of a crop_seconds window, the class index; pad short files; one module.
Decode only the window, its start drawn from (seed, epoch, index); pad to 16 kHz's length.
__init__ builds the module; __getitem__ draws the start, load_audio, fit_length, applies it.""")
def crop_dataset(dataset_class: type) -> None:
    """Check ``dataset_class(utterances, label_map, root, kind, crop_seconds=3.0, seed=0)``, every
    kind, 5-s and 1.2-s files: ``len``; items (make_feature(kind) of a crop read alone by
    load_audio, zero-padded at the end; the map's label); the module built in ``__init__``; global
    generators untouched; a crop in the file from (seed, epoch, index) only."""
    with tempfile.TemporaryDirectory() as folder:
        root, rng, utterances, labels = Path(folder), np.random.default_rng(0), [], {}
        for speaker, seconds in [("8975", 5.0), ("19", 1.2)]:  # a 5-s and a 1.2-s file, 16 kHz
            t = np.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
            tone = 0.3 * np.sin(2 * np.pi * (120 + 40 * int(speaker) % 200) * t)
            (root / speaker).mkdir()
            path = f"{speaker}/{speaker}-1-0000.flac"
            sf.write(root / path, tone + 0.05 * rng.standard_normal(len(t)), SAMPLE_RATE)
            utterances.append(Utterance(path, speaker, "1", len(t), SAMPLE_RATE))
            labels[speaker] = int(speaker == "8975")
        total = utterances[0].frames
        for kind in FEATURE_KINDS:
            reference = make_feature(kind)
            what = f"{dataset_class.__name__}(utterances, label_map, root, {kind!r})"
            dataset = call(dataset_class, utterances, labels, root, kind, what=what)
            with core.watching(torch.nn.Module, "__init__") as built, record_decodes() as decodes:
                with core.leaves_global_rngs(f"Getting two items of kind {kind!r}"):
                    items = [call(dataset.__getitem__, i, what=f"dataset[{i}]") for i in (0, 1)]
            seen = Observed(length=len(dataset), kind=kind, built=built.call_count, decodes=decodes)
            seen.decoded = max((d.frames for d in decodes if d.total == total), default=0)
            seen.short_start = max((d.start for d in decodes if d.total != total), default=0)
            verdict(seen, ITEMS)
            with torch.no_grad():
                padded = reference(fit_length(load_audio(root / "19/19-1-0000.flac"), 48_000))
                expected = tuple(reference(torch.zeros(3 * SAMPLE_RATE)).shape)
            for (x, y), u in zip(items, utterances):
                item = Observed(x=x, y=y, speaker=u.speaker, label=labels[u.speaker], kind=kind)
                item.update(seconds=u.seconds, padded=padded, shape=tuple(getattr(x, "shape", ())))
                item.update(expected=expected, item=f"{kind!r} item of the {u.seconds:g}-s file")
                verdict(item, ITEM)

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
        two = call(dataset_class, utterances, labels, root, "mfcc", crop_seconds=2.0, what="2 s")
        seen.two_seconds = tuple(call(two.__getitem__, 0, what="dataset[0]")[0].shape)
        verdict(seen, MOVES[:4])
        core.uses_argument(starts, (0,), 0, 1, what=f"{dataset_class.__name__}: item 0's crops")
        verdict(seen, MOVES)
    core.passed("items (features, label) of a crop that moves with the epoch; short clips padded")


BATCHES = [
    Mistake(lambda o: not (isinstance(o.batch, tuple | list) and len(o.batch) == 2),
            "A batch of {what} is a {batch.__class__.__name__}, not a pair (features, labels)."),
    Mistake(lambda o: not (isinstance(o.batch[0], torch.Tensor) and tuple(o.batch[0].shape[1:]) == (4, 10)),
            "A batch's features are not a tensor (batch, 4, 10): let the DataLoader stack them."),
    Mistake(lambda o: not (isinstance(o.batch[1], torch.Tensor) and o.batch[1].dtype == torch.int64),
            "A batch's labels are not an int64 tensor: let the DataLoader stack the labels too."),
    Mistake(lambda o: o.sizes[0] != 8 or len(o.sizes) < 2,
            "With batch_size=8 the batches have {sizes} items: pass the batch size on."),
    Mistake(lambda o: sorted(o.order) != list(range(22)),
            "One epoch handed out {count} items ({sizes}), not each of the 22 items once."),
    Mistake(lambda o: o.order == sorted(o.order),
            "The items come in their stored order, 0, 1, 2...: the loader does not shuffle."),
    Mistake(lambda o: o.second == o.batches,
            "The second pass over the loader repeats the first epoch's order: seed it once."),
]  # fmt: skip


def _epoch(loader: object, what: str) -> Observed:
    """One pass over ``loader``: its batches' item indices (each item holds its index)."""
    batches = []
    for batch in call(iter, loader, what=f"iter({what})"):
        verdict(Observed(batch=batch, what=what), BATCHES[:3])
        batches.append([int(v) for v in batch[0][:, 0, 0]])
    order = [i for b in batches for i in b]
    return Observed(batches=batches, order=order, sizes=[len(b) for b in batches], count=len(order))


@exercise("""A training loader hands out every item once per epoch, batched, shuffled, seeded.
DataLoader batches and shuffles; without a generator it uses torch's global one.
A torch.Generator seeded with the seed, given to the DataLoader with the batch size, shuffled.""")
def batch_loader(make_batches: Callable[..., object]) -> None:
    """Check ``make_batches(dataset, batch_size, seed)``, 22 items in 8s: (features, int64 labels)
    batches, every item once, shuffled, global generators untouched; one order per seed; a new
    order each epoch."""
    features = torch.arange(22.0)[:, None, None].expand(22, 4, 10)  # item i is filled with i
    dataset = torch.utils.data.TensorDataset(features, torch.arange(22) % 5)
    what = "make_batches(dataset, batch_size=8, seed=0)"

    def order(dataset: torch.utils.data.Dataset, batch_size: int, seed: int) -> list[list[int]]:
        return _epoch(call(make_batches, dataset, batch_size, seed, what=what), what).batches

    with core.leaves_global_rngs(f"Shuffling in {what}"):
        loader = call(make_batches, dataset, 8, 0, what=what)
        seen = Observed(_epoch(loader, what), second=None)
        verdict(seen, BATCHES[3:6])
    core.repeatable(order, dataset, 8, 0, what=what)
    core.uses_argument(order, (dataset, 8, 0), 2, 1, what=what)
    seen.second = _epoch(loader, what).batches
    verdict(seen, BATCHES[3:], ok="batches of 8 from 22 items, shuffled, a new order each epoch")


FIGURE = [
    Mistake(lambda o: not o.is_figure, "show_batch returned {kind}, not a matplotlib Figure."),
    Mistake(lambda o: o.count != 3,
            "The figure shows {count} feature image(s) of the item's size, not 3, one per item."),
]  # fmt: skip
PANEL = [
    Mistake(lambda o: o.shown.shape != (40, 301),
            "Panel {panel} is transposed, time up: draw the item as it is, (coefficients, frames)."),
    Mistake(lambda o: np.allclose(o.shown, o.batch.mean(axis=0), atol=1e-4),
            "Panel {panel} shows the average of the batch, not one item."),
    Mistake(lambda o: not o.matches,
            "Panel {panel} shows an image that is none of the batch's items."),
    Mistake(lambda o: o.matches[0] != o.panel - 1,
            "Panel {panel} shows item {matches[0]} of the batch; panel i should show item i."),
    Mistake(lambda o: str(o.label) not in o.ax.get_title(),
            "Panel {panel}'s title {title!r} does not say the item's label, {label}."),
    Mistake(lambda o: not (o.ax.get_xlabel() and o.ax.get_ylabel()),
            "Panel {panel} has no axis labels (plot_features sets them)."),
]  # fmt: skip


@exercise("""One panel per item: its features as an image, coefficients up, time across, its label.
Index the batch on its first axis for one item; plot_features draws it with axis labels.
plt.subplots with n axes; item i drawn with plot_features on axes[i], label i in the title.""")
def batch_figure(show_batch: Callable[..., object]) -> None:
    """Check ``show_batch(x, y, kind, n) -> Figure`` for 5 MFCCs, ``n=3``: a returned Figure with 3
    images of the item's size, item ``i`` as it is (coefficients, frames) in panel ``i``, titled
    with its label, axes labelled."""
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    x = torch.randn(5, 40, 301, generator=torch.Generator().manual_seed(4))
    y, before = torch.tensor([7, 3, 11, 0, 5]), set(plt.get_fignums())
    try:
        figure = call(show_batch, x, y, "mfcc", 3, what="show_batch(x, y, 'mfcc', 3)")
        panels = []
        for ax in figure.axes if isinstance(figure, Figure) else []:
            meshes = [i.get_array() for i in ax.images] + [c.get_array() for c in ax.collections]
            shown = [np.asarray(a) for a in meshes if np.shape(a) in ((40, 301), (301, 40))]
            panels += [(ax, shown[0])] if shown else []
        seen = Observed(kind=type(figure).__name__, count=len(panels))
        verdict(Observed(seen, is_figure=isinstance(figure, Figure)), FIGURE)
        for i, (ax, shown) in enumerate(panels):
            seen = Observed(ax=ax, shown=shown, batch=x.numpy(), panel=i + 1, label=int(y[i]))
            same = [shown.shape == (40, 301) and np.allclose(shown, item, atol=1e-4) for item in x]
            seen.matches = [k for k, match in enumerate(same) if match]
            verdict(Observed(seen, title=ax.get_title()), PANEL)
    finally:
        for number in set(plt.get_fignums()) - before:
            plt.close(number)
    core.passed("three panels, item i of the batch in panel i, with its label and axis labels.")
