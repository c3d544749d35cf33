"""python -m helpers.cli.train: JSON results, checkpoint, budget, and clear errors for bad combinations."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import torch
import torchaudio

from helpers.checkpoints import describe_feature, feature_from_checkpoint, load_checkpoint
from helpers.cli import train as cli
from helpers.features import make_feature
from helpers.training import evaluate

ROOT = Path(__file__).resolve().parents[1]
KEYS = {
    "val_accuracy",
    "val_utterance_accuracy",
    "macro_f1",
    "n_speakers",
    "n_train",
    "n_val",
    "parameters",
    "seconds",
    "checkpoint",
}


def test_cli_default_model_json_and_checkpoint(corpus6: Path, tmp_path: Path) -> None:
    """The command a user runs, in a fresh process: the recommended model on the tiny corpus."""
    out = tmp_path / "run"
    command = [sys.executable, "-m", "helpers.cli.train", "--data", str(corpus6), "--epochs", "12"]
    command += ["--max-minutes", "2", "--out", str(out), "--json", "--quiet"]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    assert KEYS <= set(result)
    assert result["n_speakers"] == 6 and result["n_train"] + result["n_val"] == 36
    chance = 1 / 6
    assert result["val_accuracy"] >= 3 * chance, result
    assert result["val_utterance_accuracy"] >= 3 * chance, result
    assert 0 < result["macro_f1"] <= 1
    assert result["model"] == "cnn1d" and result["feature"] == "mfcc"  # the defaults
    assert result["augment"] == "reverb,noise" and result["head"] == "softmax"
    assert any("utterance" in line for line in lines[:-1])  # the human-readable table came first
    # the checkpoint rebuilds the model and its feature, and agrees with the reported figures
    model = load_checkpoint(result["checkpoint"])
    assert sum(p.numel() for p in model.parameters()) == result["parameters"]
    feature = feature_from_checkpoint(model)
    assert feature.n_bins == 40 and model.checkpoint["feature"]["kind"] == "mfcc"
    # the recommended model normalises each clip itself: its features come unnormalised
    assert model.utterance_stats and feature.normalize is False
    assert len(model.checkpoint["speaker_to_index"]) == 6
    saved = json.loads((out / "metrics.json").read_text())
    assert saved["val_utterance_accuracy"] == result["val_utterance_accuracy"]
    assert len(json.loads((out / "history.json").read_text())["epoch"]) == result["epochs"]
    # files are named by the LDA back-end, fitted on the training files' embeddings and saved
    assert result["backend"] == "lda" and 0 <= result["softmax_utterance_accuracy"] <= 1
    backend = pickle.loads((out / "backend.pkl").read_bytes())
    assert backend[-1].classes_.tolist() == list(range(6))
    # it reads the embedding and the pooled statistics beside it (128 + 4 · 128 + 2 · 40 numbers)
    assert (
        backend[0].n_features_in_ == 128 + 4 * 128 + 2 * 40 == model.embedding[0].in_features + 128
    )


@pytest.mark.parametrize(
    "model, feature, extra",
    [
        ("dense", "mfcc_pooled", []),
        ("cnn2d", "mfcc", ["--n-mfcc", "40", "--cache", "--no-residual"]),
        ("cnn1d", "mfcc", ["--no-utterance-stats", "--augment", "none"]),
    ],
)
def test_cli_other_models(
    corpus6: Path, tmp_path: Path, capsys, model: str, feature: str, extra: list[str]
) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = ["--data", str(corpus6), "--model", model, "--feature", feature, "--epochs", "12"]
        cli.main(
            [*args, "--out", str(tmp_path), "--json", "--quiet", "--crop-seconds", "1.5", *extra]
        )
    finally:
        torch.set_num_threads(threads)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["model"] == model and result["feature"] == feature
    assert result["val_utterance_accuracy"] >= 0.4, result  # chance 1/6; 12 files, 1 file = 8 %
    saved = load_checkpoint(result["checkpoint"])
    assert saved.config.get("residual") == ("--no-residual" not in extra)
    assert feature_from_checkpoint(saved).normalize  # only cnn1d with utterance_stats skips it
    assert not saved.config.get("utterance_stats", False)


def test_cli_baseline_same_table_and_json(corpus6: Path, tmp_path: Path, capsys) -> None:
    """``--model baseline``: MFCC statistics + logistic regression, reported like the networks."""
    options = ["--holdout-speakers", "2", "--out", str(tmp_path), "--json", "--quiet"]
    cli.main(["--data", str(corpus6), "--model", "baseline", *options])
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert KEYS <= set(result) and {"eer", "min_dcf", "epochs", "head"} <= set(result)
    assert result["model"] == "baseline" and result["feature"] == "mfcc40 mean+std"
    assert result["parameters"] == 4 * (2 * 40) + 4  # 4 seen speakers, 80 statistics, biases
    assert result["val_utterance_accuracy"] == result["val_accuracy"] >= 0.75, result  # chance 1/4
    assert 0 <= result["eer"] <= 0.5 and result["n_speakers"] == 4
    assert any("whole file" in line for line in lines) and any("EER" in line for line in lines)
    pipeline = pickle.loads(Path(result["checkpoint"]).read_bytes())
    assert len(pipeline.classes_) == 4
    assert json.loads((tmp_path / "metrics.json").read_text())["model"] == "baseline"


@pytest.mark.parametrize(
    "model, feature, hint",
    [
        ("dense", "mfcc", "mfcc_pooled"),
        ("cnn1d", "spectrogram_pooled", "spectrogram"),
        ("cnn2d", "mfcc_pooled", "mfcc"),
    ],
)
def test_cli_rejects_incompatible_model_and_feature(
    corpus6: Path, capsys, model: str, feature: str, hint: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--data", str(corpus6), "--model", model, "--feature", feature])
    assert exit_info.value.code == 2
    error = capsys.readouterr().err
    assert f"model {model!r}" in error and hint in error


@pytest.mark.parametrize(
    "options, message",
    [
        (["--epochs", "0"], "at least 1"),
        (["--max-minutes", "-1"], "positive"),
        (["--val-fraction", "1.5"], "between 0 and 1"),
        (["--model", "cnn2d", "--aggregate"], "only cnn1d pools"),
        (["--model", "dense", "--feature", "mfcc_pooled", "--spec-augment"], "no SpecAugment"),
    ],
)
def test_cli_rejects_nonsense_options(
    corpus6: Path, capsys, options: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--data", str(corpus6), *options])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------------------------------
# Held-out speakers, augmentation and the margin head (issue 11)


def test_holdout_split_has_no_speaker_on_both_sides(corpus6: Path) -> None:
    args = cli.build_parser().parse_args(["--data", str(corpus6), "--holdout-speakers", "2"])
    data = cli.prepare_data(args, torch.device("cpu"))
    unseen = {u.speaker for u in data.unseen}
    trained = {u.speaker for u in data.train} | {u.speaker for u in data.val}
    assert len(unseen) == 2 and len(trained) == 4 and not unseen & trained
    assert set(data.labels) == trained  # no class for a held-out speaker
    assert len(data.unseen) + len(data.train) + len(data.val) == 36  # every file used once
    assert set(data.datasets["unseen"].speaker_to_index) == unseen
    again = cli.prepare_data(args, torch.device("cpu"))
    assert {u.speaker for u in again.unseen} == unseen  # the seed fixes the choice
    other = cli.build_parser().parse_args([*["--data", str(corpus6)], "--holdout-speakers", "2"])
    other.seed = 1
    assert {u.speaker for u in cli.prepare_data(other, torch.device("cpu")).unseen} != unseen


def test_cli_holdout_reports_verification(corpus6: Path, tmp_path: Path, capsys) -> None:
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = ["--data", str(corpus6), "--holdout-speakers", "2", "--epochs", "3"]
        args += ["--augment", "reverb,noise,eq", "--head", "aam", "--crop-seconds", "1.5"]
        cli.main([*args, "--out", str(tmp_path), "--json", "--quiet"])
    finally:
        torch.set_num_threads(threads)
    lines = capsys.readouterr().out.strip().splitlines()
    result = json.loads(lines[-1])
    assert result["n_speakers"] == 4 and result["holdout_speakers"] == 2
    assert result["holdout_files"] == 12 and result["trials"] == 12 * 11 // 2
    assert result["target_trials"] == 2 * (6 * 5 // 2)
    assert 0 <= result["eer"] <= 1 and 0 <= result["min_dcf"] <= 1
    assert result["augment"] == "reverb,noise,eq" and result["head"] == "aam"
    assert any(line.startswith("EER") for line in lines) and any("minDCF" in line for line in lines)
    saved = json.loads((tmp_path / "metrics.json").read_text())
    assert saved["eer"] == result["eer"]
    model = load_checkpoint(result["checkpoint"])
    assert model.config["head"] == "aam" and len(model.checkpoint["speaker_to_index"]) == 4
    # the EER is of embeddings projected by the back-end; the plain cosine's is reported beside it
    assert 0 <= result["cosine_eer"] <= 1


def test_cli_softmax_backend_names_files_by_the_classifier(
    corpus6: Path, tmp_path: Path, capsys
) -> None:
    """``--backend softmax``: the classifier's averaged crops decide, as ``evaluate`` does."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        args = ["--data", str(corpus6), "--epochs", "3", "--crop-seconds", "1.5", "--seed", "2"]
        cli.main([*args, "--backend", "softmax", "--out", str(tmp_path), "--json", "--quiet"])
    finally:
        torch.set_num_threads(threads)
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["backend"] == "softmax" and "softmax_utterance_accuracy" not in result
    assert not (tmp_path / "backend.pkl").exists()
    data = cli.prepare_data(cli.build_parser().parse_args(args), torch.device("cpu"))
    model = load_checkpoint(result["checkpoint"])
    scored = evaluate(model, data.datasets["val"], batch_transform=data.batch_transform)
    assert result["val_utterance_accuracy"] == scored["utterance_accuracy"]


