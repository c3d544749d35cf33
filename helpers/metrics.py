"""Metrics of the course, through scikit-learn: classification (05) and verification (07).

Classification: per speaker, precision (of the clips predicted as it, the share right), recall (of its
clips, the share found), F1; *macro* averages weigh speakers equally, *weighted* by their clips.
Verification: a trial (two utterances) is scored by the cosine of their embeddings and accepted when
``score >= threshold``. The EER is the error rate where false acceptances and rejections are equal;
minDCF weighs them by a prior ``p_target`` (0.01 here, VoxSRC uses 0.05) with ``C_miss = C_fa = 1``::

    utterances = files_across_chapters(utterances, per_speaker=20)  # target trials across sessions
    scores, same = verification_trials(embeddings, labels)
    eer, threshold = equal_error_rate(scores, same)
    low, high = bootstrap_eer(scores, same, *per_trial(labels))
    cost, strict_threshold = min_dcf(scores, same, p_target=0.01)
"""

from collections.abc import Sequence

import numpy as np
from sklearn.metrics import (
    accuracy_score,
    classification_report,
    confusion_matrix,
    precision_recall_fscore_support,
    roc_curve,
)
from sklearn.metrics.pairwise import cosine_similarity


def _classes(y_true: np.ndarray, y_pred: np.ndarray, names: Sequence | None) -> tuple:
    """The classes that occur on either side, and their names (``names[k]``, else ``str(k)``)."""
    classes = np.union1d(y_true, y_pred)
    return classes, [str(c if names is None else names[int(c)]) for c in classes]


def classification_metrics(y_true: Sequence[int], y_pred: Sequence[int], names=None) -> dict:
    """``accuracy``; ``macro`` and ``weighted`` ``{"precision", "recall", "f1"}`` and their ``_f1``
    shortcuts; ``per_class`` ``{name: {..., "support"}}`` for the classes that occur (shape (N,) in).

    A class never predicted has precision 0, not NaN; ``names[k]`` names class ``k``."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes, labels = _classes(y_true, y_pred, names)
    *values, support = precision_recall_fscore_support(
        y_true, y_pred, labels=classes, zero_division=0
    )
    table = dict(zip(("precision", "recall", "f1"), values))
    mean = {
        average: {key: float(np.average(v, weights=w)) for key, v in table.items()}
        for average, w in (("macro", None), ("weighted", support))
    }
    per_class = {
        name: {**{key: float(v[k]) for key, v in table.items()}, "support": int(support[k])}
        for k, name in enumerate(labels)
    }
    return {
        "accuracy": float(accuracy_score(y_true, y_pred)),
        **mean,
        "macro_f1": mean["macro"]["f1"],
        "weighted_f1": mean["weighted"]["f1"],
        "per_class": per_class,
    }


def confusion(y_true: Sequence[int], y_pred: Sequence[int], n_classes: int) -> np.ndarray:
    """Confusion matrix ``(n_classes, n_classes)``: row = true class, column = predicted class."""
    return confusion_matrix(y_true, y_pred, labels=np.arange(n_classes))


def report(y_true: Sequence[int], y_pred: Sequence[int], names=None, digits: int = 3) -> str:
    """scikit-learn's text report: a row per class that occurs, then accuracy, macro and weighted."""
    y_true, y_pred = np.asarray(y_true), np.asarray(y_pred)
    classes, labels = _classes(y_true, y_pred, names)
    return classification_report(
        y_true, y_pred, labels=classes, target_names=labels, digits=digits, zero_division=0
    )


