"""What a notebook imports: the data, the device, the seed, and the course's pipeline in one call.

The top of the package: it imports the modules below it and gives the notebooks a small, stable
surface, so that their cells show the idea being taught and not the plumbing::

    from helpers.course import DEVICE, SEED, find_dataset, make_loaders, make_sets, show_table

    DATA = find_dataset()                       # the real data if downloaded, else synthetic (said loudly)
    sets = make_sets(DATA, make_feature("mfcc", n_mfcc=80, n_mels=80))
    train_loader, val_loader = make_loaders(sets, batch_size=64)
    history = fit(model, train_loader, val_loader, batch_transform=sets.batch_transform)

One switch, the environment variable ``AUDIO_COURSE_QUICK=1``, makes every notebook run in seconds on
the tiny synthetic corpus with short training; CI sets it.
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
    REPO_ROOT,
    SMALL_DATA,
    SYNTHETIC_DATA,
    SYNTHETIC_TINY,
    download_command,
    is_complete,
)
from .synthetic import make_synthetic_corpus
from .training import History, get_device

__all__ = [
    "DATA_KINDS",
    "DEVICE",
    "QUICK",
    "RECOMMENDED",
    "REPO_ROOT",
    "SEED",
    "TIER_FOLDERS",
    "SpeakerSets",
    "features_on_device",
    "find_dataset",
    "get_device",
    "headline",
    "keep_trained",
    "make_loaders",
    "make_sets",
    "quick",
    "seed_everything",
    "show_table",
]

DATA_KINDS = ("small", "full", "synthetic")
"""The data tiers (``AUDIO_COURSE_DATA_KIND``, ``data_download.py --tier``, the Colab form field)."""

TIER_FOLDERS = {"small": SMALL_DATA, "full": FULL_DATA}
"""Where ``python data_download.py --tier small|full`` unpacks each downloaded tier."""

QUICK = os.environ.get("AUDIO_COURSE_QUICK", "") not in ("", "0")
"""True under ``AUDIO_COURSE_QUICK=1``: tiny synthetic data, short training (CI and smoke tests)."""

SEED = 0
"""The seed of the course: split, crops, initialisation and batches all follow from it."""

DEVICE = get_device()
"""The GPU if there is one (Colab: Runtime → Change runtime type → T4 GPU), else the CPU."""

RECOMMENDED = {
    "model": "cnn1d",
    "feature": "mfcc",
    "n_mfcc": 40,
    "epochs": 30,
    "batch_size": 32,
    "lr": 3e-3,
    "label_smoothing": 0.1,
    "crop_seconds": 3.0,
    "augment": "reverb,noise,eq",
    "augment_p": 0.5,
    "head": "aam",
    "margin": 0.2,
    "scale": 30.0,
}
"""The recommended configuration: what ``python -m helpers.cli.train --data DIR`` trains. Chosen by
measurement on the harder corpus (README, "On the harder corpus"): waveform augmentation (room, noise,
device), the additive-angular-margin head, 40 MFCCs, 3-s crops, batches of 32."""


def quick(full: int | float, fast: int | float) -> int | float:
    """``fast`` in quick mode, else ``full``: ``epochs = quick(20, 2)``."""
    return fast if QUICK else full


def find_dataset(kind: str | None = None, verbose: bool = True) -> Path:
    """The corpus folder the notebooks use.

    Order: ``$AUDIO_COURSE_DATA`` if set (the Colab setup cell sets it to the tier it fetched);
    else the tier ``kind`` (default ``$AUDIO_COURSE_DATA_KIND``): ``small`` and ``full`` must be
    downloaded, ``synthetic`` is generated on first use; else, with no tier asked for, the ``full``
    tier if downloaded, else ``small``, else a synthetic corpus, said loudly. Quick mode with no
    tier asked for uses the tiny synthetic corpus.

    Parameters
    ----------
    kind : {"small", "full", "synthetic"} or None
        The tier (``"real"`` is read as ``"full"``).
    verbose : bool
        Print which corpus is used and why.

    Raises
    ------
    FileNotFoundError
        If ``small`` or ``full`` is asked for and not downloaded (the message gives the command).
    ValueError
        For an unknown tier.
    """
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
    return _synthetic(asked=kind == "synthetic", verbose=verbose)


def _synthetic(asked: bool, verbose: bool) -> Path:
    """The synthetic corpus: tiny in quick mode, else 24 speakers × 12 files of 2–8 s."""
    if QUICK:
        path = make_synthetic_corpus(SYNTHETIC_TINY, progress=verbose)
    else:
        path = make_synthetic_corpus(
            SYNTHETIC_DATA, n_speakers=24, files_per_speaker=12, max_seconds=8.0, progress=verbose
        )
    if verbose:
        reason = "asked for" if asked else "quick mode" if QUICK else "no real data downloaded"
        print(
            "*" * 78 + f"\n* Dataset: SYNTHETIC voices in {path} ({reason}).\n"
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
    """Print a notebook's headline result and, under ``make run``, record it for the summary table.

    ``make run`` sets ``AUDIO_COURSE_HEADLINE`` to a JSON file path per notebook; the value is written
    there so the run can list every notebook's result.
    """
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"Headline: {name} = {shown}")
    target = os.environ.get("AUDIO_COURSE_HEADLINE")
    if target:
        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps({"name": name, "value": value}))


def keep_trained(
    name: str,
    train: Callable[[], tuple[torch.nn.Module, History]],
    feature: AudioFeature,
    speaker_to_index: dict[str, int],
    settings: dict[str, float | int | str | None],
) -> tuple[torch.nn.Module, History]:
    """Train once, keep the model: ``train()`` runs only if no fitting checkpoint ``name`` exists.

    In Colab every notebook starts in a fresh runtime; with Google Drive mounted the checkpoint is
    kept in :func:`helpers.checkpoints.checkpoint_dir` on the Drive, so opening the notebook again
    reloads the model in seconds instead of training it for minutes. A checkpoint counts only if it
    was trained on the same speakers with the same ``settings`` (epochs, head, augmentation...);
    either way one line says which happened.

    Returns
    -------
    (model, history)
        The model on :data:`DEVICE` in ``eval()`` mode, and its training history.
    """
    found = find_checkpoint(name, speaker_to_index, settings=settings)
    if found is not None:
        model = load_checkpoint(found, device=DEVICE)
        print(
            f"loaded {found}: trained in an earlier run with these settings (delete it to retrain)"
        )
        return model, History(**model.checkpoint["history"])
    model, history = train()
    path = save_checkpoint(
        checkpoint_dir() / name,
        model,
        feature=feature,
        speaker_to_index=speaker_to_index,
        settings=settings,
        history=history.as_dict(),
    )
    print(f"saved {path}")
    return model.eval(), history


def features_on_device(device: torch.device = DEVICE) -> bool:
    """Whether features are computed per batch on the device (the GPU path) rather than per item.

    True on CUDA: the Dataset then yields waveforms and the feature module runs on whole batches on
    the GPU, so the CPU cores only decode. ``AUDIO_COURSE_FEATURES_ON_DEVICE=1`` forces the same
    branch on a CPU (so that CI executes it), ``=0`` forces features per item.
    """
    forced = os.environ.get("AUDIO_COURSE_FEATURES_ON_DEVICE", "")
    if forced:
        return forced not in ("0", "false", "no")
    return device.type == "cuda"


@dataclass
class SpeakerSets:
    """The training and validation sets of a corpus, and what a training run needs with them.

    Attributes
    ----------
    train, val : SpeakerDataset
        Random crops (new every epoch) and centre crops.
    manifest : Manifest
        Every file of the corpus.
    speaker_to_index : dict[str, int]
        Speaker id to class index; ``names[k]`` is the speaker of class ``k``.
    feature : AudioFeature
        The features of the items, or of the batches (``batch_transform``) on the device.
    batch_transform : AudioFeature or None
        Pass to ``fit``/``evaluate``: ``feature`` when the items are waveforms, else ``None``.
    """

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
    """The course's pipeline in one call: manifest, labels, seeded split, two ``SpeakerDataset``s.

    Parameters
    ----------
    root : path
        The corpus folder.
    feature : AudioFeature
        E.g. ``make_feature("mfcc", n_mfcc=80, n_mels=80)``.
    utterances : sequence of Utterance or None
        Only these files (e.g. the seen speakers of a hold-out split); default: the whole manifest.
        The labels are built on them.
    val_fraction, split_by, seed
        As in ``split_utterances``; ``seed`` also fixes the training crops.
    crop_seconds : float
        Crop length (s).
    cache : bool or None
        Read the items from a ``FeatureCache`` built once; ``None``: in quick mode and on the GPU path.
    on_device : bool or None
        Items are waveforms and ``feature`` runs per batch on the device; ``None``:
        ``features_on_device()``.
    """
    manifest = load_manifest(root, progress=False)
    utterances = list(manifest.utterances if utterances is None else utterances)
    labels = speaker_to_index(utterances)
    train, val = split_utterances(utterances, val_fraction=val_fraction, seed=seed, by=split_by)
    on_device = features_on_device() if on_device is None else on_device
    item_feature = None if on_device else feature
    if cache is None:
        cache = QUICK or on_device
    store = FeatureCache(root, utterances, feature=item_feature, progress=False) if cache else None
    train_set, val_set = (
        SpeakerDataset(part, labels, root, item_feature, crop_seconds, is_train, seed, cache=store)
        for part, is_train in ((train, True), (val, False))
    )
    batch_transform = feature if on_device else None
    return SpeakerSets(train_set, val_set, manifest, labels, feature, batch_transform)


def make_loaders(
    sets: SpeakerSets, batch_size: int = 64, num_workers: int | None = None, seed: int = SEED
) -> tuple[DataLoader, DataLoader]:
    """Training loader (shuffled, seeded, full batches) and validation loader (twice the batch).

    ``num_workers=None``: 2 on the GPU path (the CPU decodes while the device trains), else 0 (on a
    CPU-only machine, workers would compete with training for the same cores).
    """
    if num_workers is None:
        num_workers = 2 if sets.batch_transform is not None else 0
    batch_size = min(batch_size, len(sets.train))
    train_loader = make_loader(
        sets.train, batch_size, shuffle=True, seed=seed, num_workers=num_workers, drop_last=True
    )
    return train_loader, make_loader(sets.val, 2 * batch_size, num_workers=num_workers)


def show_table(rows: Sequence[dict], formats: dict[str, str] | None = None) -> pd.DataFrame:
    """Rows of results as a table: a pandas DataFrame, which Jupyter and Colab render as a table.

    ``formats`` maps a column to a format, e.g. ``{"accuracy": "{:.1%}"}``; the returned frame holds
    the formatted text (the numbers stay in ``rows``). Print it with ``print(table.to_string())``.
    """
    table = pd.DataFrame(list(rows))
    for column, spec in (formats or {}).items():
        if column in table:
            table[column] = table[column].map(spec.format)
    return table


if __name__ == "__main__":  # `python -m helpers.course`: make sure a dataset exists, say which
    find_dataset()
