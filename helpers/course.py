"""What a notebook imports: the data (:func:`find_dataset`), device, seed, the pipeline in one call
(:func:`make_sets`, :func:`make_loaders`); ``AUDIO_COURSE_QUICK=1`` (CI): tiny data, short runs."""

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

from . import paths
from .cache import FeatureCache
from .checkpoints import checkpoint_dir, find_checkpoint, load_checkpoint, save_checkpoint
from .corpus import Manifest, Utterance, load_manifest, speaker_to_index, split_utterances
from .dataset import SpeakerDataset, make_loader
from .download import SYNTHETIC_OPTIONS, TIERS, fallback_notice
from .features import AudioFeature, make_feature
from .models import SpeakerModel, make_model
from .paths import FULL_DATA, SMALL_DATA, SYNTHETIC_DATA, SYNTHETIC_TINY, download_command
from .synthetic import make_synthetic_corpus
from .training import History, get_device

DATA_KINDS = TIERS  # AUDIO_COURSE_DATA_KIND, data_download.py --tier
TIER_FOLDERS = {"small": SMALL_DATA, "full": FULL_DATA}  # where the downloaded tiers are unpacked
QUICK = os.environ.get("AUDIO_COURSE_QUICK", "") not in ("", "0")  # tiny data, short training
SEED = 0  # split, crops, initialisation and batches all follow from it
DEVICE = get_device()  # the GPU if there is one (Colab: Runtime → Change runtime type), else CPU
RECOMMENDED = dict(model="cnn1d", feature="mfcc", n_mfcc=40, epochs=30, batch_size=32, lr=3e-3)
RECOMMENDED |= dict(label_smoothing=0.1, crop_seconds=2.0, augment="reverb,noise", augment_p=0.5)
RECOMMENDED |= dict(head="softmax", margin=0.2, scale=30.0, utterance_stats=True, backend="lda")
"""What ``python -m helpers.cli.train`` trains (SpecAugment off, the CNNs' default), chosen on three
corpora of ``tools/corpora.py`` and checked on fresh seeds (docs/model.md)."""


def recommended_feature() -> AudioFeature:
    """``RECOMMENDED``'s features: MFCCs, left unnormalised when the model normalises each clip itself
    and keeps its statistics (``utterance_stats``)."""
    normalize = not RECOMMENDED["utterance_stats"]
    return make_feature(RECOMMENDED["feature"], n_mfcc=RECOMMENDED["n_mfcc"], normalize=normalize)


def recommended_model(n_classes: int, **changes) -> SpeakerModel:
    """``RECOMMENDED``'s model for :func:`recommended_feature` and ``n_classes`` speakers, its weights
    seeded by ``SEED``; ``changes`` (``head="aam"``...) replace its options."""
    options = {k: RECOMMENDED[k] for k in ("head", "margin", "scale", "utterance_stats")} | changes
    n_features = recommended_feature().n_bins
    return make_model(RECOMMENDED["model"], n_features, n_classes, seed=SEED, **options)


def quick(full: int | float, fast: int | float) -> int | float:
    """``fast`` in quick mode, else ``full``: ``epochs = quick(20, 2)``."""
    return fast if QUICK else full


def find_dataset(kind: str | None = None, verbose: bool = True) -> Path:
    """``$AUDIO_COURSE_DATA``, else tier ``kind`` (``$AUDIO_COURSE_DATA_KIND``; ``"real"``: full),
    else ``full`` or ``small`` if downloaded, else a synthetic corpus made now (said loudly)."""
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
    if kind in TIER_FOLDERS and not paths.is_complete(TIER_FOLDERS[kind]):
        cmd = download_command("--tier", kind)
        what = f"The {kind} tier is not in {TIER_FOLDERS[kind]}. Run `{cmd}`"
        raise FileNotFoundError(f"{what} (in Colab: the setup cell, data = {kind!r}).")
    found = kind if kind in TIER_FOLDERS else None
    if kind is None and not QUICK:
        found = next((t for t in ("full", "small") if paths.is_complete(TIER_FOLDERS[t])), None)
    if found is not None:
        if verbose:
            print(f"Dataset: the {found} tier, {TIER_FOLDERS[found]}")
        return TIER_FOLDERS[found]
    root, options = (SYNTHETIC_TINY, {}) if QUICK else (SYNTHETIC_DATA, SYNTHETIC_OPTIONS)
    path = make_synthetic_corpus(root, **options, progress=verbose)
    if verbose:
        why = "asked for" if kind == "synthetic" else "quick mode" if QUICK else "no real data"
        run, rule = download_command("--tier", "small"), "*" * 78
        print(f"{rule}\n* Dataset: SYNTHETIC voices in {path} ({why}).\n* Results here say nothing")
        print(f"* about real speech. For real speech, run\n*     {run}\n{rule}")
    return path


