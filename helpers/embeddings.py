"""From a trained classifier to speaker embeddings: extraction, a 3-D PCA view, verification.

A classifier's penultimate layer (``model.embed``) maps a clip to a vector where clips of one speaker
lie close together. Two uses:

* **look at it** — project the embeddings of a few speakers to 3-D with PCA and plot them with plotly;
* **verification** — "are these two recordings the same person?", for speakers the model never saw:
  score each pair by the cosine similarity of their embeddings and accept above a threshold. The
  *equal error rate* (EER) is the error where false acceptances and false rejections are equally
  frequent: one number for the whole trade-off (lower is better).

::

    model = load_embedding_model("runs/cnn1d_mfcc/best.pt")
    emb, labels = extract_embeddings(model, unseen_set)          # (N, D), (N,)
    scores, same = verification_trials(emb, labels)
    eer, threshold = equal_error_rate(scores, same)
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np
import plotly.graph_objects as go
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import roc_curve
from torch import nn
from torch.utils.data import DataLoader, Dataset

from .course import get_device
from .training import _as_list, _to_device, _UtteranceCrops, load_checkpoint


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
    max_crops: int = 10,
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
        ``True``: the mean of the embeddings of ``utterance_crops`` (the whole file); ``False``: the
        embedding of the dataset's crop.
    max_crops, batch_size, num_workers : int
        As for ``training.evaluate``.

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
        loader = DataLoader(
            _UtteranceCrops(dataset, max_crops),
            batch_size=max(1, batch_size // 4),
            num_workers=num_workers,
            collate_fn=_as_list,
        )
        for batch in loader:
            emb = embed(_to_device(torch.cat([c for c, _ in batch]), device, batch_transform))
            out += [piece.mean(0) for piece in emb.float().cpu().split([len(c) for c, _ in batch])]
        embeddings = torch.stack(out)
    else:
        for x, _ in DataLoader(dataset, batch_size=batch_size, num_workers=num_workers):
            out.append(embed(_to_device(x, device, batch_transform)).float().cpu())
        embeddings = torch.cat(out)
    return embeddings.numpy(), np.asarray(dataset.labels())


def choose_speakers(labels: Sequence, n: int = 20, seed: int = 0) -> list:
    """``n`` distinct speakers (fewer if there are fewer), the same for the same seed and labels.

    Drawn without replacement from the sorted distinct labels, returned sorted.
    """
    pool = sorted(set(np.asarray(labels).tolist()))
    rng = np.random.default_rng(seed)
    chosen = rng.choice(len(pool), size=min(n, len(pool)), replace=False)
    return [pool[i] for i in sorted(chosen)]


def holdout_speakers(speakers: Sequence[str], n_unseen: int, seed: int = 0) -> tuple[list, list]:
    """Split speakers into ``(seen, unseen)``: train on the first, verify on the ``n_unseen`` others."""
    pool = [str(s) for s in np.random.default_rng(seed).permutation(sorted(set(speakers)))]
    return pool[n_unseen:], pool[:n_unseen]


def pca_3d(embeddings: np.ndarray) -> np.ndarray:
    """Project ``(N, D)`` embeddings on their 3 principal components: ``(N, 3)``, centred.

    The components are the directions of largest variance; the share of variance they keep is
    ``sklearn.decomposition.PCA(3).fit(embeddings).explained_variance_ratio_``.
    """
    return PCA(n_components=3).fit_transform(np.asarray(embeddings, dtype=np.float64))


def plot_embeddings_3d(
    points: np.ndarray,
    labels: Sequence,
    names: Sequence[str] | dict | None = None,
    title: str = "Speaker embeddings, first 3 principal components",
) -> go.Figure:
    """Interactive 3-D scatter of ``points`` ``(N, 3)``, one colour (and legend entry) per speaker.

    ``names[label]`` is shown instead of the label when given (e.g. the speaker id of a class index).
    Rotate with the mouse; click a legend entry to hide a speaker.
    """
    points = np.asarray(points)
    labels = np.asarray(labels)
    figure = go.Figure()
    for label in sorted(set(labels.tolist())):
        keep = labels == label
        name = str(names[label]) if names is not None else str(label)
        figure.add_trace(
            go.Scatter3d(
                x=points[keep, 0],
                y=points[keep, 1],
                z=points[keep, 2],
                mode="markers",
                marker={"size": 3},
                name=name,
            )
        )
    figure.update_layout(
        title=title,
        scene={"xaxis_title": "PC 1", "yaxis_title": "PC 2", "zaxis_title": "PC 3"},
        legend_title_text="speaker",
    )
    return figure


def cosine_scores(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Cosine similarity of every row of ``a`` ``(N, D)`` with every row of ``b`` ``(M, D)``: ``(N, M)``."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=1, keepdims=True), 1e-12)
    return a @ b.T


def verification_trials(
    embeddings: np.ndarray, labels: Sequence, seed: int = 0, max_trials: int | None = 1_000_000
) -> tuple[np.ndarray, np.ndarray]:
    """Every pair ``i < j`` of utterances as a trial: its cosine score and whether it is one speaker.

    Parameters
    ----------
    embeddings : array (N, D)
    labels : array (N,)
        Speaker of each embedding.
    seed : int
        Picks the random subset when there are more than ``max_trials`` pairs.
    max_trials : int or None
        Most trials to return (``None``: all ``N (N - 1) / 2``).

    Returns
    -------
    (numpy.ndarray, numpy.ndarray)
        ``scores`` (float) and ``same`` (bool), one per trial, pairs in row-major order.
    """
    labels = np.asarray(labels)
    i, j = np.triu_indices(len(labels), k=1)
    if max_trials is not None and len(i) > max_trials:
        keep = np.sort(np.random.default_rng(seed).choice(len(i), max_trials, replace=False))
        i, j = i[keep], j[keep]
    return cosine_scores(embeddings, embeddings)[i, j], labels[i] == labels[j]


def equal_error_rate(scores: np.ndarray, same: np.ndarray) -> tuple[float, float]:
    """Equal error rate of same/different-speaker ``scores`` and the threshold reaching it.

    A trial is accepted when ``score >= threshold``. Along the ROC curve (``sklearn.metrics.roc_curve``)
    the false acceptance rate (FPR) rises as the false rejection rate (FNR = 1 - TPR) falls; the EER is
    where they cross, linearly interpolated between the two ROC points around the crossing.

    Returns
    -------
    (float, float)
        EER (a fraction, 0 to 1) and the threshold of the first ROC point at or past the crossing.
    """
    same = np.asarray(same, dtype=bool)
    if same.all() or not same.any():
        raise ValueError("need both same-speaker and different-speaker trials")
    fpr, tpr, thresholds = roc_curve(same, np.asarray(scores, dtype=np.float64))
    fnr = 1 - tpr
    i = int(
        np.argmax(fnr <= fpr)
    )  # first point where false rejections no longer exceed acceptances
    if i == 0:
        return float(fpr[0]), float(thresholds[0])
    before, after = fpr[i - 1] - fnr[i - 1], fpr[i] - fnr[i]  # < 0, >= 0
    weight = before / (before - after)
    return float(fpr[i - 1] + weight * (fpr[i] - fpr[i - 1])), float(thresholds[i])
