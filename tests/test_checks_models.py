"""Notebook 04's checks accept the reference answers and reject the mistakes students make.

The reference models are the solution notebook's (small widths, so that the tests are fast); each
wrong model changes one thing: BatchNorm, skip connections, the pooling, the head, the input layout.
"""

from __future__ import annotations

import pytest
import torch
from test_checks_core import Case, accepts, rejects, right, wrong
from torch import nn

from helpers import checks
from helpers.course import show_table
from helpers.models import make_model

N = 8  # speakers


def stats_pool(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=1)


class DenseClassifier(nn.Module):
    """Two hidden layers, the second the embedding layer (Linear → BatchNorm: no ReLU after it)."""

    def __init__(self, n_features: int, n_classes: int, hidden: int = 32, dropout: float = 0.3):
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(dropout),
            nn.Linear(hidden, hidden),
            nn.BatchNorm1d(hidden),
        )
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(hidden, n_classes)
        self.embedding_dim = hidden

    def embed(self, x):
        return self.body(x)

    def forward(self, x):
        return self.head(self.dropout(self.embed(x)))


class ResidualBlock1d(nn.Module):
    def __init__(self, channels: int, dilation: int = 1, residual: bool = True, norm: bool = True):
        super().__init__()
        self.residual = residual
        self.conv1 = nn.Conv1d(
            channels, channels, 3, padding=dilation, dilation=dilation, bias=False
        )
        self.bn1 = nn.BatchNorm1d(channels) if norm else nn.Identity()
        self.conv2 = nn.Conv1d(
            channels, channels, 3, padding=dilation, dilation=dilation, bias=False
        )
        self.bn2 = nn.BatchNorm1d(channels) if norm else nn.Identity()

    def forward(self, x):
        out = self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x)))))
        return torch.relu(x + out if self.residual else out)


class CNN1d(nn.Module):
    def __init__(
        self,
        n_features,
        n_classes,
        channels=16,
        embedding_dim=16,
        residual=True,
        norm=True,
        pool=stats_pool,
    ):
        super().__init__()
        self.pool = pool
        self.stem = nn.Sequential(
            nn.Conv1d(n_features, channels, 5, padding=2, bias=False),
            nn.BatchNorm1d(channels) if norm else nn.Identity(),
            nn.ReLU(),
        )
        self.blocks = nn.Sequential(
            *(ResidualBlock1d(channels, d, residual, norm) for d in (1, 2, 4))
        )
        width = self.pool(torch.zeros(2, channels, 10)).shape[1]
        self.project = nn.Sequential(
            nn.Linear(width, embedding_dim),
            nn.BatchNorm1d(embedding_dim) if norm else nn.Identity(),
        )
        self.embedding_dim = embedding_dim
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(embedding_dim, n_classes)

    def embed(self, x):
        return self.project(self.pool(self.blocks(self.stem(x))))

    def forward(self, x):
        return self.head(self.dropout(self.embed(x)))


class ResidualBlock2d(nn.Module):
    def __init__(self, channels: int):
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)

    def forward(self, x):
        return torch.relu(x + self.bn2(self.conv2(torch.relu(self.bn1(self.conv1(x))))))


class CNN2d(nn.Module):
    def __init__(self, n_features, n_classes, channels=(4, 8), embedding_dim=16):
        super().__init__()
        stages, c_in, rows = [], 1, n_features
        for c in channels:
            stages += [
                nn.Conv2d(c_in, c, 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c),
                nn.ReLU(),
                ResidualBlock2d(c),
            ]
            c_in, rows = c, (rows - 1) // 2 + 1
        self.stages = nn.Sequential(*stages)
        self.project = nn.Sequential(
            nn.Linear(2 * c_in * rows, embedding_dim), nn.BatchNorm1d(embedding_dim)
        )
        self.embedding_dim = embedding_dim
        self.dropout = nn.Dropout(0.3)
        self.head = nn.Linear(embedding_dim, n_classes)

    def embed(self, x):
        maps = self.stages(x.unsqueeze(1))
        return self.project(stats_pool(maps.flatten(1, 2)))

    def forward(self, x):
        return self.head(self.dropout(self.embed(x)))


