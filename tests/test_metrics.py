"""helpers.metrics against values computed by hand, and the confusion-matrix plot."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

from helpers.metrics import classification_metrics, confusion, report
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
