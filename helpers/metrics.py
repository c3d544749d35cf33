"""Metrics of the course, through scikit-learn: classification (05) and verification (07).

**Classification** — for each speaker ``k``: *precision* — of the clips predicted as ``k``, the share that are ``k``;
*recall* — of the clips of ``k``, the share predicted as ``k``; *F1* — their harmonic mean.
The *macro* average weighs every speaker equally; the *weighted* average weighs each by its number of
true clips (its support), so it leans towards the speakers with the most data. A speaker that is never
predicted has precision 0 (not NaN: ``zero_division=0``).

**Verification** — "are these two recordings the same person?": each trial (a pair of utterances) is
scored by the cosine similarity of their embeddings and accepted above a threshold. The *equal error
rate* (EER) is the error where false acceptances and false rejections are equally frequent: one number
for the whole trade-off (lower is better); :func:`bootstrap_eer` gives its spread over speakers. The
*minimum detection cost* (minDCF) weighs the errors by a prior, the share ``p_target`` of trials
that are the claimed speaker (``C_miss = C_fa = 1``: false acceptances weigh more only through that
prior)::

    utterances = files_across_chapters(utterances, per_speaker=20)  # target trials across sessions
    scores, same = verification_trials(embeddings, labels)
    eer, threshold = equal_error_rate(scores, same)
    low, high = bootstrap_eer(scores, same, *per_trial(labels))
    cost, strict_threshold = min_dcf(scores, same, p_target=0.01)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_curve,
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


# --------------------------------------------------------------------------------------------------
# Verification


def cosine_scores(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` ``(N, D)`` with every row of ``b`` ``(M, D)``: ``(N, M)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def verification_trials(
    embeddings: np.ndarray, labels: Sequence, seed: int = 0, max_trials: int | None = 1_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``i < j`` of utterances as a trial: its cosine score and whether it is one speaker.

    Parameters
    ----------
    embeddings : array (N, D)
    labels : array (N,)
        Speaker of each embedding.
    seed : int
        Picks the random subset when there are more than ``max_trials`` pairs.
    max_trials : int or None
        Most trials to return (``None``: all ``N (N - 1) / 2``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``scores`` (float) and ``same`` (bool), one per trial, pairs in row-major order.
    """
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    if max_trials is not None and len(i) > max_trials:
        keep = np.sort(np.random.default_rng(seed).choice(len(i), max_trials, replace=False))
        i, j = i[keep], j[keep]
    return cosine_scores(embeddings, embeddings)[i, j], labels[i] == labels[j]


def equal_error_rate(
    scores: np.ndarray, same: np.ndarray, weights: np.ndarray | None = None
) -> tuple[float, float]:
    """Equal error rate of same/different-speaker ``scores`` and the threshold reaching it.

    ``weights`` (optional, one per trial) counts a trial that many times (the bootstrap's draws).

    A trial is accepted when ``score >= threshold``. Along the ROC curve (``sklearn.metrics.roc_curve``)
    the false acceptance rate (FPR) rises as the false rejection rate (FNR = 1 - TPR) falls; the EER is
    where they cross, linearly interpolated between the two ROC points around the crossing.

    Returns
    -------
    (float, float)
        EER (a fraction, 0 to 1) and the threshold of the first ROC point at or past the crossing.
    """
    same = np.asarray(same, dtype=bool)
    if same.all() or not same.any():
        raise ValueError("need both same-speaker and different-speaker trials")
    scores = np.asarray(scores, dtype=np.float64)
    fpr, tpr, thresholds = roc_curve(same, scores, sample_weight=weights)
    fnr = 1 - tpr
    i = int(
        np.argmax(fnr <= fpr)
    )  # first point where false rejections no longer exceed acceptances
    if i == 0:
        return float(fpr[0]), float(thresholds[0])
    before, after = fpr[i - 1] - fnr[i - 1], fpr[i] - fnr[i]  # < 0, >= 0
    weight = before / (before - after)
    return float(fpr[i - 1] + weight * (fpr[i] - fpr[i - 1])), float(thresholds[i])


