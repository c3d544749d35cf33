"""Notebook 07's checks accept the reference answers and reject the mistakes students make."""

from __future__ import annotations

import random

import numpy as np
import pytest
import torch
from sklearn.metrics import roc_curve
from test_checks_core import Case, accepts, rejects, right, wrong
from torch import nn

from helpers import checks
from helpers.corpus import holdout_speakers as kit_holdout

# --------------------------------------------------------------------------------------------------
# Unseen speakers


def holdout_speakers(speakers, n_unseen, seed=0):
    order = np.random.default_rng(seed).permutation(sorted(speakers))
    return [str(s) for s in order[n_unseen:]], [str(s) for s in order[:n_unseen]]


def holdout_overlapping(speakers, n_unseen, seed=0):
    pool = sorted(speakers)
    return pool, pool[:n_unseen]


def holdout_unsorted(speakers, n_unseen, seed=0):
    order = list(np.random.default_rng(seed).permutation(speakers))
    return order[n_unseen:], order[:n_unseen]


def holdout_global(speakers, n_unseen, seed=0):
    order = list(np.random.permutation(sorted(speakers)))
    return order[n_unseen:], order[:n_unseen]


def holdout_torch_seeded(speakers, n_unseen, seed=0):
    torch.manual_seed(seed)
    pool = sorted(speakers)
    order = [pool[i] for i in torch.randperm(len(pool))]
    return order[n_unseen:], order[:n_unseen]


def holdout_swapped(speakers, n_unseen, seed=0):
    seen, unseen = holdout_speakers(speakers, n_unseen, seed)
    return unseen, seen


def holdout_first(speakers, n_unseen, seed=0):
    pool = sorted(speakers)
    return pool[n_unseen:], pool[:n_unseen]


def holdout_five(speakers, n_unseen, seed=0):
    return holdout_speakers(speakers, 5, seed)


# --------------------------------------------------------------------------------------------------
# Cosine scores and trials


def cosine(a, b):
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def cosine_torch(a, b):
    return nn.functional.cosine_similarity(
        torch.as_tensor(a)[:, None], torch.as_tensor(b)[None], dim=-1
    )


def cosine_columns(a, b):
    a = a / np.linalg.norm(a, axis=0, keepdims=True)
    b = b / np.linalg.norm(b, axis=0, keepdims=True)
    return a @ b.T


def cosine_only_a(a, b):
    return (a / np.linalg.norm(a, axis=1, keepdims=True)) @ b.T


def make_trials(embeddings, labels):
    i, j = np.triu_indices(len(embeddings), k=1)
    labels = np.asarray(labels)
    return cosine(embeddings, embeddings)[i, j], labels[i] == labels[j]


def trials_all_pairs(emb, labels):
    labels = np.asarray(labels)
    return cosine(emb, emb).ravel(), (labels[:, None] == labels[None]).ravel()


def trials_both_orders(emb, labels):
    labels = np.asarray(labels)
    i, j = np.where(~np.eye(len(emb), dtype=bool))
    return cosine(emb, emb)[i, j], labels[i] == labels[j]


def trials_with_self(emb, labels):
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(emb))
    return cosine(emb, emb)[i, j], labels[i] == labels[j]


def trials_shuffled_labels(emb, labels):
    scores, same = make_trials(emb, labels)
    return scores, np.random.default_rng(0).permutation(same)


def trials_lists(emb, labels):
    scores, same = make_trials(emb, labels)
    return scores.tolist(), same.tolist()


def trials_same_as_int(emb, labels):
    scores, same = make_trials(emb, labels)
    return scores, same.astype(int)


def trials_dot_products(emb, labels):
    i, j = np.triu_indices(len(emb), k=1)
    labels = np.asarray(labels)
    return (emb @ emb.T)[i, j], labels[i] == labels[j]


def trials_label_of_first(emb, labels):
    i, j = np.triu_indices(len(emb), k=1)
    labels = np.asarray(labels)
    return cosine(emb, emb)[i, j], labels[i] == labels[i]


# --------------------------------------------------------------------------------------------------
# EER


