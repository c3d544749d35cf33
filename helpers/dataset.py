"""From utterances to batches: the Dataset of crops, utterance-level crops, the DataLoader.

An item reads only its crop (memory stays flat) and nothing is ever padded: ``collate_crops`` cuts
a batch to its shortest item.
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
    """``(x, label)`` items, ``x`` a ``crop_seconds`` crop of each file (e.g. ``(40, 301)`` for 40
    MFCCs of 3 s; the waveform ``(samples,)`` if ``feature`` is ``None``); ``label`` an ``int``.

    ``train=True``: a random crop per epoch, fixed by ``(seed, epoch, index)``; ``False``: the
    centre crop. ``cache``: read crops from a ``FeatureCache`` instead of decoding.
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
        """Where item ``index``'s crop starts, 0 to 1 of the room left in the file (0.5 in
        validation; in training seeded by ``(seed, epoch, index)``, the same in any worker)."""
        if not self.train:
            return 0.5
        return float(np.random.default_rng([self.seed, self.epoch, index]).random())

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        """Item ``index``: ``(x, label)``; an undecodable file warns and gives the next file's item
        (``AudioError`` only if no file decodes)."""
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
        """``ceil(d / crop_seconds)`` (≤ ``max_crops``) evenly spread crops covering a file of ``d``
        seconds: ``(n_crops, *item_shape)``, for utterance-level evaluation."""
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
        """The whole file as one item: ``(n_bins, frames)`` (``(n_bins,)`` if pooled), or its
        waveform ``(samples,)`` if ``feature`` is ``None``."""
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
    """Item ``i``: ``(dataset.utterance_crops(i), label)``; batch it with ``collate_fn=list``."""

    def __init__(self, dataset: SpeakerDataset, max_crops: int = 10) -> None:
        self.dataset, self.max_crops = dataset, max_crops
        self.labels = dataset.labels()

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.dataset.utterance_crops(index, self.max_crops), self.labels[index]


def collate_crops(batch: list[tuple[torch.Tensor, int]]) -> tuple[torch.Tensor, torch.Tensor]:
    """``default_collate`` after cutting every item's last axis to the batch's shortest: no padding."""
    length = min(x.shape[-1] for x, _ in batch)
    return default_collate([(x[..., :length], y) for x, y in batch])


def length_batches(dataset: SpeakerDataset, batch_size: int) -> list[list[int]]:
    """Indices of ``dataset`` in batches of equal crop length: a ``batch_sampler`` for evaluation."""
    groups: dict[int, list[int]] = {}
    for index, utterance in enumerate(dataset.utterances):
        groups.setdefault(dataset.crop_samples_of(utterance), []).append(index)
    return [g[k : k + batch_size] for g in groups.values() for k in range(0, len(g), batch_size)]


class LengthBuckets(Sampler[list[int]]):
    """Shuffled training batches of items of similar length (sorted within pools of ``pool``)."""

    def __init__(self, dataset, batch_size, generator, drop_last=False, pool=8) -> None:
        self.lengths = [dataset.crop_samples_of(u) for u in dataset.utterances]
        self.size, self.generator = batch_size, generator
        self.drop_last, self.pool = drop_last, pool

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

    ``shuffle`` batches by ``LengthBuckets``; ``num_workers=None``: up to 4 with a GPU, else 0.
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
