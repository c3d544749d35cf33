"""Training and evaluation: ``train_epoch``, ``fit`` (with a time budget), ``predict``, ``evaluate``,
and ``fit_baseline``, the classical model to beat. Same seed, same numbers (CPU).
"""

import contextlib
import copy
import math
import os
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from torch import nn
from torch.utils.data import DataLoader, Dataset
from tqdm.auto import tqdm

from .audio import load_audio
from .checkpoints import save_checkpoint
from .dataset import SpeakerDataset, UtteranceCrops, collate_crops, length_batches
from .features import MFCC, AudioFeature
from .models import logits_for_loss

# --------------------------------------------------------------------------------------------------
# History


@dataclass
class History:
    """What ``fit`` measured, one entry per epoch, and how the run ended.

    ``val_*`` lists are empty without a validation loader. ``seconds`` is the wall-clock time at the
    end of each epoch since the start of ``fit``.
    """

    epoch: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    best_epoch: int | None = None
    best_val_accuracy: float | None = None
    planned_epochs: int = 0
    stopped: str = ""  # why training ended: "completed", "early stopping", "time budget"

    def as_dict(self) -> dict[str, Any]:
        """Plain data, for JSON."""
        return asdict(self)

    def record(
        self, train_loss: float, train_accuracy: float, val_loss: float | None,
        val_accuracy: float | None, optimizer: torch.optim.Optimizer,
    ) -> bool:  # fmt: skip
        """Append one epoch; return whether it is the best so far (by validation accuracy, then
        loss; without validation, the latest)."""
        self.epoch.append(len(self.epoch) + 1)
        self.train_loss.append(train_loss)
        self.train_accuracy.append(train_accuracy)
        self.lr.append(optimizer.param_groups[0]["lr"])
        if val_loss is None:
            self.best_epoch = self.epoch[-1]
            return True
        self.val_loss.append(val_loss)
        self.val_accuracy.append(val_accuracy)
        best = self.best_epoch
        key = (val_accuracy, -val_loss)
        if best is not None and key <= (self.val_accuracy[best - 1], -self.val_loss[best - 1]):
            return False
        self.best_epoch, self.best_val_accuracy = self.epoch[-1], val_accuracy
        return True

    def latest(self) -> dict[str, str]:
        """The last epoch's metrics, formatted for a progress bar."""
        shown = {"loss": self.train_loss, "acc": self.train_accuracy}
        shown.update(val_loss=self.val_loss, val_acc=self.val_accuracy)
        return {name: f"{values[-1]:.3f}" for name, values in shown.items() if values}


# --------------------------------------------------------------------------------------------------
# Training


def lr_at(progress: float, peak: float, warmup: float = 0.1) -> float:
    """One-cycle schedule at ``progress`` (0 to 1): linear warm-up from ``peak / 25`` to ``peak``
    over the ``warmup`` fraction, then cosine to ~0."""
    progress = min(max(progress, 0.0), 1.0)
    if progress < warmup:
        return peak * (0.04 + 0.96 * progress / warmup)
    cosine = 0.5 * (1 + math.cos(math.pi * (progress - warmup) / max(1e-8, 1 - warmup)))
    return peak * (1e-3 + (1 - 1e-3) * cosine)