# --------------------------------------------------------------------------------------------------
# Wrong models


class FlattenCNN(CNN1d):
    """Flattens the time axis: works for one clip length only."""

    def __init__(self, n_features, n_classes, frames=301):
        super().__init__(n_features, n_classes)
        self.head = nn.Linear(16 * frames, n_classes)

    def embed(self, x):
        return self.blocks(self.stem(x)).flatten(1)

    def forward(self, x):
        return self.head(self.embed(x))


class WrongClasses(CNN1d):
    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.head = nn.Linear(16, n_classes + 1)


class Softmaxed(CNN1d):
    def forward(self, x):
        return torch.softmax(super().forward(x), dim=1)


class NoEmbed(nn.Module):
    def __init__(self, n_features, n_classes):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(n_features, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Linear(16, n_classes)
        )

    def forward(self, x):
        return self.net(x)


class UnusedLayer(DenseClassifier):
    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.extra = nn.Linear(32, 32)


class BatchNormalisedScores(DenseClassifier):
    """Normalises the scores over the batch axis, even in eval mode."""

    def forward(self, x):
        out = super().forward(x)
        return (out - out.mean(0)) / (out.std(0) + 1e-5) if len(out) > 1 else out


class OneHiddenLayer(DenseClassifier):
    """The hidden layer left out: the embedding layer and the head, 2 Linear layers in all."""

    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.body = self.body[4:]
        self.body[0] = nn.Linear(n_features, 32)


class DenseNoBatchNorm(DenseClassifier):
    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.body = nn.Sequential(*(m for m in self.body if not isinstance(m, nn.BatchNorm1d)))


class DenseNoDropout(DenseClassifier):
    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.body = nn.Sequential(*(m for m in self.body if not isinstance(m, nn.Dropout)))
        self.dropout = nn.Identity()


class DenseReluEmbedding(DenseClassifier):
    """Exercise 4.1 as it was: the embedding ends in ReLU → Dropout (no signs for cosine scoring)."""

    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.body.extend([nn.ReLU(), nn.Dropout(0.3)])


class CNN1dReluEmbedding(CNN1d):
    """A ReLU (and Dropout) after the embedding layer: the embedding loses its signs."""

    def __init__(self, n_features, n_classes, dropout=False):
        super().__init__(n_features, n_classes)
        self.project.append(nn.ReLU())
        if dropout:
            self.project.append(nn.Dropout(0.3))


def mean_pool(x):
    return x.mean(dim=-1)


def mean_max_pool(x):
    return torch.cat([x.mean(dim=-1), x.amax(dim=-1)], dim=1)


class CNN2dWithConv1d(CNN1d):
    """A "2-D" CNN that convolves over time only."""


def cnn1d(**options):
    return CNN1d(40, N, **options)


