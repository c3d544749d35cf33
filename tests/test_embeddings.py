"""helpers.embeddings: EER on constructed scores, trials, PCA, the 3-D plot, unseen-speaker verification."""

from __future__ import annotations

from math import erf, sqrt
from pathlib import Path

import matplotlib
import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from sklearn.decomposition import PCA

from helpers.corpus import holdout_speakers, load_manifest, speaker_to_index
from helpers.corpus import split_utterances as split
from helpers.dataset import SpeakerDataset, make_loader
from helpers.embeddings import (
    EmbeddingModel,
    choose_speakers,
    extract_embeddings,
    fit_lda_backend,
    load_embedding_model,
    pca_3d,
)
from helpers.features import make_feature
from helpers.metrics import cosine_scores, equal_error_rate, verification_trials
from helpers.models import make_model
from helpers.plots import plot_embeddings_3d, plot_roc
from helpers.training import fit

matplotlib.use("Agg")


# --------------------------------------------------------------------------------------------------
# Equal error rate on constructed score sets


def test_eer_of_perfectly_separated_scores_is_zero() -> None:
    scores = np.array([0.9, 0.8, 0.7, 0.2, 0.1, -0.3])
    same = np.array([True, True, True, False, False, False])
    eer, threshold = equal_error_rate(scores, same)
    assert eer == 0.0
    assert (scores[same] >= threshold).all() and (scores[~same] < threshold).all()


@pytest.mark.parametrize(
    "positives, negatives, expected_eer, expected_threshold",
    [
        # one impostor (3.5) above one genuine trial (3): 1 false acceptance and 1 false rejection
        # out of 4 each, at threshold 3.5
        ([3, 4, 5, 6], [0, 1, 2, 3.5], 0.25, 3.5),
        # fully interleaved: at threshold 4, half of each side is on the wrong side
        ([1, 3, 5, 7], [0, 2, 4, 6], 0.5, 4.0),
    ],
)
def test_eer_of_overlapping_scores(positives, negatives, expected_eer, expected_threshold) -> None:
    scores = np.array(positives + negatives, dtype=float)
    same = np.array([True] * len(positives) + [False] * len(negatives))
    eer, threshold = equal_error_rate(scores, same)
    assert eer == pytest.approx(expected_eer)
    assert threshold == pytest.approx(expected_threshold)
    far = np.mean(scores[~same] >= threshold)
    frr = np.mean(scores[same] < threshold)
    assert far == pytest.approx(expected_eer) and frr == pytest.approx(expected_eer)


def test_eer_of_two_gaussians_matches_theory() -> None:
    """Genuine scores N(1, 1), impostors N(-1, 1): the EER is at 0, Phi(-1) = 15.87 %."""
    rng = np.random.default_rng(0)
    n = 200_000
    scores = np.concatenate([rng.normal(1, 1, n), rng.normal(-1, 1, n)])
    same = np.arange(2 * n) < n
    eer, threshold = equal_error_rate(scores, same)
    assert eer == pytest.approx(0.5 * (1 + erf(-1 / sqrt(2))), abs=0.003)
    assert threshold == pytest.approx(0.0, abs=0.02)


def test_eer_needs_both_kinds_of_trials() -> None:
    with pytest.raises(ValueError, match="both"):
        equal_error_rate(np.array([0.1, 0.2]), np.array([True, True]))


def test_plot_roc_marks_the_eer() -> None:
    scores = np.array([3, 4, 5, 6, 0, 1, 2, 3.5])
    same = np.arange(8) < 4
    ax = plot_roc(scores, same, title="ROC")
    assert ax.get_xlabel() == "false acceptance rate" and "true acceptance" in ax.get_ylabel()
    assert ax.get_title() == "ROC"
    eer_point = next(line for line in ax.lines if "EER" in line.get_label())
    assert eer_point.get_xdata()[0] == pytest.approx(0.25)
    assert "25.0 %" in eer_point.get_label()


# --------------------------------------------------------------------------------------------------
# Scores, trials, speakers, PCA, plot


def test_cosine_scores() -> None:
    a = np.array([[1.0, 0.0], [0.0, 2.0], [3.0, 3.0]])
    b = np.array([[2.0, 0.0], [-1.0, 0.0]])
    scores = cosine_scores(a, b)
    assert scores.shape == (3, 2)
    assert np.allclose(scores, [[1, -1], [0, 0], [1 / sqrt(2), -1 / sqrt(2)]])


