"""Checks for notebook 07, speaker verification: unseen speakers, cosine scores, trials, the EER.

Each check runs the student's function on small inputs of the types notebook 07 passes (float32
embeddings, integer labels, lists of str) whose right answer is known or computed by the kit, with
the global random generators watched where randomness is involved.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np
import torch

from ..metrics import equal_error_rate as reference_eer
from . import core
from .core import Mistake, Observed, call, exercise, verdict

__all__ = ["cosine_matrix", "eer_and_threshold", "trial_pairs", "unseen_speakers"]

# --------------------------------------------------------------------------------------------------
# Exercise: speakers held out of training

# fmt: off
HOLDOUT = [
    Mistake(lambda o: len(o.seen) == 5 and len(o.unseen) == len(o.speakers) - 5,
            "split(..., n_unseen=5) returned {seen_n} seen and {unseen_n} unseen speakers: the pair is in the wrong order. Return (seen, unseen): the training speakers first."),
    Mistake(lambda o: len(o.unseen) != 5, "split(..., n_unseen=5) holds out {unseen_n} speakers: hold out exactly n_unseen speakers."),
    Mistake(lambda o: o.both, "Speakers both seen and held out: {both}. A held-out speaker must never appear in training: the two groups must be disjoint."),
    Mistake(lambda o: sorted(o.seen + o.unseen) != sorted(o.speakers), "seen + unseen is not the list of speakers given (some are missing or repeated): every speaker goes to exactly one group."),
    Mistake(lambda o: sorted(o.shuffled) != sorted(o.unseen), "The same speakers in another order give another hold-out: it depends on the input order. Sort the speakers before drawing."),
    Mistake(lambda o: len(o.three) != 3, "With n_unseen=3 the number of unseen speakers is {three_n}, not 3: use the n_unseen argument, not a constant."),
]
# fmt: on


@exercise(
    "Hold out n_unseen whole speakers: none of their files may be used in training.",
    "The two groups are disjoint and together hold every speaker; the choice comes from your own generator made from the seed, applied to the *sorted* speakers, so that neither the global random state nor the input order changes it. The pair is (seen, unseen).",
    "Permute the sorted speakers with numpy's default_rng(seed); the first n_unseen of the permutation are unseen, the rest are seen; return (seen, unseen) as lists of str.",
)
def unseen_speakers(split: Callable[[Sequence[str], int, int], tuple]) -> None:
    """Check ``split(speakers, n_unseen, seed) -> (seen, unseen)`` on a sorted list of str ids.

    Requires: the global generators untouched; a pair, n_unseen held out, disjoint, together every
    speaker; the same for the same seed, whatever the input order; another for another seed.
    """
    speakers = [str(s) for s in range(200, 2200, 83)]

    def held_out(speakers: list[str], n_unseen: int) -> tuple[list[str], list[str]]:
        what = f"holdout_speakers({len(speakers)} speakers, n_unseen={n_unseen}, seed=0)"
        with core.leaves_global_rngs(what):
            result = call(split, list(speakers), n_unseen, 0, what=what)
        return tuple(
            [str(s) for s in part] for part in core.returns_pair(result, what, "(seen, unseen)")
        )

    seen, unseen = held_out(speakers, 5)
    both = sorted(set(seen) & set(unseen))
    o = Observed(
        speakers=speakers,
        seen=seen,
        unseen=unseen,
        seen_n=len(seen),
        unseen_n=len(unseen),
        both=both,
    )
    verdict(o, HOLDOUT[:4])
    with core.leaves_global_rngs(what := "holdout_speakers(24 speakers, n_unseen=5, seed=0)"):
        core.repeatable(split, list(speakers), 5, 0, what=what)
        core.uses_argument(split, (list(speakers), 5, 0), 2, 1, what=what)
    o.update(shuffled=held_out(random.Random(3).sample(speakers, len(speakers)), 5)[1])
    three = held_out(speakers, 3)[1]
    o.update(three=three, three_n=len(three))
    verdict(
        o,
        HOLDOUT,
        f"speaker hold-out: {len(seen)} seen + {len(unseen)} unseen, disjoint and reproducible.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: cosine scores

NOT_COSINE = "The scores are not cosine similarities: "
# fmt: off
COSINE = [
    Mistake(lambda o: o.got.shape == (3, 4), "For a (4, 6) and b (3, 6) the result has shape (3, 4): rows of b against rows of a. Row i of the result belongs to row i of a."),
    Mistake(lambda o: o.got.shape != (4, 3), "For a (4, 6) and b (3, 6) the result has shape {got.shape}; expected (4, 3): one score for every pair (row of a, row of b)."),
    Mistake(lambda o: o.equals(o.a @ o.b.T), NOT_COSINE + "these are dot products; divide each vector by its norm first."),
    Mistake(lambda o: o.equals(o.unit(o.a) @ o.b.T), NOT_COSINE + "only a is normalised; normalise b too."),
    Mistake(lambda o: o.equals(o.a @ o.unit(o.b).T), NOT_COSINE + "only b is normalised; normalise a too."),
    Mistake(lambda o: o.equals(1 - o.unit(o.a) @ o.unit(o.b).T), NOT_COSINE + "that is the cosine distance; return the similarity (higher = more alike)."),
    Mistake(lambda o: o.equals(o.unit(o.a.T).T @ o.unit(o.b.T)), NOT_COSINE + "the norms were taken along axis 0 (per feature); each *row* is a vector."),
    Mistake(lambda o: not o.equals(o.unit(o.a) @ o.unit(o.b).T), NOT_COSINE + "cos(u, v) = u·v / (|u| |v|), for every row u of a and row v of b."),
]
# fmt: on


@exercise(
    "The cosine similarity of two vectors is their dot product divided by the product of their lengths.",
    "Normalise every row of a and every row of b to length 1 (the norm along axis 1, one per row), then one matrix product gives all the pairs at once: (len(a), len(b)).",
    "Divide each row of a by its Euclidean norm (keeping the axis so that it broadcasts), the same for b, then multiply the normalised a by the transpose of the normalised b.",
)
def cosine_matrix(cosine: Callable) -> None:
    """Check ``cosine(a, b) -> (len(a), len(b))`` on float32 arrays (as ``extract_embeddings`` gives).

    Requires: an array (or tensor) of that shape, the cosine similarity of each row of ``a`` with
    each row of ``b``.
    """
    rng = np.random.default_rng(2)
    a = (rng.normal(size=(4, 6)) * np.array([[1.0], [3.0], [0.2], [10.0]])).astype(np.float32)
    b = (rng.normal(size=(3, 6)) * np.array([[2.0], [0.5], [7.0]])).astype(np.float32)
    got = core.as_array(
        call(cosine, a.copy(), b.copy(), what="cosine(a (4, 6), b (3, 6))"), "scores"
    )
    o = Observed(got=got.astype(float), a=a.astype(float), b=b.astype(float))
    o["unit"] = lambda rows: rows / np.linalg.norm(rows, axis=1, keepdims=True)
    o["equals"] = lambda value: np.allclose(o.got, value, atol=1e-5)
    verdict(o, COSINE, "cosine scores: a (4, 3) matrix of similarities between -1 and 1.")


# --------------------------------------------------------------------------------------------------
# Exercise: trials

COUNT = "{n} utterances give {n_pairs} distinct pairs; you return {n_scores} trials: "
# fmt: off
TRIALS = [
    Mistake(lambda o: not all(isinstance(v, np.ndarray | torch.Tensor) for v in o.got),
            "trials(emb, labels) returned ({kinds}); the cells after this one compute scores.min() and scores[~same]: return two numpy arrays."),
    Mistake(lambda o: o.same.dtype != bool,
            "same has dtype {same.dtype}, not bool: ~same, which the cells after this one use to pick the non-target trials, then flips bits instead of negating. Compare the two labels of each pair, which gives booleans."),
    Mistake(lambda o: len(o.scores) != len(o.same), "{n_scores} scores but {n_same} same/different labels: one label per score."),
    Mistake(lambda o: o.n_scores == o.n * o.n, COUNT + "you score every ordered pair, including each utterance with itself (score 1)."),
    Mistake(lambda o: o.n_scores == o.n * (o.n - 1), COUNT + "each pair appears twice, (i, j) and (j, i); keep i < j."),
    Mistake(lambda o: o.n_scores == o.n * (o.n + 1) // 2, COUNT + "the pairs of an utterance with itself (i == j) are included; keep i < j."),
    Mistake(lambda o: o.n_scores != o.n_pairs, COUNT + "every pair i < j once."),
    Mistake(lambda o: o.n_target != o.ref_target, "{n_target} target (same-speaker) trials; there should be {ref_target}: a pair (i, j) is a target trial when the labels at i and j are equal."),
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
    unordered pair of distinct utterances once, scored by cosine, its label in the same order.
    """
    rng = np.random.default_rng(4)
    labels = np.repeat(np.array([3, 7, 9, 11]), [3, 2, 4, 3])
    emb = (rng.normal(size=(12, 5)) * rng.uniform(0.5, 3.0, size=(12, 1))).astype(np.float32)
    what = "make_trials(embeddings, labels)"
    got = core.returns_pair(
        call(trials, emb.copy(), labels.copy(), what=what), what, "(scores, same)"
    )
    scores, same = (core.as_array(v, "the result").ravel() for v in got)
    i, j = np.triu_indices(12, k=1)
    unit = emb.astype(float) / np.linalg.norm(emb.astype(float), axis=1, keepdims=True)
    ref_scores, ref_same = (unit[i] * unit[j]).sum(1), labels[i] == labels[j]
    o = Observed(got=got, kinds=", ".join(type(v).__name__ for v in got), n=12, n_pairs=len(i))
    o.update(scores=scores.astype(float), same=same, n_scores=len(scores), n_same=len(same))
    o.update(
        n_target=int(same.sum()), ref_target=int(ref_same.sum()), dots=(emb[i] * emb[j]).sum(1)
    )
    o["ref_sorted"] = ref_scores[np.lexsort((ref_scores, ref_same))]
    ok = f"trials: {len(scores)} pairs, {o.n_target} target and {len(scores) - o.n_target} non-target."
    verdict(o, TRIALS, ok)


