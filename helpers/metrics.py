"""Classification metrics for many speakers, through scikit-learn.

For each speaker ``k``: *precision* — of the clips predicted as ``k``, the share that are ``k``;
*recall* — of the clips of ``k``, the share predicted as ``k``; *F1* — their harmonic mean.
The *macro* average weighs every speaker equally; the *weighted* average weighs each by its number of
true clips (its support), so it leans towards the speakers with the most data. A speaker that is never
predicted has precision 0 (not NaN: ``zero_division=0``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
)


def _classes_and_names(
    y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str] | None
) -> tuple[np.ndarray, list[str]]:
    """The classes that occur (in ``y_true`` or ``y_pred``), and their display names."""
    classes = np.union1d(y_true, y_pred)
    if names is None:
        return classes, [str(c) for c in classes]
    return classes, [str(names[int(c)]) for c in classes]


def classification_metrics(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    names: Sequence[str] | None = None,
) -> dict:
    """Accuracy, per-class precision/recall/F1/support, and their macro and weighted averages.

    Parameters
    ----------
    y_true, y_pred : array of int, shape (N,)
        True and predicted class indices.
    names : sequence of str or None
        ``names[k]`` is the name of class ``k`` (e.g. the speaker id); used as keys of ``per_class``.

    Returns
    -------
    dict
        ``accuracy``; ``macro`` and ``weighted`` (each ``{"precision", "recall", "f1"}``);
        ``macro_f1`` and ``weighted_f1`` (shortcuts); ``per_class``, ``{name: {"precision",
        "recall", "f1", "support"}}`` for every class that occurs in ``y_true`` or ``y_pred``.
    """
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes, labels = _classes_and_names(y_true, y_pred, names)
    precision, recall, f1, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    averages = {}
    for average in ("macro", "weighted"):
        p, r, f, _ = precision_recall_fscore_support(
            y_true, y_pred, labels=classes, average=average, zero_division=0
        )
        averages[average] = {"precision": float(p), "recall": float(r), "f1": float(f)}
    per_class = {
        name: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for name, p, r, f, s in zip(labels, precision, recall, f1, support)
    }
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        "macro": averages["macro"],
        "weighted": averages["weighted"],
        "macro_f1": averages["macro"]["f1"],
        "weighted_f1": averages["weighted"]["f1"],
        "per_class": per_class,
    }


def confusion(
    y_true: Sequence[int] | np.ndarray, y_pred: Sequence[int] | np.ndarray, n_classes: int
) -> np.ndarray:
    """Confusion matrix ``(n_classes, n_classes)``: row = true class, column = predicted class."""
    return confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))


def report(
    y_true: Sequence[int] | np.ndarray,
    y_pred: Sequence[int] | np.ndarray,
    names: Sequence[str] | None = None,
    digits: int = 3,
) -> str:
    """scikit-learn's text report: a row per class that occurs, then accuracy, macro and weighted."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes, labels = _classes_and_names(y_true, y_pred, names)
    return classification_report(
        y_true, y_pred, labels=classes, target_names=labels, digits=digits, zero_division=0
    )
