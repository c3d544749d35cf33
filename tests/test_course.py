"""Course settings (helpers.course); the Colab bootstrap is tested in test_colab.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

import helpers.course as course


def test_quick_switch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(course, "QUICK", True)
    assert course.quick(20, 2) == 2
    monkeypatch.setattr(course, "QUICK", False)
    assert course.quick(20, 2) == 20


def test_data_folder_from_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("AUDIO_COURSE_DATA", str(tmp_path))
    assert course.find_dataset(verbose=False) == tmp_path


@pytest.fixture
def tiers(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict[str, Path]:
    """Empty tier folders under tmp_path, no tier asked for in the environment."""
    monkeypatch.delenv("AUDIO_COURSE_DATA", raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DATA_KIND", raising=False)
    folders = {"small": tmp_path / "small", "full": tmp_path / "train-dataset"}
    monkeypatch.setattr(course, "TIER_FOLDERS", folders)
    monkeypatch.setattr(course, "SYNTHETIC_TINY", tmp_path / "tiny")
    monkeypatch.setattr(course, "SYNTHETIC_DATA", tmp_path / "synthetic")
    monkeypatch.setattr("helpers.course.make_synthetic_corpus", lambda path, **kw: Path(path))
    return folders


def complete(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ".complete").write_text("tier\n")


@pytest.mark.parametrize("kind", ["small", "full", "real"])
def test_an_asked_tier_must_be_downloaded(
    tiers: dict[str, Path], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    tier = "full" if kind == "real" else kind
    with pytest.raises(FileNotFoundError, match=rf"data_download\.py --tier {tier}`"):
        course.find_dataset(kind, verbose=False)
    complete(tiers[tier])
    monkeypatch.setattr(course, "QUICK", True)  # an asked tier wins over quick mode's tiny corpus
    assert course.find_dataset(kind, verbose=False) == tiers[tier]
    monkeypatch.setenv("AUDIO_COURSE_DATA_KIND", kind)
    assert course.find_dataset(verbose=False) == tiers[tier]


def test_without_a_tier_the_largest_downloaded_one_is_used(
    tiers: dict[str, Path], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(course, "QUICK", False)
    complete(tiers["small"])
    assert course.find_dataset(verbose=False) == tiers["small"]
    complete(tiers["full"])
    assert course.find_dataset(verbose=False) == tiers["full"]
    assert course.find_dataset("synthetic", verbose=False) == tmp_path / "synthetic"
    monkeypatch.setattr(course, "QUICK", True)  # quick mode never trains on the 5.5-GB corpus
    assert course.find_dataset(verbose=False) == tmp_path / "tiny"


def test_an_unknown_tier_is_refused(tiers: dict[str, Path]) -> None:
    with pytest.raises(ValueError, match="small, full, synthetic, not 'medium'"):
        course.find_dataset("medium", verbose=False)


def test_tier_folders_are_the_download_modules() -> None:
    import helpers.download as download

    for tier, folder in course.TIER_FOLDERS.items():
        assert download.tier_folder(tier) == folder
    assert tuple(download.TIERS) == course.DATA_KINDS


def test_synthetic_fallback_is_said_loudly(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("AUDIO_COURSE_DATA", raising=False)
    monkeypatch.delenv("AUDIO_COURSE_DATA_KIND", raising=False)
    monkeypatch.setattr(course, "TIER_FOLDERS", {"small": tmp_path / "a", "full": tmp_path / "b"})
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
    assert "SYNTHETIC" in out and "python data_download.py --tier small" in out


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


def test_keep_trained_trains_once_then_reloads_and_retrains_for_other_settings(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import helpers.checkpoints as checkpoints
    from helpers.features import make_feature
    from helpers.models import make_model
    from helpers.training import History

    monkeypatch.setenv(checkpoints.DRIVE_ENV, str(tmp_path / "drive"))
    feature = make_feature("mfcc_pooled", n_mfcc=8, n_mels=16)
    labels = {"19": 0, "26": 1}
    calls = []

    def train() -> tuple[torch.nn.Module, History]:
        calls.append(1)
        model = make_model("dense", 8, 2, seed=len(calls))
        history = History(epoch=[1, 2], val_accuracy=[0.5, 0.75], best_epoch=2)
        history.best_val_accuracy = 0.75
        return model, history

    first, trained = course.keep_trained(
        "07_x.pt", train, feature, labels, {"epochs": 2, "head": "aam"}
    )
    saved = tmp_path / "drive" / "checkpoints" / "07_x.pt"
    assert calls == [1] and saved.is_file() and f"saved {saved}" in capsys.readouterr().out
    assert trained.best_epoch == 2
    again, reloaded = course.keep_trained(
        "07_x.pt", train, feature, labels, {"epochs": 2, "head": "aam"}
    )
    assert calls == [1], "a fitting checkpoint must be reloaded, not retrained"
    assert "trained in an earlier run" in capsys.readouterr().out
    assert reloaded.best_epoch == 2 and reloaded.val_accuracy == [0.5, 0.75]
    assert not again.training
    for a, b in zip(first.state_dict().values(), again.state_dict().values(), strict=True):
        assert torch.equal(a.cpu(), b.cpu())
    course.keep_trained("07_x.pt", train, feature, labels, {"epochs": 3, "head": "aam"})
    assert calls == [1, 1], "other settings must retrain"
    course.keep_trained("07_x.pt", train, feature, {"7": 0, "8": 1}, {"epochs": 3, "head": "aam"})
    assert calls == [1, 1, 1], "other speakers must retrain"


def test_the_recommended_feature_and_model_follow_recommended() -> None:
    """The model normalises each clip itself, so its features come unnormalised; ``changes`` apply."""
    feature = course.recommended_feature()
    assert feature.n_bins == course.RECOMMENDED["n_mfcc"]
    assert feature.normalize is not course.RECOMMENDED["utterance_stats"]
    model = course.recommended_model(7, head="aam")
    assert model.name == course.RECOMMENDED["model"] and model.config["n_classes"] == 7
    assert model.config["utterance_stats"] == course.RECOMMENDED["utterance_stats"]
    assert model.config["head"] == "aam"
    again = course.recommended_model(7, head="aam")  # seeded by SEED
    assert all(torch.equal(a, b) for a, b in zip(model.parameters(), again.parameters()))
