"""Enrol your own voice (07): record (Colab) or load a clip, embed it, verify another against it::

    clip = record_clip(4.0)                  # Colab: the browser records 4 s from the microphone
    clip = load_audio("me.wav")              # elsewhere: a file (helpers.audio)
    voice = embed_clip(model, feature, clip)                      # (embedding_dim,), unit length
    accepted = verify_clip(model, feature, voice, other_clip, threshold)

Recording runs ``RECORD_JS`` (``MediaRecorder``, Web Audio decoding, base64 16-bit PCM back) through
Colab's ``google.colab.output.eval_js``, or any ``bridge=`` (the tests pass one).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable

import numpy as np
import torch
import torchaudio.functional as AF
from torch import nn

from .audio import SAMPLE_RATE

RECORD_JS = """
async function recordClip(milliseconds) {
  const stream = await navigator.mediaDevices.getUserMedia({audio: true});
  const recorder = new MediaRecorder(stream);
  const chunks = [];
  recorder.ondataavailable = (event) => chunks.push(event.data);
  const stopped = new Promise((resolve) => (recorder.onstop = resolve));
  recorder.start();
  await new Promise((resolve) => setTimeout(resolve, milliseconds));
  recorder.stop();
  await stopped;
  stream.getTracks().forEach((track) => track.stop());
  const context = new AudioContext();
  const audio = await context.decodeAudioData(await new Blob(chunks).arrayBuffer());
  const samples = audio.getChannelData(0);
  const pcm = new Int16Array(samples.length);
  for (let i = 0; i < samples.length; i++) {
    pcm[i] = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
  }
  let binary = "";
  const bytes = new Uint8Array(pcm.buffer);
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]);
  return JSON.stringify({sample_rate: audio.sampleRate, pcm16: btoa(binary)});
}
"""


def colab_bridge() -> Callable[[str], str] | None:
    """``google.colab.output.eval_js`` in a Colab runtime, else ``None`` (no browser to record in)."""
    try:
        from google.colab import output  # type: ignore[import-not-found]
    except ImportError:
        return None
    return output.eval_js


def record_clip(
    seconds: float = 4.0, bridge: Callable[[str], str] | None = None, sample_rate: int = SAMPLE_RATE
) -> torch.Tensor:
    """``seconds`` (s) of microphone: ``(samples,)`` float32 in [-1, 1] at ``sample_rate`` (Hz).

    ``bridge(js) -> str`` runs JavaScript in the browser (default ``colab_bridge()``); RuntimeError
    without one, or when the browser sent nothing (microphone refused).
    """
    bridge = bridge if bridge is not None else colab_bridge()
    if bridge is None:
        raise RuntimeError(
            "recording needs Colab's browser bridge (google.colab.output.eval_js); here, record a "
            "clip with any recorder app and load it: helpers.audio.load_audio('my_voice.wav')"
        )
    reply = json.loads(bridge(RECORD_JS + f"\nrecordClip({round(seconds * 1000)})"))
    pcm = np.frombuffer(base64.b64decode(reply["pcm16"]), dtype="<i2")
    if pcm.size == 0:
        raise RuntimeError("the browser recorded nothing: allow the microphone and try again")
    waveform = torch.from_numpy(pcm.astype(np.float32) / 32768.0)
    rate = round(float(reply["sample_rate"]))
    if rate != sample_rate:
        waveform = AF.resample(waveform, rate, sample_rate)
    return waveform


@torch.no_grad()
def embed_clip(
    model: nn.Module, feature: nn.Module, waveform: torch.Tensor, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Unit-length embedding ``(embedding_dim,)`` of a clip ``(samples,)`` at ``SAMPLE_RATE``."""
    model.to(device).eval()
    features = feature.to(device).eval()(waveform[None].to(device))  # (1, n_bins, frames)
    embedding = model.embed(features)[0].float().cpu()
    return embedding / embedding.norm().clamp(min=1e-12)


def verify_clip(
    model: nn.Module,
    feature: nn.Module,
    enrolled: torch.Tensor,
    waveform: torch.Tensor,
    threshold: float,
    device: str | torch.device = "cpu",
) -> tuple[float, bool]:
    """``(cosine score, score >= threshold)`` of a clip against ``enrolled`` (``embed_clip``'s)."""
    embedding = embed_clip(model, feature, waveform, device)
    score = float(torch.nn.functional.cosine_similarity(embedding, enrolled.float(), dim=0))
    return score, score >= threshold