def seed_everything(seed: int = SEED) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) so a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def headline(name: str, value: float | int | str) -> None:
    """Print a notebook's headline result (and write it to ``$AUDIO_COURSE_HEADLINE``'s JSON)."""
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
    """``train()`` unless checkpoint ``name`` fits the speakers and ``settings``; model, history."""
    if (found := find_checkpoint(name, speaker_to_index, settings=settings)) is not None:
        model = load_checkpoint(found, device=DEVICE)
        print(f"loaded {found}: trained in an earlier run with these settings (delete to retrain)")
        return model, History(**model.checkpoint["history"])
    model, history = train()
    args = checkpoint_dir() / name, model, feature, speaker_to_index
    print(f"saved {save_checkpoint(*args, settings=settings, history=history.as_dict())}")
    return model.eval(), history


def features_on_device(device: torch.device = DEVICE) -> bool:
    """Whether features run per batch on CUDA (``$AUDIO_COURSE_FEATURES_ON_DEVICE`` forces)."""
    forced = os.environ.get("AUDIO_COURSE_FEATURES_ON_DEVICE", "")
    return forced not in ("0", "false", "no") if forced else device.type == "cuda"


@dataclass
class SpeakerSets:
    """A corpus's training and validation sets and what ``fit`` needs (``batch_transform``)."""

    train: SpeakerDataset
    val: SpeakerDataset
    manifest: Manifest
    speaker_to_index: dict[str, int]
    feature: AudioFeature
    batch_transform: AudioFeature | None

    names = property(lambda self: sorted(self.speaker_to_index, key=self.speaker_to_index.get))
    n_speakers = property(lambda self: len(self.speaker_to_index))  # classes


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
    """Manifest, labels, seeded split and two ``SpeakerDataset``s of ``crop_seconds`` crops;
    ``cache``: a ``FeatureCache`` (default: quick mode, GPU path), ``on_device``: waveform items."""
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
    batch_transform = feature if on_device else None
    return SpeakerSets(train_set, val_set, manifest, labels, feature, batch_transform)


def make_loaders(
    sets: SpeakerSets, batch_size: int = 64, num_workers: int | None = None, seed: int = SEED
) -> tuple[DataLoader, DataLoader]:
    """Training (shuffled, seeded, full batches) and validation loaders (2 workers on the GPU)."""
    if num_workers is None:
        num_workers = 2 if sets.batch_transform is not None else 0
    workers = {"num_workers": num_workers}
    batch_size = min(batch_size, len(sets.train))
    train = make_loader(sets.train, batch_size, shuffle=True, seed=seed, drop_last=True, **workers)
    return train, make_loader(sets.val, 2 * batch_size, **workers)


def show_table(rows: Sequence[dict], formats: dict[str, str] | None = None) -> pd.DataFrame:
    """Rows as a DataFrame, ``formats`` (column -> ``"{:.1%}"``...) applied to its text."""
    table = pd.DataFrame(list(rows))
    formats = {c: f for c, f in (formats or {}).items() if c in table}
    return table.assign(**{c: table[c].map(f.format) for c, f in formats.items()})


if __name__ == "__main__":  # `python -m helpers.course`: make sure a dataset exists, say which
    find_dataset()
