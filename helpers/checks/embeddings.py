"""Checks for notebook 06, embeddings: the embedding model, the speakers to plot, PCA, the 3-D scatter."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from . import core
from .core import (
    BATCH_NORMS,
    Mistake,
    Observed,
    exercise,
    is_module,
    modules_run,
    pair_of_arrays,
    seeded_draw,
    verdict,
)

__all__ = ["embedding_model", "embedding_scatter", "pca_projection", "speaker_choice"]


EMBEDDER = [
    Mistake(lambda o: o.training, "The embedder's {training} ran in training mode: a clip's embedding then changes with each call and its batch; use evaluation mode."),
    Mistake(lambda o: o.shape is None or len(o.shape) != 2 or o.shape[0] != o.batch, "embedder(x) should return (batch, embedding_dim) = ({batch}, ...); got {shape}."),
    Mistake(lambda o: o.shape == o.logits.shape and torch.allclose(o.got, o.logits, atol=1e-5), "These are the logits (one per training speaker), not the embeddings: the features before the last Linear layer."),
    Mistake(lambda o: o.shape != o.wanted.shape, "The embeddings have shape {shape}, the penultimate layer {wanted_shape}: stop right before the last Linear layer, not earlier."),
    Mistake(lambda o: not torch.allclose(o.got, o.wanted, atol=1e-4, rtol=1e-3), "The embeddings differ from the trained model's penultimate features: the weights are not the trained ones."),
]  # fmt: skip


@exercise("""The embedding is what the trained classifier computes before its last Linear layer.
Rebuild the architecture, load the saved weights, pass the last layer's input through, eval mode.
make_model from the checkpoint, load_state_dict, its .classifier replaced by nn.Identity, eval().""")
def embedding_model(embedder: nn.Module, classifier: nn.Module, x: torch.Tensor) -> None:
    """Check ``embedder(x)`` against the trained ``classifier.embed(x)``. Requires: an ``nn.Module``
    whose Dropout and BatchNorm run in eval mode; ``(batch, embedding_dim)``, the penultimate
    features (not the logits, not an earlier layer; the trained weights), the same on a second call."""
    is_module(embedder, "the embedding model")
    norms, was = (nn.Dropout, *BATCH_NORMS), classifier.training
    names = {m: n for n, m in embedder.named_modules() if isinstance(m, norms)}
    with torch.no_grad():
        got, calls = modules_run(embedder, x, what="embedder(x)")
        ran = sorted({names[c[0]] for c in calls if c[0] in names and c[3]})  # in training mode
        seen = Observed(got=got, training=", ".join(ran[:3]), batch=len(x))
        seen.update(logits=classifier.eval()(x), wanted=classifier.embed(x))
        seen["shape"] = shape = tuple(got.shape) if isinstance(got, torch.Tensor) else None
        seen["wanted_shape"] = tuple(seen.wanted.shape)
        classifier.train(was)
        verdict(seen, EMBEDDER[:4])
        core.repeatable(embedder, x, what="embedder(x)")
    ok = f"embedding model: {len(x)} clips → {shape} penultimate features, trained weights, eval mode."
    verdict(seen, EMBEDDER, ok)


CHOICE = [
    Mistake(lambda o: not isinstance(o.first, Sequence | np.ndarray) or isinstance(o.first, str), "choose_speakers returned a {kind}; expected a list of speaker ids."),
    Mistake(lambda o: len(o.first) != 20, "choose(31 speakers, n=20) returned {n} speakers: return exactly n (all of them when there are fewer)."),
    Mistake(lambda o: len(set(o.first)) != 20, "The chosen speakers contain duplicates: draw without replacement."),
    Mistake(lambda o: not set(o.first) <= set(o.speakers), "Some chosen speakers are not in the list given: choose among the speakers passed in."),
    Mistake(lambda o: sorted(o.shuffled) != sorted(o.first), "The choice depends on the order of the input list: sort the speakers first."),
    Mistake(lambda o: len(o.five) != 5, "With n=5 you return {n_five} speakers: use the n argument, not a constant."),
    Mistake(lambda o: sorted(o.few) != sorted(o.speakers[:8]), "With 8 speakers and n=20 you return {n_few}; expected all 8: min(n, number of speakers)."),
]  # fmt: skip


@exercise("""n different speakers, the same for the same seed and set of speakers, in any order.
Draw without replacement from a generator made from the seed, after sorting the speakers.
Sort; numpy's default_rng(seed); min(n, len) distinct positions, no replacement; those speakers.""")
def speaker_choice(choose: Callable[[Sequence[str], int, int], Sequence[str]]) -> None:
    """Check ``choose(speakers, n, seed)`` on lists of str ids (``list(labels)`` in notebook 06).
    Requires: the global generators untouched; min(n, len(speakers)) distinct speakers of the list;
    the same for the same seed, whatever the input order; another for another seed."""
    speakers = [str(s) for s in range(100, 3100, 97)]  # 31 names, not in sorted order as strings

    def chosen(speakers: list[str], n: int, probe: bool = False) -> list:
        what = f"choose_speakers({len(speakers)} speakers, n={n}, seed=0)"
        return seeded_draw(choose, speakers, n, what, probe)

    first = chosen(speakers, 20)
    seen = Observed(speakers=speakers, first=first, kind=type(first).__name__, n=len(first))
    verdict(seen, CHOICE[:1])
    shuffled = chosen(random.Random(5).sample(speakers, len(speakers)), 20)
    seen.update(first=[str(s) for s in first], shuffled=[str(s) for s in shuffled])
    chosen(speakers, 20, probe=True)
    seen.update(five=list(chosen(speakers, 5)), few=[str(s) for s in chosen(speakers[:8], 20)])
    seen.update(n_five=len(seen.five), n_few=len(seen.few))
    verdict(seen, CHOICE, "speaker choice: n distinct speakers, reproducible, order-independent.")