def get_device() -> torch.device:
    """The GPU if there is one (Colab: Runtime → Change runtime type → T4 GPU), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def to_device(
    x: torch.Tensor, device: torch.device, batch_transform: nn.Module | None = None
) -> torch.Tensor:
    """Move a batch to ``device`` and apply ``batch_transform`` (e.g. the features) there, no grad."""
    x = x.to(device, non_blocking=True)
    if batch_transform is not None:
        with torch.no_grad():
            x = batch_transform(x)
    return x


def _autocast(device: torch.device) -> contextlib.AbstractContextManager:
    """float16 autocast on CUDA (tensor cores), nothing elsewhere."""
    if device.type == "cuda":
        return torch.autocast("cuda", dtype=torch.float16)
    return contextlib.nullcontext()


def _parameter_groups(model: nn.Module, weight_decay: float) -> list[dict]:
    """Weight decay on weight matrices and kernels, not on biases and normalisation parameters."""
    params = [p for p in model.parameters() if p.requires_grad]
    return [
        {"params": [p for p in params if p.ndim > 1], "weight_decay": weight_decay},
        {"params": [p for p in params if p.ndim <= 1], "weight_decay": 0.0},
    ]


def _validate(
    model: nn.Module, loader: DataLoader | None, device: torch.device,
    batch_transform: nn.Module | None,
) -> tuple[float | None, float | None]:  # fmt: skip
    """Mean cross-entropy and accuracy of ``model`` on ``loader`` (``None, None`` without one)."""
    if loader is None:
        return None, None
    logits, labels = predict(model, loader, batch_transform, device)
    loss = F.cross_entropy(logits, labels).item()
    return loss, (logits.argmax(1) == labels).float().mean().item()


def train_epoch(
    model: nn.Module, loader: DataLoader, optimizer: torch.optim.Optimizer, loss_fn: nn.Module,
    device: torch.device, batch_transform: nn.Module | None = None,
    augment: nn.Module | None = None, scheduler: torch.optim.lr_scheduler.LRScheduler | None = None,
    scaler: torch.amp.GradScaler | None = None,
) -> tuple[float, float]:  # fmt: skip
    """One pass over ``loader`` (the loop of notebook 05), ``scheduler`` stepped every batch.
    Returns the mean loss and the accuracy."""
    model.train()
    if augment is not None:
        augment.train()
    if scaler is None and device.type == "cuda":
        scaler = torch.amp.GradScaler("cuda")
    total_loss, correct, seen = 0.0, 0, 0
    for x, y in loader:
        x, y = x.to(device, non_blocking=True), y.to(device, non_blocking=True)
        if augment is not None:
            with torch.no_grad():
                x = augment(x)
        x = to_device(x, device, batch_transform)
        with _autocast(device):
            logits = model(x)
            loss = loss_fn(logits_for_loss(model, logits.float(), y), y)  # AAM: + margin
        optimizer.zero_grad(set_to_none=True)
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.step(optimizer)
            scaler.update()
        else:
            loss.backward()
            optimizer.step()
        if scheduler is not None:
            scheduler.step()
        total_loss += loss.item() * len(y)
        correct += (logits.argmax(1) == y).sum().item()
        seen += len(y)
    return total_loss / max(1, seen), correct / max(1, seen)


class Budget:
    """When to stop: after ``epochs``, or before an epoch that would overrun ``max_minutes``;
    ``planned``: the epochs that fit at the pace so far (the schedule spans them)."""

    def __init__(self, epochs: int, max_minutes: float | None = None) -> None:
        self.epochs = epochs
        self.seconds = max_minutes * 60 if max_minutes is not None else math.inf
        self.planned = epochs
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        """Seconds since the budget started."""
        return time.perf_counter() - self.start

    def plan(self, done: int) -> int:
        """Re-estimate ``planned`` after ``done`` epochs and return it."""
        if math.isfinite(self.seconds):
            per_epoch = self.elapsed() / done
            self.planned = min(self.epochs, max(done, int(self.seconds / per_epoch)))
        return self.planned


def fit(
    model: nn.Module, train_loader: DataLoader, val_loader: DataLoader | None = None,
    epochs: int = 20, lr: float = 3e-3, weight_decay: float = 0.05, label_smoothing: float = 0.1,
    warmup: float = 0.1, batch_transform: nn.Module | None = None, augment: nn.Module | None = None,
    device: str | torch.device | None = None, checkpoint: str | os.PathLike | None = None,
    metadata: dict[str, Any] | None = None, patience: int | None = None,
    max_minutes: float | None = None, progress: bool = True, seed: int = 0,
) -> History:  # fmt: skip
    """Train ``model`` in place (AdamW, ``lr_at`` schedule, label smoothing) and leave it with its
    best epoch's weights (by validation accuracy; the last without ``val_loader``).

    ``batch_transform`` (e.g. the features) runs on the device after ``augment`` (training only);
    ``checkpoint`` saves the best epoch with ``metadata``; ``patience`` epochs without progress stop
    it; ``max_minutes`` is a wall-clock budget (``Budget``); ``seed`` seeds dropout and shuffling.
    """
    device = torch.device(device) if device is not None else get_device()
    torch.manual_seed(seed)
    if getattr(train_loader, "generator", None) is not None:
        train_loader.generator.manual_seed(seed)
    if len(train_loader) == 0:
        raise ValueError(
            "the training loader is empty (fewer items than one batch with drop_last?)"
        )
    model.to(device)
    for module in (batch_transform, augment):
        if module is not None:
            module.to(device)
    meta = _checkpoint_metadata(metadata, train_loader.dataset, batch_transform)
    budget = Budget(epochs, max_minutes)
    optimizer = torch.optim.AdamW(_parameter_groups(model, weight_decay), lr=lr)
    scheduler = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda step: lr_at(step / (budget.planned * len(train_loader)), 1.0, warmup)
    )
    loss_fn = nn.CrossEntropyLoss(label_smoothing=label_smoothing)
    scaler = torch.amp.GradScaler("cuda") if device.type == "cuda" else None
    history, best_state = History(planned_epochs=epochs), None
    bar = tqdm(total=epochs, desc="training", unit="epoch", disable=not progress)
    for epoch in range(epochs):
        if hasattr(train_loader.dataset, "set_epoch"):
            train_loader.dataset.set_epoch(epoch)
        train_loss, train_accuracy = train_epoch(
            model, train_loader, optimizer, loss_fn, device, batch_transform, augment, scheduler,
            scaler,
        )  # fmt: skip
        val_loss, val_accuracy = _validate(model, val_loader, device, batch_transform)
        improved = history.record(train_loss, train_accuracy, val_loss, val_accuracy, optimizer)
        if improved:
            best_state = copy.deepcopy(model.state_dict())
            if checkpoint is not None:
                metrics = {"val_accuracy": history.best_val_accuracy, "train_loss": train_loss}
                save_checkpoint(checkpoint, model, epoch=epoch + 1, metrics=metrics, **meta)
        history.seconds.append(budget.elapsed())
        history.planned_epochs = bar.total = budget.plan(epoch + 1)
        bar.set_postfix(history.latest(), refresh=False)
        bar.update()
        history.stopped = _why_stop(history, budget, patience)
        if history.stopped:
            break
    bar.close()
    history.stopped = history.stopped or "completed"
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


def _why_stop(history: History, budget: Budget, patience: int | None) -> str:
    """Why training ends after this epoch (``""``: it goes on)."""
    done = len(history.epoch)
    if patience is not None and done - history.best_epoch >= patience:
        return "early stopping"
    if done >= budget.epochs:
        return "completed"
    if done >= budget.planned:
        return "time budget"
    return ""


def _checkpoint_metadata(
    metadata: dict[str, Any] | None, dataset: Dataset, batch_transform: nn.Module | None
) -> dict[str, Any]:
    meta = dict(metadata or {})
    if "feature" not in meta:
        feature = getattr(dataset, "feature", None)
        if feature is None and isinstance(batch_transform, AudioFeature):
            feature = batch_transform
        meta["feature"] = feature if isinstance(feature, AudioFeature) else None
    if "speaker_to_index" not in meta:
        meta["speaker_to_index"] = getattr(dataset, "speaker_to_index", None)
    if "crop_seconds" not in meta and hasattr(dataset, "crop_seconds"):
        meta["crop_seconds"] = dataset.crop_seconds
    return meta


# --------------------------------------------------------------------------------------------------
# Prediction and evaluation


@torch.no_grad()
def predict(
    model: nn.Module,
    loader: DataLoader,
    batch_transform: nn.Module | None = None,
    device: str | torch.device | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Logits ``(N, n_classes)`` and labels ``(N,)`` of every item of ``loader`` (on the CPU)."""
    device = torch.device(device) if device is not None else get_device()
    model.to(device).eval()
    if batch_transform is not None:
        batch_transform.to(device).eval()
    all_logits, all_labels = [], []
    for x, y in loader:
        with _autocast(device):
            logits = model(to_device(x, device, batch_transform))
        all_logits.append(logits.float().cpu())
        all_labels.append(torch.as_tensor(y))
    return torch.cat(all_logits), torch.cat(all_labels)


