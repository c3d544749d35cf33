"""The GPU path (issue 8.5) runs on this CPU-only machine: ``AUDIO_COURSE_FEATURES_ON_DEVICE=1``.

On CUDA the kit computes features per batch on the device (items are waveforms, the feature module
is ``batch_transform``) with 2 loader workers; ``AUDIO_COURSE_FEATURES_ON_DEVICE=1`` makes the
training CLI and the notebooks (``helpers.course.make_sets``) take exactly that branch on a CPU.
The Colab simulation runs notebooks 05 and 06 that way; these tests cover the CLI and make_sets.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import helpers.course as course
from helpers.checkpoints import feature_from_checkpoint, load_checkpoint
from helpers.features import make_feature

ROOT = Path(__file__).resolve().parents[1]


def train_cli(corpus: Path, out: Path, switch: str | None) -> tuple[dict, str]:
    env = {k: v for k, v in os.environ.items() if k != "AUDIO_COURSE_FEATURES_ON_DEVICE"}
    if switch is not None:
        env["AUDIO_COURSE_FEATURES_ON_DEVICE"] = switch
    command = [sys.executable, "-m", "helpers.cli.train", "--data", str(corpus), "--epochs", "10"]
    command += ["--max-minutes", "2", "--out", str(out), "--json", "--quiet", "--device", "cpu"]
    command += ["--augment", "none"]  # waveform augmentation would ask for waveform items itself
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=180)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1]), done.stdout


def test_the_cli_takes_the_gpu_branch_on_a_cpu_when_switched(corpus6: Path, tmp_path: Path) -> None:
    result, text = train_cli(corpus6, tmp_path / "on-device", "1")
    assert result["features_on_device"] is True and result["device"] == "cpu"
    assert "features    per batch on cpu (waveform items)" in text
    assert "2 loader workers" in text
    assert result["val_utterance_accuracy"] >= 3 / 6, result  # 3x chance, 6 speakers
    model = load_checkpoint(result["checkpoint"])  # the batch transform was saved as the feature
    assert feature_from_checkpoint(model).n_bins == course.RECOMMENDED["n_mfcc"]


def test_the_cli_keeps_features_per_item_on_a_cpu_by_default(corpus6: Path, tmp_path: Path) -> None:
    result, text = train_cli(corpus6, tmp_path / "per-item", None)
    assert result["features_on_device"] is False
    assert "features    per item\n" in text and "0 loader workers" in text
    assert result["val_utterance_accuracy"] >= 3 / 6, result


@pytest.mark.parametrize(("switch", "on_device"), [("1", True), ("0", False), ("", False)])
def test_make_sets_follows_the_switch(
    corpus6: Path, monkeypatch: pytest.MonkeyPatch, switch: str, on_device: bool
) -> None:
    monkeypatch.setenv("AUDIO_COURSE_FEATURES_ON_DEVICE", switch)
    feature = make_feature("mfcc", n_mfcc=20, n_mels=40)
    sets = course.make_sets(corpus6, feature, cache=False)
    x, _ = sets.train[0]
    if (
        on_device
    ):  # a waveform of 3 s at 16 kHz (the whole file if shorter); the feature runs on the batch
        samples = min(48_000, round(sets.train.utterances[0].seconds * 16_000))
        assert sets.batch_transform is feature and x.shape == (samples,)
        assert feature(x[None]).shape[1] == 20
    else:  # the Dataset computes (n_mfcc, frames) itself
        assert sets.batch_transform is None and x.shape[0] == 20 and x.ndim == 2
    assert x.dtype == torch.float32