PCA_ROWS = [
    Mistake(lambda o: not o.numpy, "project(emb) returned ({kinds}); the next cells index the points and call ratio.sum(): return two arrays."),
    Mistake(lambda o: o.points.ndim != 2 or len(o.points) != 80, "For 80 embeddings the points have shape {points.shape}: one row per embedding; fit on them, not transposed."),
    Mistake(lambda o: o.points.shape[1] != 3, "The points have {points.shape[1]} coordinates each; expected 3: ask the PCA for 3 components."),
    Mistake(lambda o: not o.matches and o.near(np.abs(o.points), np.abs(o.wanted / o.wanted.std(0, ddof=1))), "The projected points are whitened (unit variance): keep the default, so that distances mean something."),
    Mistake(lambda o: not o.matches and o.near(np.abs(o.points), np.abs(o.data @ o.pca.components_.T)), "The projected points differ from scikit-learn's PCA: the embeddings are not centred before projecting."),
    Mistake(lambda o: not o.matches, "The projected points differ from scikit-learn's PCA: fit and project the same (N, D) embeddings with 3 components."),
    Mistake(lambda o: o.ratio.shape != (3,), "explained_variance_ratio has shape {ratio.shape}; expected (3,): one ratio per component."),
    Mistake(lambda o: o.near(o.ratio, o.pca.explained_variance_), "You return the variances, not the ratios: each component's fraction of the total variance."),
    Mistake(lambda o: not np.allclose(o.ratio, o.pca.explained_variance_ratio_, atol=1e-5), "explained variance ratios {shown[0]}; expected {shown[1]}, those of the PCA you fitted."),
]  # fmt: skip


