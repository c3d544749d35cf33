"""Figures of the course: signals, features, training curves, confusion matrix, ROC, DET, embeddings.

Every function labels its axes (with units) and gives a title, draws into ``ax`` when given (else a new
figure), and returns the matplotlib ``Axes`` (``Figure`` for ``plot_history``) without calling
``plt.show()``, so a notebook can still adjust it. Tensors and arrays are both accepted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from scipy.stats import norm
from sklearn.metrics import auc, roc_curve

from .audio import SAMPLE_RATE
from .metrics import equal_error_rate, min_dcf


def _numpy(x: Any) -> np.ndarray:
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8, 3)) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=figsize, layout="constrained")[1]


def plot_waveform(
    waveform: Any, sample_rate: int = SAMPLE_RATE, ax: Axes | None = None, title: str = "Waveform"
) -> Axes:
    """Amplitude against time (s) of a waveform ``(samples,)``."""
    ax = _axes(ax)
    y = _numpy(waveform).reshape(-1)
    ax.plot(np.arange(len(y)) / sample_rate, y, linewidth=0.5)
    ax.set(xlabel="time (s)", ylabel="amplitude", title=title, xlim=(0, len(y) / sample_rate))
    return ax


def plot_spectrogram(
    spectrogram: Any,
    sample_rate: int = SAMPLE_RATE,
    hop_length: int = 160,
    n_fft: int = 400,
    y_axis: str = "linear",
    ax: Axes | None = None,
    title: str = "Log power spectrogram",
    colorbar_label: str = "log power",
) -> Axes:
    """A time–frequency image ``(bins, frames)`` with ``librosa.display.specshow``.

    Parameters
    ----------
    spectrogram : array (bins, frames)
        E.g. ``LogSpectrogram`` output (``y_axis="linear"``: bins spaced ``sample_rate / n_fft`` Hz)
        or a log-mel spectrogram (``y_axis="mel"``).
    sample_rate, hop_length, n_fft : int
        Place the frames in seconds and the bins in Hz.
    y_axis : str
        ``"linear"`` or ``"log"`` (Hz), ``"mel"`` (Hz on a mel scale).
    """
    ax = _axes(ax)
    image = librosa.display.specshow(
        _numpy(spectrogram),
        sr=sample_rate,
        hop_length=hop_length,
        n_fft=n_fft,
        x_axis="time",
        y_axis=y_axis,
        ax=ax,
    )
    ax.figure.colorbar(image, ax=ax, label=colorbar_label)
    ax.set(xlabel="time (s)", ylabel="frequency (Hz)", title=title)
    return ax


def plot_features(
    features: Any,
    kind: str = "mfcc",
    sample_rate: int = SAMPLE_RATE,
    hop_length: int = 160,
    n_fft: int = 400,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Features of one clip, whatever the kind (see ``helpers.features.FEATURE_KINDS``).

    ``mfcc`` ``(n_mfcc, frames)``: coefficients against time; ``spectrogram`` ``(bins, frames)``:
    frequency (Hz) against time; the ``*_pooled`` kinds ``(bins,)``: the average over time, as a curve.
    """
    x = _numpy(features)
    title = title or kind.replace("_", " ")
    if kind == "spectrogram":
        return plot_spectrogram(x, sample_rate, hop_length, n_fft, ax=ax, title=title)
    ax = _axes(ax)
    if kind == "mfcc":
        image = librosa.display.specshow(
            x, sr=sample_rate, hop_length=hop_length, x_axis="time", ax=ax
        )
        ax.figure.colorbar(image, ax=ax, label="normalised value")
        ticks = np.unique(np.linspace(0, len(x) - 1, 5).round().astype(int))
        ax.set_yticks(ticks + 0.5, [str(t) for t in ticks])  # row k spans [k, k + 1]
        ax.set(xlabel="time (s)", ylabel="MFCC coefficient", title=title)
    elif kind == "mfcc_pooled":
        ax.bar(np.arange(len(x)), x)
        ax.set(xlabel="MFCC coefficient", ylabel="mean over time", title=title)
    elif kind == "spectrogram_pooled":
        ax.plot(np.arange(len(x)) * sample_rate / n_fft, x)
        ax.set(xlabel="frequency (Hz)", ylabel="mean log power", title=title)
    else:
        raise ValueError(f"unknown feature kind {kind!r}")
    return ax


