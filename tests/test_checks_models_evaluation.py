"""The self-checks of notebooks 04–07 pass on reference answers and fail, helpfully, on wrong ones."""

from __future__ import annotations

import contextlib
import copy

import numpy as np
import plotly.graph_objects as go
import pytest
import torch
from sklearn.decomposition import PCA
from sklearn.metrics import roc_curve
from torch import nn

from helpers import checks
from helpers.checks import ExerciseError

N_CLASSES = 8


# --------------------------------------------------------------------------------------------------
# Reference answers (the notebooks' solutions, condensed) and deliberately wrong variants


def stats_pool(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x.mean(dim=-1), x.std(dim=-1)], dim=1)


class Dense(nn.Module):
    def __init__(self, n_features: int, n_classes: int, hidden: int = 32) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU(), nn.Dropout(0.3)
        )
        self.head = nn.Linear(hidden, n_classes)
        self.embedding_dim = hidden

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


class CNN1d(nn.Module):
    def __init__(self, n_features: int, n_classes: int, channels: int = 16) -> None:
        super().__init__()
        self.conv = nn.Sequential(
            nn.Conv1d(n_features, channels, 5, padding=2), nn.BatchNorm1d(channels), nn.ReLU()
        )
        self.head = nn.Linear(2 * channels, n_classes)
        self.embedding_dim = 2 * channels

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return stats_pool(self.conv(x))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.embed(x))


