"""Checks for notebook 07, speaker verification: unseen speakers, cosine scores, trials, the EER.

Each check runs the student's function on small constructed inputs whose right answer is known (or
computed by the kit), with the global random generators watched where randomness is involved.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np

from ..metrics import equal_error_rate as reference_eer
from .core import as_array, call, check, expect, fail, is_number, passed, watch_global_rngs

__all__ = ["cosine_matrix", "eer_and_threshold", "trial_pairs", "unseen_speakers"]


# --------------------------------------------------------------------------------------------------
# Exercise: speakers held out of training


def _run_holdout(
    split: Callable, speakers: list[str], n_unseen: int, seed: int
) -> tuple[list, list]:
    what = f"holdout_speakers({len(speakers)} speakers, n_unseen={n_unseen}, seed={seed})"
    with watch_global_rngs() as moved:
        result = call(split, list(speakers), n_unseen, seed, what=what)
    expect(
        not moved,
        f"{what} drew from {' and '.join(moved)}: which speakers are unseen then depends on every "
        "random draw made before, in any cell.",
        "draw from your own generator made from the seed (numpy's default_rng).",
    )
    expect(
        isinstance(result, tuple | list) and len(result) == 2,
        f"{what} returned {type(result).__name__}; expected a pair (seen, unseen).",
        "return two lists: the seen speakers first, then the unseen ones.",
    )
    seen, unseen = ([str(s) for s in part] for part in result)
    return seen, unseen


@check(
    "Hold out n_unseen whole speakers: none of their files may be used in training.",
    "The two groups are disjoint and together hold every speaker; the choice comes from your own "
    "generator made from the seed, applied to the *sorted* speakers, so that neither the global "
    "random state nor the input order changes it. The pair is (seen, unseen).",
    "Permute the sorted speakers with numpy's default_rng(seed); the first n_unseen of the "
    "permutation are unseen, the rest are seen; return (seen, unseen) as lists of str.",
)
def unseen_speakers(split: Callable[[Sequence[str], int, int], tuple]) -> None:
    """Check ``split(speakers, n_unseen, seed) -> (seen, unseen)``: disjoint, complete, reproducible."""
    speakers = [str(s) for s in range(200, 2200, 83)]
    shuffled = list(speakers)
    random.Random(3).shuffle(shuffled)
    seen, unseen = _run_holdout(split, speakers, 5, 0)
    expect(
        not (len(seen) == 5 and len(unseen) == len(speakers) - 5),
        f"split(..., n_unseen=5) returned {len(seen)} seen and {len(unseen)} unseen speakers: the "
        "pair is in the wrong order.",
        "return (seen, unseen): the training speakers first.",
    )
    expect(
        len(unseen) == 5,
        f"split(..., n_unseen=5) holds out {len(unseen)} speakers.",
        "hold out exactly n_unseen speakers.",
    )
    expect(
        not set(seen) & set(unseen),
        f"Speakers both seen and held out: {sorted(set(seen) & set(unseen))}.",
        "a held-out speaker must never appear in training: the two groups must be disjoint.",
    )
    expect(
        sorted(seen + unseen) == sorted(speakers),
        "seen + unseen is not the list of speakers given (some are missing or repeated).",
        "every speaker goes to exactly one group.",
    )
    expect(
        _run_holdout(split, speakers, 5, 0) == (seen, unseen),
        "Two calls with the same seed hold out different speakers.",
        "make the generator from the seed inside the function, once per call.",
    )
    seen2, unseen2 = _run_holdout(split, shuffled, 5, 0)
    expect(
        sorted(unseen) == sorted(unseen2) and sorted(seen) == sorted(seen2),
        "The same speakers in another order give another hold-out: it depends on the input order.",
        "sort the speakers before drawing.",
    )
    expect(
        sorted(_run_holdout(split, speakers, 5, 1)[1]) != sorted(unseen),
        "Another seed holds out the same speakers.",
        "let the seed drive the choice (not, say, the first n_unseen in sorted order).",
    )
    expect(
        len(_run_holdout(split, speakers, 3, 0)[1]) == 3,
        "With n_unseen=3 the number of unseen speakers is not 3.",
        "use the n_unseen argument, not a constant.",
    )
    passed(f"speaker hold-out: {len(seen)} seen + {len(unseen)} unseen, disjoint and reproducible.")


# --------------------------------------------------------------------------------------------------
# Exercise: cosine scores


@check(
    "The cosine similarity of two vectors is their dot product divided by the product of their lengths.",
    "Normalise every row of a and every row of b to length 1 (the norm along axis 1, one per row), "
    "then one matrix product gives all the pairs at once: (len(a), len(b)).",
    "Divide each row of a by its Euclidean norm (keeping the axis so that it broadcasts), the same "
    "for b, then multiply the normalised a by the transpose of the normalised b.",
)
def cosine_matrix(cosine: Callable) -> None:
    """Check ``cosine(a, b) -> (len(a), len(b))`` cosine similarities."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 6)) * np.array([[1.0], [3.0], [0.2], [10.0]])
    b = rng.normal(size=(3, 6)) * np.array([[2.0], [0.5], [7.0]])
    got = as_array(call(cosine, a.copy(), b.copy(), what="cosine(a (4, 6), b (3, 6))"), "scores")
    got = got.astype(float)
    na = a / np.linalg.norm(a, axis=1, keepdims=True)
    nb = b / np.linalg.norm(b, axis=1, keepdims=True)
    wanted = na @ nb.T
    expect(
        got.shape != (3, 4),
        "For a (4, 6) and b (3, 6) the result has shape (3, 4): rows of b against rows of a.",
        "row i of the result belongs to row i of a: a (normalised) times b (normalised) transposed.",
    )
    expect(
        got.shape == (4, 3),
        f"For a (4, 6) and b (3, 6) the result has shape {got.shape}; expected (4, 3).",
        "one score for every pair (row of a, row of b).",
    )
    if np.allclose(got, wanted, atol=1e-6):
        passed("cosine scores: a (4, 3) matrix of similarities between -1 and 1.")
        return
    columns = (a / np.linalg.norm(a, axis=0, keepdims=True)) @ (
        b / np.linalg.norm(b, axis=0, keepdims=True)
    ).T
    mistakes = [
        (a @ b.T, "these are dot products: divide each vector by its norm first."),
        (na @ b.T, "only a is normalised: normalise b too."),
        (a @ nb.T, "only b is normalised: normalise a too."),
        (1 - wanted, "that is the cosine distance; return the similarity (higher = more alike)."),
        (columns, "the norms were taken along axis 0 (per feature); each *row* is a vector."),
    ]
    for value, where in mistakes:
        if np.allclose(got, value, atol=1e-6):
            fail("The scores are not cosine similarities.", where)
    fail(
        "The scores are not cosine similarities.",
        "cos(u, v) = u·v / (|u| |v|), for every row u of a and row v of b.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: trials


def _reference_trials(emb: np.ndarray, labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    i, j = np.triu_indices(len(emb), k=1)
    return (unit[i] * unit[j]).sum(1), labels[i] == labels[j]


@check(
    "A trial is a pair of two different utterances: its cosine score, and whether they share a speaker.",
    "Every unordered pair once: (i, j) with i < j, never (i, i) and never both (i, j) and (j, i). "
    "The label of a pair compares the two utterances' speakers, in the same order as the scores.",
    "The upper-triangle indices of an n × n matrix without the diagonal give every i < j once; score "
    "each pair with your cosine of the embeddings at i and j; same = labels at i equal labels at j.",
)
def trial_pairs(trials: Callable) -> None:
    """Check ``trials(emb, labels) -> (scores, same)``: every unordered pair of distinct utterances once."""
    rng = np.random.default_rng(4)
    labels = np.repeat(np.array([3, 7, 9, 11]), [3, 2, 4, 3])
    emb = rng.normal(size=(len(labels), 5)) * rng.uniform(0.5, 3.0, size=(len(labels), 1))
    got = call(trials, emb.copy(), labels.copy(), what="make_trials(embeddings, labels)")
    expect(
        isinstance(got, tuple | list) and len(got) == 2,
        "trials(emb, labels) should return (scores, same).",
        "return two arrays of the same length: the cosine score of each pair, and whether its two "
        "utterances share a speaker.",
    )
    scores = as_array(got[0], "scores").astype(float).ravel()
    same = as_array(got[1], "same").astype(bool).ravel()
    n = len(labels)
    ref_scores, ref_same = _reference_trials(emb, labels)
    expect(
        len(scores) == len(same),
        f"{len(scores)} scores but {len(same)} same/different labels.",
        "one label per score.",
    )
    hints = {
        n * n: "you score every ordered pair, including each utterance with itself (score 1).",
        n * (n - 1): "each pair appears twice, (i, j) and (j, i): keep i < j.",
        n
        * (n + 1)
        // 2: "the pairs of an utterance with itself (i == j) are included: keep i < j.",
    }
    expect(
        len(scores) == len(ref_scores),
        f"{n} utterances give {len(ref_scores)} distinct pairs; you return {len(scores)} trials.",
        hints.get(len(scores), "every pair i < j once."),
    )
    expect(
        int(same.sum()) == int(ref_same.sum()),
        f"{int(same.sum())} target (same-speaker) trials; there should be {int(ref_same.sum())}.",
        "a pair (i, j) is a target trial when the labels at i and j are equal.",
    )
    dots = (emb[np.triu_indices(n, 1)[0]] * emb[np.triu_indices(n, 1)[1]]).sum(1)
    expect(
        not np.allclose(np.sort(scores), np.sort(dots), atol=1e-6),
        "The scores are dot products of the embeddings, not cosine similarities.",
        "score each pair with the cosine function of the previous exercise.",
    )
    order, ref_order = np.lexsort((scores, same)), np.lexsort((ref_scores, ref_same))
    expect(
        np.allclose(scores[order], ref_scores[ref_order], atol=1e-5),
        "The scores of the pairs do not go with their same/different labels: the pair (i, j) of a "
        "score is not the pair of its label.",
        "index the scores and the labels with the same (i, j) arrays.",
    )
    passed(
        f"trials: {len(scores)} pairs, {int(same.sum())} target and {int((~same).sum())} non-target."
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the equal error rate


def _eer_cases() -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    rng = np.random.default_rng(11)
    gaussian = np.concatenate([rng.normal(2.0, 1.0, 400), rng.normal(0.0, 1.0, 4000)])
    gaussian_same = np.arange(4400) < 400
    skewed = np.concatenate([rng.normal(0.6, 0.1, 300), rng.uniform(-0.2, 0.7, 2000)])
    skewed_same = np.arange(2300) < 300
    separable = np.concatenate([rng.uniform(0.6, 1.0, 50), rng.uniform(-1.0, 0.5, 500)])
    separable_same = np.arange(550) < 50
    return [
        ("two Gaussians 2 standard deviations apart", gaussian, gaussian_same, 0.01),
        ("cosine-like scores with overlap", skewed, skewed_same, 0.01),
        ("perfectly separated scores", separable, separable_same, 0.005),
    ]


@check(
    "The EER is the error rate at the threshold where false acceptances and false rejections are "
    "equally frequent.",
    "From the ROC curve of (same, scores) — target trials are the positive class, higher score means "
    "same speaker — the false rejection rate is 1 − tpr and the false acceptance rate is fpr; find "
    "where their difference changes sign. Return a rate (0 … 1) and the threshold there.",
    "Walk the ROC points to the first one where fnr ≤ fpr; interpolate linearly between it and the "
    "point before to where fpr − fnr = 0; return that rate and the threshold of the crossing point.",
)
def eer_and_threshold(eer_fn: Callable) -> None:
    """Check ``eer_fn(scores, same) -> (eer, threshold)`` on constructed score sets."""
    for name, scores, same, tolerance in _eer_cases():
        got = call(eer_fn, scores.copy(), same.copy(), what=f"eer(scores, same) on {name}")
        expect(
            isinstance(got, tuple | list) and len(got) == 2 and all(is_number(v) for v in got),
            f"eer_fn(scores, same) should return two numbers (eer, threshold); got {got!r:.120}.",
            "return the EER (a rate between 0 and 1) and the score threshold where it is reached.",
        )
        eer, threshold = float(got[0]), float(got[1])
        wanted, _ = reference_eer(scores, same)
        expect(
            not (eer > 1.0 and math.isclose(eer / 100, wanted, abs_tol=tolerance)),
            f"EER = {eer:.2f}: a percentage.",
            "return a rate between 0 and 1.",
        )
        if not math.isclose(eer, wanted, abs_tol=tolerance):
            inverted, _ = reference_eer(-scores, same)
            if math.isclose(eer, inverted, abs_tol=tolerance) or math.isclose(
                eer, 1 - wanted, abs_tol=tolerance
            ):
                where = (
                    "a higher score must mean 'same speaker': the ROC curve of (same, scores), "
                    "with the target trials as the positive class."
                )
            elif eer < 1e-6 or eer > 1 - 1e-6:
                where = (
                    "the EER is where the false rejection rate (1 − tpr) equals the false "
                    "acceptance rate (fpr), not where tpr equals fpr."
                )
            else:
                where = (
                    "fnr = 1 − tpr; find where fnr − fpr changes sign along the ROC, and "
                    "interpolate between the two points around the crossing."
                )
            fail(
                f"On {name} your EER is {eer:.4f}; it should be {wanted:.4f} (± {tolerance}).",
                where,
            )
        far = float(np.mean(scores[~same] >= threshold))
        frr = float(np.mean(scores[same] < threshold))
        expect(
            abs(far - wanted) <= 2 * tolerance + 0.01 and abs(frr - wanted) <= 2 * tolerance + 0.01,
            f"On {name}, at your threshold {threshold:.4f} the false acceptance rate is {far:.3f} "
            f"and the false rejection rate {frr:.3f}; both should be close to the EER {wanted:.3f}.",
            "return the ROC threshold at the crossing point.",
        )
    passed("equal error rate: matches the reference on three score sets, threshold included.")
