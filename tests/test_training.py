"""helpers.training: fit beats chance with every model, reproducibility, budget, checkpoints, evaluate."""

from __future__ import annotations

import itertools
import math
import time
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from helpers.audio import fit_length, load_audio
from helpers.checkpoints import feature_from_checkpoint, load_checkpoint, save_checkpoint
from helpers.corpus import load_manifest, speaker_to_index
from helpers.corpus import split_utterances as split
from helpers.dataset import SpeakerDataset, make_loader
from helpers.features import make_feature
from helpers.models import make_model
from helpers.plots import plot_history
from helpers.training import History, evaluate, fit, lr_at, predict

matplotlib.use("Agg")

CROP = 1.5  # seconds: short crops keep the tests fast
SMALL = {
    "dense": ("mfcc_pooled", {"hidden": 64, "embedding_dim": 32}),
    "cnn1d": ("mfcc", {"channels": 32, "embedding_dim": 32}),
    "cnn2d": ("mfcc", {"channels": (8, 16), "embedding_dim": 32}),
}


@pytest.fixture(scope="module", autouse=True)
def single_thread():
    """Tiny models gain nothing from threads, and one thread is immune to a busy machine."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def split_corpus(corpus6: Path):
    manifest = load_manifest(corpus6, progress=False)
    labels = speaker_to_index(manifest.utterances)
    train, val = split(manifest.utterances, val_fraction=0.3, seed=0)
    return corpus6, labels, train, val


def _sets(split_corpus, kind: str, feature_in_dataset: bool = True):
    root, labels, train, val = split_corpus
    feature = make_feature(kind)
    item = feature if feature_in_dataset else None
    train_set = SpeakerDataset(train, labels, root, item, CROP, train=True, seed=0)
    val_set = SpeakerDataset(val, labels, root, item, CROP, train=False)
    train_loader = make_loader(train_set, 8, shuffle=True, seed=0, num_workers=0, drop_last=True)
    val_loader = make_loader(val_set, 32, num_workers=0)
    return feature, train_set, val_set, train_loader, val_loader


@pytest.fixture(scope="module")
def trained(split_corpus, tmp_path_factory: pytest.TempPathFactory):
    """Each model trained once on the 6-speaker corpus (with a checkpoint)."""
    runs = {}
    for name, (kind, options) in SMALL.items():
        feature, _train_set, val_set, train_loader, val_loader = _sets(split_corpus, kind)
        model = make_model(name, feature.n_bins, len(split_corpus[1]), seed=0, **options)
        path = tmp_path_factory.mktemp(name) / "best.pt"
        history = fit(
            model, train_loader, val_loader, epochs=16, checkpoint=path, progress=False, seed=0
        )
        runs[name] = (model, history, path, feature, val_set, val_loader)
    return runs


@pytest.mark.parametrize("name", list(SMALL))
def test_every_model_beats_chance_by_far(trained, name: str) -> None:
    model, history, _, _, val_set, _ = trained[name]
    chance = 1 / 6
    result = evaluate(model, val_set, device="cpu")
    assert result["accuracy"] >= 3 * chance, (name, result["accuracy"])
    assert result["utterance_accuracy"] >= 3 * chance, (name, result["utterance_accuracy"])
    assert history.train_loss[-1] < history.train_loss[0]
    assert history.stopped == "completed" and len(history.epoch) == 16


def test_fit_keeps_the_best_epoch_in_memory_and_on_disk(trained) -> None:
    model, history, path, _feature, val_set, val_loader = trained["cnn1d"]
    best = int(np.argmax(history.val_accuracy))
    assert history.best_val_accuracy == max(history.val_accuracy)
    # ties go to the lower validation loss
    ties = [i for i, a in enumerate(history.val_accuracy) if a == history.best_val_accuracy]
    assert history.best_epoch == 1 + min(ties, key=lambda i: history.val_loss[i])
    assert best + 1 in [t + 1 for t in ties]
    logits, labels = predict(model, val_loader, device="cpu")
    accuracy = (logits.argmax(1) == labels).float().mean().item()
    assert accuracy == pytest.approx(history.best_val_accuracy)  # the model holds the best weights
    reloaded = load_checkpoint(path)
    assert reloaded.checkpoint["epoch"] == history.best_epoch
    assert reloaded.checkpoint["speaker_to_index"] == val_set.speaker_to_index
    assert reloaded.checkpoint["crop_seconds"] == CROP
    x = next(iter(val_loader))[0]
    with torch.no_grad():
        assert torch.equal(reloaded(x), model.eval()(x))


@pytest.mark.parametrize("name", list(SMALL))
def test_checkpoint_round_trip_gives_identical_outputs(trained, tmp_path: Path, name: str) -> None:
    model, _, _, feature, val_set, val_loader = trained[name]
    path = save_checkpoint(
        tmp_path / "model.pt",
        model,
        feature=feature,
        speaker_to_index=val_set.speaker_to_index,
        accuracy=np.float64(0.75),  # numpy numbers and paths in the metadata are stored plainly
        folder=tmp_path,
    )
    rebuilt = load_checkpoint(path)  # rebuilt from the checkpoint's own description
    assert type(rebuilt) is type(model) and rebuilt.config == model.config
    x = next(iter(val_loader))[0]
    with torch.no_grad():
        assert torch.equal(rebuilt(x), model.eval()(x))
        assert torch.equal(rebuilt.embed(x), model.embed(x))
    assert rebuilt.checkpoint["speaker_to_index"] == val_set.speaker_to_index
    assert rebuilt.checkpoint["accuracy"] == 0.75 and rebuilt.checkpoint["folder"] == str(tmp_path)
    # the feature is rebuilt identically from its description
    again = feature_from_checkpoint(rebuilt)
    waveform = torch.randn(16_000, generator=torch.Generator().manual_seed(0))
    assert repr(again) == repr(feature)
    assert torch.equal(again(waveform), feature(waveform))


def test_same_seed_same_metrics(split_corpus) -> None:
    def run(max_minutes: float | None = None) -> tuple[History, dict]:
        feature, _, val_set, train_loader, val_loader = _sets(split_corpus, "mfcc")
        model = make_model("cnn1d", feature.n_bins, 6, seed=3, channels=16)
        history = fit(
            model, train_loader, val_loader, epochs=3, max_minutes=max_minutes, progress=False,
            seed=3,
        )  # fmt: skip
        return history, evaluate(model, val_set, device="cpu")

    # the second run has a time budget that it does not need: the schedule must not change
    (h1, r1), (h2, r2) = run(), run(max_minutes=30)
    assert h1.train_loss == h2.train_loss and h1.val_loss == h2.val_loss
    assert h1.train_accuracy == h2.train_accuracy and h1.val_accuracy == h2.val_accuracy
    assert h1.lr == h2.lr
    assert np.array_equal(r1["logits"], r2["logits"])
    assert r1["utterance_accuracy"] == r2["utterance_accuracy"]


def test_features_per_batch_match_features_per_item(split_corpus) -> None:
    """The GPU path (waveforms + batch_transform) trains like the CPU path (features per item)."""
    histories = []
    for in_dataset in (True, False):
        feature, _, _, train_loader, val_loader = _sets(split_corpus, "mfcc", in_dataset)
        model = make_model("cnn1d", feature.n_bins, 6, seed=0, channels=16)
        transform = None if in_dataset else feature
        histories.append(
            fit(
                model, train_loader, val_loader, epochs=2, batch_transform=transform, progress=False
            )
        )
    per_item, per_batch = histories
    assert np.allclose(per_item.train_loss, per_batch.train_loss, rtol=1e-3)
    assert np.allclose(per_item.val_loss, per_batch.val_loss, rtol=1e-3)


def test_set_epoch_is_called_every_epoch(split_corpus) -> None:
    _, train_set, _, train_loader, _ = _sets(split_corpus, "mfcc_pooled")
    seen = []
    original = train_set.set_epoch
    train_set.set_epoch = lambda epoch: (seen.append(epoch), original(epoch))
    model = make_model("dense", 40, 6, hidden=16)
    fit(model, train_loader, epochs=3, progress=False)
    assert seen == [0, 1, 2]


def test_max_minutes_compresses_the_schedule_and_stops_in_time(split_corpus) -> None:
    feature, _, _, train_loader, val_loader = _sets(split_corpus, "mfcc")
    model = make_model("cnn1d", feature.n_bins, 6, channels=16)
    budget = 3.0  # seconds, for far more epochs than fit in it
    start = time.perf_counter()
    history = fit(
        model, train_loader, val_loader, epochs=10_000, lr=1e-2, max_minutes=budget / 60,
        progress=False,
    )  # fmt: skip
    elapsed = time.perf_counter() - start
    assert history.stopped == "time budget"
    assert 1 < len(history.epoch) < 10_000
    assert elapsed < budget + 2.0
    assert history.planned_epochs < 10_000  # the bar shows the epochs that fit
    assert max(history.lr) > 5e-3  # the schedule warmed up to its peak ...
    assert history.lr[-1] < 1e-3  # ... and annealed before the budget ran out


def test_patience_stops_a_run_that_does_not_improve(split_corpus) -> None:
    feature, _, _, train_loader, val_loader = _sets(split_corpus, "mfcc_pooled")
    model = make_model("dense", feature.n_bins, 6, hidden=16)
    history = fit(model, train_loader, val_loader, epochs=50, lr=0.0, patience=2, progress=False)
    assert history.stopped == "early stopping"
    assert len(history.epoch) == history.best_epoch + 2


def test_lr_schedule_warms_up_then_anneals() -> None:
    assert lr_at(0.0, 1.0, warmup=0.1) == pytest.approx(0.04)
    assert lr_at(0.1, 1.0, warmup=0.1) == pytest.approx(1.0)
    assert lr_at(1.0, 1.0, warmup=0.1) == pytest.approx(1e-3)
    values = [lr_at(p, 1.0, warmup=0.1) for p in np.linspace(0.1, 1.0, 50)]
    assert all(a >= b for a, b in itertools.pairwise(values))
    assert lr_at(0.55, 1.0, warmup=0.1) == pytest.approx(0.5, abs=1e-3)  # cosine midpoint


def test_evaluate_scores_whole_utterances(trained) -> None:
    model, _, _, _, val_set, _ = trained["cnn1d"]
    result = evaluate(model, val_set, device="cpu", max_crops=4, batch_size=8)
    n = len(val_set)
    assert result["y_true"].tolist() == val_set.labels()
    assert result["logits"].shape == (n, 6) and result["utterance_log_probs"].shape == (n, 6)
    expected_crops = [min(4, max(1, math.ceil(u.seconds / CROP))) for u in val_set.utterances]
    assert result["n_crops"].tolist() == expected_crops
    assert max(expected_crops) > 1  # the test means something: some files have several crops
    # utterance score = mean log-probability of the crops covering the file
    i = int(np.argmax(result["n_crops"]))
    with torch.no_grad():
        crops = val_set.utterance_crops(i, max_crops=4)
        expected = torch.log_softmax(model.eval()(crops), dim=1).mean(0)
    assert np.allclose(result["utterance_log_probs"][i], expected.numpy(), atol=1e-5)
    assert result["utterance_y_pred"][i] == int(expected.argmax())
    assert result["accuracy"] == pytest.approx(np.mean(result["y_pred"] == result["y_true"]))


def test_plot_history(trained) -> None:
    _, history, _, _, _, _ = trained["dense"]
    figure = plot_history(history, title="dense")
    loss_ax, acc_ax = figure.axes
    assert loss_ax.get_xlabel() == "epoch" and "loss" in loss_ax.get_ylabel()
    assert acc_ax.get_ylabel() == "accuracy"
    assert len(loss_ax.lines) == 2  # training and validation
    assert figure.get_suptitle() == "dense"
    assert set(history.as_dict()) >= {"train_loss", "val_accuracy", "best_epoch", "stopped"}


def test_empty_loader_is_an_error(split_corpus) -> None:
    _, train_set, _, _, _ = _sets(split_corpus, "mfcc_pooled")
    empty = DataLoader(train_set, batch_size=1000, drop_last=True)
    with pytest.raises(ValueError, match="empty"):
        fit(make_model("dense", 40, 6), empty, epochs=1, progress=False)


def test_short_clips_score_like_the_clip_alone_never_padded(split_corpus) -> None:
    """A file shorter than the crop: evaluate scores the clip alone, never the clip plus padding,
    at crop and utterance level, in a batch with longer files (issue 19)."""
    root, labels, _, val = split_corpus
    feature = make_feature("mfcc")
    val_set = SpeakerDataset(val, labels, root, feature, crop_seconds=3.0, train=False)
    short = [i for i, u in enumerate(val) if u.seconds < 3.0]
    assert short and len(short) < len(val)  # short and long files in one evaluation
    model = make_model("cnn1d", feature.n_bins, len(labels), seed=0, channels=16).eval()
    result = evaluate(model, val_set, device="cpu", batch_size=64)
    assert list(result["y_true"]) == val_set.labels()  # the dataset's order
    for i in short:
        clip = load_audio(root / val[i].path)
        with torch.no_grad():
            alone = model(feature(clip)[None])[0]
            padded = model(feature(fit_length(clip, 48_000))[None])[0]
        torch.testing.assert_close(torch.from_numpy(result["logits"][i]), alone)
        alone_log_probs = torch.log_softmax(alone, 0)
        torch.testing.assert_close(
            torch.from_numpy(result["utterance_log_probs"][i]), alone_log_probs
        )
        assert not torch.allclose(alone, padded, atol=1e-3)  # padding would have changed the score
    x, _ = next(iter(make_loader(val_set, batch_size=len(val_set), num_workers=0)))
    assert x.shape[-1] == min(feature.frames(round(u.seconds * 16_000)) for u in val)
