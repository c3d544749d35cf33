"""The course's three speaker classifiers, small enough for a laptop CPU, strong enough to teach with.

``DenseClassifier`` takes pooled ``(B, n_features)``; ``CNN1d`` (x-vector/TDNN, recommended) and
``CNN2d`` (ResNet) take ``(B, n_features, frames)`` of any length. ``model(x)`` gives logits
``(B, n_classes)``, ``model.embed(x)`` the speaker embedding ``(B, embedding_dim)``.
"""

import itertools
import math
from typing import Any

import torch
import torch.nn.functional as F
import torchaudio
from torch import nn


class SpecAugment(torchaudio.transforms.SpecAugment):
    """SpecAugment on ``(B, bins, frames)``: ``n_masks`` zeroed bands (≤ ``max_bins``) and spans
    (≤ ``max_frames``) per clip, in training mode only; identity in ``eval()``."""

    def __init__(self, max_bins: int = 8, max_frames: int = 20, n_masks: int = 2) -> None:
        super().__init__(n_masks, max_frames, n_masks, max_bins, iid_masks=True, zero_masking=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) if self.training else x


class StatsPool(nn.Module):
    """Statistics pooling: ``(B, C, T)`` → ``(B, 2C)``, each channel's mean then std over time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.float()  # the variance of float16 activations can overflow under autocast
        return torch.cat([x.mean(dim=-1), (x.var(dim=-1, unbiased=False) + 1e-5).sqrt()], dim=1)


class Residual1d(nn.Module):
    """Two ``Conv1d(k=3) → BatchNorm``, skip if ``residual``: ``(B, C, T)`` → ``(B, C, T)``."""

    def __init__(self, channels: int, dilation: int = 1, residual: bool = True) -> None:
        super().__init__()
        self.residual = residual
        self.body = nn.Sequential(
            nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(),
            nn.Conv1d(channels, channels, 3, padding=dilation, dilation=dilation, bias=False),
            nn.BatchNorm1d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return torch.relu(out + x if self.residual else out)


class Residual2d(nn.Module):
    """ResNet basic block: ``(B, C_in, F, T)`` → ``(B, C_out, F / stride, T / stride)``."""

    def __init__(self, c_in: int, c_out: int, stride: int = 1, residual: bool = True) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
            nn.ReLU(),
            nn.Conv2d(c_out, c_out, 3, padding=1, bias=False),
            nn.BatchNorm2d(c_out),
        )
        self.skip: nn.Module | None = None
        if residual:
            self.skip = nn.Identity()
            if stride != 1 or c_in != c_out:
                self.skip = nn.Sequential(
                    nn.Conv2d(c_in, c_out, 1, stride=stride, bias=False), nn.BatchNorm2d(c_out)
                )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.body(x)
        return torch.relu(out + self.skip(x) if self.skip is not None else out)


class SpeakerModel(nn.Module):
    """Common head: ``pooled`` → ``embedding`` (``embed``) → Dropout → Linear; ``config`` rebuilds it."""

    name: str = ""
    embedding_dim: int
    config: dict[str, Any]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits ``(B, n_classes)``."""
        return self.classifier(self.dropout(self.embed(x)))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """Speaker embedding ``(B, embedding_dim)``: the input of the last Linear layer."""
        return self.embedding(self.pooled(x))

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n_pooled)``: what the embedding layer reads (each model's own)."""
        raise NotImplementedError

    def backend_features(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, embedding_dim + n_pooled)``, the embedding then what it is computed from: the LDA
        back-end's input (the embedding layer drops some of what carries a voice to a new session)."""
        pooled = self.pooled(x)
        return torch.cat([self.embedding(pooled), pooled], dim=1)


def _embedding_head(n_in: int, embedding_dim: int) -> nn.Sequential:
    """``Linear → BatchNorm``: the embedding layer (no ReLU, so cosine scoring sees signed values)."""
    return nn.Sequential(nn.Linear(n_in, embedding_dim), nn.BatchNorm1d(embedding_dim))


class DenseClassifier(SpeakerModel):
    """MLP on pooled features: ``(B, n_features)`` → ``(B, n_classes)``; ``hidden`` is the width,
    ``residual`` a skip around the middle block."""

    name = "dense"

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        hidden: int = 256,
        embedding_dim: int = 128,
        residual: bool = True,
        dropout: float = 0.3,
    ) -> None:
        super().__init__()
        self.config = dict(hidden=hidden, embedding_dim=embedding_dim, residual=residual)
        self.config.update(dropout=dropout, n_features=n_features, n_classes=n_classes)
        self.embedding_dim, self.residual = embedding_dim, residual
        # Pooled log features are not normalised (e.g. log power around -10): BatchNorm scales them.
        self.input_norm = nn.BatchNorm1d(n_features)
        self.hidden = nn.Sequential(
            nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(dropout)
        )
        self.block = nn.Sequential(
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
        )
        self.embedding = _embedding_head(hidden, embedding_dim)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n_features)`` → ``(B, hidden)``."""
        h = self.hidden(self.input_norm(x))
        out = self.block(h)
        return torch.relu(out + h if self.residual else out)


class CNN1d(SpeakerModel):
    """x-vector/TDNN 1-D CNN: ``(B, n_features, frames)`` → ``(B, n_classes)``; block ``i`` has
    dilation ``i + 1`` (~0.5 s context), ``aggregate`` pools all blocks (ECAPA-TDNN), ``augment``
    adds SpecAugment (off: it cost sub-second clips 9 points in docs/model.md's study).

    ``utterance_stats``: the input is *unnormalised* log features (``make_feature(...,
    normalize=False)``); the model normalises each clip itself and keeps each bin's mean and std over
    the clip beside the pooled statistics: the average spectrum that per-utterance normalisation
    removes, which is what the classical baseline reads (docs/model.md)."""

    name = "cnn1d"

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        channels: int = 128,
        n_blocks: int = 3,
        embedding_dim: int = 128,
        residual: bool = True,
        dropout: float = 0.2,
        augment: bool = False,
        stride: int = 2,
        aggregate: bool = False,
        utterance_stats: bool = False,
    ) -> None:
        super().__init__()
        self.config = dict(channels=channels, n_blocks=n_blocks, embedding_dim=embedding_dim)
        self.config.update(residual=residual, dropout=dropout, augment=augment, stride=stride)
        self.config.update(aggregate=aggregate, utterance_stats=utterance_stats)
        self.aggregate, self.utterance_stats = aggregate, utterance_stats
        self.clip_stats = nn.BatchNorm1d(2 * n_features) if utterance_stats else None
        self.config.update(n_features=n_features, n_classes=n_classes)
        self.embedding_dim = embedding_dim
        self.augment = SpecAugment() if augment else nn.Identity()
        self.stem = nn.Sequential(
            nn.Conv1d(n_features, channels, 5, stride=stride, padding=2, bias=False),
            nn.BatchNorm1d(channels),
            nn.ReLU(),
        )
        self.blocks = nn.Sequential(
            *[Residual1d(channels, dilation=i + 1, residual=residual) for i in range(n_blocks)]
        )
        self.expand = nn.Sequential(
            nn.Conv1d((n_blocks if aggregate else 1) * channels, 2 * channels, 1, bias=False),
            nn.BatchNorm1d(2 * channels),
            nn.ReLU(),
        )
        self.pool = StatsPool()
        side = 2 * n_features if utterance_stats else 0
        self.embedding = _embedding_head(4 * channels + side, embedding_dim)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n_features, frames)`` → ``(B, 4 · channels [+ 2 · n_features])``."""
        side = None
        if self.utterance_stats:  # each bin's mean and std over the clip, then the clip normalised
            x = x.float()
            mean, std = x.mean(dim=-1, keepdim=True), (x.var(dim=-1, keepdim=True) + 1e-5).sqrt()
            side = self.clip_stats(torch.cat([mean, std], dim=1).squeeze(-1))  # (B, 2 n_features)
            x = (x - mean) / std
        x = self.stem(self.augment(x))  # (B, C, frames / stride)
        if self.aggregate:  # ECAPA: the outputs of every block, stacked along the channels
            outputs = []
            for block in self.blocks:
                x = block(x)
                outputs.append(x)
            x = torch.cat(outputs, dim=1)  # (B, n_blocks · C, frames / stride)
        else:
            x = self.blocks(x)
        pooled = self.pool(self.expand(x))  # expand: (B, 2C, frames / stride)
        return pooled if side is None else torch.cat([pooled, side], dim=1)


class CNN2d(SpeakerModel):
    """ResNet-style 2-D CNN: ``(B, n_features, frames)`` → ``(B, n_classes)``; ``channels`` of the
    stem, then of each stride-2 stage."""

    name = "cnn2d"

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        channels: tuple[int, ...] | list[int] = (16, 32, 64),
        embedding_dim: int = 128,
        residual: bool = True,
        dropout: float = 0.2,
        augment: bool = False,
    ) -> None:
        super().__init__()
        channels = tuple(channels)
        self.config = dict(channels=list(channels), embedding_dim=embedding_dim, residual=residual)
        self.config.update(dropout=dropout, augment=augment)
        self.config.update(n_features=n_features, n_classes=n_classes)
        self.embedding_dim = embedding_dim
        self.augment = SpecAugment() if augment else nn.Identity()
        self.stem = nn.Sequential(
            nn.Conv2d(1, channels[0], 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(channels[0]),
            nn.ReLU(),
        )
        self.stages = nn.Sequential(
            *[
                Residual2d(c_in, c_out, stride=2, residual=residual)
                for c_in, c_out in itertools.pairwise(channels)
            ]
        )
        bins = n_features
        for _ in channels:  # each stride-2 layer (kernel 3, padding 1) maps n to ceil(n / 2)
            bins = (bins + 1) // 2
        self.pool = StatsPool()
        self.embedding = _embedding_head(2 * channels[-1] * bins, embedding_dim)
        self.dropout = nn.Dropout(dropout)
        self.classifier = nn.Linear(embedding_dim, n_classes)

    def pooled(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, n_features, frames)`` → ``(B, 2 · C · F')``."""
        x = self.stages(self.stem(self.augment(x).unsqueeze(1)))  # (B, C, F', T')
        return self.pool(x.flatten(1, 2))  # (B, C·F', T') → (B, 2·C·F')


class AAMSoftmax(nn.Module):
    """AAM-softmax (ArcFace) head: ``(B, embedding_dim)`` → ``scale · cos θ`` ``(B, n_classes)``;
    ``margin`` in radians, added only by ``margin_logits`` in training."""

    def __init__(
        self, embedding_dim: int, n_classes: int, margin: float = 0.2, scale: float = 30.0
    ) -> None:
        super().__init__()
        if not 0 <= margin < math.pi / 2 or scale <= 0:
            raise ValueError(f"need 0 <= margin < pi/2 (radians) and scale > 0: {margin}, {scale}")
        self.margin, self.scale = float(margin), float(scale)
        self.weight = nn.Parameter(torch.empty(n_classes, embedding_dim))
        nn.init.xavier_uniform_(self.weight)

    def forward(self, embeddings: torch.Tensor) -> torch.Tensor:
        """``scale · cos θ``: ``(B, n_classes)`` cosines between embeddings and speaker centres, scaled."""
        cosine = F.linear(F.normalize(embeddings.float()), F.normalize(self.weight.float()))
        return self.scale * cosine

    def margin_logits(self, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        """Training logits: the true class's ``s cos θ_y`` → ``s cos(θ_y + m)`` (as ArcFace)."""
        cosine = (logits.float() / self.scale).clamp(-1 + 1e-7, 1 - 1e-7)
        target = cosine.gather(1, labels[:, None])
        sine = (1 - target.square()).sqrt()
        with_margin = target * math.cos(self.margin) - sine * math.sin(self.margin)
        beyond = target - math.sin(math.pi - self.margin) * self.margin  # θ_y + m past π (ArcFace)
        with_margin = torch.where(target > math.cos(math.pi - self.margin), with_margin, beyond)
        return (self.scale * cosine).scatter(1, labels[:, None], self.scale * with_margin)

    def extra_repr(self) -> str:
        n_classes, embedding_dim = self.weight.shape
        return f"{embedding_dim}, {n_classes}, margin={self.margin}, scale={self.scale}"


HEADS = ("softmax", "aam")
"""Classification heads ``make_model`` builds: a plain ``Linear`` (softmax) or ``AAMSoftmax``."""


def logits_for_loss(model: nn.Module, logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    """The logits a training loss should see: with the angular margin when the head is ``AAMSoftmax``."""
    head = getattr(model, "classifier", None)
    return head.margin_logits(logits, labels) if isinstance(head, AAMSoftmax) else logits


MODELS: dict[str, type[SpeakerModel]] = {"dense": DenseClassifier, "cnn1d": CNN1d, "cnn2d": CNN2d}
"""Model name → class, for ``make_model``."""

POOLED_MODELS = ("dense",)
"""Models that take pooled features ``(B, n_features)``; the others take ``(B, n_features, frames)``."""


def check_compatible(name: str, feature_kind: str) -> None:
    """Raise ``ValueError`` unless model ``name`` can take features of ``feature_kind``."""
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    pooled = feature_kind.endswith("_pooled")
    if name in POOLED_MODELS and not pooled:
        raise ValueError(
            f"model {name!r} takes one vector per clip: use a pooled feature kind "
            f"({feature_kind}_pooled), not {feature_kind!r}"
        )
    if name not in POOLED_MODELS and pooled:
        raise ValueError(
            f"model {name!r} convolves over time: use a feature kind with a time axis "
            f"({feature_kind.removesuffix('_pooled')}), not {feature_kind!r}"
        )


def make_model(
    name: str, n_features: int, n_classes: int, seed: int | None = 0, **options: Any
) -> SpeakerModel:
    """Build model ``name`` (one of ``MODELS``) for ``n_features`` bins and ``n_classes`` speakers.

    ``seed`` seeds the initial weights (the global random state is left untouched; ``None`` draws
    from the global generator). ``options`` go to the model class (``residual``, ``dropout``,
    ``channels``...), except ``head="aam"`` (with ``margin``, ``scale``), an ``AAMSoftmax`` instead of
    the last ``Linear`` (``"softmax"``, the default); train it with ``logits_for_loss``.

    >>> make_model("cnn1d", 40, 8)(torch.zeros(2, 40, 301)).shape
    torch.Size([2, 8])
    """
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
    head = options.pop("head", "softmax")
    margin, scale = options.pop("margin", 0.2), options.pop("scale", 30.0)
    if head not in HEADS:
        raise ValueError(f"unknown head {head!r}; choose one of {', '.join(HEADS)}")
    with torch.random.fork_rng(devices=[], enabled=seed is not None):
        if seed is not None:
            torch.manual_seed(seed)
        model = MODELS[name](n_features, n_classes, **options)
        if head == "aam":
            model.classifier = AAMSoftmax(model.embedding_dim, n_classes, margin, scale)
            model.config.update(head=head, margin=margin, scale=scale)
    return model


def count_parameters(model: nn.Module) -> int:
    """Number of trainable numbers in ``model`` (buffers such as BatchNorm statistics excluded)."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
