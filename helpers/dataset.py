"""From utterances to batches: the Dataset of crops, utterance-level crops, the DataLoader.

::

    train_set = SpeakerDataset(train, labels, root, feature=make_feature("mfcc"), train=True)
    train_loader = make_loader(train_set, batch_size=32, shuffle=True, seed=0)

Nothing here loads the corpus into memory: an item reads just the crop it needs (or slices a
memory-mapped ``FeatureCache``), so memory stays flat whatever the corpus size.

Nothing is padded either: a file shorter than the crop gives the whole file, and ``collate_crops``
(``make_loader``'s) cuts a batch to its shortest item, so normalisation and statistics pooling only
ever see real frames; ``length_batches`` groups items of equal length, for evaluation.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, Sampler, default_collate

from .audio import SAMPLE_RATE, AudioError, fit_length, load_audio
from .corpus import Utterance
from .features import AudioFeature

if TYPE_CHECKING:
    from .cache import FeatureCache


class SpeakerDataset(Dataset):
    """``(features, label)`` pairs cut from the utterances: a crop of each file.

    ``utterances`` (from ``split_utterances``) are relative to ``root``; ``speaker_to_index`` maps
    speakers to class indices. ``feature`` is applied to each crop; ``None`` returns the waveform
    ``(samples,)`` at ``sample_rate`` (files at other rates are resampled) for features computed per
    batch on the device (``fit(..., batch_transform=...)``). Crops last ``crop_seconds``; a shorter
    file gives all of itself, never padded (``crop_samples_of``). ``train=True``: a random crop, new
    every epoch (``set_epoch``), fixed by ``(seed, epoch, index)`` so runs repeat with any number of
    workers; ``False``: the centre crop. ``cache``: read crops from a ``FeatureCache`` instead of
    decoding (a feature cache must hold ``feature``; a waveform cache's crops still go through it).

    Items: ``x`` of ``feature``'s shape for the crop (e.g. ``(40, 301)`` for 40 MFCCs of 3 s; fewer
    frames for a shorter file), ``label`` an ``int``.
    """

    def __init__(
        self,
        utterances: Sequence[Utterance],
        speaker_to_index: dict[str, int],
        root: str | os.PathLike,
        feature: AudioFeature | None = None,
        crop_seconds: float = 3.0,
        train: bool = True,
        seed: int = 0,
        sample_rate: int = SAMPLE_RATE,
        cache: FeatureCache | None = None,
    ) -> None:
        self.utterances = list(utterances)
        self.speaker_to_index = speaker_to_index
        self.root = Path(root)
        self.feature = feature
        self.crop_seconds = crop_seconds
        self.crop_samples = round(crop_seconds * sample_rate)
        self.train = train
        self.seed = seed
        self.sample_rate = sample_rate
        self.cache = cache
        self.epoch = 0
        if cache is not None and cache.sample_rate != sample_rate:
            raise ValueError("the cache was built at another sample rate")
        if (
            cache is not None
            and cache.feature is not None
            and feature is not None
            and repr(cache.feature) != repr(feature)
        ):
            raise ValueError(
                f"the cache holds {cache.feature!r}, not this dataset's feature {feature!r}"
            )
        # A waveform cache gives waveforms: the feature (if any) is still applied to them.
        self._feature_after_cache = feature if cache is not None and cache.feature is None else None

    def __len__(self) -> int:
        return len(self.utterances)

    def set_epoch(self, epoch: int) -> None:
        """Choose the random crops of ``epoch`` (``fit`` calls this before each epoch)."""
        self.epoch = epoch

    def crop_samples_of(self, utterance: Utterance) -> int:
        """Samples of ``utterance``'s crops at ``sample_rate``: ``crop_samples``, or the whole file."""
        return min(self.crop_samples, round(utterance.seconds * self.sample_rate))

    def labels(self) -> list[int]:
        """Class index of every item, in order."""
        return [self.speaker_to_index[u.speaker] for u in self.utterances]

    def crop_start(self, index: int) -> float:
        """Where the crop of item ``index`` starts, as a fraction of the room left in the file.

        0 is the start of the file, 1 the last possible start; the centre (0.5) in validation. In
        training, a uniform number from a generator seeded with ``(seed, epoch, index)`` only, not
        drawn from a shared stream: the same crop in every process and run, whatever the number of
        DataLoader workers and the order the items are asked for.
        """
        if not self.train:
            return 0.5
        return float(np.random.default_rng([self.seed, self.epoch, index]).random())

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Item ``index``: ``(x, label)``, ``x`` of the feature's shape (or ``(crop_samples,)``).

        A file that cannot be decoded (corrupt past a valid header, deleted since the manifest was
        read) is reported with a warning naming it, and the next file's item is returned instead, so
        one bad file never stops training inside a DataLoader worker.

        Raises
        ------
        AudioError
            Only if no file of the dataset can be decoded at all.
        """
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items")
        for attempt in range(len(self)):
            item = (index + attempt) % len(self)
            utterance = self.utterances[item]
            label = self.speaker_to_index[utterance.speaker]
            position = self.crop_start(item)
            if self.cache is not None:
                x = self.cache.crop(utterance, position, min(self.crop_seconds, utterance.seconds))
                if self._feature_after_cache is not None:
                    x = self._feature_after_cache(x)
                return x, label
            try:
                waveform = self.read_crop(utterance, position)
            except AudioError as error:  # corrupt audio past a valid header: report it, go on
                warnings.warn(f"{error} Using the next file instead.", stacklevel=2)
                continue
            return (self.feature(waveform) if self.feature is not None else waveform), label
        raise AudioError(f"none of the {len(self)} files of this dataset can be decoded")

    def read_crop(self, utterance: Utterance, position: float) -> torch.Tensor:
        """Decode only the crop: ``(crop_samples_of(utterance),)`` at ``sample_rate``."""
        frames = min(utterance.frames, round(self.crop_seconds * utterance.sample_rate))
        start = round(position * (utterance.frames - frames))
        waveform = load_audio(self.root / utterance.path, self.sample_rate, start, frames)
        return fit_length(waveform, self.crop_samples_of(utterance))  # a resampling's last sample

    def utterance_crops(self, index: int, max_crops: int = 10) -> torch.Tensor:
        """Crops that together cover the whole file, for utterance-level evaluation.

        A file of ``d`` seconds gives ``ceil(d / crop_seconds)`` crops (at most ``max_crops``), evenly
        spread from its start to its end, overlapping when they do not tile it exactly; a file shorter
        than a crop gives itself. Averaging a model's outputs over them scores the whole utterance.

        Returns
        -------
        torch.Tensor
            ``(n_crops, *item_shape)``: stacked features, or waveforms if ``feature`` is ``None``.
        """
        utterance = self.utterances[index]
        n_crops = min(max_crops, max(1, int(np.ceil(utterance.seconds / self.crop_seconds))))
        positions = np.linspace(0.0, 1.0, n_crops) if n_crops > 1 else [0.5]
        seconds = min(self.crop_seconds, utterance.seconds)
        if self.cache is not None:
            crops = torch.stack([self.cache.crop(utterance, p, seconds) for p in positions])
            if self._feature_after_cache is not None:
                crops = self._feature_after_cache(crops)
            return crops
        whole = load_audio(self.root / utterance.path, self.sample_rate)
        samples = self.crop_samples_of(utterance)
        room = max(0, whole.shape[-1] - samples)
        crops = torch.stack([fit_length(whole[round(p * room) :], samples) for p in positions])
        return self.feature(crops) if self.feature is not None else crops

    def whole_utterance(self, index: int) -> torch.Tensor:
        """The whole file as one item, for utterance-level embeddings.

        Returns
        -------
        torch.Tensor
            The features of the file, ``(n_bins, frames)`` for all its frames (``(n_bins,)`` if
            pooled), or its waveform ``(samples,)`` if ``feature`` is ``None``; never padded.
        """
        utterance = self.utterances[index]
        if self.cache is not None:
            x = self.cache.crop(utterance, 0.0, utterance.seconds)
            return self._feature_after_cache(x) if self._feature_after_cache is not None else x
        waveform = load_audio(self.root / utterance.path, self.sample_rate)
        return self.feature(waveform) if self.feature is not None else waveform


class WholeUtterances(Dataset):
    """Item ``i``: ``(dataset.whole_utterance(i), label)``; load with ``batch_size=None`` (lengths differ)."""

    def __init__(self, dataset: SpeakerDataset) -> None:
        self.dataset = dataset
        self.labels = dataset.labels()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.dataset.whole_utterance(index), self.labels[index]


class UtteranceCrops(Dataset):
    """Item ``i``: ``(dataset.utterance_crops(i), label)``, so a DataLoader can prepare them in workers.

    Batch it with ``collate_fn=list`` (items have different numbers of crops).
    """

    def __init__(self, dataset: SpeakerDataset, max_crops: int = 10) -> None:
        self.dataset, self.max_crops = dataset, max_crops
        self.labels = dataset.labels()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.dataset.utterance_crops(index, self.max_crops), self.labels[index]


def collate_crops(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """``default_collate`` after cutting every item's last axis to the batch's shortest: no padding.

    Crops of files shorter than ``crop_seconds`` are shorter; a batch holding one is trained (or
    scored) on that many frames of every item, so no statistic is ever taken over padding. Items
    without a time axis (pooled features) are all the same size and pass unchanged.
    """
    length = min(x.shape[-1] for x, _ in batch)
    return default_collate([(x[..., :length], y) for x, y in batch])


def length_batches(dataset: SpeakerDataset, batch_size: int) -> list[list[int]]:
    """Indices of ``dataset`` in batches whose crops are all the same length, for evaluation.

    Pass as ``DataLoader(..., batch_sampler=)``; put results back in dataset order with the
    concatenated batches (``np.argsort``). Files at least ``crop_seconds`` long share one group.
    """
    groups: dict[int, list[int]] = {}
    for index, utterance in enumerate(dataset.utterances):
        groups.setdefault(dataset.crop_samples_of(utterance), []).append(index)
    return [g[k : k + batch_size] for g in groups.values() for k in range(0, len(g), batch_size)]


class LengthBuckets(Sampler[list[int]]):
    """Shuffled training batches of items of similar length: short files are batched together.

    Each epoch the items are shuffled, cut into pools of ``pool`` batches, each pool sorted by crop
    length and cut into batches, and the batches shuffled: ``collate_crops`` then cuts little.
    """

    def __init__(self, dataset, batch_size, generator, drop_last=False, pool=8) -> None:
        self.lengths = [dataset.crop_samples_of(u) for u in dataset.utterances]
        self.size, self.generator, self.drop_last, self.pool = (
            batch_size,
            generator,
            drop_last,
            pool,
        )

    def __len__(self) -> int:
        n = len(self.lengths)
        return n // self.size if self.drop_last else -(-n // self.size)

    def __iter__(self):
        order, size = (
            torch.randperm(len(self.lengths), generator=self.generator).tolist(),
            self.size,
        )
        batches = []
        for k in range(0, len(order), size * self.pool):
            pool = sorted(order[k : k + size * self.pool], key=self.lengths.__getitem__)
            batches += [pool[i : i + size] for i in range(0, len(pool), size)]
        batches = [b for b in batches if len(b) == size or not self.drop_last]
        yield from (batches[i] for i in torch.randperm(len(batches), generator=self.generator))


def seed_worker(worker_id: int) -> None:
    """DataLoader ``worker_init_fn``: seed numpy and ``random`` in each worker from torch's seed."""
    worker_seed = torch.initial_seed() % 2**32
    np.random.seed(worker_seed)
    random.seed(worker_seed)


