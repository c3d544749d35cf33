"""Notebook 06's checks accept the reference answers and reject the mistakes students make."""

from __future__ import annotations

import copy
import random

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from sklearn.decomposition import PCA
from test_checks_core import Case, accepts, rejects, right, wrong
from torch import nn

from helpers.models import make_model

N = 8

# --------------------------------------------------------------------------------------------------
# The embedding model: a kit classifier "trained" (weights and BatchNorm statistics moved away from
# their initial values), and embedders built from it the ways students do


def trained_classifier() -> nn.Module:
    model = make_model("cnn1d", 40, N, channels=16, embedding_dim=16, seed=0)
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(0.05 * torch.randn(p.shape, generator=generator))
        model.train()
        for _ in range(3):  # running statistics of a few batches
            model(torch.randn(8, 40, 101, generator=generator))
    return model.eval()


def clips() -> torch.Tensor:
    return torch.randn(3, 40, 101, generator=torch.Generator().manual_seed(2))


def embedder_reference(classifier: nn.Module) -> nn.Module:
    model = make_model("cnn1d", 40, N, channels=16, embedding_dim=16)
    model.load_state_dict(classifier.state_dict())
    model.classifier = nn.Identity()
    return model.eval()


def embedder_case(build) -> tuple:
    classifier = trained_classifier()
    return build(classifier), classifier, clips()


def embedder_logits(classifier):
    return copy.deepcopy(classifier).eval()


def embedder_untrained(classifier):
    model = make_model("cnn1d", 40, N, channels=16, embedding_dim=16, seed=3)
    model.classifier = nn.Identity()
    return model.eval()


def embedder_training_mode(classifier):
    return embedder_reference(classifier).train()


class TooEarly(nn.Module):
    def __init__(self, classifier):
        super().__init__()
        self.trained = copy.deepcopy(classifier).eval()

    def forward(self, x):
        return self.trained.pool(self.trained.expand(self.trained.blocks(self.trained.stem(x))))


# --------------------------------------------------------------------------------------------------
# Choosing speakers


def choose_speakers(speakers, n=20, seed=0):
    pool = sorted(speakers)
    rng = np.random.default_rng(seed)
    picked = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return [pool[i] for i in sorted(picked)]


def choose_global(speakers, n=20, seed=0):
    return list(np.random.choice(sorted(speakers), size=min(n, len(speakers)), replace=False))


def choose_global_seeded(speakers, n=20, seed=0):
    random.seed(seed)
    return random.sample(sorted(speakers), min(n, len(speakers)))


def choose_unsorted(speakers, n=20, seed=0):
    rng = np.random.default_rng(seed)
    return [
        speakers[i] for i in rng.choice(len(speakers), size=min(n, len(speakers)), replace=False)
    ]


def choose_first(speakers, n=20, seed=0):
    return sorted(speakers)[:n]


def choose_with_replacement(speakers, n=20, seed=0):
    return list(np.random.default_rng(seed).choice(sorted(speakers), size=n))


def choose_twenty(speakers, n=20, seed=0):
    return choose_speakers(speakers, 20, seed)


def choose_no_min(speakers, n=20, seed=0):
    pool = sorted(speakers)
    rng = np.random.default_rng(seed)
    return [pool[i % len(pool)] for i in rng.permutation(max(n, len(pool)))[:n]]


# --------------------------------------------------------------------------------------------------
# PCA and the scatter


def project_3d(embeddings):
    pca = PCA(n_components=3)
    return pca.fit_transform(embeddings), pca.explained_variance_ratio_


def project_with(
    transform=lambda pca, e: pca.fit_transform(e), ratio="explained_variance_ratio_", **options
):
    def project(embeddings):
        pca = PCA(**{"n_components": 3, **options})
        return transform(pca, embeddings), getattr(pca, ratio)

    return project


def project_uncentred(embeddings):
    pca = PCA(n_components=3).fit(embeddings)
    return embeddings @ pca.components_.T, pca.explained_variance_ratio_


def project_transposed(embeddings):
    pca = PCA(n_components=3)
    return pca.fit_transform(embeddings.T), pca.explained_variance_ratio_


def scatter_3d(points, speakers, title="Embeddings"):
    speakers = np.asarray([str(s) for s in speakers])
    figure = go.Figure()
    for speaker in sorted(set(speakers)):
        keep = speakers == speaker
        figure.add_trace(
            go.Scatter3d(
                x=points[keep, 0],
                y=points[keep, 1],
                z=points[keep, 2],
                mode="markers",
                name=speaker,
            )
        )
    return figure.update_layout(
        title=title, scene={"xaxis_title": "PC 1", "yaxis_title": "PC 2", "zaxis_title": "PC 3"}
    )


def scatter_data():
    points = np.random.default_rng(0).normal(size=(30, 3))
    return points, np.repeat(["a", "b", "c"], 10)


def scatter_case(build):
    points, labels = scatter_data()
    return build(points, labels), points, labels