def min_dcf(
    scores: np.ndarray,
    same: np.ndarray,
    p_target: float = 0.01,
    c_miss: float = 1.0,
    c_fa: float = 1.0,
) -> tuple[float, float]:
    """Minimum normalised detection cost of same/different-speaker ``scores``, and its threshold.

    NIST's detection cost weighs the two errors by what they cost and how often they can happen:
    ``DCF(t) = c_miss · P_miss(t) · p_target + c_fa · P_fa(t) · (1 − p_target)``, where ``P_miss``
    is the false rejection rate and ``P_fa`` the false acceptance rate when accepting ``score >= t``.
    It is divided by the cost of the best system that ignores the scores (accept all or reject all,
    ``min(c_miss · p_target, c_fa · (1 − p_target))``), so 1.0 means "no better than always
    rejecting". ``p_target`` is a prior (the share of trials that are the claimed speaker), not a
    count of the test's trials: 0.01 was NIST SRE 2008's, VoxSRC uses 0.05. With ``c_miss = c_fa =
    1`` a small prior is the only thing that makes a false acceptance weigh more than a miss (99
    times at 0.01, 19 at 0.05), so minDCF judges the low-false-acceptance end of the DET curve.

    Returns
    -------
    (float, float)
        The minimum over thresholds of the normalised DCF (0 is perfect, at most 1), and the threshold
        reaching it (``inf``: reject everything).
    """
    same = np.asarray(same, dtype=bool)
    if same.all() or not same.any():
        raise ValueError("need both same-speaker and different-speaker trials")
    if not 0 < p_target < 1:
        raise ValueError(f"p_target must be a probability in (0, 1), not {p_target}")
    fpr, tpr, thresholds = roc_curve(same, np.asarray(scores, dtype=np.float64))
    cost = c_miss * (1 - tpr) * p_target + c_fa * fpr * (1 - p_target)
    best = int(np.argmin(cost))
    return float(cost[best] / min(c_miss * p_target, c_fa * (1 - p_target))), float(
        thresholds[best]
    )


def files_across_chapters(utterances: Sequence, per_speaker: int, seed: int = 0) -> list:
    """At most ``per_speaker`` files of each speaker, drawn from its chapters (sessions) in turn.

    The first ``per_speaker`` files in path order are mostly one or two chapters: nearly every target
    trial would then pair two recordings of one session, and the EER would reward session
    similarity. Here each speaker's chapters are visited in a random order, one file each, round after
    round. The input is sorted first and the draw uses its own generator: same files whatever the
    input order. A file without a chapter counts as a chapter of its own. Returns them sorted by path.
    """
    by_speaker: dict[str, dict[str, list]] = {}
    for u in sorted(utterances, key=lambda u: u.path):
        by_speaker.setdefault(u.speaker, {}).setdefault(u.chapter or u.path, []).append(u)
    rng = np.random.default_rng(seed)
    chosen = []
    for speaker in sorted(by_speaker):
        chapters = [
            [files[i] for i in rng.permutation(len(files))]
            for files in by_speaker[speaker].values()
        ]
        order = [chapters[i] for i in rng.permutation(len(chapters))]
        turns = [files[k] for k in range(max(map(len, order))) for files in order if k < len(files)]
        chosen += turns[:per_speaker]
    return sorted(chosen, key=lambda u: u.path)


def per_trial(values: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The values (speakers, chapters) of both sides of every trial ``i < j``, as in ``verification_trials``."""
    values = np.asarray(values)
    i, j = np.triu_indices(len(values), k=1)
    return values[i], values[j]


def bootstrap_eer(
    scores: np.ndarray,
    same: np.ndarray,
    speaker_a: np.ndarray,
    speaker_b: np.ndarray,
    n_resamples: int = 200,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """A ``level`` interval of the EER when the test speakers are drawn again (a bootstrap).

    The trials are not independent: every trial of a speaker shares that speaker's voice. So each
    resample draws the test speakers with replacement, and a trial between speakers ``a`` and ``b``
    counts ``n_a · n_b`` times (a target trial ``n_a`` times), ``n`` being how often each was drawn.
    With few speakers the interval is wide: that is the point.

    Returns
    -------
    (float, float)
        The ``(1 - level) / 2`` and ``(1 + level) / 2`` quantiles of the resampled EERs.
    """
    same = np.asarray(same, dtype=bool)
    speakers = np.unique(np.concatenate([np.asarray(speaker_a), np.asarray(speaker_b)]))
    a, b = np.searchsorted(speakers, speaker_a), np.searchsorted(speakers, speaker_b)
    rng = np.random.default_rng(seed)
    eers = []
    for _ in range(n_resamples):
        count = np.bincount(
            rng.integers(len(speakers), size=len(speakers)), minlength=len(speakers)
        )
        weights = np.where(same, count[a], count[a] * count[b]).astype(np.float64)
        if weights[same].sum() > 0 and weights[~same].sum() > 0:
            eers.append(equal_error_rate(scores, same, weights)[0])
    low, high = np.quantile(eers, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)