def make_loader(
    dataset: Dataset,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    num_workers: int | None = None,
    drop_last: bool = False,
) -> DataLoader:
    """A DataLoader with the course's defaults: ``collate_crops``, seeded workers, pinned memory on CUDA.

    ``shuffle`` (training): a new order every epoch from a generator seeded with ``seed``, batched by
    ``LengthBuckets`` for a ``SpeakerDataset``. ``num_workers=None``: with a GPU, one per CPU core (at
    most 4) so the CPU decodes while the GPU trains; without one, 0, since workers would compete with
    training for the cores. ``drop_last``: drop the last incomplete batch (BatchNorm likes full ones).
    """
    if num_workers is None:
        num_workers = min(4, os.cpu_count() or 1) if torch.cuda.is_available() else 0
    generator = torch.Generator().manual_seed(seed)
    batches = {"batch_size": batch_size, "shuffle": shuffle, "drop_last": drop_last}
    if shuffle and hasattr(dataset, "crop_samples_of"):
        batches = {"batch_sampler": LengthBuckets(dataset, batch_size, generator, drop_last)}
    return DataLoader(
        dataset,
        **batches,
        num_workers=num_workers,
        worker_init_fn=seed_worker,
        generator=generator,
        pin_memory=torch.cuda.is_available(),
        collate_fn=collate_crops,
        persistent_workers=False,  # fresh workers each epoch see the dataset's new epoch number
    )