def cosine_scores(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` ``(N, D)`` with every row of ``b`` ``(M, D)``: ``(N, M)``."""
    return cosine_similarity(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))


def verification_trials(
    embeddings: np.ndarray, labels: Sequence, seed: int = 0, max_trials: int | None = 1_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``i < j`` (row-major) of ``embeddings`` ``(N, D)`` as a trial: ``scores`` (cosine)
    and ``same`` (bool), ``(n_trials,)``; a random ``max_trials`` of them (by ``seed``) if more."""
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    if max_trials is not None and len(i) > max_trials:
        keep = np.sort(np.random.default_rng(seed).choice(len(i), max_trials, replace=False))
        i, j = i[keep], j[keep]
    return cosine_scores(embeddings, embeddings)[i, j], labels[i] == labels[j]


def _roc(scores: np.ndarray, same: np.ndarray, weights: np.ndarray | None = None) -> tuple:
    """``sklearn.metrics.roc_curve``'s (false acceptance, true acceptance, thresholds) of the trials."""
    same = np.asarray(same, dtype=bool)
    if same.all() or not same.any():
        raise ValueError("need both same-speaker and different-speaker trials")
    return roc_curve(same, np.asarray(scores, dtype=np.float64), sample_weight=weights)


def equal_error_rate(scores: np.ndarray, same: np.ndarray, weights=None) -> tuple[float, float]:
    """EER (a fraction) of the trials, linearly interpolated where the false rejection rate falls to
    the false acceptance rate on the ROC, and the threshold of the first point there; ``weights``
    (one per trial) counts a trial that many times."""
    fpr, tpr, thresholds = _roc(scores, same, weights)
    fnr = 1 - tpr
    i = int(np.argmax(fnr <= fpr))  # the first point where false rejections no longer exceed
    if i == 0:
        return float(fpr[0]), float(thresholds[0])
    before, after = fpr[i - 1] - fnr[i - 1], fpr[i] - fnr[i]  # < 0, >= 0
    eer = fpr[i - 1] + before / (before - after) * (fpr[i] - fpr[i - 1])
    return float(eer), float(thresholds[i])


def min_dcf(
    scores: np.ndarray, same: np.ndarray, p_target: float = 0.01, c_miss=1.0, c_fa=1.0
) -> tuple[float, float]:
    """Minimum over thresholds of ``c_miss · P_miss · p_target + c_fa · P_fa · (1 − p_target)``,
    divided by ``min(c_miss · p_target, c_fa · (1 − p_target))`` (1: no better than rejecting all),
    and its threshold (``inf``: reject all). ``p_target`` is a prior, not a share of the test's
    trials: NIST SRE 2008 used 0.01, VoxSRC 0.05; a false acceptance then weighs 99 or 19 misses."""
    if not 0 < p_target < 1:
        raise ValueError(f"p_target must be a probability in (0, 1), not {p_target}")
    fpr, tpr, thresholds = _roc(scores, same)
    cost = c_miss * (1 - tpr) * p_target + c_fa * fpr * (1 - p_target)
    best = int(np.argmin(cost))
    norm = min(c_miss * p_target, c_fa * (1 - p_target))
    return float(cost[best] / norm), float(thresholds[best])


def files_across_chapters(utterances: Sequence, per_speaker: int, seed: int = 0) -> list:
    """At most ``per_speaker`` files of each speaker, one per chapter (session) in turn, chapters and
    files in a random order; sorted by path, whatever the input order. The first files in path order
    are one or two chapters: target trials would then reward session similarity."""
    by_speaker: dict[str, dict[str, list]] = {}
    for u in sorted(utterances, key=lambda u: u.path):
        by_speaker.setdefault(u.speaker, {}).setdefault(u.chapter or u.path, []).append(u)
    rng, chosen = np.random.default_rng(seed), []
    for speaker in sorted(by_speaker):
        chapters = [[f[i] for i in rng.permutation(len(f))] for f in by_speaker[speaker].values()]
        order = [chapters[i] for i in rng.permutation(len(chapters))]
        turns = [files[k] for k in range(max(map(len, order))) for files in order if k < len(files)]
        chosen += turns[:per_speaker]
    return sorted(chosen, key=lambda u: u.path)


def per_trial(values: Sequence) -> tuple[np.ndarray, np.ndarray]:
    """The values (speakers, chapters) of both sides of every trial ``i < j``, as in ``verification_trials``."""
    i, j = np.triu_indices(len(values), k=1)
    return np.asarray(values)[i], np.asarray(values)[j]


def bootstrap_eer(
    scores, same, speaker_a, speaker_b, n_resamples: int = 200, level: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """The ``level`` interval (quantiles) of the EER when the test speakers are drawn again.

    Trials sharing a speaker are not independent, so each resample draws the speakers with
    replacement, ``n`` times each: a trial of ``a`` and ``b`` counts ``n_a · n_b`` times, a target
    trial ``n_a``. ``speaker_a``, ``speaker_b``: each trial's two speakers (:func:`per_trial`)."""
    same = np.asarray(same, dtype=bool)
    speakers = np.unique(np.concatenate([np.asarray(speaker_a), np.asarray(speaker_b)]))
    a, b = np.searchsorted(speakers, speaker_a), np.searchsorted(speakers, speaker_b)
    rng, eers = np.random.default_rng(seed), []
    for _ in range(n_resamples):
        n = np.bincount(rng.integers(len(speakers), size=len(speakers)), minlength=len(speakers))
        weights = np.where(same, n[a], n[a] * n[b]).astype(np.float64)
        if weights[same].sum() > 0 and weights[~same].sum() > 0:
            eers.append(equal_error_rate(scores, same, weights)[0])
    low, high = np.quantile(eers, [(1 - level) / 2, (1 + level) / 2])
    return float(low), float(high)
