"""From a trained classifier to speaker embeddings: the embedding model, extraction, PCA to 3-D.

A classifier's penultimate layer (``model.embed``) maps a clip to a vector where clips of one speaker
lie close together: look at it in 3-D (06, ``helpers.plots.plot_embeddings_3d``), or score pairs of
clips by cosine similarity to verify speakers never seen in training (07, ``helpers.metrics``)::

    model = load_embedding_model("checkpoints/best.pt")
    emb, labels = extract_embeddings(model, unseen_set)          # (N, D), (N,)
    points = pca_3d(emb)                                         # (N, 3)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import torch
from sklearn.decomposition import PCA
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .checkpoints import load_checkpoint
from .dataset import WholeUtterances, collate_crops, length_batches
from .training import get_device, to_device


class EmbeddingModel(nn.Module):
    """Wraps a trained classifier so that ``forward(x)`` returns its embedding ``(B, embedding_dim)``.

    The weights are shared with ``classifier``, which stays in evaluation mode (no dropout, BatchNorm
    with its running statistics): the same clip always gives the same embedding.
    """

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
    """Rebuild the checkpointed architecture, load its best weights and keep the embedding part.

    The checkpoint's metadata is in ``model.classifier.checkpoint``.
    """
    return EmbeddingModel(load_checkpoint(path, device=device))


def _embed_fn(model: nn.Module):
    return model.embed if hasattr(model, "embed") else model


@torch.no_grad()
def extract_embeddings(
    model: nn.Module,
    dataset: Dataset,
    batch_transform: nn.Module | None = None,
    device: str | torch.device | None = None,
    utterance_level: bool = True,
    batch_size: int = 64,
    num_workers: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Embeddings of every item of a ``SpeakerDataset``.

    Parameters
    ----------
    model : nn.Module
        A classifier with ``embed`` or an ``EmbeddingModel``.
    dataset : SpeakerDataset
        Usually ``train=False``.
    batch_transform : nn.Module or None
        The feature module, if ``dataset`` yields waveforms.
    device : str, torch.device or None
        ``None``: ``get_device()``.
    utterance_level : bool
        ``True``: the embedding of the whole file, in one pass (statistics pooling takes any length,
        and the x-vector and ECAPA recipes score whole utterances this way); ``False``: the embedding
        of the dataset's crop.
    batch_size, num_workers : int
        Crops per batch (``utterance_level=False``; whole files go one at a time, their lengths
        differ) and DataLoader workers.

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        Embeddings ``(N, embedding_dim)`` (float32) and class indices ``(N,)``.
    """
    device = torch.device(device) if device is not None else get_device()
    model.to(device).eval()
    if batch_transform is not None:
        batch_transform.to(device).eval()
    embed = _embed_fn(model)
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


def choose_speakers(labels: Sequence, n: int = 20, seed: int = 0) -> list:
    """``n`` distinct speakers (fewer if there are fewer), the same for the same seed and labels.

    Drawn without replacement from the sorted distinct labels, returned sorted.
    """
    pool = sorted(set(np.asarray(labels).tolist()))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return [pool[i] for i in sorted(chosen)]


def pca_3d(embeddings: np.ndarray) -> np.ndarray:
    """Project ``(N, D)`` embeddings on their 3 principal components: ``(N, 3)``, centred.

    The components are the directions of largest variance; the share of variance they keep is
    ``sklearn.decomposition.PCA(3).fit(embeddings).explained_variance_ratio_``.
    """
    return PCA(n_components=3).fit_transform(np.asarray(embeddings, dtype=np.float64))
