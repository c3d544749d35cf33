"""Figures of the course: signals, features, training curves, confusion matrix, ROC, DET, embeddings.

Every function labels its axes (with units) and gives a title, draws into ``ax`` when given (else a new
figure), and returns the matplotlib ``Axes`` (``Figure`` for ``plot_history``) without calling
``plt.show()``, so a notebook can still adjust it. Tensors and arrays are both accepted.

Interactive (plotly) figures are drawn by the front end itself: :func:`use_plotly_renderer` picks
the renderer for the one the kernel runs under (Colab's own in Colab, else plotly's mimetype
output, which JupyterLab, Notebook 7 and VS Code draw offline, on first run) and the course's
layout defaults (:data:`PLOTLY_TEMPLATE`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from typing import Any

import librosa.display
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
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


# --- interactive figures (plotly) -----------------------------------------------------------------

PLOTLY_TEMPLATE = "audio_course"
"""The course's plotly template, added to the default one by :func:`use_plotly_renderer`.

Small margins (the legend still widens its own) and the 3-D camera a little further away than
plotly's default: with the default margins and camera, a 3-D scene's cube reaches past the bottom
of its drawing area and its lower corner, with the PC tick labels, was cut off.
"""

pio.templates[PLOTLY_TEMPLATE] = go.layout.Template(
    layout={
        "margin": {"l": 10, "r": 10, "b": 10, "t": 60},
        "scene": {"camera": {"eye": {"x": 1.6, "y": 1.6, "z": 1.1}}},
    }
)


def plotly_renderer() -> str:
    """The name of the plotly renderer for the front end this kernel runs under.

    ``"colab"`` in Google Colab (``google.colab`` is imported there); else ``"plotly_mimetype"``:
    the figure is sent as ``application/vnd.plotly.v1+json`` and the front end draws it with its
    own plotly.js (JupyterLab, Notebook 7, VS Code), offline, on first run. Never
    ``notebook_connected``, which loads plotly.js from a CDN: offline it never draws, and online
    the first figure may run before the library has loaded. ``$PLOTLY_RENDERER``, when set, wins.
    """
    chosen = os.environ.get("PLOTLY_RENDERER", "").strip()
    if chosen:
        return chosen
    return "colab" if "google.colab" in sys.modules else "plotly_mimetype"


def use_plotly_renderer() -> str:
    """Make :func:`plotly_renderer` plotly's default renderer and add :data:`PLOTLY_TEMPLATE`.

    Call it once before building figures (06's import cell does; :func:`plot_embeddings_3d` calls
    it): a figure takes the default template when it is created. Returns the renderer's name.
    """
    name = plotly_renderer()
    pio.renderers.default = name
    templates = pio.templates.default.split("+") if pio.templates.default else []
    if PLOTLY_TEMPLATE not in templates:
        pio.templates.default = "+".join([*templates, PLOTLY_TEMPLATE])
    return name


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
    use_plotly_renderer()
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
        height=600,
    )
    return figure


# --- diagrams: how the features and the models work ----------------------------------------------


def plot_stft_framing(
    waveform: Any,
    n_fft: int = 400,
    hop_length: int = 160,
    n_frames: int = 4,
    start: int = 0,
    sample_rate: int = SAMPLE_RATE,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """How the STFT cuts a waveform into frames: ``n_fft`` samples every ``hop_length``, Hann-windowed.

    Frame ``t`` covers the samples ``start + t * hop_length`` to ``start + t * hop_length + n_fft``
    (counted from ``start``); its Hann window (the periodic one ``librosa.stft`` and
    ``torch.stft`` use) is drawn over the waveform, scaled to its peak amplitude.

    Parameters
    ----------
    waveform : array (samples,)
        The signal, at ``sample_rate`` Hz.
    n_fft, hop_length : int
        Frame length and hop (samples).
    n_frames : int
        Frames drawn.
    start : int
        First sample of the first frame.

    Returns
    -------
    Axes
        One line per window (label ``"frame t"``), on a time axis in ms from ``start``.
    """
    y = _numpy(waveform).reshape(-1)
    span = (n_frames - 1) * hop_length + n_fft
    if start < 0 or start + span > len(y):
        raise ValueError(
            f"{n_frames} frames of {n_fft} samples every {hop_length} need {span} samples from "
            f"sample {start}; the waveform has {len(y)}: pass a smaller start or n_frames"
        )
    ax = _axes(ax, figsize=(10, 3.5))
    to_ms = 1000 / sample_rate
    piece = y[start : start + span]
    peak = float(np.abs(piece).max()) or 1.0
    ax.plot(np.arange(span) * to_ms, piece, color="0.6", linewidth=0.8, label="waveform")
    window = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n_fft) / n_fft)  # periodic Hann
    for t in range(n_frames):
        first = t * hop_length
        colour = f"C{t}"
        ax.plot((first + np.arange(n_fft)) * to_ms, peak * window, color=colour, label=f"frame {t}")
        ax.axvspan(first * to_ms, (first + n_fft) * to_ms, color=colour, alpha=0.06)
    level = -1.15 * peak
    ax.annotate("", (0, level), (n_fft * to_ms, level), arrowprops={"arrowstyle": "<->"})
    ax.text(
        n_fft * to_ms / 2,
        level,
        f"n_fft = {n_fft} samples = {n_fft * to_ms:g} ms",
        ha="center",
        va="top",
    )
    ax.annotate(
        "", (0, 1.1 * peak), (hop_length * to_ms, 1.1 * peak), arrowprops={"arrowstyle": "<->"}
    )
    ax.text(
        hop_length * to_ms / 2,
        1.12 * peak,
        f"hop_length = {hop_length} = {hop_length * to_ms:g} ms",
        ha="left",
        va="bottom",
    )
    ax.set(
        xlabel=f"time from sample {start} (ms)",
        ylabel="amplitude",
        title=title or "STFT framing: a Hann-windowed frame of n_fft samples every hop_length",
        ylim=(-1.45 * peak, 1.4 * peak),
    )
    ax.legend(loc="lower right", fontsize=8, ncol=n_frames + 1)
    return ax


def plot_mel_filterbank(feature: Any, ax: Axes | None = None, title: str | None = None) -> Axes:
    """The triangular mel filters of an MFCC feature module, as weights over frequency (Hz).

    Parameters
    ----------
    feature : helpers.features.MFCC
        E.g. ``make_feature("mfcc")``; its ``mel_scale.fb`` ``(n_fft // 2 + 1, n_mels)`` is drawn,
        the weights the kit applies to each FFT bin (bins ``sample_rate / n_fft`` Hz apart).

    Returns
    -------
    Axes
        One line per mel band, in band order (their peaks move up in frequency).
    """
    scale = getattr(feature, "mel_scale", None)
    if scale is None:
        raise TypeError(
            f"{type(feature).__name__} has no mel filterbank: pass make_feature('mfcc')"
        )
    weights = _numpy(scale.fb)  # (n_freqs, n_mels)
    n_freqs, n_mels = weights.shape
    hz = np.linspace(0, scale.sample_rate / 2, n_freqs)
    ax = _axes(ax, figsize=(10, 3.5))
    for band in range(n_mels):
        ax.plot(hz, weights[:, band], color=plt.cm.viridis(band / max(n_mels - 1, 1)), lw=0.9)
    ax.set(
        xlabel="frequency (Hz)",
        ylabel="weight of the FFT bin",
        title=title
        or f"Mel filterbank: {n_mels} triangles over {n_freqs} FFT bins "
        f"({scale.sample_rate / (2 * (n_freqs - 1)):g} Hz apart)",
        xlim=(0, hz[-1]),
    )
    return ax


def receptive_fields(model: Any) -> list[dict[str, int]]:
    """Kernel, dilation, stride and receptive field (input frames) of each ``Conv1d`` of ``model``.

    The layers are taken in the order the model registers them (its forward order for the course's
    CNNs; skip connections do not widen the field). Layer ``l`` adds
    ``(kernel - 1) × dilation × jump`` input frames, where ``jump`` is the product of the strides
    before it.

    Returns
    -------
    list of dict
        Per layer: ``name``, ``kernel``, ``dilation``, ``stride``, ``field`` (input frames one unit
        sees) and ``jump`` (input frames between two neighbouring units of its output).
    """
    from torch import nn

    layers, field, jump = [], 1, 1
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv1d):
            kernel, dilation, stride = module.kernel_size[0], module.dilation[0], module.stride[0]
            field += (kernel - 1) * dilation * jump
            jump *= stride
            layers.append(
                dict(
                    name=name,
                    kernel=kernel,
                    dilation=dilation,
                    stride=stride,
                    field=field,
                    jump=jump,
                )
            )
    if not layers:
        raise TypeError(f"{type(model).__name__} has no Conv1d layer to draw")
    return layers


def plot_receptive_field(
    model: Any,
    hop_ms: float = 10.0,
    name: str | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Which input frames one unit of each ``Conv1d`` layer of ``model`` sees.

    One row per layer (input at the bottom): a bar spanning the layer's receptive field around one
    unit, dots at its kernel's taps (``dilation × jump`` input frames apart), and the field in frames
    and ms. See ``receptive_fields`` for the numbers.

    Parameters
    ----------
    model : nn.Module
        E.g. ``make_model("cnn1d", 40, n_speakers)`` or a notebook's own ``CNN1d``.
    hop_ms : float
        Time between input frames (ms): 10 for the course's features.
    name : str
        What to call the model in the title (default: its class name).

    Returns
    -------
    Axes
        ``ax.patches[l]`` is layer ``l``'s bar, ``field`` frames wide.
    """
    layers = receptive_fields(model)
    ax = _axes(ax, figsize=(10, 0.45 * len(layers) + 1.5))
    half = (layers[-1]["field"] - 1) / 2
    inputs = np.arange(-half, half + 1)
    ax.plot(inputs, np.zeros_like(inputs), "|", color="0.5", markersize=8)
    previous_jump = 1
    for row, layer in enumerate(layers, start=1):
        reach = (layer["field"] - 1) / 2
        ax.barh(row, 2 * reach + 1, left=-reach - 0.5, height=0.6, color=f"C{row % 10}", alpha=0.35)
        step = layer["dilation"] * previous_jump
        taps = (np.arange(layer["kernel"]) - (layer["kernel"] - 1) / 2) * step
        ax.plot(taps, np.full_like(taps, row), "o", color=f"C{row % 10}", markersize=4)
        ax.text(
            half + 1.5,
            row,
            f"{layer['field']} frames = {layer['field'] * hop_ms:g} ms",
            va="center",
            fontsize=8,
        )
        previous_jump = layer["jump"]
    labels = ["input"] + [
        f"{layer['name']} (k={layer['kernel']}, d={layer['dilation']}, s={layer['stride']})"
        for layer in layers
    ]
    ax.set_yticks(range(len(labels)), labels, fontsize=8)
    ax.set(
        xlabel="input frame, relative to the unit's centre",
        ylabel="layer",
        title=title
        or f"Receptive field of {name or type(model).__name__}: "
        f"{layers[-1]['field']} input frames after {len(layers)} Conv1d layers",
        xlim=(-half - 1.5, half + 1.5 + 0.25 * (2 * half + 3)),
    )
    return ax


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def pipeline_shapes(feature: Any, model: Any, seconds: float = 3.0) -> dict[str, tuple[int, ...]]:
    """Shapes of one clip at each stage of a course model, measured by running silence through it.

    Returns
    -------
    dict
        ``waveform`` ``(samples,)``, ``features`` (e.g. ``(n_mfcc, frames)``), ``network`` (what the
        layers before statistics pooling return, e.g. ``(channels, frames')``; absent for a model
        without ``StatsPool``), ``pooled`` (its output, ``(2 × channels,)``), ``embedding``
        ``(embedding_dim,)`` and ``logits`` ``(n_classes,)``, all without the batch axis.
    """
    import torch

    from .models import StatsPool

    sample_rate = getattr(getattr(feature, "mel_scale", None), "sample_rate", SAMPLE_RATE)
    waveform = torch.zeros(1, round(seconds * sample_rate))
    shapes: dict[str, tuple[int, ...]] = {"waveform": tuple(waveform.shape[1:])}
    pools = [m for m in model.modules() if isinstance(m, StatsPool)]

    def record(module: Any, inputs: tuple, output: Any) -> None:
        shapes["network"], shapes["pooled"] = tuple(inputs[0].shape[1:]), tuple(output.shape[1:])

    hooks = [pool.register_forward_hook(record) for pool in pools]
    was_training = model.training
    try:
        model.eval()
        with torch.no_grad():
            x = feature(waveform)
            shapes["features"] = tuple(x.shape[1:])
            shapes["embedding"] = tuple(model.embed(x).shape[1:])
            shapes["logits"] = tuple(model(x).shape[1:])
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return shapes


def plot_embedding_pipeline(
    feature: Any, model: Any, seconds: float = 3.0, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """The path of one clip through a course model, with the shape at each stage.

    waveform → features → network → statistics pooling → embedding, then either the classifier
    (identification, notebook 05) or the cosine with another clip's embedding (verification, 07).

    Parameters
    ----------
    feature : AudioFeature
        The model's input features, e.g. ``feature_from_checkpoint(model)``.
    model : SpeakerModel
        A course model (``make_model`` or ``load_checkpoint``); it is run once on ``seconds`` of
        silence (in eval mode, restored afterwards) to measure the shapes: see ``pipeline_shapes``.

    Returns
    -------
    Axes
        The stages are its ``texts``, in order, each with its shape (batch axis left out).
    """
    shapes = pipeline_shapes(feature, model, seconds)
    stages = [
        f"waveform\n{_shape(shapes['waveform'])}\n{seconds:g} s of samples",
        f"features\n{_shape(shapes['features'])}\n{type(feature).__name__}",
    ]
    if "network" in shapes:
        n_convs = sum(type(m).__name__.startswith("Conv") for m in model.modules())
        stages += [
            f"{type(model).__name__}\n{_shape(shapes['network'])}\n{n_convs} conv layers",
            f"stats pooling\n{_shape(shapes['pooled'])}\nmean ‖ std over time",
        ]
    stages.append(f"embedding\n{_shape(shapes['embedding'])}\nLinear + BatchNorm")
    ax = _axes(ax, figsize=(13, 3.2))
    boxes = {"boxstyle": "round,pad=0.4", "facecolor": "#e8f0fa", "edgecolor": "C0"}
    x = np.arange(len(stages)) * 1.6
    for i, (xi, text) in enumerate(zip(x, stages)):
        ax.text(xi, 0, text, ha="center", va="center", fontsize=9, bbox=boxes)
        if i:
            ax.annotate("", (xi - 0.62, 0), (x[i - 1] + 0.62, 0), arrowprops={"arrowstyle": "->"})
    ends = [
        (0.55, f"classifier (Linear)\n{_shape(shapes['logits'])} logits\nwhich speaker? (05)"),
        (-0.55, "cosine(e₁, e₂)\none score\nsame speaker? (07)"),
    ]
    right = x[-1] + 1.8
    for y, text in ends:
        ax.text(
            right,
            y,
            text,
            ha="center",
            va="center",
            fontsize=9,
            bbox={**boxes, "facecolor": "#fdf0e0", "edgecolor": "C1"},
        )
        ax.annotate("", (right - 0.7, y), (x[-1] + 0.62, 0), arrowprops={"arrowstyle": "->"})
    ax.set(xlim=(-0.9, right + 0.9), ylim=(-1.1, 1.1), xticks=[], yticks=[])
    ax.set(
        xlabel="stage (shape of one clip, batch axis left out)",
        ylabel="data flow",
        title=title or "From a clip to an embedding, then a speaker or a score",
    )
    for side in ax.spines.values():
        side.set_visible(False)
    return ax
