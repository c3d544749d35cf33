"""Checks for notebook 06, embeddings: the embedding model, the speakers to plot, PCA, the 3-D scatter.

The embedding model runs with forward hooks that record the mode of its Dropout and BatchNorm layers;
the speaker choice runs with the global random generators watched and its input reordered.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from . import core
from .core import Mistake, Observed, call, exercise, verdict

__all__ = ["embedding_model", "embedding_scatter", "pca_projection", "speaker_choice"]

# --------------------------------------------------------------------------------------------------
# Exercise: the embedding model

NORMS = (nn.Dropout, nn.BatchNorm1d, nn.BatchNorm2d)

# fmt: off
EMBEDDER = [
    Mistake(lambda o: not o.module, "Expected an nn.Module, got {kind}: build a model whose forward returns the embeddings."),
    Mistake(lambda o: o.training,
            "The embedder's {training} ran in training mode: Dropout drops random units and BatchNorm normalises with the batch's own statistics, so a clip's embedding changes from call to call and with its batch. Switch the embedding model to evaluation mode before returning it."),
    Mistake(lambda o: o.shape is None or len(o.shape) != 2 or o.shape[0] != o.batch,
            "embedder(x) should return (batch, embedding_dim) = ({batch}, ...); got {shape}: return the penultimate features, one row per clip."),
    Mistake(lambda o: o.shape == o.logits.shape and torch.allclose(o.got, o.logits, atol=1e-5),
            "These are the logits (one value per training speaker), not the embeddings: take the features just before the last Linear layer, which describe any voice, not only the training speakers; replace that layer by one that passes its input through."),
    Mistake(lambda o: o.shape != o.wanted.shape, "The embeddings have shape {shape}; the penultimate layer gives {wanted_shape}: stop right before the last Linear layer, not earlier."),
    Mistake(lambda o: not torch.allclose(o.got, o.wanted, atol=1e-4, rtol=1e-3),
            "The embeddings differ from the trained model's penultimate features: the weights are not the trained ones. Load the saved weights (the checkpoint's state dict) into the rebuilt model."),
]
# fmt: on


@exercise(
    "The embedding is what the trained classifier computes just before its last Linear layer, with the trained weights, in evaluation mode.",
    "Rebuild the same architecture from the checkpoint's description, load its saved weights, replace the final Linear layer by a layer that passes its input through, and switch to evaluation mode (Dropout off, BatchNorm on its running statistics).",
    "make_model with the checkpoint's name, sizes and options → load_state_dict of the saved weights → the model's last Linear (its .classifier) replaced by nn.Identity → eval().",
)
def embedding_model(embedder: nn.Module, classifier: nn.Module, x: torch.Tensor) -> None:
    """Check ``embedder(x)`` against the trained ``classifier.embed(x)``.

    Requires: an ``nn.Module`` whose Dropout and BatchNorm layers run in eval mode; a
    ``(batch, embedding_dim)`` tensor equal to the penultimate features (not the logits, not an
    earlier layer; the trained weights), the same on a second call.
    """
    verdict(
        Observed(module=isinstance(embedder, nn.Module), kind=type(embedder).__name__), EMBEDDER[:1]
    )
    names = {m: n for n, m in embedder.named_modules() if isinstance(m, NORMS)}
    modes: set[str] = set()  # the Dropout and BatchNorm layers that ran in training mode

    def hook(module: nn.Module, inputs: tuple, output: object) -> None:
        if module in names and module.training:
            modes.add(names[module])

    with torch.no_grad(), nn.modules.module.register_module_forward_hook(hook):
        got = call(embedder, x, what="embedder(x)")
    was = classifier.training
    with torch.no_grad():
        logits, wanted = classifier.eval()(x), classifier.embed(x)
        classifier.train(was)
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else None
        seen = Observed(module=True, training=", ".join(sorted(modes)[:3]), shape=shape, got=got)
        seen.update(batch=len(x), logits=logits, wanted=wanted, wanted_shape=tuple(wanted.shape))
        verdict(seen, EMBEDDER[:5])
        core.repeatable(embedder, x, what="embedder(x)")
    ok = f"embedding model: {len(x)} clips → {shape} penultimate features, trained weights, eval mode."
    verdict(seen, EMBEDDER[5:], ok)


# --------------------------------------------------------------------------------------------------
# Exercise: the speakers to plot

# fmt: off
CHOICE = [
    Mistake(lambda o: not isinstance(o.first, Sequence | np.ndarray) or isinstance(o.first, str), "choose_speakers returned a {kind}; expected a list of speaker ids."),
    Mistake(lambda o: len(o.first) != 20, "choose(31 speakers, n=20) returned {n} speakers: return exactly n of them (all of them when there are fewer than n)."),
    Mistake(lambda o: len(set(o.first)) != 20, "The chosen speakers contain duplicates: draw without replacement."),
    Mistake(lambda o: not set(o.first) <= set(o.speakers), "Some chosen speakers are not in the list given: choose among the speakers passed in."),
    Mistake(lambda o: sorted(o.shuffled) != sorted(o.first), "The choice depends on the order of the input list: sort the speakers first, so the same set always gives the same choice."),
    Mistake(lambda o: len(o.five) != 5, "With n=5 you return {n_five} speakers: use the n argument, not a constant."),
    Mistake(lambda o: sorted(o.few) != sorted(o.speakers[:8]), "With 8 speakers and n=20 you return {n_few}; expected all 8: take min(n, number of speakers)."),
]
# fmt: on


@exercise(
    "n different speakers, the same ones for the same seed and the same set of speakers, whatever order they come in.",
    "Draw without replacement from your own generator made from the seed (not the global random state, which other cells keep moving), and sort the speakers before drawing, so that their order does not matter. With fewer than n speakers, take them all.",
    "Sort the speakers; make numpy's default_rng from the seed; choose min(n, number of speakers) distinct positions without replacement; return the speakers at those positions.",
)
def speaker_choice(choose: Callable[[Sequence[str], int, int], Sequence[str]]) -> None:
    """Check ``choose(speakers, n, seed)`` on a list of str ids (``list(labels)`` in notebook 06).

    Requires: the global generators untouched; a list of min(n, len(speakers)) distinct speakers
    of the list; the same for the same seed, whatever the input order; another for another seed.
    """
    speakers = [str(s) for s in range(100, 3100, 97)]  # 31 names, not in sorted order as strings
    shuffled = random.Random(5).sample(speakers, len(speakers))

    def chosen(speakers: list[str], n: int, seed: int = 0) -> list:
        what = f"choose_speakers({len(speakers)} speakers, n={n}, seed={seed})"
        with core.leaves_global_rngs(what):
            return call(choose, list(speakers), n, seed, what=what)

    first = chosen(speakers, 20)
    seen = Observed(speakers=speakers, first=first, kind=type(first).__name__, n=len(first))
    verdict(seen, CHOICE[:1])
    seen.update(first=[str(s) for s in first], shuffled=[str(s) for s in chosen(shuffled, 20)])
    with core.leaves_global_rngs(what := "choose_speakers(31 speakers, n=20, seed=0)"):
        core.repeatable(choose, list(speakers), 20, 0, what=what)
        core.uses_argument(choose, (list(speakers), 20, 0), 2, 1, what=what)
    seen.update(five=list(chosen(speakers, 5)), few=[str(s) for s in chosen(speakers[:8], 20)])
    seen.update(n_five=len(seen.five), n_few=len(seen.few))
    ok = "speaker choice: n distinct speakers, reproducible from the seed, order-independent."
    verdict(seen, CHOICE, ok)


# --------------------------------------------------------------------------------------------------
# Exercise: PCA

# fmt: off
PCA_ROWS = [
    Mistake(lambda o: not all(isinstance(v, np.ndarray | torch.Tensor) for v in o.got),
            "project(emb) returned ({kinds}); the cells after this one index the points by speaker and call ratio.sum(): return two arrays, as scikit-learn gives them."),
    Mistake(lambda o: o.points.ndim != 2 or len(o.points) != 80, "For 80 embeddings the points have shape {points.shape}: one row per embedding; fit on the embeddings as they are, not transposed."),
    Mistake(lambda o: o.points.shape[1] != 3, "The points have {points.shape[1]} coordinates each; expected 3: ask the PCA for 3 components."),
    Mistake(lambda o: not o.matches and o.near(np.abs(o.points), np.abs(o.wanted / o.wanted.std(0, ddof=1))),
            "The projected points differ from scikit-learn's PCA: they are whitened (unit variance); keep the default so that distances mean something."),
    Mistake(lambda o: not o.matches and o.near(np.abs(o.points), np.abs(o.data @ o.pca.components_.T)),
            "The projected points differ from scikit-learn's PCA: the embeddings are not centred before projecting, and PCA subtracts the mean."),
    Mistake(lambda o: not o.matches, "The projected points differ from scikit-learn's PCA: fit and project the same (N, D) embeddings with 3 components."),
    Mistake(lambda o: o.ratio.shape != (3,), "explained_variance_ratio has shape {ratio.shape}; expected (3,): one ratio per component."),
    Mistake(lambda o: o.near(o.ratio, o.pca.explained_variance_), "You return the variances, not the ratios: the ratio is the fraction of the total variance each component keeps (between 0 and 1)."),
    Mistake(lambda o: not np.allclose(o.ratio, o.pca.explained_variance_ratio_, atol=1e-5),
            "explained variance ratios {shown[0]}; expected {shown[1]}: the ratios of the PCA you fitted on the embeddings."),
]
# fmt: on


@exercise(
    "Fit a 3-component PCA on the embeddings (one row per embedding) and return the projected points and the share of variance each component keeps.",
    "The rows are the samples: fit on the (N, D) array as it is, not its transpose. Keep the default scaling (no whitening), and return the *ratio* of explained variance, not the variance.",
    "scikit-learn's PCA with 3 components: fit_transform the embeddings for the points, and its explained_variance_ratio_ attribute for the ratios.",
)
def pca_projection(project: Callable[[np.ndarray], tuple]) -> None:
    """Check ``project(emb) -> (points (N, 3), explained_variance_ratio (3,))``.

    Requires: on float32 embeddings ``(80, 10)`` (as ``extract_embeddings`` gives), two arrays:
    scikit-learn's 3-component PCA points (up to each axis's sign; centred, not whitened) and ratios.
    """
    from sklearn.decomposition import PCA

    rng = np.random.default_rng(0)
    scales = np.array([5.0, 3.0, 2.0, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1])
    rotation, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    data = ((rng.normal(size=(80, 10)) * scales) @ rotation + 7.0).astype(np.float32)
    what = "project_3d(embeddings of shape (80, 10))"
    got = core.returns_pair(call(project, data.copy(), what=what), what, "(points, ratios)")
    points, ratio = (core.as_array(v, "the result").astype(float) for v in got)
    pca = PCA(n_components=3).fit(data.astype(float))
    wanted = pca.transform(data.astype(float))
    seen = Observed(got=got, kinds=", ".join(type(v).__name__ for v in got), pca=pca, data=data)
    seen.update(points=points, ratio=ratio.ravel(), wanted=wanted, matches=False)
    seen["near"] = lambda a, b: a.shape == b.shape and np.allclose(a, b, rtol=1e-3, atol=1e-3)
    seen["shown"] = [np.round(r, 4).tolist() for r in (ratio, pca.explained_variance_ratio_)]
    if points.shape == wanted.shape:
        signs = np.where((points * wanted).sum(0) < 0, -1.0, 1.0)
        seen["matches"] = np.allclose(points * signs, wanted, atol=1e-3 * np.abs(wanted).max())
    ok = f"PCA(3): points match scikit-learn (up to each axis's sign); the 3 axes keep {ratio.sum():.1%} of the variance."
    verdict(seen, PCA_ROWS, ok)


# --------------------------------------------------------------------------------------------------
# Exercise: the 3-D scatter

# fmt: off
SCATTER = [
    Mistake(lambda o: not o.figure, "Expected a plotly Figure, got {kind}: build a go.Figure and return it."),
    Mistake(lambda o: not o.traces or any(t.type != "scatter3d" for t in o.traces), "The figure's traces are {types}; expected 3-D scatters: use go.Scatter3d traces (x, y and z)."),
    Mistake(lambda o: o.n_points != len(o.points), "The figure shows {n_points} points; there are {n_embeddings} embeddings: plot every row of the projected points once."),
    *(Mistake(lambda o, axis=axis: not np.allclose(np.sort(o.coordinate(axis)), np.sort(o.points[:, axis])),
              f"The {name} coordinates are not column {axis} of the points: x, y and z are the columns 0, 1 and 2 of the projected points.")
      for axis, name in enumerate("xyz")),
    Mistake(lambda o: not o.coloured,
            "The points are not coloured by speaker ({n_speakers} speakers, {n_traces} trace(s)): add one trace per speaker (named after the speaker), each with its own colour and legend entry."),
    Mistake(lambda o: not o.title, "The figure has no title: give the layout a title."),
    Mistake(lambda o: not all(o.axis_titles), "Axis titles: {axis_titles}: give the scene's three axes a title each (e.g. PC 1, PC 2, PC 3)."),
]
# fmt: on


@exercise(
    "A plotly 3-D scatter of every point, one colour per speaker, with a title and three axis titles.",
    "One Scatter3d trace per speaker (its name shows in the legend) with x, y, z the three PCA coordinates of that speaker's points; then the figure's title and the scene's axis titles.",
    "Loop over the sorted speakers: add a markers-mode Scatter3d of the rows of that speaker (columns 0, 1, 2) named after them; then update_layout with a title and scene axis titles.",
)
def embedding_scatter(figure: object, points: np.ndarray, labels: Sequence) -> None:
    """Check a plotly 3-D scatter of ``points`` ``(N, 3)`` coloured by speaker ``labels``.

    Requires: a ``go.Figure`` of Scatter3d traces showing every point once with x, y, z its three
    columns; one trace per speaker (or per-point colours); a title and three axis titles.
    """
    import plotly.graph_objects as go

    seen = Observed(figure=isinstance(figure, go.Figure), kind=type(figure).__name__)
    verdict(seen, SCATTER[:1])
    assert isinstance(figure, go.Figure)
    traces, scene, n_speakers = list(figure.data), figure.layout.scene, len(set(map(str, labels)))
    seen.update(traces=traces, types=[t.type for t in traces], n_traces=len(traces))
    seen.update(points=core.as_array(points, "points").astype(float), n_speakers=n_speakers)
    seen.update(
        n_points=sum(len(t.x) for t in traces if t.x is not None),
        n_embeddings=len(seen.points),
        coordinate=lambda axis: np.concatenate([np.asarray(t["xyz"[axis]], float) for t in traces]),
        coloured=len(traces) == n_speakers
        or any(t.marker.color is not None and np.size(t.marker.color) == len(t.x) for t in traces),
        title=figure.layout.title.text,
        axis_titles=[scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text],
    )
    ok = f"3-D scatter: {seen.n_points} points, {n_speakers} speakers, title and axis titles."
    verdict(seen, SCATTER, ok)
