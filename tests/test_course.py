"""Course settings (helpers.course) and the Colab bootstrap (helpers.colab)."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
import torch

import helpers.colab as colab
import helpers.course as course


def test_quick_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(course, "QUICK", True)
    assert course.quick(20, 2) == 2
    monkeypatch.setattr(course, "QUICK", False)
    assert course.quick(20, 2) == 20


def test_data_folder_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AUDIO_COURSE_DATA", str(tmp_path))
    assert course.find_dataset(verbose=False) == tmp_path


def test_real_data_is_used_when_complete_and_demanded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("AUDIO_COURSE_DATA", raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DATA_KIND", raising=False)
    monkeypatch.setattr(course, "REAL_DATA", tmp_path / "train-dataset")
    with pytest.raises(FileNotFoundError, match=r"data_download\.py"):
        course.find_dataset(prefer="real", verbose=False)
    (tmp_path / "train-dataset").mkdir()
    (tmp_path / "train-dataset" / ".complete").write_text("real\n")
    monkeypatch.setattr(course, "QUICK", False)
    assert course.find_dataset(verbose=False) == tmp_path / "train-dataset"
    monkeypatch.setattr(course, "QUICK", True)  # quick mode never trains on the 5.5-GB corpus
    monkeypatch.setattr(course, "SYNTHETIC_TINY", tmp_path / "tiny")
    monkeypatch.setattr("helpers.course.make_synthetic_corpus", lambda path, **kw: Path(path))
    assert course.find_dataset(verbose=False) == tmp_path / "tiny"


def test_synthetic_fallback_is_said_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AUDIO_COURSE_DATA", raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DATA_KIND", raising=False)
    monkeypatch.setattr(course, "REAL_DATA", tmp_path / "absent")
    monkeypatch.setattr(course, "QUICK", False)
    monkeypatch.setattr(course, "SYNTHETIC_DATA", tmp_path / "synthetic")
    calls = []
    monkeypatch.setattr(
        "helpers.course.make_synthetic_corpus",
        lambda path, **kw: calls.append(kw) or Path(path),
    )
    assert course.find_dataset() == tmp_path / "synthetic"
    assert calls[0]["n_speakers"] == 24
    out = capsys.readouterr().out
    assert "SYNTHETIC" in out and "python data_download.py" in out


def test_seed_everything_repeats_torch_and_numpy() -> None:
    import numpy as np

    course.seed_everything(3)
    first = (torch.rand(3), np.random.rand(3))
    course.seed_everything(3)
    second = (torch.rand(3), np.random.rand(3))
    assert torch.equal(first[0], second[0]) and np.array_equal(first[1], second[1])


def test_headline_is_printed_and_recorded(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "h" / "05.json"
    monkeypatch.setenv("AUDIO_COURSE_HEADLINE", str(target))
    course.headline("utterance accuracy", 0.98765)
    assert "utterance accuracy = 0.9877" in capsys.readouterr().out
    assert json.loads(target.read_text()) == {"name": "utterance accuracy", "value": 0.98765}


# ---------------------------------------------------------------------------------- Colab bootstrap


def test_colab_setup_does_nothing_outside_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(colab, "run", lambda *a, **k: pytest.fail("ran a command outside Colab"))
    assert not colab.is_colab()
    colab.setup()


def test_colab_installs_only_what_is_missing_never_torch(monkeypatch: pytest.MonkeyPatch) -> None:
    assert {"torch", "torchaudio", "numpy"}.isdisjoint(colab.KIT_PACKAGES.values())
    monkeypatch.setattr(colab, "missing_packages", lambda needed: ["gdown", "plotly"])
    commands = []
    monkeypatch.setattr(colab, "run", lambda cmd, cwd=None: commands.append(cmd) or 0)
    assert colab.install_packages() == ["gdown", "plotly"]
    (cmd,) = commands
    assert cmd[:4] == [sys.executable, "-m", "pip", "install"]
    assert any(c.startswith("gdown") for c in cmd) and any(c.startswith("plotly") for c in cmd)
    assert not any(c.startswith(("torch", "numpy")) for c in cmd)


def test_missing_packages_uses_import_names() -> None:
    assert colab.missing_packages({"json": "json-dist", "no_such_module_xyz": "xyz-dist"}) == [
        "xyz-dist"
    ]


def test_colab_falls_back_to_synthetic_when_download_fails(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(colab, "REAL_DATA", tmp_path / "train-dataset")
    monkeypatch.setattr(colab, "SYNTHETIC_DATA", tmp_path / "synthetic")
    commands = []

    def fake_run(cmd: list[str], cwd: Path | None = None) -> int:
        commands.append(cmd)
        return 1 if "data_download.py" in cmd else 0

    monkeypatch.setattr(colab, "run", fake_run)
    assert colab.get_data("auto") == tmp_path / "synthetic"
    assert commands[0][1:] == ["data_download.py"]
    assert commands[1][1:] == ["-m", "helpers.course"]
    assert "SYNTHETIC" in capsys.readouterr().out
    with pytest.raises(RuntimeError, match="download"):
        colab.get_data("real")