class FlattenCNN(CNN1d):
    """Wrong: flattens the time axis, so it only works for one clip length."""

    def __init__(self, n_features: int, n_classes: int, frames: int = 301) -> None:
        super().__init__(n_features, n_classes)
        self.head = nn.Linear(16 * frames, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv(x).flatten(1)


class WrongClasses(CNN1d):
    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__(n_features, n_classes)
        self.head = nn.Linear(32, n_classes + 1)


class Softmaxed(CNN1d):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(super().forward(x), dim=1)


class NoEmbed(nn.Module):
    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(n_features, 16), nn.ReLU(), nn.Linear(16, n_classes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


class UnusedLayer(Dense):
    def __init__(self, n_features: int, n_classes: int) -> None:
        super().__init__(n_features, n_classes)
        self.extra = nn.Linear(32, 32)


class BatchNormalised(Dense):
    """Wrong: normalises over the batch axis even in eval mode."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = super().forward(x)
        return (out - out.mean(0)) / (out.std(0) + 1e-5) if len(out) > 1 else out


def count_ok(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def count_frozen_too(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_no_bias(model: nn.Module) -> int:
    return sum(
        p.numel() for n, p in model.named_parameters() if p.requires_grad and "bias" not in n
    )


def count_state_dict(model: nn.Module) -> int:
    return sum(v.numel() for k, v in model.state_dict().items() if not k.startswith("0."))


def count_tensors(model: nn.Module) -> int:
    return len([p for p in model.parameters() if p.requires_grad])


def train_one_epoch(model, loader, optimizer, loss_fn, device):
    model.train()
    total, count = 0.0, 0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
        count += len(y)
    return total / count


def utterance_log_probs(model, crops):
    model.eval()
    with torch.no_grad():
        return torch.log_softmax(model(crops), dim=1).mean(dim=0)


def top_speakers(logits, names, k):
    probabilities = torch.softmax(logits, dim=-1)
    values, indices = torch.topk(probabilities, k)
    return [(names[int(i)], float(p)) for p, i in zip(values, indices)]


def prf(cm):
    cm = np.asarray(cm, dtype=float)
    tp = np.diag(cm)
    predicted, actual = cm.sum(0), cm.sum(1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    denominator = precision + recall
    f1 = np.divide(
        2 * precision * recall, denominator, out=np.zeros_like(tp), where=denominator > 0
    )
    return precision, recall, f1


def macro_weighted(cm):
    _, _, f1 = prf(cm)
    support = np.asarray(cm).sum(1)
    return float(f1.mean()), float((f1 * support).sum() / support.sum())


def choose(speakers, n, seed):
    pool = sorted(speakers)
    rng = np.random.default_rng(seed)
    return [pool[i] for i in sorted(rng.choice(len(pool), size=min(n, len(pool)), replace=False))]


def project(emb):
    pca = PCA(n_components=3)
    return pca.fit_transform(emb), pca.explained_variance_ratio_


def scatter(points, labels):
    labels = np.asarray([str(label) for label in labels])
    figure = go.Figure(
        [
            go.Scatter3d(
                x=points[labels == name, 0],
                y=points[labels == name, 1],
                z=points[labels == name, 2],
                mode="markers",
                name=name,
            )
            for name in sorted(set(labels))
        ]
    )
    return figure.update_layout(
        title="Embeddings",
        scene={"xaxis_title": "PC 1", "yaxis_title": "PC 2", "zaxis_title": "PC 3"},
    )


def holdout(speakers, n_unseen, seed):
    pool = list(np.random.default_rng(seed).permutation(sorted(speakers)))
    return pool[n_unseen:], pool[:n_unseen]


def cosine(a, b):
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    return a @ b.T


def trials(emb, labels):
    i, j = np.triu_indices(len(emb), k=1)
    return cosine(emb, emb)[i, j], np.asarray(labels)[i] == np.asarray(labels)[j]


def eer(scores, same):
    fpr, tpr, thresholds = roc_curve(same, scores)
    fnr = 1 - tpr
    i = int(np.argmax(fnr <= fpr))
    if i == 0:
        return float(fpr[0]), float(thresholds[0])
    d0, d1 = fpr[i - 1] - fnr[i - 1], fpr[i] - fnr[i]
    w = d0 / (d0 - d1)
    return float(fpr[i - 1] + w * (fpr[i] - fpr[i - 1])), float(thresholds[i])


@contextlib.contextmanager
def fails(match: str):
    """Expect an ExerciseError whose message mentions ``match`` (a regex) and gives a hint."""
    with pytest.raises(ExerciseError, match=f"(?s){match}") as info:
        yield
    assert "\nHint: " in str(info.value), str(info.value)


# --------------------------------------------------------------------------------------------------
# 04 · models


@pytest.mark.parametrize(
    "model, n_features, pooled",
    [(Dense(40, N_CLASSES), 40, True), (CNN1d(40, N_CLASSES), 40, False)],
)
def test_classifier_accepts_reference_models(model, n_features, pooled, capsys):
    model.eval()
    checks.classifier(model, n_features, N_CLASSES, pooled=pooled)
    assert capsys.readouterr().out.startswith("✓")
    assert not model.training  # the check restores the mode it found


def test_classifier_accepts_the_helpers_models(capsys):
    models = pytest.importorskip("helpers.models")
    for name, n_features, pooled in [
        ("dense", 40, True),
        ("cnn1d", 40, False),
        ("cnn2d", 201, False),
    ]:
        model = models.make_model(name, n_features, N_CLASSES)
        checks.classifier(model, n_features, N_CLASSES, pooled=pooled)
    assert capsys.readouterr().out.count("✓") == 3


@pytest.mark.parametrize(
    "model, match",
    [
        (FlattenCNN(40, N_CLASSES), "works for clips of 301 frames but fails for 151"),
        (WrongClasses(40, N_CLASSES), r"expected \(batch, n_classes\) = \(4, 8\)"),
        (Softmaxed(40, N_CLASSES), "probabilities"),
    ],
)
def test_classifier_rejects_wrong_cnns(model, match):
    with fails(match):
        checks.classifier(model, 40, N_CLASSES)


def test_classifier_rejects_wrong_dense_models():
    with fails("no embed"):
        checks.classifier(NoEmbed(40, N_CLASSES), 40, N_CLASSES, pooled=True)
    with fails("no gradient.*extra.weight"):
        checks.classifier(UnusedLayer(40, N_CLASSES), 40, N_CLASSES, pooled=True)
    with fails("change with the other clips of its batch"):
        checks.classifier(BatchNormalised(40, N_CLASSES), 40, N_CLASSES, pooled=True)
    with fails("raised RuntimeError"):  # a pooled model fed to a check for time-frequency input
        checks.classifier(Dense(40, N_CLASSES), 40, N_CLASSES, pooled=False)
    with fails("Expected an nn.Module"):
        checks.classifier(Dense, 40, N_CLASSES, pooled=True)


def test_statistics_pooling(capsys):
    checks.statistics_pooling(stats_pool)
    checks.statistics_pooling(lambda x: torch.cat([x.mean(-1), x.std(-1, unbiased=False)], 1))
    assert capsys.readouterr().out.count("✓") == 2
    with fails("only one statistic"):
        checks.statistics_pooling(lambda x: x.mean(-1))
    with fails("standard deviations come before"):
        checks.statistics_pooling(lambda x: torch.cat([x.std(-1), x.mean(-1)], 1))
    with fails("variance, not the standard deviation"):
        checks.statistics_pooling(lambda x: torch.cat([x.mean(-1), x.var(-1)], 1))
    with fails(r"expected \(3, 10\)"):
        checks.statistics_pooling(lambda x: torch.cat([x.mean(1), x.std(1)], 1))
    with fails("not the mean over time"):
        checks.statistics_pooling(lambda x: torch.cat([x.amax(-1), x.std(-1)], 1))


def test_count_parameters(capsys):
    checks.count_parameters(count_ok)
    assert capsys.readouterr().out.startswith("✓")
    with fails("frozen ones included.*requires_grad"):
        checks.count_parameters(count_frozen_too)
    with fails("without the biases.*biases"):
        checks.count_parameters(count_no_bias)
    with fails("buffers"):
        checks.count_parameters(count_state_dict)
    with fails("tensors, not of numbers.*numel"):
        checks.count_parameters(count_tensors)
    with fails("return an int"):
        checks.count_parameters(lambda m: "many")


def test_parameter_formula(capsys):
    def formula(n_features, hidden, n_classes):
        return n_features * hidden + hidden + 2 * hidden + hidden * n_classes + n_classes

    checks.parameter_formula(formula)
    assert capsys.readouterr().out.startswith("✓")
    with fails("bias"):
        checks.parameter_formula(lambda f, h, c: f * h + 2 * h + h * c)
    with fails("BatchNorm1d learns a scale and a shift"):
        checks.parameter_formula(lambda f, h, c: f * h + h + h * c + c)
    with fails("buffers"):
        checks.parameter_formula(lambda f, h, c: formula(f, h, c) + 2 * h)


# --------------------------------------------------------------------------------------------------
# 05 · training and metrics


def test_train_one_epoch(capsys):
    checks.train_one_epoch(train_one_epoch)
    assert "loss" in capsys.readouterr().out


def _variant(**changes):
    """train_one_epoch with one step changed."""

    def train(model, loader, optimizer, loss_fn, device):
        if not changes.get("no_train_mode"):
            model.train()
        if changes.get("zero_once"):
            optimizer.zero_grad()
        losses = []
        for x, y in loader:
            if not changes.get("zero_once"):
                optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            loss.backward()
            if not changes.get("no_step"):
                optimizer.step()
            losses.append(loss)
        if changes.get("tensor"):
            return sum(losses) / len(losses)
        if changes.get("last"):
            return losses[-1].item()
        if changes.get("sum"):
            return sum(v.item() for v in losses)
        return sum(v.item() for v in losses) / len(losses)

    return train


@pytest.mark.parametrize(
    "changes, match",
    [
        ({"no_train_mode": True}, "evaluation mode.*model.train"),
        ({"zero_once": True}, "reset 1 time.*zero_grad"),
        ({"no_step": True}, r"step\(\) was called 0 times"),
        ({"tensor": True}, "attached to the computation graph"),
        ({"last": True}, "last batch only"),
        ({"sum": True}, "sum of the batch losses"),
    ],
)
def test_train_one_epoch_rejects(changes, match):
    with fails(match):
        checks.train_one_epoch(_variant(**changes))


def test_train_one_epoch_rejects_a_loop_that_does_not_learn():
    def backwards(model, loader, optimizer, loss_fn, device):
        model.train()
        total = 0.0
        for x, y in loader:
            optimizer.zero_grad()
            loss = -loss_fn(model(x), y)  # gradient ascent
            loss.backward()
            optimizer.step()
            total += -loss.item()
        return total / len(loader)

    with fails("loss went from"):
        checks.train_one_epoch(backwards)


def test_utterance_scores(capsys):
    checks.utterance_scores(utterance_log_probs)
    assert capsys.readouterr().out.startswith("✓")

    def no_eval(model, crops):
        with torch.no_grad():
            return torch.log_softmax(model(crops), 1).mean(0)

    def with_grad(model, crops):
        model.eval()
        return torch.log_softmax(model(crops), 1).mean(0)

    def mean_logits(model, crops):
        model.eval()
        with torch.no_grad():
            return model(crops).mean(0)

    def mean_probs(model, crops):
        model.eval()
        with torch.no_grad():
            return torch.softmax(model(crops), 1).mean(0)

    with fails("different scores.*model.eval"):
        checks.utterance_scores(no_eval)
    with fails("computation graph.*no_grad"):
        checks.utterance_scores(with_grad)
    with fails("raw logits"):
        checks.utterance_scores(mean_logits)
    with fails("average probabilities"):
        checks.utterance_scores(mean_probs)


def test_top_predictions(capsys):
    checks.top_predictions(top_speakers)
    assert capsys.readouterr().out.startswith("✓")

    def logits_not_probs(logits, names, k):
        values, indices = torch.topk(logits, k)
        return [(names[int(i)], float(v)) for v, i in zip(values, indices)]

    def ascending(logits, names, k):
        return top_speakers(logits, names, k)[::-1]

    with fails("logits, not probabilities"):
        checks.top_predictions(logits_not_probs)
    with fails("most likely first"):
        checks.top_predictions(ascending)


def test_model_comparison(capsys):
    rows = [
        {
            "model": "dense",
            "feature": "mfcc_pooled",
            "parameters": 10,
            "accuracy": 0.5,
            "utterance_accuracy": 0.6,
        },
        {
            "model": "cnn1d",
            "feature": "mfcc",
            "parameters": 20,
            "accuracy": 0.7,
            "utterance_accuracy": 0.8,
        },
        {
            "model": "cnn2d",
            "feature": "spectrogram",
            "parameters": 30,
            "accuracy": 0.6,
            "utterance_accuracy": 0.7,
        },
    ]
    checks.model_comparison(rows)
    assert capsys.readouterr().out.startswith("✓")
    with fails("at least 3 rows"):
        checks.model_comparison(rows[:2])
    bad = copy.deepcopy(rows)
    bad[0]["accuracy"] = 50.0
    with fails("not a fraction"):
        checks.model_comparison(bad)
    bad = copy.deepcopy(rows)
    bad[0]["feature"] = "mfcc"
    with fails("dense is paired"):
        checks.model_comparison(bad)
    bad = copy.deepcopy(rows)
    del bad[1]["utterance_accuracy"]
    with fails("lacks"):
        checks.model_comparison(bad)


def test_precision_recall_f1(capsys):
    checks.precision_recall_f1(prf)
    assert capsys.readouterr().out.startswith("✓")

    def swapped(cm):
        p, r, f = prf(cm)
        return r, p, f

    def nan_for_empty(cm):
        cm = np.asarray(cm, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            p = np.diag(cm) / cm.sum(0)
            r = np.diag(cm) / cm.sum(1)
            return p, r, 2 * p * r / (p + r)

    def arithmetic_f1(cm):
        p, r, _ = prf(cm)
        return p, r, (p + r) / 2

    with fails("swapped.*column sums"):
        checks.precision_recall_f1(swapped)
    with fails("NaN.*zero_division"):
        checks.precision_recall_f1(nan_for_empty)
    with fails("F1 differs.*harmonic mean"):
        checks.precision_recall_f1(arithmetic_f1)


def test_macro_weighted_f1(capsys):
    checks.macro_weighted_f1(macro_weighted)
    assert capsys.readouterr().out.startswith("✓")

    def swapped(cm):
        macro, weighted = macro_weighted(cm)
        return weighted, macro

    def f1_of_means(cm):
        p, r, _ = prf(cm)
        return float(2 * p.mean() * r.mean() / (p.mean() + r.mean())), macro_weighted(cm)[1]

    def micro(cm):
        return float(np.trace(cm) / np.sum(cm)), macro_weighted(cm)[1]

    def weighted_by_predictions(cm):
        _, _, f1 = prf(cm)
        predicted = np.asarray(cm).sum(0)
        return macro_weighted(cm)[0], float((f1 * predicted).sum() / predicted.sum())

    with fails("swapped"):
        checks.macro_weighted_f1(swapped)
    with fails("F1 of the averaged precision and recall"):
        checks.macro_weighted_f1(f1_of_means)
    with fails("micro average"):
        checks.macro_weighted_f1(micro)
    with fails("TRUE clips"):
        checks.macro_weighted_f1(weighted_by_predictions)


# --------------------------------------------------------------------------------------------------
# 06 · embeddings


def test_choose_speakers(capsys):
    checks.choose_speakers(choose)
    assert capsys.readouterr().out.startswith("✓")

    def global_rng(speakers, n, seed):
        return list(np.random.choice(sorted(speakers), size=min(n, len(speakers)), replace=False))

    def unsorted(speakers, n, seed):
        rng = np.random.default_rng(seed)
        return [
            speakers[i]
            for i in rng.choice(len(speakers), size=min(n, len(speakers)), replace=False)
        ]

    def first_n(speakers, n, seed):
        return sorted(speakers)[:n]

    def with_replacement(speakers, n, seed):
        return list(np.random.default_rng(seed).choice(sorted(speakers), size=n))

    with fails("same seed give different"):
        checks.choose_speakers(global_rng)
    with fails("order of the input"):
        checks.choose_speakers(unsorted)
    with fails("Another seed"):
        checks.choose_speakers(first_n)
    with fails("duplicates"):
        checks.choose_speakers(with_replacement)


def test_embedding_model(capsys):
    torch.manual_seed(0)
    classifier = CNN1d(40, N_CLASSES)
    x = torch.randn(3, 40, 101)

    class Embedder(nn.Module):
        def __init__(self, trained: nn.Module) -> None:
            super().__init__()
            self.trained = copy.deepcopy(trained).eval()

        def forward(self, x):
            return self.trained.embed(x)

    checks.embedding_model(Embedder(classifier), classifier, x)
    assert capsys.readouterr().out.startswith("✓")

    with fails("logits"):
        checks.embedding_model(copy.deepcopy(classifier).eval(), classifier, x)
    untrained = Embedder(CNN1d(40, N_CLASSES))
    with fails("differ from the trained model.*load_state_dict"):
        checks.embedding_model(untrained, classifier, x)

    class Dropped(Embedder):
        def forward(self, x):
            return nn.functional.dropout(self.trained.embed(x), 0.5, training=True)

    with fails("different embeddings.*eval"):
        checks.embedding_model(Dropped(classifier), classifier, x)

    class TooEarly(Embedder):
        def forward(self, x):
            return self.trained.conv(x).mean(-1)

    with fails("stop right before the last Linear"):
        checks.embedding_model(TooEarly(classifier), classifier, x)


def test_pca_projection(capsys):
    checks.pca_projection(project)
    assert capsys.readouterr().out.startswith("✓")

    def two(emb):
        pca = PCA(n_components=2)
        return pca.fit_transform(emb), pca.explained_variance_ratio_

    def uncentred(emb):
        pca = PCA(n_components=3).fit(emb)
        return emb @ pca.components_.T, pca.explained_variance_ratio_

    def whitened(emb):
        pca = PCA(n_components=3, whiten=True)
        return pca.fit_transform(emb), pca.explained_variance_ratio_

    def variances(emb):
        pca = PCA(n_components=3)
        return pca.fit_transform(emb), pca.explained_variance_

    with fails("expected 3"):
        checks.pca_projection(two)
    with fails("not centred"):
        checks.pca_projection(uncentred)
    with fails("whitened"):
        checks.pca_projection(whitened)
    with fails("variances, not the ratios"):
        checks.pca_projection(variances)


def test_embedding_scatter(capsys):
    rng = np.random.default_rng(0)
    points = rng.normal(size=(30, 3))
    labels = np.repeat(["a", "b", "c"], 10)
    checks.embedding_scatter(scatter(points, labels), points, labels)
    assert capsys.readouterr().out.startswith("✓")
    with fails("plotly Figure"):
        checks.embedding_scatter(None, points, labels)
    flat = go.Figure(go.Scatter(x=points[:, 0], y=points[:, 1]))
    with fails("3-D scatters"):
        checks.embedding_scatter(flat, points, labels)
    one_colour = go.Figure(go.Scatter3d(x=points[:, 0], y=points[:, 1], z=points[:, 2]))
    with fails("not coloured by speaker"):
        checks.embedding_scatter(one_colour, points, labels)
    untitled = scatter(points, labels).update_layout(title=None)
    with fails("no title"):
        checks.embedding_scatter(untitled, points, labels)
    with fails("shows 20 points"):
        checks.embedding_scatter(scatter(points[:20], labels[:20]), points, labels)


# --------------------------------------------------------------------------------------------------
# 07 · verification


def test_holdout_speakers(capsys):
    checks.holdout_speakers(holdout)
    assert capsys.readouterr().out.startswith("✓")

    def overlapping(speakers, n_unseen, seed):
        pool = sorted(speakers)
        return pool, pool[:n_unseen]

    def unsorted(speakers, n_unseen, seed):
        pool = list(np.random.default_rng(seed).permutation(speakers))
        return pool[n_unseen:], pool[:n_unseen]

    with fails("both seen and held out"):
        checks.holdout_speakers(overlapping)
    with fails("order of the input"):
        checks.holdout_speakers(unsorted)


def test_cosine_scores(capsys):
    checks.cosine_scores(cosine)
    checks.cosine_scores(
        lambda a, b: nn.functional.cosine_similarity(
            torch.as_tensor(a)[:, None], torch.as_tensor(b)[None], dim=-1
        )
    )
    assert capsys.readouterr().out.count("✓") == 2
    with fails("dot products"):
        checks.cosine_scores(lambda a, b: np.asarray(a) @ np.asarray(b).T)
    with fails("cosine distance"):
        checks.cosine_scores(lambda a, b: 1 - cosine(a, b))
    with fails(r"expected \(4, 3\)"):
        checks.cosine_scores(lambda a, b: cosine(b, a))


def test_verification_trials(capsys):
    checks.verification_trials(trials)
    assert capsys.readouterr().out.startswith("✓")

    def all_pairs(emb, labels):
        labels = np.asarray(labels)
        return cosine(emb, emb).ravel(), (labels[:, None] == labels[None]).ravel()

    def both_orders(emb, labels):
        labels = np.asarray(labels)
        i, j = np.where(~np.eye(len(emb), dtype=bool))
        return cosine(emb, emb)[i, j], labels[i] == labels[j]

    def shuffled_labels(emb, labels):
        scores, same = trials(emb, labels)
        return scores, np.random.default_rng(0).permutation(same)

    with fails("itself"):
        checks.verification_trials(all_pairs)
    with fails("twice"):
        checks.verification_trials(both_orders)
    with fails("not the cosine similarities"):
        checks.verification_trials(shuffled_labels)


def test_equal_error_rate(capsys):
    checks.equal_error_rate(eer)
    assert capsys.readouterr().out.startswith("✓")

    def nearest_point(scores, same):  # no interpolation: still within tolerance
        fpr, tpr, thresholds = roc_curve(same, scores)
        i = int(np.argmin(np.abs(1 - tpr - fpr)))
        return float((fpr[i] + 1 - tpr[i]) / 2), float(thresholds[i])

    checks.equal_error_rate(nearest_point)

    def tpr_equals_fpr(scores, same):
        fpr, tpr, thresholds = roc_curve(same, scores)
        i = int(np.argmin(np.abs(tpr - fpr)))
        return float(fpr[i]), float(thresholds[i])

    def inverted(scores, same):
        return eer(scores, ~np.asarray(same))

    def percent(scores, same):
        value, threshold = eer(scores, same)
        return 100 * value, threshold

    def bad_threshold(scores, same):
        return eer(scores, same)[0], 0.0

    with fails("tpr equals fpr"):
        checks.equal_error_rate(tpr_equals_fpr)
    with fails("higher score must mean"):
        checks.equal_error_rate(inverted)
    with fails("percentage"):
        checks.equal_error_rate(percent)
    with fails("at your threshold"):
        checks.equal_error_rate(bad_threshold)
