"""Checks for notebook 07, verification: unseen speakers, cosine scores, trials, the EER.

The inputs have the types notebook 07 passes: float32 embeddings, integer labels, lists of str ids."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np

from ..metrics import equal_error_rate as reference_eer
from . import core
from .core import Mistake, Observed, call, exercise, pair_of_arrays, seeded_draw, verdict

__all__ = ["cosine_matrix", "eer_and_threshold", "trial_pairs", "unseen_speakers"]


def _unit(rows: np.ndarray) -> np.ndarray:
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


HOLDOUT = [
    Mistake(lambda o: len(o.seen) == 5 and len(o.unseen) == 20, "split(..., n_unseen=5) returned 5 seen and 20 unseen speakers: the pair is in the wrong order; (seen, unseen)."),
    Mistake(lambda o: len(o.unseen) != 5, "split(..., n_unseen=5) holds out {n_unseen} speakers: hold out exactly n_unseen."),
    Mistake(lambda o: o.both, "Speakers both seen and held out: {both}; the two groups must be disjoint."),
    Mistake(lambda o: sorted(o.seen + o.unseen) != sorted(o.speakers), "seen + unseen is not the list of speakers given (some missing or repeated): each goes to one group."),
    Mistake(lambda o: sorted(o.shuffled) != sorted(o.unseen), "The hold-out depends on the input order: sort the speakers before drawing."),
    Mistake(lambda o: len(o.three) != 3, "With n_unseen=3 you hold out {n_three} speakers: use the n_unseen argument, not a constant."),
]  # fmt: skip


@exercise("""Hold out n_unseen whole speakers: none of their files may be used in training.
Disjoint groups, every speaker in one; drawn from the seed's own generator, the speakers sorted.
Permute the sorted speakers with default_rng(seed): the first n_unseen are unseen, the rest seen.""")
def unseen_speakers(split: Callable[[Sequence[str], int, int], tuple]) -> None:
    """Check ``split(speakers, n_unseen, seed) -> (seen, unseen)`` on lists of str ids. Requires: the
    global generators untouched; a pair, n_unseen held out, disjoint, together every speaker; the
    same for the same seed, whatever the input order; another for another seed."""
    speakers = [str(s) for s in range(200, 2200, 83)]

    def held_out(speakers: list[str], n: int, probe: bool = False) -> list[list[str]]:
        what = f"holdout_speakers({len(speakers)} speakers, n_unseen={n}, seed=0)"
        pair = seeded_draw(split, speakers, n, what, probe)
        return [[str(s) for s in part] for part in core.returns_pair(pair, what, "(seen, unseen)")]

    seen, unseen = held_out(speakers, 5)
    o = Observed(speakers=speakers, seen=seen, unseen=unseen, n_unseen=len(unseen))
    verdict(Observed(o, both=sorted(set(seen) & set(unseen))), HOLDOUT[:4])
    held_out(speakers, 5, probe=True)
    o.update(shuffled=held_out(random.Random(3).sample(speakers, len(speakers)), 5)[1])
    three = held_out(speakers, 3)[1]
    o.update(three=three, n_three=len(three))
    verdict(o, HOLDOUT[4:], f"speaker hold-out: {len(seen)} seen + {len(unseen)} unseen, disjoint.")


NOT_COSINE = "The scores are not cosine similarities: "
COSINE = [
    Mistake(lambda o: o.got.shape == (3, 4), "For a (4, 6) and b (3, 6) the result has shape (3, 4): rows of b against rows of a; row i belongs to a's row i."),
    Mistake(lambda o: o.got.shape != (4, 3), "For a (4, 6) and b (3, 6) the result has shape {got.shape}; expected (4, 3): one score per (row of a, row of b)."),
    Mistake(lambda o: o.equals(o.a @ o.b.T), NOT_COSINE + "these are dot products; divide each vector by its norm."),
    Mistake(lambda o: o.equals(_unit(o.a) @ o.b.T), NOT_COSINE + "only a is normalised; normalise b too."),
    Mistake(lambda o: o.equals(o.a @ _unit(o.b).T), NOT_COSINE + "only b is normalised; normalise a too."),
    Mistake(lambda o: o.equals(1 - _unit(o.a) @ _unit(o.b).T), NOT_COSINE + "that is the cosine distance; return the similarity (higher = more alike)."),
    Mistake(lambda o: o.equals(_unit(o.a.T).T @ _unit(o.b.T)), NOT_COSINE + "the norms were taken along axis 0 (per feature); each *row* is a vector."),
    Mistake(lambda o: not o.equals(_unit(o.a) @ _unit(o.b).T), NOT_COSINE + "cos(u, v) = u·v / (|u| |v|), for every row u of a and row v of b."),
]  # fmt: skip


@exercise("""The cosine similarity of two vectors is their dot product over the product of their lengths.
Normalise every row of a and of b to length 1 (the norm along axis 1); one matrix product does all.
Divide each row by its Euclidean norm (keeping the axis), for a and b; normalised a @ normalised b.T.""")
def cosine_matrix(cosine: Callable) -> None:
    """Check ``cosine(a, b) -> (len(a), len(b))`` on float32 arrays (as ``extract_embeddings``
    gives). Requires: an array (or tensor) of that shape, the cosine similarity of each row of ``a``
    with each row of ``b``."""
    rng = np.random.default_rng(2)
    a = (rng.normal(size=(4, 6)) * np.array([[1.0], [3.0], [0.2], [10.0]])).astype(np.float32)
    b = (rng.normal(size=(3, 6)) * np.array([[2.0], [0.5], [7.0]])).astype(np.float32)
    got = call(cosine, a.copy(), b.copy(), what="cosine(a (4, 6), b (3, 6))")
    o = Observed(got=core.as_array(got, "scores").astype(float), a=a.astype(float), b=b)
    o["equals"] = lambda value: np.allclose(o.got, value, atol=1e-5)
    o["b"] = b.astype(float)
    verdict(o, COSINE, "cosine scores: a (4, 3) matrix of similarities between -1 and 1.")


COUNT = "{n} utterances give {n_pairs} distinct pairs; you return {n_scores} trials: "
TRIALS = [
    Mistake(lambda o: not o.numpy, "trials(emb, labels) returned ({kinds}); the next cells compute scores.min() and scores[~same]: return two numpy arrays."),
    Mistake(lambda o: o.same.dtype != bool, "same has dtype {same.dtype}, not bool: ~same, which the next cells use, then flips bits instead of negating."),
    Mistake(lambda o: len(o.scores) != len(o.same), "{n_scores} scores but {n_same} same/different labels: one label per score."),
    Mistake(lambda o: o.n_scores == o.n * o.n, COUNT + "you score every ordered pair, including each utterance with itself."),
    Mistake(lambda o: o.n_scores == o.n * (o.n - 1), COUNT + "each pair appears twice, (i, j) and (j, i); keep i < j."),
    Mistake(lambda o: o.n_scores == o.n * (o.n + 1) // 2, COUNT + "the pairs of an utterance with itself (i == j) are included; keep i < j."),
    Mistake(lambda o: o.n_scores != o.n_pairs, COUNT + "every pair i < j once."),
    Mistake(lambda o: o.n_target != o.ref_target, "{n_target} target (same-speaker) trials; there should be {ref_target}: (i, j) is a target when its labels are equal."),
    Mistake(lambda o: np.allclose(np.sort(o.scores), np.sort(o.dots), atol=1e-5), "The scores are dot products of the embeddings, not cosine similarities."),
    Mistake(lambda o: not np.allclose(o.scores[np.lexsort((o.scores, o.same))], o.ref_sorted, atol=1e-5),
            "The scores do not go with their same/different labels: index the scores and the labels with the same (i, j)."),
]  # fmt: skip


@exercise("""A trial is a pair of two different utterances: its cosine score, and whether they share a speaker.
Every unordered pair once: i < j, never (i, i), never both (i, j) and (j, i); labels in the same order.
The upper triangle without the diagonal gives each i < j once; score with your cosine; compare labels.""")
def trial_pairs(trials: Callable) -> None:
    """Check ``trials(emb, labels) -> (scores, same)`` on float32 embeddings and integer labels.
    Requires: two arrays (numpy or torch), ``same`` boolean (the next cells use ``~same``); every
    unordered pair of distinct utterances once, scored by cosine, its label in the same order."""
    rng = np.random.default_rng(4)
    labels = np.repeat(np.array([3, 7, 9, 11]), [3, 2, 4, 3])
    emb = (rng.normal(size=(12, 5)) * rng.uniform(0.5, 3.0, size=(12, 1))).astype(np.float32)
    what = "make_trials(embeddings, labels)"
    o = pair_of_arrays(trials, (emb.copy(), labels.copy()), what, "(scores, same)")
    scores, same = (a.ravel() for a in o.arrays)
    i, j = np.triu_indices(12, k=1)
    unit = _unit(emb.astype(float))
    ref_scores, ref_same = (unit[i] * unit[j]).sum(1), labels[i] == labels[j]
    o.update(scores=scores.astype(float), same=same, n=12, n_pairs=len(i), n_scores=len(scores))
    o.update(n_same=len(same), n_target=int(same.sum()), ref_target=int(ref_same.sum()))
    o["ref_sorted"] = ref_scores[np.lexsort((ref_scores, ref_same))]
    o["dots"] = (emb[i] * emb[j]).sum(1)
    ok = f"trials: {len(scores)} pairs, {o.n_target} target and {len(scores) - o.n_target} non-target."
    verdict(o, TRIALS, ok)


MISSED = "On {name} your EER is {eer:.4f}; it should be {wanted:.4f} (± {tolerance}): "
EER = [
    Mistake(lambda o: not all(map(core.is_number, o.got)), "eer_fn(scores, same) should return two numbers (eer, threshold); got {got!r:.120}."),
    Mistake(lambda o: o.eer > 1.0 and math.isclose(o.eer / 100, o.wanted, abs_tol=o.tolerance), "EER = {eer:.2f}: a percentage. Return a rate between 0 and 1."),
    Mistake(lambda o: o.off and o.flipped, MISSED + "a higher score must mean 'same speaker' (the target trials are the ROC's positive class)."),
    Mistake(lambda o: o.off and (o.eer < 1e-6 or o.eer > 1 - 1e-6), MISSED + "the EER is where 1 − tpr equals fpr, not where tpr equals fpr."),
    Mistake(lambda o: o.off, MISSED + "find where fnr − fpr changes sign along the ROC, and interpolate between the two points."),
    Mistake(lambda o: max(abs(o.far - o.wanted), abs(o.frr - o.wanted)) > 2 * o.tolerance + 0.01,
            "On {name}, at your threshold {threshold:.4f} the false acceptance rate is {far:.3f} and the false rejection rate {frr:.3f}, not both near the EER {wanted:.3f}."),
]  # fmt: skip


@exercise("""The EER is the error rate where false acceptances and false rejections are equally frequent.
From the ROC of (same, scores), targets positive: fnr = 1 − tpr and fpr; find where they cross.
Walk the ROC to the first point with fnr ≤ fpr; interpolate with the one before; that rate and threshold.""")
def eer_and_threshold(eer_fn: Callable) -> None:
    """Check ``eer_fn(scores, same) -> (eer, threshold)`` on float64 scores and boolean labels.
    Requires: two numbers; on three score sets the EER as a rate within the tolerance of
    ``helpers.metrics``'s, and at the threshold both error rates near the EER."""
    rng = np.random.default_rng(11)
    for name, scores, same, tolerance in [
        ("two Gaussians 2 standard deviations apart", np.r_[rng.normal(2, 1, 400), rng.normal(0, 1, 4000)], np.arange(4400) < 400, 0.01),
        ("cosine-like scores with overlap", np.r_[rng.normal(0.6, 0.1, 300), rng.uniform(-0.2, 0.7, 2000)], np.arange(2300) < 300, 0.01),
        ("perfectly separated scores", np.r_[rng.uniform(0.6, 1, 50), rng.uniform(-1, 0.5, 500)], np.arange(550) < 50, 0.005),
    ]:  # fmt: skip
        what = f"eer(scores, same) on {name}"
        got = call(eer_fn, scores.copy(), same.copy(), what=what)
        got = core.returns_pair(got, what, "(eer, threshold)")
        numbers = all(map(core.is_number, got))
        eer, threshold = (float(v) for v in got) if numbers else (math.nan, math.nan)
        wanted, inverted = reference_eer(scores, same)[0], reference_eer(-scores, same)[0]
        o = Observed(name=name, got=got, eer=eer, threshold=threshold, wanted=wanted)
        near = [math.isclose(eer, v, abs_tol=tolerance) for v in (wanted, 1 - wanted, inverted)]
        o.update(tolerance=tolerance, off=not near[0], flipped=any(near[1:]))
        o.update(far=np.mean(scores[~same] >= threshold), frr=np.mean(scores[same] < threshold))
        verdict(o, EER)
    core.passed("equal error rate: matches the reference on three score sets, threshold included.")
