"""Checks for notebook 07, speaker verification: unseen speakers, cosine scores, trials, the EER.

Each check runs the student's function on small constructed inputs of the types notebook 07 passes
(float32 embeddings, integer labels, lists of str), whose right answer is known or computed by the
kit, with the global random generators watched where randomness is involved.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..metrics import equal_error_rate as reference_eer
from .core import (
    Mistake,
    Observed,
    as_array,
    call,
    exercise,
    is_number,
    leaves_global_rngs,
    passed,
    repeatable,
    returns_pair,
    uses_argument,
    verdict,
)

__all__ = ["cosine_matrix", "eer_and_threshold", "trial_pairs", "unseen_speakers"]

# --------------------------------------------------------------------------------------------------
# Exercise: speakers held out of training

# fmt: off
HOLDOUT = [
    Mistake(lambda o: len(o.seen) == 5 and len(o.unseen) == o.n - 5,
            "split(..., n_unseen=5) returned {seen_n} seen and {unseen_n} unseen speakers: the pair is in the wrong order. Return (seen, unseen): the training speakers first."),
    Mistake(lambda o: len(o.unseen) != 5,
            "split(..., n_unseen=5) holds out {unseen_n} speakers: hold out exactly n_unseen speakers."),
    Mistake(lambda o: set(o.seen) & set(o.unseen),
            "Speakers both seen and held out: {both}. A held-out speaker must never appear in training: the two groups must be disjoint."),
    Mistake(lambda o: sorted(o.seen + o.unseen) != sorted(o.speakers),
            "seen + unseen is not the list of speakers given (some are missing or repeated): every speaker goes to exactly one group."),
    Mistake(lambda o: sorted(o.shuffled[1]) != sorted(o.unseen),
            "The same speakers in another order give another hold-out: it depends on the input order. Sort the speakers before drawing."),
    Mistake(lambda o: len(o.three) != 3,
            "With n_unseen=3 the number of unseen speakers is {three_n}, not 3: use the n_unseen argument, not a constant."),
]
# fmt: on


def _holdout(split: Callable, speakers: list[str], n_unseen: int, seed: int) -> tuple[list, list]:
    what = f"holdout_speakers({len(speakers)} speakers, n_unseen={n_unseen}, seed={seed})"
    with leaves_global_rngs(what):
        result = call(split, list(speakers), n_unseen, seed, what=what)
    seen, unseen = returns_pair(result, what, "(seen, unseen)")
    return [str(s) for s in seen], [str(s) for s in unseen]


@exercise(
    "Hold out n_unseen whole speakers: none of their files may be used in training.",
    "The two groups are disjoint and together hold every speaker; the choice comes from your own generator made from the seed, applied to the *sorted* speakers, so that neither the global random state nor the input order changes it. The pair is (seen, unseen).",
    "Permute the sorted speakers with numpy's default_rng(seed); the first n_unseen of the permutation are unseen, the rest are seen; return (seen, unseen) as lists of str.",
)
def unseen_speakers(split: Callable[[Sequence[str], int, int], tuple]) -> None:
    """Check ``split(speakers, n_unseen, seed) -> (seen, unseen)`` on a sorted list of str.

    Requires: the global generators untouched; a pair (seen, unseen), n_unseen held out, disjoint,
    together every speaker; the same for the same seed, whatever the input order; another for
    another seed.
    """
    speakers = [str(s) for s in range(200, 2200, 83)]
    shuffled = list(speakers)
    random.Random(3).shuffle(shuffled)
    seen, unseen = _holdout(split, speakers, 5, 0)
    observed = Observed(speakers=speakers, n=len(speakers), seen=seen, unseen=unseen)
    observed.update(seen_n=len(seen), unseen_n=len(unseen), both=sorted(set(seen) & set(unseen)))
    observed.update(
        shuffled=_holdout(split, shuffled, 5, 0), three=_holdout(split, speakers, 3, 0)[1]
    )
    observed["three_n"] = len(observed.three)
    verdict(observed, HOLDOUT[:4])
    what = f"holdout_speakers({len(speakers)} speakers, n_unseen=5, seed=0)"
    with leaves_global_rngs(what):
        repeatable(split, list(speakers), 5, 0, what=what)
        uses_argument(split, (list(speakers), 5, 0), 2, 1, what=what)
    ok = f"speaker hold-out: {len(seen)} seen + {len(unseen)} unseen, disjoint and reproducible."
    verdict(observed, HOLDOUT[4:], ok)


# --------------------------------------------------------------------------------------------------
# Exercise: cosine scores

# fmt: off
COSINE = [
    Mistake(lambda o: o.got.shape == (3, 4),
            "For a (4, 6) and b (3, 6) the result has shape (3, 4): rows of b against rows of a. Row i of the result belongs to row i of a."),
    Mistake(lambda o: o.got.shape != (4, 3),
            "For a (4, 6) and b (3, 6) the result has shape {shape}; expected (4, 3): one score for every pair (row of a, row of b)."),
    *(
        Mistake(lambda o, f=f: o.equals(f(o)), "The scores are not cosine similarities: " + where)
        for f, where in [
            (lambda o: o.a @ o.b.T, "these are dot products; divide each vector by its norm first."),
            (lambda o: o.na @ o.b.T, "only a is normalised; normalise b too."),
            (lambda o: o.a @ o.nb.T, "only b is normalised; normalise a too."),
            (lambda o: 1 - o.na @ o.nb.T, "that is the cosine distance; return the similarity "
             "(higher = more alike)."),
            (lambda o: o.columns, "the norms were taken along axis 0 (per feature); each *row* is "
             "a vector."),
        ]
    ),
    Mistake(lambda o: not o.equals(o.na @ o.nb.T),
            "The scores are not cosine similarities: cos(u, v) = u·v / (|u| |v|), for every row u of a and row v of b."),
]
# fmt: on


@exercise(
    "The cosine similarity of two vectors is their dot product divided by the product of their lengths.",
    "Normalise every row of a and every row of b to length 1 (the norm along axis 1, one per row), then one matrix product gives all the pairs at once: (len(a), len(b)).",
    "Divide each row of a by its Euclidean norm (keeping the axis so that it broadcasts), the same for b, then multiply the normalised a by the transpose of the normalised b.",
)
def cosine_matrix(cosine: Callable) -> None:
    """Check ``cosine(a, b) -> (len(a), len(b))`` on float32 arrays (as ``extract_embeddings`` gives).

    Requires: an array (or tensor) of that shape holding the cosine similarity of each row of
    ``a`` with each row of ``b``.
    """
    rng = np.random.default_rng(2)
    a = (rng.normal(size=(4, 6)) * np.array([[1.0], [3.0], [0.2], [10.0]])).astype(np.float32)
    b = (rng.normal(size=(3, 6)) * np.array([[2.0], [0.5], [7.0]])).astype(np.float32)
    got = as_array(call(cosine, a.copy(), b.copy(), what="cosine(a (4, 6), b (3, 6))"), "scores")
    a, b = a.astype(float), b.astype(float)
    observed = Observed(got=got.astype(float), shape=got.shape, a=a, b=b)
    observed.update(
        na=a / np.linalg.norm(a, axis=1, keepdims=True),
        nb=b / np.linalg.norm(b, axis=1, keepdims=True),
        columns=(a / np.linalg.norm(a, axis=0)) @ (b / np.linalg.norm(b, axis=0)).T,
        equals=lambda value: np.allclose(observed.got, value, atol=1e-5),
    )
    verdict(observed, COSINE, "cosine scores: a (4, 3) matrix of similarities between -1 and 1.")


# --------------------------------------------------------------------------------------------------
# Exercise: trials

# fmt: off
TRIALS = [
    Mistake(lambda o: not all(isinstance(v, np.ndarray | torch.Tensor) for v in o.got),
            "trials(emb, labels) returned ({kinds}); the cells after this one compute scores.min() and scores[~same]: return two numpy arrays."),
    Mistake(lambda o: o.same_dtype != "bool",
            "same has dtype {same_dtype}, not bool: ~same, which the cells after this one use to pick the non-target trials, then flips bits instead of negating. Compare the two labels of each pair, which gives booleans."),
    Mistake(lambda o: len(o.scores) != len(o.same),
            "{n_scores} scores but {n_same} same/different labels: one label per score."),
    Mistake(lambda o: len(o.scores) == o.n * o.n,
            "{n} utterances give {n_pairs} distinct pairs; you return {n_scores} trials: you score every ordered pair, including each utterance with itself (score 1)."),
    Mistake(lambda o: len(o.scores) == o.n * (o.n - 1),
            "{n} utterances give {n_pairs} distinct pairs; you return {n_scores} trials: each pair appears twice, (i, j) and (j, i); keep i < j."),
    Mistake(lambda o: len(o.scores) == o.n * (o.n + 1) // 2,
            "{n} utterances give {n_pairs} distinct pairs; you return {n_scores} trials: the pairs of an utterance with itself (i == j) are included; keep i < j."),
    Mistake(lambda o: len(o.scores) != o.n_pairs,
            "{n} utterances give {n_pairs} distinct pairs; you return {n_scores} trials: every pair i < j once."),
    Mistake(lambda o: o.same.sum() != o.ref_same.sum(),
            "{n_target} target (same-speaker) trials; there should be {ref_target}: a pair (i, j) is a target trial when the labels at i and j are equal."),
    Mistake(lambda o: np.allclose(np.sort(o.scores), np.sort(o.dots), atol=1e-5),
            "The scores are dot products of the embeddings, not cosine similarities: score each pair with the cosine function of the previous exercise."),
    Mistake(lambda o: not np.allclose(o.scores[np.lexsort((o.scores, o.same))], o.ref_sorted, atol=1e-5),
            "The scores of the pairs do not go with their same/different labels: the pair (i, j) of a score is not the pair of its label. Index the scores and the labels with the same (i, j)."),
]
# fmt: on


@exercise(
    "A trial is a pair of two different utterances: its cosine score, and whether they share a speaker.",
    "Every unordered pair once: (i, j) with i < j, never (i, i) and never both (i, j) and (j, i). The label of a pair compares the two utterances' speakers, in the same order as the scores.",
    "The upper-triangle indices of an n × n matrix without the diagonal give every i < j once; score each pair with your cosine of the embeddings at i and j; same = labels at i equal labels at j.",
)
def trial_pairs(trials: Callable) -> None:
    """Check ``trials(emb, labels) -> (scores, same)`` on float32 embeddings and integer labels.

    Requires: two arrays (numpy or torch), ``same`` boolean (the next cells use ``~same``); every
    unordered pair of distinct utterances once, scored by cosine, with its label in the same order.
    """
    rng = np.random.default_rng(4)
    labels = np.repeat(np.array([3, 7, 9, 11]), [3, 2, 4, 3])
    emb = rng.normal(size=(len(labels), 5)) * rng.uniform(0.5, 3.0, size=(len(labels), 1))
    emb = emb.astype(np.float32)
    what = "make_trials(embeddings, labels)"
    got = returns_pair(call(trials, emb.copy(), labels.copy(), what=what), what, "(scores, same)")
    scores, same = (as_array(v, "the result").ravel() for v in got)
    i, j = np.triu_indices(len(labels), k=1)
    unit = emb.astype(float) / np.linalg.norm(emb.astype(float), axis=1, keepdims=True)
    ref_scores, ref_same = (unit[i] * unit[j]).sum(1), labels[i] == labels[j]
    observed = Observed(got=got, kinds=", ".join(type(v).__name__ for v in got), n=len(labels))
    observed.update(
        scores=scores.astype(float), same=same, same_dtype=str(same.dtype), ref_same=ref_same
    )
    observed.update(
        n_scores=len(scores), n_same=len(same), n_pairs=len(i), dots=(emb[i] * emb[j]).sum(1)
    )
    observed.update(
        n_target=int(same.sum()) if same.dtype == bool else 0,
        ref_target=int(ref_same.sum()),
        ref_sorted=ref_scores[np.lexsort((ref_scores, ref_same))],
    )
    ok = f"trials: {len(scores)} pairs, {observed.n_target} target and {len(scores) - observed.n_target} non-target."
    verdict(observed, TRIALS, ok)


# --------------------------------------------------------------------------------------------------
# Exercise: the equal error rate


def _eer_cases() -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    rng = np.random.default_rng(11)
    gaussian = np.concatenate([rng.normal(2.0, 1.0, 400), rng.normal(0.0, 1.0, 4000)])
    skewed = np.concatenate([rng.normal(0.6, 0.1, 300), rng.uniform(-0.2, 0.7, 2000)])
    separable = np.concatenate([rng.uniform(0.6, 1.0, 50), rng.uniform(-1.0, 0.5, 500)])
    return [
        ("two Gaussians 2 standard deviations apart", gaussian, np.arange(4400) < 400, 0.01),
        ("cosine-like scores with overlap", skewed, np.arange(2300) < 300, 0.01),
        ("perfectly separated scores", separable, np.arange(550) < 50, 0.005),
    ]


# fmt: off
EER = [
    Mistake(lambda o: not all(is_number(v) for v in o.got),
            "eer_fn(scores, same) should return two numbers (eer, threshold); got {got!r:.120}: the EER (a rate between 0 and 1) and the score threshold where it is reached."),
    Mistake(lambda o: o.eer > 1.0 and math.isclose(o.eer / 100, o.wanted, abs_tol=o.tolerance),
            "EER = {eer:.2f}: a percentage. Return a rate between 0 and 1."),
    Mistake(lambda o: not o.near(o.wanted) and (o.near(o.inverted) or o.near(1 - o.wanted)),
            "On {name} your EER is {eer:.4f}; it should be {wanted:.4f} (± {tolerance}): a higher score must mean 'same speaker', so take the ROC curve of (same, scores) with the target trials as the positive class."),
    Mistake(lambda o: not o.near(o.wanted) and (o.eer < 1e-6 or o.eer > 1 - 1e-6),
            "On {name} your EER is {eer:.4f}; it should be {wanted:.4f} (± {tolerance}): the EER is where the false rejection rate (1 − tpr) equals the false acceptance rate (fpr), not where tpr equals fpr."),
    Mistake(lambda o: not o.near(o.wanted),
            "On {name} your EER is {eer:.4f}; it should be {wanted:.4f} (± {tolerance}): fnr = 1 − tpr; find where fnr − fpr changes sign along the ROC, and interpolate between the two points around the crossing."),
    Mistake(lambda o: max(abs(o.far - o.wanted), abs(o.frr - o.wanted)) > 2 * o.tolerance + 0.01,
            "On {name}, at your threshold {threshold:.4f} the false acceptance rate is {far:.3f} and the false rejection rate {frr:.3f}; both should be close to the EER {wanted:.3f}: return the ROC threshold at the crossing point."),
]
# fmt: on


@exercise(
    "The EER is the error rate at the threshold where false acceptances and false rejections are equally frequent.",
    "From the ROC curve of (same, scores) — target trials are the positive class, higher score means same speaker — the false rejection rate is 1 − tpr and the false acceptance rate is fpr; find where their difference changes sign. Return a rate (0 … 1) and the threshold there.",
    "Walk the ROC points to the first one where fnr ≤ fpr; interpolate linearly between it and the point before to where fpr − fnr = 0; return that rate and the threshold of the crossing point.",
)
def eer_and_threshold(eer_fn: Callable) -> None:
    """Check ``eer_fn(scores, same) -> (eer, threshold)`` on float scores and boolean labels.

    Requires: two numbers; the EER as a rate within the tolerance of ``helpers.metrics``'s on three
    score sets; at the threshold, false acceptance and false rejection rates both near the EER.
    """
    for name, scores, same, tolerance in _eer_cases():
        what = f"eer(scores, same) on {name}"
        got = returns_pair(
            call(eer_fn, scores.copy(), same.copy(), what=what), what, "(eer, threshold)"
        )
        numbers = all(is_number(v) for v in got)
        eer, threshold = (float(v) for v in got) if numbers else (math.nan, math.nan)
        wanted = reference_eer(scores, same)[0]
        observed = Observed(name=name, got=got, eer=eer, threshold=threshold, tolerance=tolerance)
        observed.update(wanted=wanted, inverted=reference_eer(-scores, same)[0])
        observed.update(
            near=lambda value, eer=eer, tolerance=tolerance: math.isclose(
                eer, value, abs_tol=tolerance
            ),
            far=float(np.mean(scores[~same] >= threshold)),
            frr=float(np.mean(scores[same] < threshold)),
        )
        verdict(observed, EER)
    passed("equal error rate: matches the reference on three score sets, threshold included.")
