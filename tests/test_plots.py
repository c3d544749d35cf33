"""Tests of the diagrams in helpers.plots: each draws what the kit's real objects compute."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from helpers import plots
from helpers.features import make_feature
from helpers.models import make_model


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def labelled(ax) -> bool:
    return bool(ax.get_xlabel() and ax.get_ylabel() and ax.get_title())


def test_stft_framing_draws_hann_windows_of_n_fft_samples_every_hop() -> None:
    y = np.sin(2 * np.pi * 200 * np.arange(4000) / 16_000)
    ax = plots.plot_stft_framing(y, n_fft=400, hop_length=160, n_frames=3, start=100)
    assert labelled(ax)
    frames = [line for line in ax.lines if line.get_label().startswith("frame")]
    assert [line.get_label() for line in frames] == ["frame 0", "frame 1", "frame 2"]
    for t, line in enumerate(frames):
        x, w = line.get_xdata(), line.get_ydata()
        assert len(x) == 400
        assert x[0] == pytest.approx(t * 160 / 16)  # ms: frame t starts t * hop samples later
        assert x[-1] - x[0] == pytest.approx(399 / 16)
        assert w[0] == 0 and np.argmax(w) == 200  # periodic Hann: zero at the start, peak mid-frame
        np.testing.assert_allclose(w / w.max(), torch.hann_window(400).numpy(), atol=1e-6)
    waveform = ax.lines[0].get_ydata()
    np.testing.assert_allclose(waveform, y[100 : 100 + 2 * 160 + 400])
    with pytest.raises(ValueError, match="pass a smaller start or n_frames"):
        plots.plot_stft_framing(y[:500], n_frames=3)


def test_mel_filterbank_has_n_mels_triangles_peaking_upward() -> None:
    feature = make_feature("mfcc", n_mels=40)
    ax = plots.plot_mel_filterbank(feature)
    assert labelled(ax) and "40 triangles" in ax.get_title()
    assert len(ax.lines) == 40
    peaks = np.array([line.get_xdata()[np.argmax(line.get_ydata())] for line in ax.lines])
    assert np.all(np.diff(peaks) > 0)  # band order = increasing centre frequency (Hz)
    assert 0 < peaks[0] < 150 and 7000 < peaks[-1] < 8000
    # mel spacing: the high bands are much wider (in Hz) than the low ones
    widths = [np.ptp(line.get_xdata()[line.get_ydata() > 0]) for line in ax.lines]
    assert widths[-1] > 5 * widths[1]
    np.testing.assert_array_equal(ax.lines[7].get_ydata(), feature.mel_scale.fb[:, 7].numpy())
    with pytest.raises(TypeError, match="make_feature"):
        plots.plot_mel_filterbank(make_feature("spectrogram"))


def test_receptive_fields_match_a_hand_computation() -> None:
    # stem k=5 stride 2: 5 frames, then units 2 frames apart; block i (dilation i + 1) has two
    # convolutions of kernel 3, each adding 2 × dilation × 2 frames; the 1×1 expansion adds none.
    model = make_model("cnn1d", 40, 7)
    fields = plots.receptive_fields(model)
    assert [f["field"] for f in fields] == [5, 9, 13, 21, 29, 41, 53, 53]
    assert [f["dilation"] for f in fields] == [1, 1, 1, 2, 2, 3, 3, 1]
    assert [f["jump"] for f in fields] == [2] * 8
    unstrided = make_model("cnn1d", 40, 7, stride=1, n_blocks=2)
    assert [f["field"] for f in plots.receptive_fields(unstrided)] == [5, 7, 9, 13, 17, 17]


def test_receptive_field_plot_bars_are_the_fields() -> None:
    model = nn.Sequential(nn.Conv1d(4, 4, 5, padding=2), nn.Conv1d(4, 4, 3, dilation=4, padding=4))
    ax = plots.plot_receptive_field(model)
    assert labelled(ax) and "13 input frames" in ax.get_title()
    assert [bar.get_width() for bar in ax.patches] == [5, 13]
    taps = ax.lines[2].get_xdata()  # the second layer's kernel taps, dilation 4 frames apart
    np.testing.assert_array_equal(taps, [-4, 0, 4])
    with pytest.raises(TypeError, match="no Conv1d"):
        plots.plot_receptive_field(nn.Linear(3, 3))


def test_embedding_pipeline_shows_the_measured_shapes() -> None:
    feature = make_feature("mfcc", n_mfcc=80, n_mels=80)
    model = make_model("cnn1d", 80, 11, channels=32, embedding_dim=24)
    model.train()
    ax = plots.plot_embedding_pipeline(feature, model)
    assert model.training  # put back in the mode it was in
    assert labelled(ax)
    texts = [t.get_text() for t in ax.texts if t.get_text()]  # arrows are empty annotations
    # 3 s = 48000 samples; 1 + 48000 // 160 = 301 frames, halved by the stride-2 stem to 151;
    # expansion to 2 × 32 channels, mean ‖ std -> 128, embedding 24, one logit per speaker.
    for shape in ["(48000,)", "(80, 301)", "(64, 151)", "(128,)", "(24,)", "(11,)"]:
        assert sum(shape in t for t in texts) == 1, shape
    order = ["waveform", "features", "CNN1d", "stats pooling", "embedding", "classifier"]
    assert [next(i for i, t in enumerate(texts) if t.startswith(s)) for s in order] == list(
        range(6)
    )
    dense = make_model("dense", 40, 5)
    shapes = plots.pipeline_shapes(make_feature("mfcc_pooled"), dense)
    assert "network" not in shapes and shapes["features"] == (40,) and shapes["logits"] == (5,)


@pytest.mark.parametrize(
    "kind, ylabel",
    [
        ("mfcc", "MFCC coefficient"),
        ("spectrogram", "frequency (Hz)"),
        ("mfcc_pooled", "mean over time"),
        ("spectrogram_pooled", "mean log power"),
    ],
)
def test_plot_features_draws_every_kind(kind: str, ylabel: str) -> None:
    x = make_feature(kind)(torch.randn(16_000))
    ax = plots.plot_features(x, kind)
    assert labelled(ax) and ax.get_ylabel() == ylabel and ax.get_title() == kind.replace("_", " ")
    if not kind.endswith("_pooled"):
        assert ax.collections[0].get_array().size == x.numel()  # the whole (bins, frames) image
    with pytest.raises(ValueError, match="unknown feature kind"):
        plots.plot_features(x, "chroma")
