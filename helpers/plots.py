"""Figures of the course: each labels its axes (units) and title, draws into ``ax`` (else a new
figure) and returns it (``plot_history``: the ``Figure``); tensors or arrays; plotly for 3-D."""

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
from scipy.signal import get_window
from scipy.stats import norm
from sklearn.metrics import auc, roc_curve

from .audio import SAMPLE_RATE
from .metrics import equal_error_rate, min_dcf


def _numpy(x: Any) -> np.ndarray:
    return np.asarray(x.detach().cpu().numpy() if hasattr(x, "detach") else x)


def _axes(ax: Axes | None, figsize: tuple[float, float] = (8, 3)) -> Axes:
    return ax if ax is not None else plt.subplots(figsize=figsize, layout="constrained")[1]


def plot_waveform(
    waveform: Any, sample_rate: int = SAMPLE_RATE, ax: Axes | None = None, title: str = "Waveform"
) -> Axes:
    """Amplitude against time (s) of a waveform ``(samples,)``."""
    ax, y = _axes(ax), _numpy(waveform).reshape(-1)
    ax.plot(np.arange(len(y)) / sample_rate, y, linewidth=0.5)
    ax.set(xlabel="time (s)", ylabel="amplitude", title=title, xlim=(0, len(y) / sample_rate))
    return ax


def plot_features(
    features: Any, kind: str = "mfcc", ax: Axes | None = None, title: str | None = None, **framing
) -> Axes:
    """Features of one clip: ``mfcc``/``spectrogram`` ``(bins, frames)`` images, pooled curves;
    ``framing``: ``sr`` (Hz), ``hop_length``, ``n_fft`` (samples) if not 16000, 160, 400."""
    x, title, ax = _numpy(features), title or kind.replace("_", " "), _axes(ax)
    framing = dict(sr=SAMPLE_RATE, hop_length=160, n_fft=400) | framing
    if kind in ("mfcc", "spectrogram"):
        y_axis = "linear" if kind == "spectrogram" else None
        image = librosa.display.specshow(x, x_axis="time", y_axis=y_axis, ax=ax, **framing)
        ax.figure.colorbar(image, ax=ax, label="log power" if y_axis else "normalised value")
        ylabel = "frequency (Hz)" if y_axis else "MFCC coefficient"
        ax.set(xlabel="time (s)", ylabel=ylabel, title=title)
    if kind == "mfcc":
        ticks = np.unique(np.linspace(0, len(x) - 1, 5).round().astype(int))
        ax.set_yticks(ticks + 0.5, [str(t) for t in ticks])  # row k spans [k, k + 1]
    elif kind == "mfcc_pooled":
        ax.bar(np.arange(len(x)), x)
        ax.set(xlabel="MFCC coefficient", ylabel="mean over time", title=title)
    elif kind == "spectrogram_pooled":
        ax.plot(np.arange(len(x)) * framing["sr"] / framing["n_fft"], x)
        ax.set(xlabel="frequency (Hz)", ylabel="mean log power", title=title)
    elif kind != "spectrogram":
        raise ValueError(f"unknown feature kind {kind!r}")
    return ax


def plot_history(history: Any, title: str = "Training history") -> Figure:
    """Loss and accuracy per epoch of a ``training.History``, training and validation."""
    figure, (loss_ax, acc_ax) = plt.subplots(1, 2, figsize=(10, 3.5), layout="constrained")
    for ax, key in ((loss_ax, "loss"), (acc_ax, "accuracy")):
        ax.plot(history.epoch, getattr(history, f"train_{key}"), "o-", label="training")
        if history.val_loss:
            ax.plot(history.epoch, getattr(history, f"val_{key}"), "o-", label="validation")
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
    """Confusion matrix (rows true, columns predicted); ``normalize``: share of each row."""
    cm = _numpy(matrix).astype(float)
    if normalize:
        cm = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1)
    ax = _axes(ax, figsize=(7, 6))
    image = ax.imshow(cm, cmap="Blues", vmin=0, vmax=1 if normalize else None)
    ax.figure.colorbar(image, ax=ax, label="share of the row" if normalize else "clips")
    if names is not None and len(cm) <= 40:
        ax.set_xticks(np.arange(len(cm)), [str(s) for s in names], rotation=90, fontsize=7)
        ax.set_yticks(np.arange(len(cm)), [str(s) for s in names], fontsize=7)
    ax.set(xlabel="predicted speaker", ylabel="true speaker", title=title)
    return ax