def eer(scores, same):
    fpr, tpr, thresholds = roc_curve(same, scores)
    fnr = 1 - tpr
    i = int(np.argmax(fnr <= fpr))
    if i == 0:
        return float(fpr[0]), float(thresholds[0])
    before, after = fpr[i - 1] - fnr[i - 1], fpr[i] - fnr[i]
    w = before / (before - after)
    return float(fpr[i - 1] + w * (fpr[i] - fpr[i - 1])), float(thresholds[i])


def eer_nearest_point(scores, same):
    """No interpolation: within the check's tolerance, so accepted."""
    fpr, tpr, thresholds = roc_curve(same, scores)
    i = int(np.argmin(np.abs(1 - tpr - fpr)))
    return float((fpr[i] + 1 - tpr[i]) / 2), float(thresholds[i])


def eer_tpr_equals_fpr(scores, same):
    fpr, tpr, thresholds = roc_curve(same, scores)
    i = int(np.argmin(np.abs(tpr - fpr)))
    return float(fpr[i]), float(thresholds[i])


CASES: list[Case] = [
    right("unseen_speakers", "reference", lambda: (holdout_speakers,)),
    right("unseen_speakers", "the kit's", lambda: (kit_holdout,)),
    wrong(
        "unseen_speakers", "overlapping", lambda: (holdout_overlapping,), "both seen and held out"
    ),
    wrong("unseen_speakers", "unsorted", lambda: (holdout_unsorted,), "input order"),
    wrong("unseen_speakers", "global np.random", lambda: (holdout_global,), "numpy's global"),
    wrong(
        "unseen_speakers", "torch.manual_seed", lambda: (holdout_torch_seeded,), "torch's global"
    ),
    wrong("unseen_speakers", "pair swapped", lambda: (holdout_swapped,), "wrong order"),
    wrong(
        "unseen_speakers",
        "first in sorted order",
        lambda: (holdout_first,),
        "argument 'seed' changes",
    ),
    wrong("unseen_speakers", "n_unseen ignored", lambda: (holdout_five,), "n_unseen=3"),
    right("cosine_matrix", "reference", lambda: (cosine,)),
    right("cosine_matrix", "torch", lambda: (cosine_torch,)),
    wrong(
        "cosine_matrix",
        "dot products",
        lambda: (lambda a, b: np.asarray(a) @ np.asarray(b).T,),
        "dot products",
    ),
    wrong("cosine_matrix", "distance", lambda: (lambda a, b: 1 - cosine(a, b),), "cosine distance"),
    wrong(
        "cosine_matrix",
        "b against a",
        lambda: (lambda a, b: cosine(b, a),),
        "rows of b against rows of a",
    ),
    wrong("cosine_matrix", "only a normalised", lambda: (cosine_only_a,), "only a is normalised"),
    wrong("cosine_matrix", "norm per feature", lambda: (cosine_columns,), "axis 0"),
    right("trial_pairs", "reference", lambda: (make_trials,)),
    wrong("trial_pairs", "all ordered pairs", lambda: (trials_all_pairs,), "itself"),
    wrong("trial_pairs", "both orders", lambda: (trials_both_orders,), "twice"),
    wrong("trial_pairs", "with self-pairs", lambda: (trials_with_self,), "i == j"),
    wrong("trial_pairs", "shuffled labels", lambda: (trials_shuffled_labels,), "do not go with"),
    wrong("trial_pairs", "dot products", lambda: (trials_dot_products,), "dot products"),
    wrong("trial_pairs", "lists", lambda: (trials_lists,), "return two numpy arrays"),
    wrong("trial_pairs", "same as 0/1", lambda: (trials_same_as_int,), "dtype int64, not bool"),
    wrong(
        "trial_pairs",
        "label of one side",
        lambda: (trials_label_of_first,),
        "target \\(same-speaker\\) trials",
    ),
    right("eer_and_threshold", "reference", lambda: (eer,)),
    right("eer_and_threshold", "nearest ROC point", lambda: (eer_nearest_point,)),
    wrong(
        "eer_and_threshold", "tpr = fpr", lambda: (eer_tpr_equals_fpr,), "not where tpr equals fpr"
    ),
    wrong(
        "eer_and_threshold",
        "inverted",
        lambda: (lambda s, t: eer(s, ~np.asarray(t)),),
        "higher score must mean",
    ),
    wrong(
        "eer_and_threshold",
        "percentage",
        lambda: (lambda s, t: (100 * eer(s, t)[0], eer(s, t)[1]),),
        "percentage",
    ),
    wrong(
        "eer_and_threshold",
        "threshold 0",
        lambda: (lambda s, t: (eer(s, t)[0], 0.0),),
        "at your threshold",
    ),
    wrong(
        "eer_and_threshold",
        "one number",
        lambda: (lambda s, t: eer(s, t)[0],),
        "expected a pair \\(eer, threshold\\)",
    ),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    accepts(case, capsys)


@pytest.mark.parametrize("case", [c for c in CASES if c.match is not None], ids=str)
def test_rejects(case: Case) -> None:
    rejects(case)


def test_global_random_state_is_left_as_found() -> None:
    """The check itself does not move the global generators it watches."""
    state = (random.getstate(), np.random.get_state()[1].copy(), torch.random.get_rng_state())
    checks.unseen_speakers(holdout_speakers)
    assert random.getstate() == state[0]
    assert np.array_equal(np.random.get_state()[1], state[1])
    assert torch.equal(torch.random.get_rng_state(), state[2])


# --------------------------------------------------------------------------------------------------
# The given cells after each exercise of solutions/07_speaker_verification.ipynb, fed the types the
# notebook passes them: every answer its check accepts runs through them (issue 18).

EMBEDDINGS = np.random.default_rng(5).normal(size=(12, 16)).astype(np.float32)  # as extracted
CLASSES = np.repeat(np.arange(4), 3)  # int64, as extract_embeddings returns them


def after_unseen_speakers(split):
    """The sorted speaker ids split, the files kept by membership, the unseen ones printed."""
    speakers = sorted(str(s) for s in range(300, 1500, 97))
    seen, unseen = split(speakers, 3, 0)
    files = [s for s in speakers for _ in range(2)]
    assert len([u for u in files if u in set(seen)]) == 2 * len(seen)
    print(f"unseen: {', '.join(unseen)}")


def after_cosine_matrix(cosine):
    """make_trials scores pairs with your cosine; the histogram cell uses min, max and ~same."""
    i, j = np.triu_indices(len(EMBEDDINGS), k=1)
    scores, same = cosine(EMBEDDINGS, EMBEDDINGS)[i, j], CLASSES[i] == CLASSES[j]
    np.linspace(scores.min(), scores.max(), 40)
    assert len(scores[~same]) == int((~same).sum())


def after_trial_pairs(trials):
    """Target and non-target counts, the histogram, the ROC and the EER of the trials."""
    scores, same = trials(EMBEDDINGS, CLASSES)
    print(f"{len(scores)} trials: {same.sum()} target, {(~same).sum()} non-target")
    assert (
        int(same.sum()) + int((~same).sum()) == len(scores) == len(scores[~same]) + int(same.sum())
    )
    np.linspace(scores.min(), scores.max(), 40)
    roc_curve(same, scores)


def after_eer_and_threshold(eer_fn):
    """The EER and its threshold printed, the error rates at that threshold."""
    scores, same = make_trials(EMBEDDINGS, CLASSES)
    unseen_eer, threshold = eer_fn(scores, same)
    print(f"EER {unseen_eer:.1%} at threshold {threshold:.3f}")
    print(f"{np.mean(scores[~same] >= threshold):.1%}, {np.mean(scores[same] < threshold):.1%}")


NEXT_CELLS = {
    "unseen_speakers": after_unseen_speakers,
    "cosine_matrix": after_cosine_matrix,
    "trial_pairs": after_trial_pairs,
    "eer_and_threshold": after_eer_and_threshold,
}


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_what_the_check_accepts_runs_in_the_cells_after_it(case: Case, capsys) -> None:
    assert set(NEXT_CELLS) == {c.check for c in CASES}
    NEXT_CELLS[case.check](*case.args())