CASES: list[Case] = [
    right("embedding_model", "reference", lambda: embedder_case(embedder_reference)),
    wrong("embedding_model", "logits", lambda: embedder_case(embedder_logits), "logits"),
    wrong(
        "embedding_model",
        "untrained",
        lambda: embedder_case(embedder_untrained),
        "not the trained ones",
    ),
    wrong(
        "embedding_model",
        "training mode",
        lambda: embedder_case(embedder_training_mode),
        "ran in training mode",
    ),
    wrong(
        "embedding_model",
        "too early",
        lambda: embedder_case(TooEarly),
        "stop right before the last Linear",
    ),
    wrong(
        "embedding_model",
        "not a model",
        lambda: embedder_case(lambda c: c.embed),
        "Expected an nn.Module",
    ),
    right("speaker_choice", "reference", lambda: (choose_speakers,)),
    wrong("speaker_choice", "global np.random", lambda: (choose_global,), "numpy's global"),
    wrong("speaker_choice", "random.seed", lambda: (choose_global_seeded,), "Python's random"),
    wrong("speaker_choice", "unsorted", lambda: (choose_unsorted,), "order of the input"),
    wrong("speaker_choice", "first n", lambda: (choose_first,), "argument 'seed' changes"),
    wrong("speaker_choice", "with replacement", lambda: (choose_with_replacement,), "duplicates"),
    wrong("speaker_choice", "n ignored", lambda: (choose_twenty,), "With n=5"),
    wrong("speaker_choice", "more than there are", lambda: (choose_no_min,), "expected all 8"),
    right("pca_projection", "reference", lambda: (project_3d,)),
    wrong(
        "pca_projection", "two components", lambda: (project_with(n_components=2),), "expected 3"
    ),
    wrong("pca_projection", "not centred", lambda: (project_uncentred,), "not centred"),
    wrong("pca_projection", "whitened", lambda: (project_with(whiten=True),), "whitened"),
    wrong(
        "pca_projection",
        "variances",
        lambda: (project_with(ratio="explained_variance_"),),
        "variances, not the ratios",
    ),
    wrong("pca_projection", "transposed", lambda: (project_transposed,), "not transposed"),
    wrong(
        "pca_projection",
        "ratios as a list",
        lambda: (lambda e: (project_3d(e)[0], list(project_3d(e)[1])),),
        "call ratio.sum\\(\\)",
    ),
    right("embedding_scatter", "reference", lambda: scatter_case(scatter_3d)),
    wrong(
        "embedding_scatter", "no figure", lambda: scatter_case(lambda p, s: None), "plotly Figure"
    ),
    wrong(
        "embedding_scatter",
        "2-D",
        lambda: scatter_case(lambda p, s: go.Figure(go.Scatter(x=p[:, 0], y=p[:, 1]))),
        "3-D scatters",
    ),
    wrong(
        "embedding_scatter",
        "one colour",
        lambda: scatter_case(
            lambda p, s: go.Figure(go.Scatter3d(x=p[:, 0], y=p[:, 1], z=p[:, 2])).update_layout(
                title="t"
            )
        ),
        "not coloured by speaker",
    ),
    wrong(
        "embedding_scatter",
        "no title",
        lambda: scatter_case(lambda p, s: scatter_3d(p, s).update_layout(title=None)),
        "no title",
    ),
    wrong(
        "embedding_scatter",
        "no axis titles",
        lambda: scatter_case(
            lambda p, s: scatter_3d(p, s).update_layout(scene={"xaxis_title": None})
        ),
        "Axis titles",
    ),
    wrong(
        "embedding_scatter",
        "a subset",
        lambda: scatter_case(lambda p, s: scatter_3d(p[:20], s[:20])),
        "shows 20 points",
    ),
    wrong(
        "embedding_scatter",
        "y and z swapped",
        lambda: scatter_case(lambda p, s: scatter_3d(p[:, [0, 2, 1]], s)),
        "y coordinates",
    ),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    accepts(case, capsys)


@pytest.mark.parametrize("case", [c for c in CASES if c.match is not None], ids=str)
def test_rejects(case: Case) -> None:
    rejects(case)


# --------------------------------------------------------------------------------------------------
# The given cells after each exercise of solutions/06_embeddings.ipynb, fed the types the notebook
# passes them: every answer its check accepts runs through them (issue 18, "the student's path holds").


def after_embedding_model(embedder, classifier, x):
    """extract_embeddings: each whole file (1, 40, frames of its own) through embed, or the model."""
    embed = embedder.embed if hasattr(embedder, "embed") else embedder
    with torch.no_grad():
        rows = [embed(x[i : i + 1, :, : 60 + 20 * i])[0].float().cpu() for i in range(len(x))]
    assert torch.stack(rows).numpy().dtype == np.float32


def after_speaker_choice(choose):
    """The chosen speakers of list(labels) printed, then their files picked by speaker id."""
    labels = {str(s): k for k, s in enumerate(range(100, 2500, 61))}
    chosen = choose(list(labels), 20, 0)
    print(f"{len(chosen)} speakers: {', '.join(chosen)}")
    assert all(sum(u == speaker for u in labels) == 1 for speaker in chosen)


def after_pca_projection(project):
    """extract_embeddings' float32 array; the ratios printed and summed; points split by speaker."""
    embeddings = np.random.default_rng(1).normal(size=(30, 16)).astype(np.float32)
    points, ratio = project(embeddings)
    print(", ".join(f"PC {i + 1} {r:.1%}" for i, r in enumerate(ratio)) + f"; {ratio.sum():.1%}")
    keep = np.repeat(["a", "b", "c"], 10) == "b"
    assert len(points[keep, 0]) == 10 and f"{ratio[0]:.0%}"


def after_embedding_scatter(figure, points, labels):
    figure.to_json()  # what figure.show() sends to the front end


NEXT_CELLS = {
    "embedding_model": after_embedding_model,
    "speaker_choice": after_speaker_choice,
    "pca_projection": after_pca_projection,
    "embedding_scatter": after_embedding_scatter,
}


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_what_the_check_accepts_runs_in_the_cells_after_it(case: Case, capsys) -> None:
    assert set(NEXT_CELLS) == {c.check for c in CASES}
    NEXT_CELLS[case.check](*case.args())