def plot_roc(
    scores: Any, same: Any, ax: Axes | None = None, title: str = "Speaker verification ROC"
) -> Axes:
    """ROC curve of verification trials, EER marked."""
    same, scores = _numpy(same).astype(bool), _numpy(scores)
    fpr, tpr, _ = roc_curve(same, scores)
    eer, _ = equal_error_rate(scores, same)
    ax = _axes(ax, figsize=(5, 5))
    ax.plot(fpr, tpr, label=f"ROC (AUC = {auc(fpr, tpr):.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey", label="chance")
    ax.plot([eer], [1 - eer], "o", color="red", label=f"EER = {100 * eer:.1f} %")
    ylabel = "true acceptance rate (1 − false rejection rate)"
    ax.set(xlabel="false acceptance rate", ylabel=ylabel, title=title, xlim=(0, 1), ylim=(0, 1.01))
    ax.legend(loc="lower right")
    ax.grid(alpha=0.3)
    return ax


DET_TICKS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4)  # error rates marked
DET_LIMITS = (5e-4, 0.6)  # error rates shown; those outside are drawn at the edge


def _deviate(rate: Any) -> np.ndarray:  # error rates on the DET scale (normal deviates)
    return norm.ppf(np.clip(rate, *DET_LIMITS))


def plot_det(
    scores: Any,
    same: Any,
    ax: Axes | None = None,
    label: str | None = None,
    title: str = "Speaker verification DET curve",
    p_target: float = 0.01,
) -> Axes:
    """DET curve (normal-deviate axes), EER (dot) and minDCF at ``p_target`` (square) marked;
    call again on ``ax`` with another ``label`` to compare systems."""
    same, scores = _numpy(same).astype(bool), _numpy(scores)
    fpr, tpr, thresholds = roc_curve(same, scores)
    eer, _ = equal_error_rate(scores, same)
    cost, threshold = min_dcf(scores, same, p_target=p_target)
    ax, name = _axes(ax, figsize=(5, 5)), f"{label}: " if label else ""
    legend = f"{name}EER {100 * eer:.1f} %, minDCF {cost:.3f}"
    colour = ax.plot(_deviate(fpr), _deviate(1 - tpr), label=legend)[0].get_color()
    ax.plot(_deviate(eer), _deviate(eer), "o", color=colour)
    at = int(np.argmax(thresholds <= threshold))  # the minDCF operating point
    ax.plot(_deviate(fpr[at]), _deviate(1 - tpr[at]), "s", color=colour, markerfacecolor="none")
    ax.plot(_deviate(DET_LIMITS), _deviate(DET_LIMITS), ":", color="grey")
    ticks, names = _deviate(np.array(DET_TICKS)), [f"{100 * t:g}" for t in DET_TICKS]
    ax.set_xticks(ticks, names)
    ax.set_yticks(ticks, names)
    ax.set(xlabel="false acceptance rate (%)", ylabel="false rejection rate (%)", title=title)
    ax.set(xlim=_deviate(DET_LIMITS), ylim=_deviate(DET_LIMITS))
    ax.legend(loc="upper right", fontsize=8, title=f"● EER   □ minDCF (p_target {p_target:g})")
    ax.grid(alpha=0.3)
    return ax


PLOTLY_TEMPLATE = "audio_course"  # small margins; the 3-D camera far enough to show the cube
_layout = {"margin": dict(l=10, r=10, b=10, t=60), "scene_camera_eye": dict(x=1.6, y=1.6, z=1.1)}
pio.templates[PLOTLY_TEMPLATE] = go.layout.Template(layout=_layout)


def plotly_renderer() -> str:
    """``$PLOTLY_RENDERER``, else ``"colab"`` in Colab, else ``"plotly_mimetype"`` (offline)."""
    chosen = os.environ.get("PLOTLY_RENDERER", "").strip()
    return chosen or ("colab" if "google.colab" in sys.modules else "plotly_mimetype")


def use_plotly_renderer() -> str:
    """Make :func:`plotly_renderer` the default and add :data:`PLOTLY_TEMPLATE`; returns it."""
    pio.renderers.default = name = plotly_renderer()
    templates = pio.templates.default.split("+") if pio.templates.default else []
    if PLOTLY_TEMPLATE not in templates:
        pio.templates.default = "+".join([*templates, PLOTLY_TEMPLATE])
    return name


