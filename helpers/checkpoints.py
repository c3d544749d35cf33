"""Checkpoints: a model's weights with what rebuilds it and its input (feature, labels, crop length).

::

    save_checkpoint("checkpoints/best.pt", model, feature=feature, speaker_to_index=labels)
    model = load_checkpoint("checkpoints/best.pt")          # rebuilt, in eval mode
    feature = feature_from_checkpoint(model)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .features import MFCC, AudioFeature, LogSpectrogram, make_feature
from .models import make_model
from .paths import CHECKPOINT_DIR

CHECKPOINT_FORMAT = 1
"""Version of the checkpoint dictionary written by ``save_checkpoint``."""


def describe_feature(feature: AudioFeature | dict | None) -> dict | None:
    """``{"kind": ..., "options": {...}}`` such that ``make_feature(kind, **options)`` rebuilds it."""
    if feature is None or isinstance(feature, dict):
        return feature
    if isinstance(feature, MFCC):
        mel = feature.mel_scale
        kind = "mfcc"
        options = dict(n_mfcc=feature.n_bins, n_mels=mel.n_mels, n_fft=feature.spectrogram.n_fft)
        options["sample_rate"] = mel.sample_rate
    elif isinstance(feature, LogSpectrogram):
        kind, options = "spectrogram", dict(n_fft=feature.spectrogram.n_fft)
    else:
        raise TypeError(f"cannot describe a {type(feature).__name__} for a checkpoint")
    options.update(hop_length=feature.hop_length, normalize=feature.normalize)
    return {"kind": kind + ("_pooled" if feature.pooled else ""), "options": options}


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    feature: AudioFeature | dict | None = None,
    speaker_to_index: dict[str, int] | None = None,
    **extra: Any,
) -> Path:
    """Save the weights and what is needed to rebuild the model and its input.

    The file is a ``torch.save`` dictionary::

        {"format": 1,
         "model": {"name": "cnn1d", "n_features": 80, "n_classes": 36, "options": {...}},
         "state_dict": {...},
         "feature": {"kind": "mfcc", "options": {"n_mfcc": 80, ...}},   # or None
         "speaker_to_index": {"103": 0, ...},                           # or None
         ...extra (epoch, metrics, crop_seconds...)}

    It is written to a temporary file and renamed, so an interrupted save never leaves half a file.
    """
    config = dict(getattr(model, "config", {}))
    name = getattr(model, "name", "")
    if not name or "n_features" not in config:
        raise TypeError("save_checkpoint needs a helpers.models model (with .name and .config)")
    n_features, n_classes = config.pop("n_features"), config.pop("n_classes")
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    payload = _plain(
        {
            "format": CHECKPOINT_FORMAT,
            "model": {
                "name": name,
                "n_features": n_features,
                "n_classes": n_classes,
                "options": config,
            },
            "feature": describe_feature(feature),
            "speaker_to_index": dict(speaker_to_index) if speaker_to_index is not None else None,
            **extra,
        }
    )
    payload["state_dict"] = state
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".partial")
    torch.save(payload, tmp)
    tmp.replace(path)
    return path


def _plain(value: Any) -> Any:
    """Metadata as the plain types ``torch.load(weights_only=True)`` accepts (numpy, paths...)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module | None = None, device: str | torch.device = "cpu"
) -> nn.Module:
    """Load a checkpoint's weights into ``model``, or into a model rebuilt from the checkpoint.

    Returns the model in ``eval()`` mode, on ``device``, with the checkpoint's metadata (everything
    but the weights) in ``model.checkpoint``: ``model.checkpoint["speaker_to_index"]``,
    ``feature_from_checkpoint(model)``...
    """
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a helpers checkpoint (format {payload.get('format')!r})")
    spec = payload["model"]
    if model is None:
        model = make_model(
            spec["name"], spec["n_features"], spec["n_classes"], seed=None, **spec["options"]
        )
    model.load_state_dict(payload["state_dict"])
    model.checkpoint = {k: v for k, v in payload.items() if k != "state_dict"}
    return model.to(device).eval()


def feature_from_checkpoint(checkpoint: nn.Module | dict) -> AudioFeature | None:
    """The feature module a checkpointed model was trained on (``None`` if not recorded)."""
    info = checkpoint.checkpoint if isinstance(checkpoint, nn.Module) else checkpoint
    spec = info.get("feature")
    return make_feature(spec["kind"], **spec["options"]) if spec else None


DRIVE_ENV = "AUDIO_COURSE_DRIVE_DIR"
"""Set by the Colab setup cell when Google Drive is mounted: the kit's folder on the Drive."""


def checkpoint_dir() -> Path:
    """Where the notebooks keep checkpoints: on Google Drive when mounted, else ``checkpoints/``.

    In Colab each notebook runs in its own runtime, so notebook 05's best model is found by 06 and
    07 only if it is on Drive: ``$AUDIO_COURSE_DRIVE_DIR/checkpoints`` (the setup cell sets the
    variable when it mounts Drive). Elsewhere it is :data:`helpers.paths.CHECKPOINT_DIR`.
    """
    drive = os.environ.get(DRIVE_ENV)
    return Path(drive) / "checkpoints" if drive else CHECKPOINT_DIR


def find_checkpoint(
    name: str = "best.pt", speaker_to_index: dict[str, int] | None = None, **expected: Any
) -> Path | None:
    """The checkpoint ``name`` in :func:`checkpoint_dir` (then ``checkpoints/``), if it fits.

    Parameters
    ----------
    name : str
        File name, e.g. ``"best.pt"`` (notebook 05's best model).
    speaker_to_index : dict[str, int], optional
        Only a checkpoint trained on exactly these speakers is returned: one trained on another
        corpus (another tier, or quick mode's tiny one) has other classes.
    **expected
        Other entries the checkpoint must hold with these values (the extras given to
        :func:`save_checkpoint`), e.g. ``settings={"epochs": 30, "head": "aam"}``: a model trained
        with other settings is not returned.

    Returns
    -------
    Path or None
        The first fitting checkpoint, or ``None``.
    """
    if speaker_to_index is not None:
        expected["speaker_to_index"] = dict(speaker_to_index)
    for folder in dict.fromkeys([checkpoint_dir(), CHECKPOINT_DIR]):
        path = folder / name
        if not path.is_file():
            continue
        if not expected:
            return path
        saved = torch.load(path, map_location="cpu", weights_only=True)
        if all(saved.get(key) == _plain(value) for key, value in expected.items()):
            return path
    return None
