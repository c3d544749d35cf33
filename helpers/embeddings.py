"""Speaker embeddings (``model.embed``, the penultimate layer) for 3-D plots (06) and scoring (07)::

    model = load_embedding_model("checkpoints/best.pt")
    emb, labels = extract_embeddings(model, unseen_set)          # (N, D), (N,)
    points = pca_3d(emb)                                         # (N, 3)

``helpers.plots.plot_embeddings_3d`` draws the points; ``helpers.metrics`` scores pairs of clips.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.decomposition import PCA
from sklearn.discriminant_analysis import LinearDiscriminantAnalysis
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import Normalizer, StandardScaler
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .checkpoints import load_checkpoint
from .dataset import WholeUtterances, collate_crops, length_batches
from .training import get_device, to_device


class EmbeddingModel(nn.Module):
    """``forward(x)`` = ``classifier.embed(x)`` ``(B, embedding_dim)``, always in eval mode."""

    def __init__(self, classifier: nn.Module) -> None:
        super().__init__()
        self.classifier = classifier.eval()
        self.embedding_dim = classifier.embedding_dim

    def train(self, mode: bool = True) -> EmbeddingModel:
        super().train(False)  # always evaluation mode
        return self

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier.embed(x)


def load_embedding_model(
    path: str | os.PathLike, device: str | torch.device = "cpu"
) -> EmbeddingModel:
    """``EmbeddingModel`` of a checkpoint (its metadata in ``model.classifier.checkpoint``)."""
    return EmbeddingModel(load_checkpoint(path, device=device))


@torch.no_grad()
def extract_embeddings(
    model: nn.Module, dataset: Dataset, batch_transform: nn.Module | None = None,
    device: str | torch.device | None = None, utterance_level: bool = True, batch_size: int = 64,
    num_workers: int = 0, layer: str = "embed",
) -> tuple[np.ndarray, np.ndarray]:  # fmt: skip
    """Embeddings ``(N, embedding_dim)`` float32 and labels ``(N,)`` of a ``SpeakerDataset``.

    ``model``: with ``embed`` or an ``EmbeddingModel``; ``batch_transform``: the features, if items
    are waveforms; ``utterance_level``: whole files one at a time (as x-vector/ECAPA), else the
    dataset's crops, ``batch_size`` per batch; ``device``: default ``get_device()``; ``layer``: the
    model's method, e.g. ``"backend_features"`` (``(N, embedding_dim + n_pooled)``, the back-end's).
    """
    device = torch.device(device) if device is not None else get_device()
    model.to(device).eval()
    if batch_transform is not None:
        batch_transform.to(device).eval()
    embed = getattr(model, layer, model)
    out = []
    if utterance_level:
        loader = DataLoader(WholeUtterances(dataset), batch_size=None, num_workers=num_workers)
        for x, _ in loader:
            out.append(embed(to_device(x.unsqueeze(0), device, batch_transform))[0].float().cpu())
        embeddings = torch.stack(out)
    else:  # batches of crops of one length (files shorter than a crop give shorter crops)
        batches = length_batches(dataset, batch_size)
        loader = DataLoader(
            dataset, batch_sampler=batches, num_workers=num_workers, collate_fn=collate_crops
        )
        for x, _ in loader:
            out.append(embed(to_device(x, device, batch_transform)).float().cpu())
        embeddings = torch.cat(out)[np.argsort(np.concatenate(batches))]
    return embeddings.numpy(), np.asarray(dataset.labels())


def fit_lda_backend(embeddings: np.ndarray, labels: Sequence[int]) -> Pipeline:
    """The x-vector back-end on training embeddings ``(N, D)`` (the CLI's: ``backend_features``),
    speakers ``(N,)``: centred, unit length, LDA (one within-speaker covariance, Ledoit-Wolf
    shrinkage), so a session change seen for some speakers is discounted for all. ``predict``:
    speakers; ``transform``: for cosines."""
    lda = LinearDiscriminantAnalysis(solver="eigen", shrinkage="auto")
    backend = make_pipeline(StandardScaler(with_std=False), Normalizer(), lda)
    return backend.fit(np.asarray(embeddings, dtype=np.float64), np.asarray(labels))


def choose_speakers(labels: Sequence, n: int = 20, seed: int = 0) -> list:
    """``n`` distinct speakers of ``labels`` (fewer if there are fewer), seeded, sorted."""
    pool = sorted(set(np.asarray(labels).tolist()))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return [pool[i] for i in sorted(chosen)]


def pca_3d(embeddings: np.ndarray) -> np.ndarray:
    """``(N, D)`` → ``(N, 3)``: centred projection on the 3 principal components (sklearn PCA)."""
    return PCA(n_components=3).fit_transform(np.asarray(embeddings, dtype=np.float64))