def plot_embeddings_3d(
    points: Any, labels: Sequence, names: Sequence | dict | None = None, title: str | None = None
) -> go.Figure:
    """Interactive 3-D scatter of ``points`` ``(N, 3)``, a trace per label (``names[label]``)."""
    use_plotly_renderer()
    points, labels = np.asarray(points), np.asarray(labels)
    figure = go.Figure()
    for label in sorted(set(labels.tolist())):
        x, y, z = points[labels == label, :3].T
        name = str(names[label] if names is not None else label)
        figure.add_trace(go.Scatter3d(x=x, y=y, z=z, mode="markers", marker={"size": 3}, name=name))
    scene = {"xaxis_title": "PC 1", "yaxis_title": "PC 2", "zaxis_title": "PC 3"}
    title = title or "Speaker embeddings, first 3 principal components"
    figure.update_layout(title=title, scene=scene, legend_title_text="speaker", height=600)
    return figure


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
    """``n_frames`` periodic Hann windows of ``n_fft`` samples every ``hop_length`` over
    ``waveform`` ``(samples,)`` from sample ``start`` (lines ``"frame t"``, time in ms)."""
    y = _numpy(waveform).reshape(-1)
    span = (n_frames - 1) * hop_length + n_fft
    if start < 0 or start + span > len(y):
        what = f"{n_frames} frames of {n_fft} every {hop_length} need {span} samples from {start}"
        raise ValueError(f"{what}; the waveform has {len(y)}: pass a smaller start or n_frames")
    ax, ms = _axes(ax, figsize=(10, 3.5)), 1000 / sample_rate
    piece = y[start : start + span]
    peak = float(np.abs(piece).max()) or 1.0
    ax.plot(np.arange(span) * ms, piece, color="0.6", linewidth=0.8, label="waveform")
    window = get_window("hann", n_fft)  # periodic, as torch.stft's
    for t in range(n_frames):
        first = t * hop_length
        ax.plot((first + np.arange(n_fft)) * ms, peak * window, color=f"C{t}", label=f"frame {t}")
        ax.axvspan(first * ms, (first + n_fft) * ms, color=f"C{t}", alpha=0.06)
    below, above = {"ha": "center", "va": "top"}, {"ha": "left", "va": "bottom"}
    for size, y, text, align in [
        (n_fft, -1.15 * peak, f"n_fft = {n_fft} samples = {n_fft * ms:g} ms", below),
        (hop_length, 1.1 * peak, f"hop_length = {hop_length} = {hop_length * ms:g} ms", above),
    ]:
        ax.annotate("", (0, y), (size * ms, y), arrowprops={"arrowstyle": "<->"})
        ax.text(size * ms / 2, y + 0.02 * peak * (y > 0), text, **align)
    title = title or "STFT framing: a Hann-windowed frame of n_fft samples every hop_length"
    ax.set(xlabel=f"time from sample {start} (ms)", ylabel="amplitude", title=title)
    ax.set(ylim=(-1.45 * peak, 1.4 * peak))
    ax.legend(loc="lower right", fontsize=8, ncol=n_frames + 1)
    return ax


def plot_mel_filterbank(feature: Any, ax: Axes | None = None, title: str | None = None) -> Axes:
    """The mel filters ``mel_scale.fb`` ``(n_fft // 2 + 1, n_mels)`` of ``make_feature("mfcc")``."""
    if (scale := getattr(feature, "mel_scale", None)) is None:
        raise TypeError(f"{type(feature).__name__} has no mel filters: pass make_feature('mfcc')")
    weights = _numpy(scale.fb)  # (n_freqs, n_mels)
    n_freqs, n_mels = weights.shape
    hz = np.linspace(0, scale.sample_rate / 2, n_freqs)
    ax = _axes(ax, figsize=(10, 3.5))
    for band in range(n_mels):
        ax.plot(hz, weights[:, band], color=plt.cm.viridis(band / max(n_mels - 1, 1)), lw=0.9)
    apart = f"{n_freqs} FFT bins ({scale.sample_rate / (2 * (n_freqs - 1)):g} Hz apart)"
    title = title or f"Mel filterbank: {n_mels} triangles over {apart}"
    ax.set(xlabel="frequency (Hz)", ylabel="weight of the FFT bin", title=title, xlim=(0, hz[-1]))
    return ax


def receptive_fields(model: Any) -> list[dict[str, int]]:
    """Per ``Conv1d``: ``kernel``, ``dilation``, ``stride``, ``field`` (input frames), ``jump``."""
    from torch import nn

    layers, field, jump = [], 1, 1
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv1d):
            kernel, dilation, stride = module.kernel_size[0], module.dilation[0], module.stride[0]
            field += (kernel - 1) * dilation * jump
            jump *= stride
            layers.append(dict(name=name, kernel=kernel, dilation=dilation, stride=stride))
            layers[-1] |= dict(field=field, jump=jump)
    if not layers:
        raise TypeError(f"{type(model).__name__} has no Conv1d layer to draw")
    return layers


