"""helpers.enrol: the guarded browser recorder (through a fake Colab bridge), crops, enrol and verify."""

from __future__ import annotations

import base64
import json
import math
import sys
import types

import numpy as np
import pytest
import torch

from helpers.audio import SAMPLE_RATE
from helpers.enrol import RECORD_JS, colab_bridge, embed_clip, record_clip, verify_clip
from helpers.features import make_feature
from helpers.models import make_model

pytestmark = pytest.mark.usefixtures("one_thread")


class FakeBridge:
    """Plays the browser: checks the JavaScript it is given, answers with a 48-kHz, 440-Hz tone."""

    def __init__(self, rate: int = 48_000, samples: int | None = None) -> None:
        self.rate, self.samples, self.scripts = rate, samples, []

    def __call__(self, script: str) -> str:
        self.scripts.append(script)
        milliseconds = int(script.rsplit("recordClip(", 1)[1].rstrip(")"))
        n = self.samples if self.samples is not None else self.rate * milliseconds // 1000
        t = np.arange(n) / self.rate
        pcm = np.round(0.5 * np.sin(2 * np.pi * 440 * t) * 32767).astype("<i2")
        return json.dumps({"sample_rate": self.rate, "pcm16": base64.b64encode(pcm).decode()})


def test_record_clip_through_a_fake_bridge() -> None:
    bridge = FakeBridge()
    clip = record_clip(1.5, bridge=bridge)
    script = bridge.scripts[0]
    assert "getUserMedia" in script and "MediaRecorder" in script and script.endswith("(1500)")
    assert RECORD_JS in script
    assert clip.dtype == torch.float32 and clip.shape == (round(1.5 * SAMPLE_RATE),)  # resampled
    spectrum = torch.fft.rfft(clip).abs()
    peak = float(spectrum.argmax()) * SAMPLE_RATE / clip.shape[-1]
    assert peak == pytest.approx(440, abs=2)  # the tone survives the resampling
    assert clip.abs().max() == pytest.approx(0.5, abs=0.02)


def test_record_clip_at_the_model_rate_is_not_resampled() -> None:
    clip = record_clip(0.5, bridge=FakeBridge(rate=SAMPLE_RATE))
    assert clip.shape == (SAMPLE_RATE // 2,)


def test_record_clip_without_colab_says_what_to_do(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "google.colab", None)  # import fails, as outside Colab
    assert colab_bridge() is None
    with pytest.raises(RuntimeError, match=r"load_audio\('my_voice.wav'\)"):
        record_clip(1.0)


def test_colab_bridge_is_eval_js_in_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = FakeBridge(rate=SAMPLE_RATE)
    colab = types.ModuleType("google.colab")
    colab.output = types.SimpleNamespace(eval_js=fake)
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    assert colab_bridge() is fake
    assert record_clip(0.25).shape == (SAMPLE_RATE // 4,) and len(fake.scripts) == 1


def test_record_clip_refused_microphone() -> None:
    with pytest.raises(RuntimeError, match="allow the microphone"):
        record_clip(1.0, bridge=FakeBridge(samples=0))


def tone(freq: float, seconds: float = 2.0, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(round(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    harmonics = sum(torch.sin(2 * math.pi * k * freq * t) / k for k in range(1, 10))
    return 0.1 * harmonics + 0.01 * torch.randn(len(t), generator=g)


def test_enrol_and_verify() -> None:
    feature = make_feature("mfcc", n_mfcc=20, n_mels=40)
    model = make_model("cnn1d", 20, 4, seed=0, channels=16)
    enrolled = embed_clip(model, feature, tone(120.0, seconds=5.0))
    assert enrolled.shape == (model.embedding_dim,)
    assert enrolled.norm() == pytest.approx(1.0)
    with torch.no_grad():  # the whole clip in one pass, not its first seconds
        whole = model.eval().embed(feature(tone(120.0, seconds=5.0))[None])[0]
        first = model.embed(feature(tone(120.0, seconds=5.0)[: 2 * SAMPLE_RATE])[None])[0]
    assert torch.allclose(enrolled, whole / whole.norm(), atol=1e-5)
    assert not torch.allclose(enrolled, first / first.norm(), atol=1e-3)
    same_clip, accepted = verify_clip(model, feature, enrolled, tone(120.0, seconds=5.0), 0.99)
    assert same_clip == pytest.approx(1.0, abs=1e-5) and accepted  # the enrolment clip itself
    other, _ = verify_clip(model, feature, enrolled, tone(300.0, seed=1), 0.99)
    assert other < same_clip
    score, accepted = verify_clip(model, feature, 3 * enrolled, tone(300.0, seed=1), other + 1e-3)
    assert score == pytest.approx(other, abs=1e-6) and not accepted  # a cosine: scale-free