@pytest.mark.parametrize(
    "options, message",
    [
        (["--augment", "reverb,echo"], "unknown augmentation"),
        (["--augment-p", "2"], "--augment-p"),
        (["--head", "arcface"], "invalid choice"),
    ],
)
def test_cli_rejects_bad_robustness_options(
    corpus6: Path, capsys, options: list[str], message: str
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--data", str(corpus6), *options])
    assert exit_info.value.code == 2
    assert message in capsys.readouterr().err


def test_cli_mel_bands_stop_at_the_lowest_nyquist_of_the_corpus(
    corpus6: Path, tmp_path: Path
) -> None:
    """On a corpus with 8-kHz files the MFCCs' mel bands stop at 4 kHz, so both rates fill every
    band; an all-16-kHz corpus keeps the full band; ``--f-max`` overrides; checkpoints keep it."""
    mixed = tmp_path / "mixed"
    shutil.copytree(corpus6, mixed)
    first_speaker = sorted(mixed.rglob("*.flac"))[:6]  # re-recorded at 8 kHz
    for path in first_speaker:
        audio, rate = sf.read(path)
        sf.write(path, torchaudio.functional.resample(torch.from_numpy(audio), rate, 8_000), 8_000)

    def f_max(*args: str) -> float:
        data = cli.prepare_data(cli.build_parser().parse_args(args), torch.device("cpu"))
        return data.feature.mel_scale.f_max

    assert f_max("--data", str(mixed)) == 4_000
    assert f_max("--data", str(corpus6)) == 8_000
    assert f_max("--data", str(mixed), "--f-max", "8000") == 8_000
    assert f_max("--data", str(corpus6), "--f-max", "3000") == 3_000
    feature = make_feature("mfcc", f_max=4_000)
    rebuilt = feature_from_checkpoint({"feature": describe_feature(feature)})
    assert repr(rebuilt) == repr(feature)


def test_cli_rejects_holding_out_too_many_speakers(corpus6: Path) -> None:
    with pytest.raises(SystemExit, match="has 6 speakers"):
        cli.main(["--data", str(corpus6), "--holdout-speakers", "5", "--quiet"])
