"""helpers.metrics against values computed by hand, and the confusion-matrix plot."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from helpers.metrics import (
    bootstrap_eer,
    classification_metrics,
    confusion,
    cosine_scores,
    equal_error_rate,
    files_across_chapters,
    min_dcf,
    per_trial,
    report,
    verification_trials,
)
from helpers.plots import plot_confusion

matplotlib.use("Agg")

# Three speakers. Speaker 0: 3 clips, 2 right, 1 taken for speaker 1. Speaker 1: 2 clips, 1 right,
# 1 taken for speaker 2. Speaker 2: 1 clip, right.
Y_TRUE = [0, 0, 0, 1, 1, 2]
Y_PRED = [0, 0, 1, 1, 2, 2]
# precision = right / predicted, recall = right / true clips, F1 = 2PR / (P + R)
PRECISION = [2 / 2, 1 / 2, 1 / 2]
RECALL = [2 / 3, 1 / 2, 1 / 1]
F1 = [0.8, 0.5, 2 / 3]
SUPPORT = [3, 2, 1]


def test_per_class_values_match_hand_computation() -> None:
    metrics = classification_metrics(Y_TRUE, Y_PRED, names=["ann", "bob", "cat"])
    assert list(metrics["per_class"]) == ["ann", "bob", "cat"]
    for k, name in enumerate(["ann", "bob", "cat"]):
        row = metrics["per_class"][name]
        assert row["precision"] == pytest.approx(PRECISION[k])
        assert row["recall"] == pytest.approx(RECALL[k])
        assert row["f1"] == pytest.approx(F1[k])
        assert row["support"] == SUPPORT[k]
    assert metrics["accuracy"] == pytest.approx(4 / 6)


def test_macro_and_weighted_averages() -> None:
    metrics = classification_metrics(Y_TRUE, Y_PRED)
    assert metrics["macro_f1"] == pytest.approx(
        (0.8 + 0.5 + 2 / 3) / 3
    )  # every speaker counts once
    assert metrics["weighted_f1"] == pytest.approx(
        (3 * 0.8 + 2 * 0.5 + 1 * 2 / 3) / 6
    )  # by support
    assert metrics["macro"]["precision"] == pytest.approx(np.mean(PRECISION))
    assert metrics["macro"]["recall"] == pytest.approx(np.mean(RECALL))
    assert metrics["weighted"]["recall"] == pytest.approx(4 / 6)  # weighted recall = accuracy
    assert list(metrics["per_class"]) == ["0", "1", "2"]  # class indices when no names


def test_a_speaker_never_predicted_has_zero_precision_not_nan() -> None:
    metrics = classification_metrics([0, 1, 2], [0, 0, 0], names=["a", "b", "c"])
    assert metrics["per_class"]["b"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert metrics["per_class"]["a"]["precision"] == pytest.approx(1 / 3)
    assert metrics["macro_f1"] == pytest.approx((0.5 + 0 + 0) / 3)


def test_classes_absent_from_both_sides_do_not_dilute_the_macro_average() -> None:
    names = [f"s{k}" for k in range(10)]
    metrics = classification_metrics([3, 3, 7], [3, 3, 7], names=names)
    assert list(metrics["per_class"]) == ["s3", "s7"]
    assert metrics["macro_f1"] == 1.0


def test_confusion_matrix_rows_are_true_classes() -> None:
    cm = confusion(Y_TRUE, Y_PRED, n_classes=4)
    expected = np.array([[2, 1, 0, 0], [0, 1, 1, 0], [0, 0, 1, 0], [0, 0, 0, 0]])
    assert np.array_equal(cm, expected)


def test_report_lists_speakers_and_averages() -> None:
    text = report(Y_TRUE, Y_PRED, names=["ann", "bob", "cat"])
    for word in ("ann", "bob", "cat", "macro avg", "weighted avg", "accuracy"):
        assert word in text
    assert "0.800" in text  # ann's F1, 3 digits


def test_plot_confusion_normalises_rows_and_labels_axes() -> None:
    cm = confusion(Y_TRUE, Y_PRED, n_classes=3)
    ax = plot_confusion(cm, names=["ann", "bob", "cat"], title="Validation")
    image = ax.images[0].get_array()
    assert np.allclose(np.asarray(image).sum(axis=1), 1.0)
    assert np.asarray(image)[0, 0] == pytest.approx(2 / 3)
    assert ax.get_xlabel() == "predicted speaker" and ax.get_ylabel() == "true speaker"
    assert ax.get_title() == "Validation"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["ann", "bob", "cat"]


# --------------------------------------------------------------------------------------------------
# Verification: EER and minDCF on a case small enough to work out by hand

# Scores sorted high to low: 0.9 T, 0.8 T, 0.7 N, 0.3 T, 0.2 N, 0.1 N, 0.0 N (T target, N non-target).
# Accepting score >= t gives (false acceptance P_fa, false rejection P_miss):
#   t = 0.9: (0, 2/3)   t = 0.8: (0, 1/3)   t = 0.7: (1/4, 1/3)   t = 0.3: (1/4, 0)   t = 0.0: (1, 0)
HAND_SCORES = np.array([0.9, 0.8, 0.7, 0.3, 0.2, 0.1, 0.0])
HAND_SAME = np.array([True, True, False, True, False, False, False])


def test_equal_error_rate_by_hand() -> None:
    # P_fa = P_miss is crossed between t = 0.7 (1/4, 1/3) and t = 0.3 (1/4, 0): P_fa stays 1/4.
    eer, threshold = equal_error_rate(HAND_SCORES, HAND_SAME)
    assert eer == pytest.approx(0.25) and threshold == pytest.approx(0.3)


def test_min_dcf_by_hand() -> None:
    # p_target = 0.01: DCF = 0.01 P_miss + 0.99 P_fa; best at t = 0.8: 0.01 / 3, over 0.01 -> 1/3.
    cost, threshold = min_dcf(HAND_SCORES, HAND_SAME, p_target=0.01)
    assert cost == pytest.approx(1 / 3) and threshold == pytest.approx(0.8)
    # p_target = 0.5: DCF = (P_miss + P_fa) / 2; best at t = 0.3: 1/8, over 0.5 -> 1/4.
    cost, threshold = min_dcf(HAND_SCORES, HAND_SAME, p_target=0.5)
    assert cost == pytest.approx(0.25) and threshold == pytest.approx(0.3)
    # A false acceptance 100 times dearer at p_target = 0.5: accepting nothing past 0.8 is best.
    cost, threshold = min_dcf(HAND_SCORES, HAND_SAME, p_target=0.5, c_fa=100.0)
    assert cost == pytest.approx((0.5 / 3) / 0.5) and threshold == pytest.approx(0.8)


def test_min_dcf_bounds() -> None:
    rng = np.random.default_rng(0)
    same = rng.random(4000) < 0.2
    assert min_dcf(same + 0.1 * rng.random(4000), same)[0] == 0.0  # separated: no cost
    chance, _ = min_dcf(rng.random(4000), same)  # scores that know nothing
    assert 0.9 < chance <= 1.0  # at most 1: rejecting everything costs exactly 1
    assert min_dcf(-HAND_SCORES, HAND_SAME)[0] == pytest.approx(1.0)  # inverted: reject all
    with pytest.raises(ValueError, match="both"):
        min_dcf(HAND_SCORES, np.ones(7, bool))
    with pytest.raises(ValueError, match="p_target"):
        min_dcf(HAND_SCORES, HAND_SAME, p_target=1.0)


def test_plot_det_draws_error_rates_on_the_normal_deviate_scale() -> None:
    from scipy.stats import norm

    from helpers.plots import plot_det

    ax = plot_det(HAND_SCORES, HAND_SAME, label="hand", title="DET")
    assert ax.get_title() == "DET" and "false acceptance" in ax.get_xlabel()
    assert "false rejection" in ax.get_ylabel()
    curve = ax.lines[0]
    assert curve.get_label() == "hand: EER 25.0 %, minDCF 0.333"
    # The (P_fa, P_miss) points of the hand-worked case, as normal deviates (0 clipped to the edge).
    x, y = curve.get_xdata(), curve.get_ydata()
    assert np.isclose(x, norm.ppf(0.25)).any() and np.isclose(y, norm.ppf(1 / 3)).any()
    assert np.isclose(x, norm.ppf(0.0005)).sum() == 3  # P_fa = 0, at the lower edge
    assert np.allclose((ax.lines[1].get_xdata()[0], ax.lines[1].get_ydata()[0]), norm.ppf(0.25))
    minimum = ax.lines[2]  # the minDCF point: t = 0.8, (P_fa, P_miss) = (0, 1/3)
    assert minimum.get_ydata()[0] == pytest.approx(norm.ppf(1 / 3))
    assert [t.get_text() for t in ax.get_xticklabels()][:3] == ["0.1", "0.2", "0.5"]
    plot_det(HAND_SCORES + HAND_SAME, HAND_SAME, ax=ax, label="better")
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend[0].startswith("hand") and legend[1].startswith("better: EER 0.0 %")


def test_min_dcf_docstring_frames_p_target_as_a_prior() -> None:
    """Issue 18 item 6: C_miss = C_fa = 1, p_target is a prior; impostors are not '99 % of trials'."""
    import helpers.metrics as metrics

    text = metrics.__doc__ + min_dcf.__doc__
    assert "impostors are rare and costly" not in text
    assert "prior" in text and "0.05" in text


def test_cosine_scores_of_float32_are_float64_and_zero_for_a_zero_vector() -> None:
    a, b = np.array([[0, 0], [3, 4], [-4, 3]], np.float32), np.array([[3, 4]], np.float32)
    scores = cosine_scores(a, b)
    assert scores.dtype == np.float64 and np.allclose(scores, [[0], [1], [0]])


def test_weighted_eer_counts_a_trial_as_often_as_its_weight() -> None:
    rng = np.random.default_rng(0)
    scores, same = rng.normal(size=60), rng.random(60) < 0.3
    scores[same] += 1.0
    weights = rng.integers(0, 4, size=60)
    repeated = equal_error_rate(np.repeat(scores, weights), np.repeat(same, weights))[0]
    assert equal_error_rate(scores, same, weights)[0] == pytest.approx(repeated)


def verification_set(n_speakers: int, per_speaker: int = 6, seed: int = 0):
    """Embeddings of speakers: a centre each plus noise; returns the trials and their speakers."""
    rng = np.random.default_rng(seed)
    labels = np.repeat(np.arange(n_speakers), per_speaker)
    embeddings = rng.normal(size=(n_speakers, 16))[labels] + rng.normal(size=(len(labels), 16))
    scores, same = verification_trials(embeddings, labels, max_trials=None)
    return scores, same, per_trial(labels)


def test_bootstrap_interval_holds_the_eer_and_narrows_with_more_speakers() -> None:
    widths = []
    for n in (6, 40):
        scores, same, (a, b) = verification_set(n)
        low, high = bootstrap_eer(scores, same, a, b, n_resamples=100, seed=1)
        assert low <= equal_error_rate(scores, same)[0] <= high
        assert (low, high) == bootstrap_eer(scores, same, a, b, n_resamples=100, seed=1)
        widths.append(high - low)
    assert widths[0] > 0 and widths[1] < widths[0]


def test_bootstrap_of_perfect_scores_is_zero() -> None:
    labels = np.repeat(np.arange(5), 3)
    embeddings = np.eye(5)[labels]
    scores, same = verification_trials(embeddings, labels, max_trials=None)
    assert bootstrap_eer(scores, same, *per_trial(labels), n_resamples=20) == (0.0, 0.0)


def test_files_across_chapters_spreads_each_speaker_over_its_sessions() -> None:
    from helpers.corpus import Utterance

    files = [
        Utterance(f"{s}/{s}-{c}-{k:04d}.flac", s, str(c), 16000, 16000)
        for s in ("ann", "bob")
        for c in (1, 2, 3)
        for k in range(10 if c == 1 else 3)
    ]
    chosen = files_across_chapters(files, per_speaker=6, seed=0)
    assert len(chosen) == 12 and chosen == sorted(chosen, key=lambda u: u.path)
    for speaker in ("ann", "bob"):
        chapters = [u.chapter for u in chosen if u.speaker == speaker]
        assert sorted(chapters.count(c) for c in "123") == [2, 2, 2], chapters
    assert files_across_chapters(files[::-1], 6, seed=0) == chosen, "depends on the input order"
    assert files_across_chapters(files, 6, seed=1) != chosen
    first_in_path_order = sorted(files, key=lambda u: u.path)[:6]
    assert {u.chapter for u in first_in_path_order} == {"1"}, "the test no longer shows the bias"