def plot_receptive_field(
    model: Any, name: str | None = None, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """Per ``Conv1d`` row, a bar over its :func:`receptive_fields` field (frames, 10 ms each) and
    dots at its taps."""
    layers = receptive_fields(model)
    ax = _axes(ax, figsize=(10, 0.45 * len(layers) + 1.5))
    half = (layers[-1]["field"] - 1) / 2
    inputs = np.arange(-half, half + 1)
    ax.plot(inputs, np.zeros_like(inputs), "|", color="0.5", markersize=8)
    previous_jump = 1
    for row, layer in enumerate(layers, start=1):
        reach, colour = (layer["field"] - 1) / 2, f"C{row % 10}"
        ax.barh(row, 2 * reach + 1, left=-reach - 0.5, height=0.6, color=colour, alpha=0.35)
        taps = (np.arange(layer["kernel"]) - (layer["kernel"] - 1) / 2) * layer["dilation"]
        ax.plot(taps * previous_jump, np.full_like(taps, row), "o", color=colour, markersize=4)
        text = f"{layer['field']} frames = {layer['field'] * 10} ms"  # at a 10-ms hop
        ax.text(half + 1.5, row, text, va="center", fontsize=8)
        previous_jump = layer["jump"]
    labels = [f"{f['name']} (k={f['kernel']}, d={f['dilation']}, s={f['stride']})" for f in layers]
    ax.set_yticks(range(len(labels) + 1), ["input", *labels], fontsize=8)
    what = f"{layers[-1]['field']} input frames after {len(layers)} Conv1d layers"
    title = title or f"Receptive field of {name or type(model).__name__}: {what}"
    ax.set(xlabel="input frame, relative to the unit's centre", ylabel="layer", title=title)
    ax.set(xlim=(-half - 1.5, half + 1.5 + 0.25 * (2 * half + 3)))
    return ax


def pipeline_shapes(feature: Any, model: Any, seconds: float = 3.0) -> dict[str, tuple[int, ...]]:
    """Shapes of one clip (no batch axis) at each stage of a course model, in eval mode."""
    import torch

    from .models import StatsPool

    sample_rate = getattr(getattr(feature, "mel_scale", None), "sample_rate", SAMPLE_RATE)
    waveform = torch.zeros(1, round(seconds * sample_rate))
    shapes: dict[str, tuple[int, ...]] = {"waveform": tuple(waveform.shape[1:])}

    def record(module: Any, inputs: tuple, output: Any) -> None:
        shapes["network"], shapes["pooled"] = tuple(inputs[0].shape[1:]), tuple(output.shape[1:])

    hooks = [m.register_forward_hook(record) for m in model.modules() if isinstance(m, StatsPool)]
    was_training = model.training
    try:
        with torch.no_grad():
            x = feature(waveform)
            shapes["features"] = tuple(x.shape[1:])
            shapes["embedding"] = tuple(model.eval().embed(x).shape[1:])
            shapes["logits"] = tuple(model(x).shape[1:])
    finally:
        model.train(was_training)
        for hook in hooks:
            hook.remove()
    return shapes


def plot_embedding_pipeline(
    feature: Any, model: Any, seconds: float = 3.0, ax: Axes | None = None, title: str | None = None
) -> Axes:
    """One clip's path through a course model, a box per stage with its :func:`pipeline_shapes`."""
    shapes = pipeline_shapes(feature, model, seconds)
    stages = [f"waveform\n{shapes['waveform']}\n{seconds:g} s of samples"]
    stages.append(f"features\n{shapes['features']}\n{type(feature).__name__}")
    if "network" in shapes:
        n_convs = sum(type(m).__name__.startswith("Conv") for m in model.modules())
        stages.append(f"{type(model).__name__}\n{shapes['network']}\n{n_convs} conv layers")
        stages.append(f"stats pooling\n{shapes['pooled']}\nmean ‖ std over time")
    stages.append(f"embedding\n{shapes['embedding']}\nLinear + BatchNorm")
    ax = _axes(ax, figsize=(13, 3.2))
    boxes = {"boxstyle": "round,pad=0.4", "facecolor": "#e8f0fa", "edgecolor": "C0"}
    x = np.arange(len(stages)) * 1.6
    for i, (xi, text) in enumerate(zip(x, stages)):
        ax.text(xi, 0, text, ha="center", va="center", fontsize=9, bbox=boxes)
        if i:
            ax.annotate("", (xi - 0.62, 0), (x[i - 1] + 0.62, 0), arrowprops={"arrowstyle": "->"})
    right, ends = x[-1] + 1.8, {**boxes, "facecolor": "#fdf0e0", "edgecolor": "C1"}
    for y, text in [
        (0.55, f"classifier (Linear)\n{shapes['logits']} logits\nwhich speaker? (05)"),
        (-0.55, "cosine(e₁, e₂)\none score\nsame speaker? (07)"),
    ]:
        ax.text(right, y, text, ha="center", va="center", fontsize=9, bbox=ends)
        ax.annotate("", (right - 0.7, y), (x[-1] + 0.62, 0), arrowprops={"arrowstyle": "->"})
    ax.set(xlim=(-0.9, right + 0.9), ylim=(-1.1, 1.1), xticks=[], yticks=[], ylabel="data flow")
    title = title or "From a clip to an embedding, then a speaker or a score"
    ax.set(xlabel="stage (shape of one clip, batch axis left out)", title=title)
    ax.spines[:].set_visible(False)
    return ax
