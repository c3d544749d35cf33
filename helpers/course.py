"""What a notebook imports: the data, the device, the seed, and the course's pipeline in one call::

    DATA = find_dataset()                       # the real data if downloaded, else synthetic (said loudly)
    sets = make_sets(DATA, make_feature("mfcc", n_mfcc=80, n_mels=80))
    train_loader, val_loader = make_loaders(sets, batch_size=64)

``AUDIO_COURSE_QUICK=1`` (CI) makes every notebook run in seconds: tiny synthetic corpus, short training.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch.utils.data import DataLoader

from .cache import FeatureCache
from .checkpoints import checkpoint_dir, find_checkpoint, load_checkpoint, save_checkpoint
from .corpus import Manifest, Utterance, load_manifest, speaker_to_index, split_utterances
from .dataset import SpeakerDataset, make_loader
from .download import fallback_notice
from .features import AudioFeature
from .paths import (
    FULL_DATA,
    SMALL_DATA,
    SYNTHETIC_DATA,
    SYNTHETIC_TINY,
    download_command,
    is_complete,
)
from .synthetic import make_synthetic_corpus
from .training import History, get_device

DATA_KINDS = ("small", "full", "synthetic")  # AUDIO_COURSE_DATA_KIND, data_download.py --tier
TIER_FOLDERS = {"small": SMALL_DATA, "full": FULL_DATA}  # where the downloaded tiers are unpacked
QUICK = os.environ.get("AUDIO_COURSE_QUICK", "") not in ("", "0")  # tiny data, short training
SEED = 0  # split, crops, initialisation and batches all follow from it
DEVICE = get_device()  # the GPU if there is one (Colab: Runtime → Change runtime type), else CPU
RECOMMENDED = dict(model="cnn1d", feature="mfcc", n_mfcc=40, epochs=30, batch_size=32, lr=3e-3)
RECOMMENDED |= dict(label_smoothing=0.1, crop_seconds=3.0, augment="reverb,noise,eq", augment_p=0.5)
RECOMMENDED |= dict(head="softmax", margin=0.2, scale=30.0)
"""What ``python -m helpers.cli.train --data DIR`` trains, chosen on four corpora of tools/corpora.py
(docs/model.md): waveform augmentation, SpecAugment, the softmax head, 40 MFCCs, 3-s crops."""


def quick(full: int | float, fast: int | float) -> int | float:
    """``fast`` in quick mode, else ``full``: ``epochs = quick(20, 2)``."""
    return fast if QUICK else full


def find_dataset(kind: str | None = None, verbose: bool = True) -> Path:
    """The corpus folder: ``$AUDIO_COURSE_DATA`` if set (by the Colab setup); else the tier ``kind``
    (default ``$AUDIO_COURSE_DATA_KIND``; ``"real"`` is ``"full"``): ``small`` and ``full`` must be
    downloaded (``FileNotFoundError`` names the command), ``synthetic`` is made on first use; else
    the ``full`` tier if downloaded, else ``small``, else a synthetic corpus, said loudly (the tiny
    one in quick mode). ``verbose`` prints which and why."""
    if os.environ.get("AUDIO_COURSE_DATA"):
        path = Path(os.environ["AUDIO_COURSE_DATA"]).expanduser()
        if verbose:
            print(f"Dataset: {path} (from $AUDIO_COURSE_DATA)")
            if notice := fallback_notice():  # the setup cell fell back: say it here too
                print(notice)
        return path
    kind = kind or os.environ.get("AUDIO_COURSE_DATA_KIND") or None
    kind = "full" if kind == "real" else kind
    if kind not in (None, *DATA_KINDS):
        raise ValueError(f"the data tier must be one of {', '.join(DATA_KINDS)}, not {kind!r}")
    if kind in TIER_FOLDERS and not is_complete(TIER_FOLDERS[kind]):
        raise FileNotFoundError(
            f"The {kind} tier is not in {TIER_FOLDERS[kind]}. Run "
            f"`{download_command('--tier', kind)}` (in Colab: the setup cell, with data = {kind!r})."
        )
    found = kind if kind in TIER_FOLDERS else None
    if kind is None and not QUICK:
        found = next((t for t in ("full", "small") if is_complete(TIER_FOLDERS[t])), None)
    if found is not None:
        if verbose:
            print(f"Dataset: the {found} tier, {TIER_FOLDERS[found]}")
        return TIER_FOLDERS[found]
    if QUICK:
        path = make_synthetic_corpus(SYNTHETIC_TINY, progress=verbose)
    else:
        options = {"n_speakers": 24, "files_per_speaker": 12, "max_seconds": 8.0}
        path = make_synthetic_corpus(SYNTHETIC_DATA, **options, progress=verbose)
    if verbose:
        why = "asked for" if kind == "synthetic" else "quick mode" if QUICK else "no real data"
        print(
            "*" * 78 + f"\n* Dataset: SYNTHETIC voices in {path} ({why}).\n"
            "* Results here say nothing about real speech. For real speech, run\n"
            f"*     {download_command('--tier', 'small')}\n" + "*" * 78
        )
    return path


def seed_everything(seed: int = SEED) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) so a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def headline(name: str, value: float | int | str) -> None:
    """Print a notebook's headline result; under ``make run`` (``$AUDIO_COURSE_HEADLINE``, a JSON
    file per notebook) also record it for the summary table."""
    print(f"Headline: {name} = {f'{value:.4g}' if isinstance(value, float) else value}")
    if target := os.environ.get("AUDIO_COURSE_HEADLINE"):
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps({"name": name, "value": value}))


def keep_trained(
    name: str,
    train: Callable[[], tuple[torch.nn.Module, History]],
    feature: AudioFeature,
    speaker_to_index: dict[str, int],
    settings: dict[str, float | int | str | None],
) -> tuple[torch.nn.Module, History]:
    """Train once, keep the model: ``train()`` runs only if no checkpoint ``name`` in
    :func:`helpers.checkpoints.checkpoint_dir` (on Drive when mounted) has the same speakers and
    ``settings``; returns the model on :data:`DEVICE` in ``eval()`` mode and its history."""
    if (found := find_checkpoint(name, speaker_to_index, settings=settings)) is not None:
        model = load_checkpoint(found, device=DEVICE)
        print(
            f"loaded {found}: trained in an earlier run with these settings (delete it to retrain)"
        )
        return model, History(**model.checkpoint["history"])
    model, history = train()
    path = save_checkpoint(
        checkpoint_dir() / name,
        model,
        feature,
        speaker_to_index,
        settings=settings,
        history=history.as_dict(),
    )
    print(f"saved {path}")
    return model.eval(), history


def features_on_device(device: torch.device = DEVICE) -> bool:
    """Whether features are computed per batch on the device (CUDA: the items are waveforms and the
    CPU only decodes) rather than per item; ``AUDIO_COURSE_FEATURES_ON_DEVICE=1``/``0`` forces it."""
    if forced := os.environ.get("AUDIO_COURSE_FEATURES_ON_DEVICE", ""):
        return forced not in ("0", "false", "no")
    return device.type == "cuda"


@dataclass
class SpeakerSets:
    """The training (random crops) and validation (centre crops) sets of a corpus, its manifest,
    labels, ``feature``, and the ``batch_transform`` to pass to ``fit``/``evaluate`` (``feature``
    when the items are waveforms, else ``None``)."""

    train: SpeakerDataset
    val: SpeakerDataset
    manifest: Manifest
    speaker_to_index: dict[str, int]
    feature: AudioFeature
    batch_transform: AudioFeature | None

    @property
    def names(self) -> list[str]:
        """Speaker id of each class index."""
        return sorted(self.speaker_to_index, key=self.speaker_to_index.get)

    @property
    def n_speakers(self) -> int:
        """Number of classes."""
        return len(self.speaker_to_index)


def make_sets(
    root: str | os.PathLike,
    feature: AudioFeature,
    *,
    utterances: Sequence[Utterance] | None = None,
    val_fraction: float = 0.3,
    split_by: str = "file",
    crop_seconds: float = 3.0,
    cache: bool | None = None,
    on_device: bool | None = None,
    seed: int = SEED,
) -> SpeakerSets:
    """The course's pipeline in one call: manifest, labels (built on ``utterances``, default the
    whole manifest), seeded split (``split_utterances``), two ``SpeakerDataset``s of
    ``crop_seconds`` crops. ``cache``: read items from a ``FeatureCache`` (default: in quick mode
    and on the GPU path); ``on_device``: items are waveforms, ``feature`` runs per batch on the
    device (default :func:`features_on_device`)."""
    manifest = load_manifest(root, progress=False)
    utterances = list(manifest.utterances if utterances is None else utterances)
    labels = speaker_to_index(utterances)
    train, val = split_utterances(utterances, val_fraction=val_fraction, seed=seed, by=split_by)
    on_device = features_on_device() if on_device is None else on_device
    item_feature = None if on_device else feature
    cache = (QUICK or on_device) if cache is None else cache
    store = FeatureCache(root, utterances, feature=item_feature, progress=False) if cache else None
    train_set, val_set = (
        SpeakerDataset(part, labels, root, item_feature, crop_seconds, is_train, seed, cache=store)
        for part, is_train in ((train, True), (val, False))
    )
    return SpeakerSets(
        train_set, val_set, manifest, labels, feature, feature if on_device else None
    )


def make_loaders(
    sets: SpeakerSets, batch_size: int = 64, num_workers: int | None = None, seed: int = SEED
) -> tuple[DataLoader, DataLoader]:
    """Training loader (shuffled, seeded, full batches) and validation loader (twice the batch);
    ``num_workers`` default: 2 on the GPU path (decoding while the device trains), else 0."""
    if num_workers is None:
        num_workers = 2 if sets.batch_transform is not None else 0
    batch_size = min(batch_size, len(sets.train))
    train_loader = make_loader(
        sets.train, batch_size, shuffle=True, seed=seed, num_workers=num_workers, drop_last=True
    )
    return train_loader, make_loader(sets.val, 2 * batch_size, num_workers=num_workers)


def show_table(rows: Sequence[dict], formats: dict[str, str] | None = None) -> pd.DataFrame:
    """Rows of results as a pandas DataFrame (rendered as a table), ``formats`` mapping a column to
    a format such as ``"{:.1%}"`` (the frame holds the text; the numbers stay in ``rows``)."""
    table = pd.DataFrame(list(rows))
    for column, spec in (formats or {}).items():
        if column in table:
            table[column] = table[column].map(spec.format)
    return table


if __name__ == "__main__":  # `python -m helpers.course`: make sure a dataset exists, say which
    find_dataset()