CASES: list[Case] = [
    right("classifier", "dense reference", lambda: (DenseClassifier(40, N), 40, N, "dense")),
    right("classifier", "cnn1d reference", lambda: (cnn1d(), 40, N, "cnn1d")),
    right("classifier", "cnn2d reference", lambda: (CNN2d(201, N), 201, N, "cnn2d")),
    right("classifier", "kit dense", lambda: (make_model("dense", 40, N), 40, N, "dense")),
    right(
        "classifier", "kit cnn1d", lambda: (make_model("cnn1d", 40, N, channels=16), 40, N, "cnn1d")
    ),
    right(
        "classifier",
        "kit cnn2d",
        lambda: (make_model("cnn2d", 201, N, channels=(4, 8)), 201, N, "cnn2d"),
    ),
    wrong(
        "classifier", "no BatchNorm", lambda: (cnn1d(norm=False), 40, N, "cnn1d"), "No BatchNorm"
    ),
    wrong(
        "classifier",
        "no residuals",
        lambda: (cnn1d(residual=False), 40, N, "cnn1d"),
        "No skip connection",
    ),
    wrong(
        "classifier",
        "mean pooling",
        lambda: (cnn1d(pool=mean_pool), 40, N, "cnn1d"),
        "keeps only the mean",
    ),
    wrong(
        "classifier",
        "mean+max pooling",
        lambda: (cnn1d(pool=mean_max_pool), 40, N, "cnn1d"),
        "a maximum",
    ),
    wrong(
        "classifier",
        "flattened time",
        lambda: (FlattenCNN(40, N), 40, N, "cnn1d"),
        "fails for 151 frames",
    ),
    wrong(
        "classifier", "wrong classes", lambda: (WrongClasses(40, N), 40, N, "cnn1d"), r"= \(4, 8\)"
    ),
    wrong("classifier", "softmax", lambda: (Softmaxed(40, N), 40, N, "cnn1d"), "probabilities"),
    wrong(
        "classifier",
        "1-D for cnn2d",
        lambda: (CNN2dWithConv1d(201, N), 201, N, "cnn2d"),
        "uses Conv1d",
    ),
    wrong("classifier", "no embed", lambda: (NoEmbed(40, N), 40, N, "dense"), "no embed"),
    wrong(
        "classifier",
        "unused layer",
        lambda: (UnusedLayer(40, N), 40, N, "dense"),
        "no gradient.*extra.weight",
    ),
    wrong(
        "classifier",
        "batch-normalised scores",
        lambda: (BatchNormalisedScores(40, N), 40, N, "dense"),
        "other clips of its batch",
    ),
    wrong(
        "classifier",
        "one hidden layer",
        lambda: (OneHiddenLayer(40, N), 40, N, "dense"),
        "asks for three, the hidden layer, the embedding layer",
    ),
    wrong(
        "classifier",
        "dense no BatchNorm",
        lambda: (DenseNoBatchNorm(40, N), 40, N, "dense"),
        "No BatchNorm",
    ),
    wrong(
        "classifier",
        "dense no Dropout",
        lambda: (DenseNoDropout(40, N), 40, N, "dense"),
        "No Dropout",
    ),
    wrong(
        "classifier",
        "dense ReLU→Dropout embedding",
        lambda: (DenseReluEmbedding(40, N), 40, N, "dense"),
        "embedding goes through a ReLU",
    ),
    wrong(
        "classifier",
        "cnn1d ReLU embedding",
        lambda: (CNN1dReluEmbedding(40, N), 40, N, "cnn1d"),
        "needs signed embeddings",
    ),
    wrong(
        "classifier",
        "cnn1d ReLU→Dropout embedding",
        lambda: (CNN1dReluEmbedding(40, N, dropout=True), 40, N, "cnn1d"),
        "≥ 0.*ReLU",
    ),
    wrong(
        "classifier",
        "pooled model for frames",
        lambda: (DenseClassifier(40, N), 40, N, "cnn1d"),
        "raised RuntimeError",
    ),
    wrong(
        "classifier",
        "the class",
        lambda: (DenseClassifier, 40, N, "dense"),
        "Expected an nn.Module",
    ),
    right("statistics_pooling", "reference", lambda: (stats_pool,)),
    right(
        "statistics_pooling",
        "biased std",
        lambda: (lambda x: torch.cat([x.mean(-1), x.std(-1, unbiased=False)], 1),),
    ),
    wrong("statistics_pooling", "mean only", lambda: (mean_pool,), "only one statistic"),
    wrong(
        "statistics_pooling",
        "std first",
        lambda: (lambda x: torch.cat([x.std(-1), x.mean(-1)], 1),),
        "standard deviations come before",
    ),
    wrong(
        "statistics_pooling",
        "variance",
        lambda: (lambda x: torch.cat([x.mean(-1), x.var(-1)], 1),),
        "variance, not the standard deviation",
    ),
    wrong(
        "statistics_pooling",
        "channel axis",
        lambda: (lambda x: torch.cat([x.mean(1), x.std(1)], 1),),
        r"expected \(3, 10\)",
    ),
    wrong("statistics_pooling", "max", lambda: (mean_max_pool,), "not the standard deviation"),
    wrong(
        "statistics_pooling",
        "batch axis",
        lambda: (lambda x: torch.cat([x.mean(-1), x.std(-1)], 0),),
        "batch axis",
    ),
    wrong(
        "statistics_pooling",
        "stacked",
        lambda: (lambda x: torch.stack([x.mean(-1), x.std(-1)], 1),),
        "new axis",
    ),
    right(
        "parameter_count",
        "reference",
        lambda: (lambda m: sum(p.numel() for p in m.parameters() if p.requires_grad),),
    ),
    wrong(
        "parameter_count",
        "frozen too",
        lambda: (lambda m: sum(p.numel() for p in m.parameters()),),
        "frozen ones included",
    ),
    wrong(
        "parameter_count",
        "no biases",
        lambda: (
            lambda m: sum(
                p.numel() for n, p in m.named_parameters() if p.requires_grad and "bias" not in n
            ),
        ),
        "without the biases",
    ),
    wrong(
        "parameter_count",
        "state dict",
        lambda: (
            lambda m: sum(v.numel() for k, v in m.state_dict().items() if not k.startswith("0.")),
        ),
        "buffers",
    ),
    wrong(
        "parameter_count",
        "tensors",
        lambda: (lambda m: len([p for p in m.parameters() if p.requires_grad]),),
        "tensors, not of numbers",
    ),
    wrong("parameter_count", "a string", lambda: (lambda m: "many",), "return an int"),
    right(
        "parameter_formula", "reference", lambda: (lambda f, h, c: f * h + h + 2 * h + h * c + c,)
    ),
    wrong(
        "parameter_formula", "no biases", lambda: (lambda f, h, c: f * h + 2 * h + h * c,), "bias"
    ),
    wrong(
        "parameter_formula",
        "no BatchNorm",
        lambda: (lambda f, h, c: f * h + h + h * c + c,),
        "scale and a shift",
    ),
    wrong(
        "parameter_formula",
        "buffers",
        lambda: (lambda f, h, c: f * h + h + 4 * h + h * c + c,),
        "buffers",
    ),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    accepts(case, capsys)


@pytest.mark.parametrize("case", [c for c in CASES if c.match is not None], ids=str)
def test_rejects(case: Case) -> None:
    rejects(case)


def test_classifier_restores_the_mode_it_found(capsys: pytest.CaptureFixture[str]) -> None:
    model = cnn1d().eval()
    checks.classifier(model, 40, N, "cnn1d")
    assert not model.training
    assert all(p.grad is None for p in model.parameters())


def test_classifier_wants_a_family() -> None:
    with pytest.raises(ValueError, match="family"):
        checks.classifier(cnn1d(), 40, N, "resnet")


# --------------------------------------------------------------------------------------------------
# The given cells after each exercise of solutions/04_models.ipynb, fed the types the notebook passes
# them: every answer its check accepts runs through them (issue 18, "the student's path holds").


def after_classifier(model, n_features, n_classes, family):
    """The table of your three models: a float32 batch of 4 clips, eval, no gradient; 07's cosine."""
    x = torch.randn(4, n_features, *(() if family == "dense" else (301,)))
    model.eval()
    with torch.no_grad():
        scores, embedding = model(x), model.embed(x)
    assert scores.shape == (4, n_classes) and embedding.shape == (4, model.embedding_dim)
    assert (embedding < 0).any(), "07 scores embeddings by cosine: they need their signs"


def after_parameter_count(count):
    """The count printed with a thousands separator, and the table of the kit's models."""
    print(f"Your dense classifier has {count(DenseClassifier(40, N)):,} trainable parameters.")
    rows = [{"parameters": count(make_model(name, n, 250))} for name, n in [("dense", 40)]]
    assert show_table(rows, {"parameters": "{:,}"})["parameters"][0].replace(",", "").isdigit()


def after_statistics_pooling(pool):
    """stats_pool inside CNN1d.embed, on the float32 feature maps of a batch."""
    with torch.no_grad():
        assert CNN1d(40, N, pool=pool).eval()(torch.randn(2, 40, 151)).shape == (2, N)


NEXT_CELLS = {
    "classifier": after_classifier,
    "parameter_count": after_parameter_count,
    "statistics_pooling": after_statistics_pooling,
    "parameter_formula": None,  # no later cell uses the formula
}


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_what_the_check_accepts_runs_in_the_cells_after_it(case: Case, capsys) -> None:
    assert set(NEXT_CELLS) == {c.check for c in CASES}
    if NEXT_CELLS[case.check] is not None:
        NEXT_CELLS[case.check](*case.args())