def test_verification_trials_are_each_pair_once() -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(6, 4))
    labels = np.array(["a", "a", "b", "b", "b", "c"])
    scores, same = verification_trials(emb, labels)
    assert len(scores) == 6 * 5 // 2
    assert same.sum() == 1 + 3  # a: 1 pair, b: 3 pairs
    full = cosine_scores(emb, emb)
    i, j = np.triu_indices(6, k=1)
    assert np.allclose(scores, full[i, j])
    assert np.array_equal(same, labels[i] == labels[j])
    few, _ = verification_trials(emb, labels, max_trials=5, seed=1)
    assert len(few) == 5 and np.isin(few, scores).all()


def test_choose_speakers_is_a_seeded_sample_without_replacement() -> None:
    labels = [f"spk{k:02d}" for k in range(36) for _ in range(3)]
    chosen = choose_speakers(labels, n=20, seed=0)
    assert len(chosen) == 20 == len(set(chosen))
    assert chosen == sorted(chosen) and set(chosen) <= set(labels)
    assert choose_speakers(list(reversed(labels)), n=20, seed=0) == chosen  # order-independent
    assert choose_speakers(labels, n=20, seed=1) != chosen
    assert choose_speakers(labels[:9], n=20) == ["spk00", "spk01", "spk02"]  # fewer: all of them


def test_holdout_speakers_partitions_the_speakers() -> None:
    speakers = [str(k) for k in range(10)]
    seen, unseen = holdout_speakers(speakers, 3, seed=0)
    assert len(unseen) == 3 and sorted(seen + unseen) == sorted(speakers)
    assert holdout_speakers(speakers[::-1], 3, seed=0) == (seen, unseen)


def test_pca_3d_keeps_the_directions_of_largest_variance() -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(200, 16)) * np.linspace(5, 0.1, 16) + 7
    points = pca_3d(emb)
    assert points.shape == (200, 3)
    assert np.allclose(points.mean(0), 0, atol=1e-9)
    variances = points.var(0)
    assert variances[0] > variances[1] > variances[2]
    reference = PCA(n_components=3).fit_transform(emb)
    assert np.allclose(np.abs(points), np.abs(reference))