@exercise("""Fit a 3-component PCA on the embeddings; return the points and each component's share.
The rows are the samples: fit the (N, D) array as it is; no whitening; the *ratio* of variance.
scikit-learn's PCA(3): fit_transform gives the points, explained_variance_ratio_ the ratios.""")
def pca_projection(project: Callable[[np.ndarray], tuple]) -> None:
    """Check ``project(emb) -> (points (N, 3), explained_variance_ratio (3,))`` on float32
    embeddings ``(80, 10)``. Requires: two arrays, scikit-learn's 3-component PCA points (up to each
    axis's sign; centred, not whitened) and ratios."""
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    scales = np.array([5.0, 3.0, 2.0, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1])
    rotation, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    data = ((rng.normal(size=(80, 10)) * scales) @ rotation + 7.0).astype(np.float32)
    what = "project_3d(embeddings of shape (80, 10))"
    seen = pair_of_arrays(project, (data.copy(),), what, "(points, ratios)")
    points, ratio = (a.astype(float) for a in seen.arrays)
    pca = PCA(n_components=3).fit(data.astype(float))
    seen.update(pca=pca, data=data, points=points, ratio=ratio.ravel(), matches=False)
    seen["wanted"] = pca.transform(data.astype(float))
    seen["near"] = lambda a, b: a.shape == b.shape and np.allclose(a, b, rtol=1e-3, atol=1e-3)
    seen["shown"] = [np.round(r, 4).tolist() for r in (ratio, pca.explained_variance_ratio_)]
    if points.shape == seen.wanted.shape:
        signs = np.where((points * seen.wanted).sum(0) < 0, -1.0, 1.0)
        wanted = seen.wanted
        seen["matches"] = np.allclose(points * signs, wanted, atol=1e-3 * np.abs(wanted).max())
    ok = f"PCA(3): points as scikit-learn's (up to sign); they keep {ratio.sum():.1%} of the variance."
    verdict(seen, PCA_ROWS, ok)


AXES = ("xaxis", "yaxis", "zaxis")
SCATTER = [
    Mistake(lambda o: not o.figure, "Expected a plotly Figure, got {kind}: build a go.Figure and return it."),
    Mistake(lambda o: not o.traces or any(t.type != "scatter3d" for t in o.traces), "The figure's traces are {types}; expected 3-D scatters (go.Scatter3d: x, y and z)."),
    Mistake(lambda o: o.n_points != len(o.points), "The figure shows {n_points} points; there are {n_embeddings} embeddings: plot every row once."),
    *(Mistake(lambda o, axis=axis: not np.allclose(np.sort(o.coordinate(axis)), np.sort(o.points[:, axis])),
              f"The {name} coordinates are not column {axis} of the points: x, y, z are the columns 0, 1, 2.") for axis, name in enumerate("xyz")),
    Mistake(lambda o: not o.coloured, "The points are not coloured by speaker ({n_speakers} speakers, {n_traces} trace(s)): one named trace per speaker."),
    Mistake(lambda o: not o.title, "The figure has no title: give the layout a title."),
    Mistake(lambda o: not all(o.axis_titles), "Axis titles: {axis_titles}: give the scene's three axes a title each."),
]  # fmt: skip


@exercise("""A plotly 3-D scatter of every point, one colour per speaker, a title, three axis titles.
One Scatter3d trace per speaker, named after them, x, y, z its points' three PCA coordinates.
Per sorted speaker, a markers Scatter3d of its rows (columns 0, 1, 2); then update_layout.""")
def embedding_scatter(figure: object, points: np.ndarray, labels: Sequence) -> None:
    """Check a plotly 3-D scatter of ``points`` ``(N, 3)`` coloured by speaker ``labels``. Requires:
    a ``go.Figure`` of Scatter3d traces showing every point once, x, y, z its three columns; one
    trace per speaker (or per-point colours); a title and three axis titles."""
    import plotly.graph_objects as go

    verdict(Observed(figure=isinstance(figure, go.Figure), kind=type(figure).__name__), SCATTER[:1])
    traces, scene, n_speakers = list(figure.data), figure.layout.scene, len(set(map(str, labels)))
    seen = Observed(figure=True, traces=traces, n_traces=len(traces), n_speakers=n_speakers)
    seen["types"] = [t.type for t in traces]
    seen["points"] = core.as_array(points, "points").astype(float)
    seen.update(n_points=sum(len(t.x) for t in traces if t.x is not None), n_embeddings=len(points))
    seen.update(title=figure.layout.title.text, axis_titles=[scene[a].title.text for a in AXES])
    seen["coordinate"] = lambda a: np.concatenate([np.asarray(t["xyz"[a]], float) for t in traces])
    seen["coloured"] = len(traces) == n_speakers or any(
        t.marker.color is not None and np.size(t.marker.color) == len(t.x) for t in traces
    )
    ok = f"3-D scatter: {seen.n_points} points, {n_speakers} speakers, title and axis titles."
    verdict(seen, SCATTER, ok)