@torch.no_grad()
def evaluate(
    model: nn.Module,
    dataset: Dataset,
    batch_transform: nn.Module | None = None,
    device: str | torch.device | None = None,
    max_crops: int = 10,
    batch_size: int = 64,
    num_workers: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """Crop-level and utterance-level accuracy of ``model`` on a validation ``SpeakerDataset``.

    Crop level scores one (centre) crop per file, as ``fit`` does; utterance level averages the
    log-probabilities of up to ``max_crops`` crops of the whole file (as published results score).

    Returns
    -------
    dict
        ``accuracy``, ``utterance_accuracy`` (floats), ``y_true``, ``y_pred``, ``utterance_y_pred``
        (int arrays ``(N,)``), ``logits`` and ``utterance_log_probs`` (float arrays ``(N, C)``),
        ``n_crops`` (crops per utterance, ``(N,)``), in the dataset's order.
    """
    device = torch.device(device) if device is not None else get_device()
    batches = length_batches(dataset, batch_size)  # short files: crops as long as they
    loader = DataLoader(
        dataset, batch_sampler=batches, num_workers=num_workers, collate_fn=collate_crops
    )
    logits, labels = predict(model, loader, batch_transform, device)
    order = np.argsort(np.concatenate(batches))  # back to the dataset's order
    logits, labels = logits[order], labels[order]

    batches = length_batches(dataset, max(1, batch_size // 4))
    utterances = DataLoader(
        UtteranceCrops(dataset, max_crops),
        batch_sampler=batches,
        num_workers=num_workers,
        collate_fn=list,
    )
    log_probs, n_crops = [], []
    for batch in tqdm(utterances, desc="utterances", disable=not progress, leave=False):
        crops = torch.cat([c for c, _ in batch])
        with _autocast(device):
            out = model(to_device(crops, device, batch_transform))
        out = torch.log_softmax(out.float(), dim=1).cpu()
        for piece in out.split([len(c) for c, _ in batch]):
            log_probs.append(piece.mean(0))
            n_crops.append(len(piece))
    order = np.argsort(np.concatenate(batches))
    utterance_log_probs, n_crops = torch.stack(log_probs)[order], np.asarray(n_crops)[order]
    y_true = labels.numpy()
    y_pred = logits.argmax(1).numpy()
    utterance_y_pred = utterance_log_probs.argmax(1).numpy()
    return {
        "accuracy": float(np.mean(y_pred == y_true)),
        "utterance_accuracy": float(np.mean(utterance_y_pred == y_true)),
        "y_true": y_true,
        "y_pred": y_pred,
        "utterance_y_pred": utterance_y_pred,
        "logits": logits.numpy(),
        "utterance_log_probs": utterance_log_probs.numpy(),
        "n_crops": n_crops,
    }


# --------------------------------------------------------------------------------------------------
# The baseline: MFCC statistics of each file -> standardised logistic regression


@torch.no_grad()
def mfcc_statistics(
    dataset: SpeakerDataset, n_mfcc: int = 40, progress: bool = False
) -> np.ndarray:
    """Mean and std over time of each whole file's unnormalised MFCCs: ``(N, 2 n_mfcc)`` float64."""
    feature = MFCC(dataset.sample_rate, n_mfcc=n_mfcc, normalize=False)
    rows = []
    for utterance in tqdm(dataset.utterances, desc="MFCC statistics", disable=not progress):
        x = feature.extract(load_audio(dataset.root / utterance.path, dataset.sample_rate)).double()
        rows.append(torch.cat([x.mean(-1), x.std(-1, correction=0)]).numpy())
    return np.stack(rows)


def fit_baseline(
    train_set: SpeakerDataset,
    val_set: SpeakerDataset,
    n_mfcc: int = 40,
    seed: int = 0,
    progress: bool = False,
) -> dict[str, Any]:
    """The model to beat: ``mfcc_statistics`` → ``StandardScaler`` → ``LogisticRegression``, one
    decision per whole file. Returns a row of 05's comparison (keys as ``evaluate``'s, plus
    ``model``, ``feature``, ``parameters``, ``epochs``, ``seconds`` and the fitted ``pipeline``).
    """
    start = time.perf_counter()
    x_train = mfcc_statistics(train_set, n_mfcc, progress)
    x_val = mfcc_statistics(val_set, n_mfcc, progress)
    pipeline: Pipeline = make_pipeline(
        StandardScaler(), LogisticRegression(max_iter=2000, random_state=seed)
    )
    pipeline.fit(x_train, train_set.labels())
    y_true, y_pred = np.asarray(val_set.labels()), pipeline.predict(x_val)
    head, accuracy = pipeline[-1], float(np.mean(y_pred == y_true))
    return {
        "model": "baseline",
        "feature": f"mfcc{n_mfcc} mean+std",
        "parameters": int(head.coef_.size + head.intercept_.size),
        "epochs": int(np.max(head.n_iter_)),
        "seconds": time.perf_counter() - start,
        "accuracy": accuracy,
        "utterance_accuracy": accuracy,
        "y_true": y_true,
        "y_pred": y_pred,
        "utterance_y_pred": y_pred,
        "pipeline": pipeline,
    }