# --------------------------------------------------------------------------------------------------
# Exercise: the equal error rate

MISSED = "On {name} your EER is {eer:.4f}; it should be {wanted:.4f} (± {tolerance}): "
# fmt: off
EER = [
    Mistake(lambda o: not all(map(core.is_number, o.got)),
            "eer_fn(scores, same) should return two numbers (eer, threshold); got {got!r:.120}: the EER (a rate between 0 and 1) and the score threshold where it is reached."),
    Mistake(lambda o: o.eer > 1.0 and math.isclose(o.eer / 100, o.wanted, abs_tol=o.tolerance), "EER = {eer:.2f}: a percentage. Return a rate between 0 and 1."),
    Mistake(lambda o: not o.near(o.wanted) and (o.near(o.inverted) or o.near(1 - o.wanted)),
            MISSED + "a higher score must mean 'same speaker', so take the ROC curve of (same, scores) with the target trials as the positive class."),
    Mistake(lambda o: not o.near(o.wanted) and (o.eer < 1e-6 or o.eer > 1 - 1e-6),
            MISSED + "the EER is where the false rejection rate (1 − tpr) equals the false acceptance rate (fpr), not where tpr equals fpr."),
    Mistake(lambda o: not o.near(o.wanted), MISSED + "fnr = 1 − tpr; find where fnr − fpr changes sign along the ROC, and interpolate between the two points around the crossing."),
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
    """Check ``eer_fn(scores, same) -> (eer, threshold)`` on float64 scores and boolean labels.

    Requires: two numbers; on three score sets the EER as a rate within the tolerance of
    ``helpers.metrics``'s, and at the threshold both error rates near the EER.
    """
    rng = np.random.default_rng(11)
    for name, scores, same, tolerance in [
        ("two Gaussians 2 standard deviations apart", np.r_[rng.normal(2, 1, 400), rng.normal(0, 1, 4000)], np.arange(4400) < 400, 0.01),
        ("cosine-like scores with overlap", np.r_[rng.normal(0.6, 0.1, 300), rng.uniform(-0.2, 0.7, 2000)], np.arange(2300) < 300, 0.01),
        ("perfectly separated scores", np.r_[rng.uniform(0.6, 1, 50), rng.uniform(-1, 0.5, 500)], np.arange(550) < 50, 0.005),
    ]:  # fmt: skip
        what = f"eer(scores, same) on {name}"
        got = core.returns_pair(
            call(eer_fn, scores.copy(), same.copy(), what=what), what, "(eer, threshold)"
        )
        eer, threshold = (
            (float(v) for v in got) if all(map(core.is_number, got)) else (math.nan, math.nan)
        )
        o = Observed(name=name, got=got, eer=eer, threshold=threshold, tolerance=tolerance)
        o.update(wanted=reference_eer(scores, same)[0], inverted=reference_eer(-scores, same)[0])
        o.update(far=np.mean(scores[~same] >= threshold), frr=np.mean(scores[same] < threshold))
        o["near"] = lambda value, eer=eer, tolerance=tolerance: math.isclose(
            eer, value, abs_tol=tolerance
        )
        verdict(o, EER)
    core.passed("equal error rate: matches the reference on three score sets, threshold included.")
