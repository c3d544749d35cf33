"""Checkpoints: a model's weights with what rebuilds it and its input (feature, labels...)."""

import os
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from .features import MFCC, AudioFeature, LogSpectrogram, make_feature
from .models import make_model
from .paths import CHECKPOINT_DIR

CHECKPOINT_FORMAT = 1  # version of the dictionary written by save_checkpoint
DRIVE_ENV = "AUDIO_COURSE_DRIVE_DIR"  # set by the Colab setup when Drive is mounted


def describe_feature(feature: AudioFeature | dict | None) -> dict | None:
    """``{"kind": ..., "options": {...}}``: ``make_feature(kind, **options)`` rebuilds it."""
    if feature is None or isinstance(feature, dict):
        return feature
    if isinstance(feature, MFCC):
        mel = feature.mel_scale
        kind, options = "mfcc", dict(n_mfcc=feature.n_bins, n_mels=mel.n_mels)
        options.update(n_fft=feature.spectrogram.n_fft, sample_rate=mel.sample_rate)
        options |= {"f_max": mel.f_max} if mel.f_max < mel.sample_rate / 2 else {}
    elif isinstance(feature, LogSpectrogram):
        kind, options = "spectrogram", dict(n_fft=feature.spectrogram.n_fft)
    else:
        raise TypeError(f"cannot describe a {type(feature).__name__} for a checkpoint")
    options.update(hop_length=feature.hop_length, normalize=feature.normalize)
    return {"kind": kind + ("_pooled" if feature.pooled else ""), "options": options}


def _plain(value: Any) -> Any:
    """Metadata as the plain types ``torch.load(weights_only=True)`` accepts (numpy, paths...)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (np.generic, np.ndarray)):
        return value.tolist()
    return os.fspath(value) if isinstance(value, os.PathLike) else value


def save_checkpoint(
    path: str | os.PathLike,
    model: nn.Module,
    feature: AudioFeature | dict | None = None,
    speaker_to_index: dict[str, int] | None = None,
    **extra: Any,
) -> Path:
    """``torch.save`` the weights with what rebuilds the model, its ``feature`` and labels."""
    config, name = dict(getattr(model, "config", {})), getattr(model, "name", "")
    if not name or "n_features" not in config:
        raise TypeError("save_checkpoint needs a helpers.models model (with .name and .config)")
    spec = {"name": name, "n_features": config.pop("n_features")}
    spec |= {"n_classes": config.pop("n_classes"), "options": config}
    labels = dict(speaker_to_index) if speaker_to_index is not None else None
    meta = {"format": CHECKPOINT_FORMAT, "model": spec, "feature": describe_feature(feature)}
    payload = _plain(meta | {"speaker_to_index": labels, **extra})
    payload["state_dict"] = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(payload, tmp := path.with_name(path.name + ".partial"))
    return tmp.replace(path)


def load_checkpoint(
    path: str | os.PathLike, model: nn.Module | None = None, device: str | torch.device = "cpu"
) -> nn.Module:
    """``model`` (else one rebuilt) with the weights, in eval mode, metadata in ``.checkpoint``."""
    payload = torch.load(path, map_location="cpu", weights_only=True)
    if payload.get("format") != CHECKPOINT_FORMAT:
        raise ValueError(f"{path} is not a helpers checkpoint (format {payload.get('format')!r})")
    spec = payload["model"]
    if model is None:
        args = spec["name"], spec["n_features"], spec["n_classes"]
        model = make_model(*args, seed=None, **spec["options"])
    model.load_state_dict(payload["state_dict"])
    model.checkpoint = {k: v for k, v in payload.items() if k != "state_dict"}
    return model.to(device).eval()


def feature_from_checkpoint(checkpoint: nn.Module | dict) -> AudioFeature | None:
    """The feature module a checkpointed model was trained on (``None`` if not recorded)."""
    info = checkpoint.checkpoint if isinstance(checkpoint, nn.Module) else checkpoint
    spec = info.get("feature")
    return make_feature(spec["kind"], **spec["options"]) if spec else None


def checkpoint_dir() -> Path:
    """``$AUDIO_COURSE_DRIVE_DIR/checkpoints`` when Drive is mounted, else ``checkpoints/``."""
    drive = os.environ.get(DRIVE_ENV)
    return Path(drive) / "checkpoints" if drive else CHECKPOINT_DIR


def find_checkpoint(
    name: str = "best.pt", speaker_to_index: dict[str, int] | None = None, **expected: Any
) -> Path | None:
    """Checkpoint ``name`` in :func:`checkpoint_dir` (then ``checkpoints/``) trained on exactly
    ``speaker_to_index`` with the ``expected`` extras (``settings={...}``), else ``None``."""
    if speaker_to_index is not None:
        expected["speaker_to_index"] = dict(speaker_to_index)
    for folder in dict.fromkeys([checkpoint_dir(), CHECKPOINT_DIR]):
        if not (path := folder / name).is_file():
            continue
        saved = torch.load(path, map_location="cpu", weights_only=True) if expected else {}
        if all(saved.get(key) == _plain(value) for key, value in expected.items()):
            return path
    return None