def sessions(n_speakers: int, files: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings ``(n_speakers * files, 12)`` where speakers differ a little in the first 6
    dimensions and each file's session moves it a lot in the last 6, the same way for everyone."""
    rng = np.random.default_rng(seed)
    centres = np.random.default_rng(99).normal(0, 1.0, (n_speakers, 6))  # fixed speakers
    speakers = np.repeat(np.arange(n_speakers), files)
    voice = centres[speakers] + rng.normal(0, 0.2, (len(speakers), 6))
    session = rng.normal(0, 4.0, (len(speakers), 6))  # a channel: large, shared by all speakers
    return np.hstack([voice, session]) + 5.0, speakers


def test_lda_backend_discounts_the_session_for_every_speaker() -> None:
    """New sessions of known speakers: the back-end names them where the nearest mean fails."""
    x_train, y_train = sessions(10, 8, seed=0)
    x_test, y_test = sessions(10, 5, seed=1)
    backend = fit_lda_backend(x_train, y_train)
    assert np.mean(backend.predict(x_test) == y_test) >= 0.95
    means = np.stack([x_train[y_train == k].mean(0) for k in range(10)])
    nearest = np.argmax(cosine_scores(x_test - x_train.mean(0), means - x_train.mean(0)), axis=1)
    assert np.mean(nearest == y_test) < 0.6  # the session swamps the voice
    projected = backend.transform(x_test)
    assert projected.shape == (50, 9)  # at most speakers - 1 directions
    scores, same = verification_trials(projected, y_test, max_trials=None)
    plain, _ = verification_trials(x_test, y_test, max_trials=None)
    assert equal_error_rate(scores, same)[0] < 0.05 < equal_error_rate(plain, same)[0]


def test_plot_embeddings_3d_has_one_trace_per_speaker() -> None:
    rng = np.random.default_rng(0)
    points = rng.normal(size=(30, 3))
    labels = np.repeat([2, 0, 1], 10)
    figure = plot_embeddings_3d(points, labels, names=["ann", "bob", "cat"], title="Embeddings")
    assert isinstance(figure, go.Figure)
    assert [trace.name for trace in figure.data] == ["ann", "bob", "cat"]
    assert all(isinstance(trace, go.Scatter3d) and len(trace.x) == 10 for trace in figure.data)
    assert np.allclose(figure.data[2].x, points[:10, 0])  # label 2 = "cat" = the first 10 points
    assert figure.layout.title.text == "Embeddings"
    assert figure.layout.scene.xaxis.title.text == "PC 1"


# --------------------------------------------------------------------------------------------------
# A trained model: embeddings from the checkpoint, verification on unseen speakers


@pytest.fixture(scope="module")
def unseen_setup(corpus6: Path, tmp_path_factory: pytest.TempPathFactory):
    """A small CNN trained on 4 speakers; the files of the 2 others for verification."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    manifest = load_manifest(corpus6, progress=False)
    seen, unseen = holdout_speakers({u.speaker for u in manifest.utterances}, 2, seed=0)
    known = [u for u in manifest.utterances if u.speaker in seen]
    labels = speaker_to_index(known)
    train, val = split(known, val_fraction=0.25, seed=0)
    feature = make_feature("mfcc")
    train_set = SpeakerDataset(train, labels, corpus6, feature, crop_seconds=1.5, train=True)
    val_set = SpeakerDataset(val, labels, corpus6, feature, crop_seconds=1.5, train=False)
    model = make_model("cnn1d", feature.n_bins, len(labels), channels=32, embedding_dim=32)
    checkpoint = tmp_path_factory.mktemp("embeddings") / "best.pt"
    fit(
        model,
        make_loader(train_set, 6, shuffle=True, num_workers=0, drop_last=True),
        make_loader(val_set, 32, num_workers=0),
        epochs=12,
        checkpoint=checkpoint,
        progress=False,
    )
    others = [u for u in manifest.utterances if u.speaker in unseen]
    all_speakers = speaker_to_index(manifest.utterances)  # labels for the unseen files
    unseen_set = SpeakerDataset(others, all_speakers, corpus6, feature, 1.5, train=False)
    yield model, checkpoint, unseen_set
    torch.set_num_threads(threads)


def test_embeddings_from_the_checkpoint_match_the_trained_model(unseen_setup) -> None:
    model, checkpoint, unseen_set = unseen_setup
    embedder = load_embedding_model(checkpoint)
    assert isinstance(embedder, EmbeddingModel) and not embedder.train().training  # stays in eval
    emb, labels = extract_embeddings(embedder, unseen_set, device="cpu")
    assert emb.shape == (len(unseen_set), 32) and labels.tolist() == unseen_set.labels()
    # utterance level: the whole file in one pass, every frame of it (the crops are 1.5 s)
    whole = unseen_set.whole_utterance(0)
    assert whole.shape[-1] == unseen_set.feature.frames(unseen_set.utterances[0].frames)
    with torch.no_grad():
        expected = model.eval().embed(whole[None])[0]
    assert np.allclose(emb[0], expected.numpy(), atol=1e-5)
    crop_emb, _ = extract_embeddings(model, unseen_set, device="cpu", utterance_level=False)
    with torch.no_grad():
        assert np.allclose(crop_emb[1], model.embed(unseen_set[1][0][None])[0].numpy(), atol=1e-5)
    # the LDA back-end's input: the same whole-file embedding, then the pooled vector beside it
    both, _ = extract_embeddings(model, unseen_set, device="cpu", layer="backend_features")
    assert both.shape == (len(unseen_set), 32 + model.embedding[0].in_features)
    assert np.allclose(both[:, :32], emb, atol=1e-5)


def test_verification_on_unseen_speakers_beats_chance(unseen_setup) -> None:
    _, checkpoint, unseen_set = unseen_setup
    emb, labels = extract_embeddings(load_embedding_model(checkpoint), unseen_set, device="cpu")
    assert len(set(labels.tolist())) == 2  # speakers the model never saw
    scores, same = verification_trials(emb, labels)
    eer, _ = equal_error_rate(scores, same)
    assert eer < 0.3, eer  # chance is 0.5
    assert scores[same].mean() > scores[~same].mean()