def plot_history(history: Any, title: str = "Training history") -> Figure:
    """Loss and accuracy per epoch (training and validation) of a ``training.History``.

    The training curves are measured on augmented random crops with dropout on, while the model
    changes during the epoch; validation on fixed centre crops at the end of the epoch.
    """
    figure, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    epochs = history.epoch
    loss_ax.plot(epochs, history.train_loss, "o-", label="training")
    acc_ax.plot(epochs, history.train_accuracy, "o-", label="training")
    if history.val_loss:
        loss_ax.plot(epochs, history.val_loss, "o-", label="validation")
        acc_ax.plot(epochs, history.val_accuracy, "o-", label="validation")
    if history.best_epoch is not None and history.val_accuracy:
        acc_ax.axvline(history.best_epoch, color="grey", linestyle=":", label="best epoch")
    loss_ax.set(xlabel="epoch", ylabel="cross-entropy loss", title="Loss")
    acc_ax.set(xlabel="epoch", ylabel="accuracy", title="Accuracy", ylim=(0, 1.02))
    for ax in (loss_ax, acc_ax):
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # epochs are whole numbers
        ax.grid(alpha=0.3)
        ax.legend()
    figure.suptitle(title)
    return figure


def plot_confusion(
    matrix: Any,
    names: Sequence[str] | None = None,
    normalize: bool = True,
    ax: Axes | None = None,
    title: str = "Confusion matrix",
) -> Axes:
    """A confusion matrix (rows: true speaker, columns: predicted), as an image.

    ``normalize`` divides each row by its total, so a cell is the share of that speaker's clips
    predicted as the column's speaker (recall on the diagonal). Names label the ticks when there are
    at most 40 classes.
    """
    cm = _numpy(matrix).astype(float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    n = len(cm)
    ax = _axes(ax, figsize=(7, 6))
    image = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.figure.colorbar(image, ax=ax, label="share of the row" if normalize else "clips")
    if names is not None and n <= 40:
        ticks = np.arange(n)
        ax.set_xticks(ticks, [str(s) for s in names], rotation=90, fontsize=7)
        ax.set_yticks(ticks, [str(s) for s in names], fontsize=7)
    ax.set(xlabel="predicted speaker", ylabel="true speaker", title=title)
    return ax


def plot_roc(
    scores: Any, same: Any, ax: Axes | None = None, title: str = "Speaker verification ROC"
) -> Axes:
    """ROC curve of verification trials, with the equal-error-rate point marked.

    x: false acceptance rate (different speakers accepted), y: true acceptance rate.
    """
    same = _numpy(same).astype(bool)
    fpr, tpr, _ = roc_curve(same, _numpy(scores))
    eer, _ = equal_error_rate(_numpy(scores), same)
    ax = _axes(ax, figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"ROC (AUC = {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    ax.plot([eer], [1 - eer], "o", color="red", label=f"EER = {100 * eer:.1f} %")
    ax.set(
        xlabel="false acceptance rate",
        ylabel="true acceptance rate (1 − false rejection rate)",
        title=title,
        xlim=(0, 1),
        ylim=(0, 1.01),
    )
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return ax


DET_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)
"""Error rates marked on the axes of ``plot_det`` (fractions)."""

DET_LIMITS = (5e-4, 0.6)
"""The error rates ``plot_det`` shows (fractions); rates outside are drawn at the edge."""


def _deviate(rate: Any) -> np.ndarray:
    """Error rates as standard normal deviates (the DET scale), clipped to ``DET_LIMITS``."""
    return norm.ppf(np.clip(rate, *DET_LIMITS))


def plot_det(
    scores: Any,
    same: Any,
    ax: Axes | None = None,
    label: str | None = None,
    title: str = "Speaker verification DET curve",
    p_target: float = 0.01,
) -> Axes:
    """Detection error trade-off (DET) curve of verification trials, EER and minDCF points marked.

    Both axes are error rates — x: false acceptance rate, y: false rejection rate — on a *normal
    deviate* scale (``scipy.stats.norm.ppf``): a system whose target and non-target scores are two
    Gaussians draws a straight line, and the low error rates that matter in practice (0.1 %–5 %),
    squashed into a corner of the ROC, get room. Lower left is better; the diagonal ``x = y`` meets
    the curve at the EER. Call again with the same ``ax`` and another ``label`` to compare systems.

    Parameters
    ----------
    scores, same : array (N,)
        Trial scores and whether each trial is a same-speaker (target) one.
    ax : Axes or None
        Draw into it (else a new 5 × 5 in figure).
    label : str or None
        Legend name of this curve (the EER and minDCF are appended).
    p_target : float
        Prior of the minDCF point (``metrics.min_dcf``).
    """
    same = _numpy(same).astype(bool)
    scores = _numpy(scores)
    fpr, tpr, thresholds = roc_curve(same, scores)
    eer, _ = equal_error_rate(scores, same)
    cost, threshold = min_dcf(scores, same, p_target=p_target)
    limits = np.array(DET_LIMITS)
    ax = _axes(ax, figsize=(5, 5))
    name = f"{label}: " if label else ""
    (line,) = ax.plot(
        _deviate(fpr), _deviate(1 - tpr), label=f"{name}EER {100 * eer:.1f} %, minDCF {cost:.3f}"
    )
    ax.plot(_deviate(eer), _deviate(eer), "o", color=line.get_color())
    at = int(np.argmax(thresholds <= threshold))  # the minDCF operating point
    ax.plot(
        _deviate(fpr[at]),
        _deviate(1 - tpr[at]),
        "s",
        color=line.get_color(),
        markerfacecolor="none",
    )
    ax.plot(_deviate(limits), _deviate(limits), ":", color="grey")
    ticks = _deviate(np.array(DET_TICKS))
    names = [f"{100 * t:g}" for t in DET_TICKS]
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    ax.set(
        xlabel="false acceptance rate (%)",
        ylabel="false rejection rate (%)",
        title=title,
        xlim=_deviate(limits),
        ylim=_deviate(limits),
    )
    ax.legend(loc="upper right", fontsize=8, title=f"● EER   □ minDCF (p_target {p_target:g})")
    ax.grid(alpha=0.3)
    return ax


def plot_embeddings_3d(
    points: np.ndarray,
    labels: Sequence,
    names: Sequence[str] | dict | None = None,
    title: str = "Speaker embeddings, first 3 principal components",
) -> go.Figure:
    """Interactive 3-D scatter of ``points`` ``(N, 3)``, one colour (and legend entry) per speaker.

    ``names[label]`` is shown instead of the label when given (e.g. the speaker id of a class index).
    Rotate with the mouse; click a legend entry to hide a speaker.
    """
    points = np.asarray(points)
    labels = np.asarray(labels)
    figure = go.Figure()
    for label in sorted(set(labels.tolist())):
        keep = labels == label
        name = str(names[label]) if names is not None else str(label)
        figure.add_trace(
            go.Scatter3d(
                x=points[keep, 0],
                y=points[keep, 1],
                z=points[keep, 2],
                mode="markers",
                marker={"size": 3},
                name=name,
            )
        )
    figure.update_layout(
        title=title,
        scene={"xaxis_title": "PC 1", "yaxis_title": "PC 2", "zaxis_title": "PC 3"},
        legend_title_text="speaker",
    )
    return figure
