"""Checks for notebook 06, embeddings: the embedding model, the speakers to plot, PCA, the 3-D scatter.

The embedding model is run with forward hooks that record the mode of each of its layers, so that a
model left in training mode (Dropout active, BatchNorm on batch statistics) is named as such; the
speaker choice is run with the global random generators watched and its input reordered.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from .core import as_array, call, check, expect, fail, passed, watch_global_rngs

__all__ = ["embedding_model", "embedding_scatter", "pca_projection", "speaker_choice"]


# --------------------------------------------------------------------------------------------------
# Exercise: the embedding model


def _run_embedder(embedder: nn.Module, classifier: nn.Module, x: torch.Tensor) -> tuple:
    """``(logits, penultimate features, embedder(x), embedder(x) again, layers in training mode)``.

    The embedder's Dropout and BatchNorm layers are watched with forward hooks.
    """
    modes: list[tuple[str, bool]] = []
    handles = [
        module.register_forward_hook(lambda m, i, o, name=name: modes.append((name, m.training)))
        for name, module in embedder.named_modules()
        if isinstance(module, nn.Dropout | nn.BatchNorm1d | nn.BatchNorm2d)
    ]
    was = classifier.training
    classifier.eval()
    try:
        with torch.no_grad():
            logits = classifier(x)
            wanted = classifier.embed(x)
            first = call(embedder, x, what="embedder(x)")
            second = call(embedder, x, what="embedder(x)")
    finally:
        classifier.train(was)
        for handle in handles:
            handle.remove()
    return logits, wanted, first, second, sorted({name for name, mode in modes if mode})


@check(
    "The embedding is what the trained classifier computes just before its last Linear layer, "
    "with the trained weights, in evaluation mode.",
    "Rebuild the same architecture from the checkpoint's description, load its saved weights, "
    "replace the final Linear layer by a layer that passes its input through, and switch to "
    "evaluation mode (Dropout off, BatchNorm on its running statistics).",
    "make_model with the checkpoint's name, sizes and options → load_state_dict of the saved "
    "weights → the model's last Linear (its .classifier) replaced by nn.Identity → eval().",
)
def embedding_model(embedder: nn.Module, classifier: nn.Module, x: torch.Tensor) -> None:
    """Check ``embedder(x)`` returns the trained classifier's penultimate features, deterministically."""
    expect(
        isinstance(embedder, nn.Module),
        f"Expected an nn.Module, got {type(embedder).__name__}.",
        "build a model whose forward returns the embeddings.",
    )
    logits, wanted, first, second, training = _run_embedder(embedder, classifier, x)
    expect(
        not training,
        f"The embedder's {', '.join(training[:3])} ran in training mode: Dropout drops random units "
        "and BatchNorm normalises with the batch's own statistics, so a clip's embedding changes "
        "from call to call and with its batch.",
        "switch the embedding model to evaluation mode before returning it.",
    )
    expect(
        isinstance(first, torch.Tensor) and first.ndim == 2 and first.shape[0] == x.shape[0],
        f"embedder(x) should return (batch, embedding_dim); got "
        f"{tuple(first.shape) if isinstance(first, torch.Tensor) else type(first).__name__}.",
        "return the penultimate features, one row per clip.",
    )
    expect(
        not (first.shape == logits.shape and torch.allclose(first, logits, atol=1e-5)),
        f"These are the logits ({logits.shape[1]} values, one per training speaker), not the "
        "embeddings.",
        "take the features just before the last Linear layer, which describe any voice, not "
        "only the training speakers: replace that layer by one that passes its input through.",
    )
    expect(
        first.shape == wanted.shape,
        f"The embeddings have shape {tuple(first.shape)}; the penultimate layer gives "
        f"{tuple(wanted.shape)}.",
        "stop right before the last Linear layer, not earlier.",
    )
    expect(
        torch.allclose(first, second),
        "Two calls on the same clips give different embeddings.",
        "switch the embedding model to evaluation mode (Dropout and BatchNorm must not change "
        "anything).",
    )
    expect(
        torch.allclose(first, wanted, atol=1e-4, rtol=1e-3),
        "The embeddings differ from the trained model's penultimate features: the weights are "
        "not the trained ones.",
        "load the saved weights (the checkpoint's state dict) into the rebuilt model.",
    )
    passed(
        f"embedding model: {x.shape[0]} clips → {tuple(first.shape)} penultimate features, trained "
        "weights, evaluation mode."
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the speakers to plot


def _run_choice(choose: Callable, speakers: list[str], n: int, seed: int) -> list:
    what = f"choose_speakers({len(speakers)} speakers, n={n}, seed={seed})"
    with watch_global_rngs() as moved:
        chosen = call(choose, list(speakers), n, seed, what=what)
    expect(
        not moved,
        f"{what} drew from {' and '.join(moved)}: the choice then depends on every random draw "
        "made before, in any cell.",
        "draw from your own generator made from the seed (numpy's default_rng).",
    )
    expect(
        isinstance(chosen, Sequence | np.ndarray) and not isinstance(chosen, str),
        f"{what} returned a {type(chosen).__name__}; expected a list of speakers.",
        "return a list of speaker ids.",
    )
    return [str(s) for s in chosen]


@check(
    "n different speakers, the same ones for the same seed and the same set of speakers, whatever "
    "order they come in.",
    "Draw without replacement from your own generator made from the seed (not the global random "
    "state, which other cells keep moving), and sort the speakers before drawing, so that their "
    "order does not matter. With fewer than n speakers, take them all.",
    "Sort the speakers; make numpy's default_rng from the seed; choose min(n, number of speakers) "
    "distinct positions without replacement; return the speakers at those positions.",
)
def speaker_choice(choose: Callable[[Sequence[str], int, int], Sequence[str]]) -> None:
    """Check ``choose(speakers, n, seed)``: n distinct speakers, reproducible, order-independent."""
    speakers = [str(s) for s in range(100, 3100, 97)]  # 31 names, not in sorted order as strings
    shuffled = list(speakers)
    random.Random(5).shuffle(shuffled)
    first = _run_choice(choose, speakers, 20, 0)
    expect(
        len(first) == 20,
        f"choose(31 speakers, n=20) returned {len(first)} speakers.",
        "return exactly n of them (all of them when there are fewer than n).",
    )
    expect(
        len(set(first)) == 20,
        "The chosen speakers contain duplicates.",
        "draw without replacement.",
    )
    expect(
        set(first) <= set(speakers),
        "Some chosen speakers are not in the list given.",
        "choose among the speakers passed in.",
    )
    expect(
        _run_choice(choose, speakers, 20, 0) == first,
        "Two calls with the same seed give different speakers.",
        "make the generator from the seed inside the function, once per call.",
    )
    expect(
        sorted(_run_choice(choose, shuffled, 20, 0)) == sorted(first),
        "The choice depends on the order of the input list.",
        "sort the speakers first, so the same set always gives the same choice.",
    )
    expect(
        sorted(_run_choice(choose, speakers, 20, 1)) != sorted(first),
        "Another seed gives the same speakers.",
        "the seed should drive the random choice (and not, say, just take the first n).",
    )
    five = _run_choice(choose, speakers, 5, 0)
    expect(
        len(five) == 5,
        f"With n=5 you return {len(five)} speakers.",
        "use the n argument, not a constant.",
    )
    few = _run_choice(choose, speakers[:8], 20, 0)
    expect(
        sorted(few) == sorted(speakers[:8]),
        f"With 8 speakers and n=20 you return {len(few)}; expected all 8.",
        "take min(n, number of speakers).",
    )
    passed("speaker choice: n distinct speakers, reproducible from the seed, order-independent.")


# --------------------------------------------------------------------------------------------------
# Exercise: PCA


def _pca_data(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.array([5.0, 3.0, 2.0, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1])
    rotation, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    return (rng.normal(size=(80, 10)) * scales) @ rotation + 7.0


@check(
    "Fit a 3-component PCA on the embeddings (one row per embedding) and return the projected "
    "points and the share of variance each component keeps.",
    "The rows are the samples: fit on the (N, D) array as it is, not its transpose. Keep the "
    "default scaling (no whitening), and return the *ratio* of explained variance, not the variance.",
    "scikit-learn's PCA with 3 components: fit_transform the embeddings for the points, and its "
    "explained_variance_ratio_ attribute for the ratios.",
)
def pca_projection(project: Callable[[np.ndarray], tuple]) -> None:
    """Check ``project(emb) -> (points (N, 3), explained_variance_ratio (3,))`` against sklearn PCA."""
    from sklearn.decomposition import PCA

    data = _pca_data()
    got = call(project, data.copy(), what="project_3d(embeddings of shape (80, 10))")
    expect(
        isinstance(got, tuple | list) and len(got) == 2,
        "project(emb) should return (points, explained_variance_ratio).",
        "return two things: the projected points and the ratios.",
    )
    points, ratio = (
        as_array(got[0], "points").astype(float),
        as_array(got[1], "ratios").astype(float).ravel(),
    )
    expect(
        points.ndim == 2 and points.shape[0] == len(data),
        f"For {len(data)} embeddings the points have shape {points.shape}.",
        "one row per embedding: fit on the embeddings as they are, not transposed.",
    )
    expect(
        points.shape[1] == 3,
        f"The points have {points.shape[1]} coordinates each; expected 3.",
        "ask the PCA for 3 components.",
    )
    pca = PCA(n_components=3).fit(data)
    wanted = pca.transform(data)
    signs = np.sign((points * wanted).sum(0))
    signs[signs == 0] = 1
    if not np.allclose(points * signs, wanted, atol=1e-4 * np.abs(wanted).max()):
        standardized = wanted / wanted.std(0, ddof=1)
        if np.allclose(np.abs(points), np.abs(standardized), rtol=1e-3, atol=1e-3):
            where = "the points are whitened (unit variance); keep the default so that distances mean something."
        elif np.allclose(np.abs(points), np.abs(data @ pca.components_.T), rtol=1e-3):
            where = "the embeddings are not centred before projecting: PCA subtracts the mean."
        else:
            where = "fit and project the same (N, D) embeddings with 3 components."
        fail("The projected points differ from scikit-learn's PCA.", where)
    expect(
        ratio.shape == (3,),
        f"explained_variance_ratio has shape {ratio.shape}; expected (3,).",
        "one ratio per component.",
    )
    expect(
        not np.allclose(ratio, pca.explained_variance_, rtol=1e-3),
        "You return the variances, not the ratios.",
        "the ratio is the fraction of the total variance each component keeps (between 0 and 1).",
    )
    expect(
        np.allclose(ratio, pca.explained_variance_ratio_, atol=1e-6),
        f"explained variance ratios {np.round(ratio, 4).tolist()}; expected "
        f"{np.round(pca.explained_variance_ratio_, 4).tolist()}.",
        "the ratios of the PCA you fitted on the embeddings.",
    )
    passed(
        f"PCA(3): points match scikit-learn (up to the sign of each axis); the 3 axes keep "
        f"{ratio.sum():.1%} of the variance of the check's data."
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the 3-D scatter


@check(
    "A plotly 3-D scatter of every point, one colour per speaker, with a title and three axis titles.",
    "One Scatter3d trace per speaker (its name shows in the legend) with x, y, z the three PCA "
    "coordinates of that speaker's points; then the figure's title and the scene's axis titles.",
    "Loop over the sorted speakers: add a markers-mode Scatter3d of the rows of that speaker "
    "(columns 0, 1, 2) named after them; then update_layout with a title and scene axis titles.",
)
def embedding_scatter(figure: object, points: np.ndarray, labels: Sequence) -> None:
    """Check a plotly 3-D scatter of ``points`` coloured by speaker, with a title and axis titles."""
    import plotly.graph_objects as go

    expect(
        isinstance(figure, go.Figure),
        f"Expected a plotly Figure, got {type(figure).__name__}.",
        "build a go.Figure and return it from the function.",
    )
    assert isinstance(figure, go.Figure)
    traces = list(figure.data)
    expect(
        traces and all(t.type == "scatter3d" for t in traces),
        f"The figure's traces are {[t.type for t in traces]}; expected 3-D scatters.",
        "use go.Scatter3d traces (x, y and z).",
    )
    points = as_array(points, "points").astype(float)
    n_points = sum(len(t.x) for t in traces)
    expect(
        n_points == len(points),
        f"The figure shows {n_points} points; there are {len(points)} embeddings.",
        "plot every row of the projected points once.",
    )
    for axis, name in enumerate("xyz"):
        shown = np.sort(np.concatenate([np.asarray(getattr(t, name), dtype=float) for t in traces]))
        expect(
            np.allclose(shown, np.sort(points[:, axis])),
            f"The {name} coordinates are not column {axis} of the points.",
            "x, y and z are the columns 0, 1 and 2 of the projected points.",
        )
    n_speakers = len(set(map(str, labels)))
    coloured = len(traces) == n_speakers or any(
        t.marker is not None and t.marker.color is not None and np.size(t.marker.color) == len(t.x)
        for t in traces
    )
    expect(
        coloured,
        f"The points are not coloured by speaker ({n_speakers} speakers, {len(traces)} trace(s)).",
        "add one trace per speaker (named after the speaker): each gets its own colour and "
        "legend entry.",
    )
    expect(bool(figure.layout.title.text), "The figure has no title.", "give the layout a title.")
    scene = figure.layout.scene
    axis_titles = [scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text]
    expect(
        all(axis_titles),
        f"Axis titles: {axis_titles}.",
        "give the scene's three axes a title each (e.g. PC 1, PC 2, PC 3).",
    )
    passed(f"3-D scatter: {n_points} points, {n_speakers} speakers, title and axis titles.")
