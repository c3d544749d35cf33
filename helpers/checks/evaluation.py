"""Checks for the training, evaluation, embedding and verification exercises (notebooks 05–07).

Each check runs the student's function on small constructed inputs whose right answer is known (or
computed with scikit-learn), so it is fast and does not depend on the dataset or on a trained model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from ..metrics import equal_error_rate as reference_eer
from ._common import ExerciseError, expect, passed

__all__ = [
    "choose_speakers",
    "cosine_scores",
    "embedding_model",
    "embedding_scatter",
    "equal_error_rate",
    "holdout_speakers",
    "macro_weighted_f1",
    "model_comparison",
    "pca_projection",
    "precision_recall_f1",
    "top_predictions",
    "train_one_epoch",
    "utterance_scores",
    "verification_trials",
]


def _numpy(value: object) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    return np.asarray(value)


def _is_number(value: object) -> bool:
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


# --------------------------------------------------------------------------------------------------
# 05 · training


class _ProbeNet(nn.Module):
    """A small classifier with Dropout and BatchNorm (so train/eval mode matters) that counts zero_grad."""

    def __init__(self, n_in: int = 8, n_classes: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_in, 16),
            nn.BatchNorm1d(16),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(16, n_classes),
        )
        self.zero_grad_calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.body(x)

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.zero_grad_calls += 1
        super().zero_grad(set_to_none=set_to_none)


class _SpySGD(torch.optim.SGD):
    """SGD that counts its calls and notices gradients accumulated over several batches."""

    def __init__(self, params, **kwargs) -> None:
        super().__init__(params, **kwargs)
        self.steps = 0
        self.zero_grad_calls = 0

    def zero_grad(self, set_to_none: bool = True) -> None:
        self.zero_grad_calls += 1
        super().zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):  # type: ignore[override]
        self.steps += 1
        return super().step(closure)


class _SpyLoss(nn.Module):
    """Cross-entropy that records each loss value and batch size it computes."""

    def __init__(self) -> None:
        super().__init__()
        self.inner = nn.CrossEntropyLoss()
        self.values: list[float] = []
        self.sizes: list[int] = []

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        loss = self.inner(logits, target)
        self.values.append(float(loss.detach()))
        self.sizes.append(int(target.shape[0]))
        return loss


def _blobs(n: int = 100, n_in: int = 8, n_classes: int = 3, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, n_in, generator=generator) * 2.0
    y = torch.arange(n) % n_classes
    x = centres[y] + torch.randn(n, n_in, generator=generator)
    return x, y


def train_one_epoch(train: Callable) -> None:
    """Check ``train(model, loader, optimizer, loss_fn, device) -> mean loss`` on a tiny problem.

    It must switch the model to training mode, reset the gradients, call backward and step once per
    batch, return the average loss of the epoch as a float, and make the loss go down.
    """
    from torch.utils.data import DataLoader, TensorDataset

    x, y = _blobs()
    loader = DataLoader(TensorDataset(x, y), batch_size=16, shuffle=False)  # 7 batches, last of 4
    n_batches = len(loader)
    torch.manual_seed(0)
    model = _ProbeNet()
    model.eval()  # the function must put it back in training mode
    with torch.no_grad():
        start_loss = float(nn.functional.cross_entropy(model(x), y))
    optimizer = _SpySGD(model.parameters(), lr=0.05, momentum=0.9)
    loss_fn = _SpyLoss()
    result = train(model, loader, optimizer, loss_fn, torch.device("cpu"))

    expect(
        model.training,
        "After your function the model is still in evaluation mode.",
        "call model.train() at the start of the epoch: Dropout and BatchNorm behave differently "
        "when training (notebook cells often leave the model in eval mode after a validation).",
    )
    expect(
        len(loss_fn.values) == n_batches,
        f"The loss function was called {len(loss_fn.values)} times for {n_batches} batches.",
        "compute the loss once per batch, inside the loop over the loader.",
    )
    expect(
        optimizer.steps == n_batches,
        f"optimizer.step() was called {optimizer.steps} times for {n_batches} batches.",
        "update the weights once per batch: loss.backward() then optimizer.step().",
    )
    resets = optimizer.zero_grad_calls + model.zero_grad_calls
    expect(
        resets >= n_batches,
        f"The gradients were reset {resets} time(s) for {n_batches} batches, so they add up "
        "from batch to batch.",
        "call optimizer.zero_grad() once per batch, before loss.backward().",
    )
    expect(
        result is not None,
        "The function returns None.",
        "return the average training loss of the epoch (a float).",
    )
    if isinstance(result, torch.Tensor):
        expect(
            not result.requires_grad,
            "The returned loss is a tensor still attached to the computation graph.",
            "accumulate loss.item() (a Python float), which also frees each batch's graph.",
        )
    expect(
        _is_number(result),
        f"The function should return one number, the mean loss; got {type(result).__name__}.",
        "return the average of the batch losses (a float).",
    )
    value = float(result)
    losses, sizes = np.array(loss_fn.values), np.array(loss_fn.sizes)
    means = [losses.mean(), (losses * sizes).sum() / sizes.sum()]
    if not any(math.isclose(value, m, rel_tol=1e-3, abs_tol=1e-4) for m in means):
        if math.isclose(value, losses[-1], rel_tol=1e-4):
            problem = "You return the loss of the last batch only"
        elif math.isclose(value, losses.sum(), rel_tol=1e-3) or math.isclose(
            value, (losses * sizes).sum(), rel_tol=1e-3
        ):
            problem = "You return the sum of the batch losses"
        else:
            problem = f"You return {value:.4f}"
        raise ExerciseError(
            f"{problem}; the average loss over the epoch was {means[1]:.4f}.\nHint: add up "
            "loss.item() * batch_size over the batches and divide by the number of items."
        )

    for _ in range(4):
        train(model, loader, optimizer, loss_fn, torch.device("cpu"))
    model.eval()
    with torch.no_grad():
        end_loss = float(nn.functional.cross_entropy(model(x), y))
    expect(
        end_loss < 0.5 * start_loss,
        f"After 5 epochs on an easy problem the loss went from {start_loss:.3f} to {end_loss:.3f}.",
        "the order is: optimizer.zero_grad(), logits = model(x), loss = loss_fn(logits, y), "
        "loss.backward(), optimizer.step(). Move x and y to the device.",
    )
    passed(
        f"train_one_epoch: train mode, one zero_grad/backward/step per batch, mean loss returned; "
        f"loss {start_loss:.3f} → {end_loss:.3f} in 5 epochs."
    )


def utterance_scores(score: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> None:
    """Check ``score(model, crops) -> (n_classes,)``: mean log-probabilities over the crops, in eval mode."""
    generator = torch.Generator().manual_seed(3)
    torch.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(6, 4))
    crops = torch.randn(5, 6, generator=generator) * 3
    model.train()  # the function must switch to eval mode itself
    first = score(model, crops)
    second = score(model, crops)
    expect(
        isinstance(first, torch.Tensor | np.ndarray),
        f"score(model, crops) should return a tensor of class scores, got {type(first).__name__}.",
        "return the (n_classes,) average over the crops.",
    )
    if isinstance(first, torch.Tensor):
        expect(
            not first.requires_grad,
            "The scores are attached to the computation graph.",
            "evaluate inside `with torch.no_grad():` — no gradient is needed to predict.",
        )
    got, again = _numpy(first), _numpy(second)
    expect(
        np.allclose(got, again),
        "Two calls on the same crops give different scores.",
        "call model.eval() first: in training mode Dropout drops random units.",
    )
    model.eval()
    with torch.no_grad():
        logits = model(crops)
    expect(
        got.shape == (4,),
        f"For 5 crops and 4 classes the result has shape {got.shape}; expected (4,).",
        "average over the crops axis (dim 0), keeping one score per class.",
    )
    wanted = torch.log_softmax(logits, dim=1).mean(0).numpy()
    if not np.allclose(got, wanted, atol=1e-5):
        if np.allclose(got, logits.mean(0).numpy(), atol=1e-5):
            hint = (
                "you average raw logits; average log-probabilities (torch.log_softmax over classes) "
                "so that each crop counts as normalised evidence."
            )
        elif np.allclose(got, torch.softmax(logits, 1).mean(0).numpy(), atol=1e-5):
            hint = "you average probabilities; average their logarithms (torch.log_softmax)."
        elif np.allclose(got, torch.log_softmax(logits, 0).mean(0).numpy(), atol=1e-5):
            hint = "the softmax goes over the classes (dim=1), not over the crops."
        else:
            hint = "torch.log_softmax(model(crops), dim=1).mean(dim=0)."
        raise ExerciseError(
            f"The utterance scores are not the mean log-probabilities over the crops.\nHint: {hint}"
        )
    passed("utterance scores: eval mode, no gradient, mean log-probability over the crops.")


def top_predictions(top: Callable) -> None:
    """Check ``top(logits, names, k) -> [(name, probability), ...]``, most likely first."""
    names = ["ana", "bo", "cy", "dee", "eli"]
    logits = torch.tensor([0.5, 2.0, -1.0, 1.5, 0.0])
    got = top(logits, names, 3)
    expect(
        isinstance(got, Sequence) and len(got) == 3,
        f"top(logits, names, k=3) should return a list of 3 (name, probability) pairs; got {got!r}.",
        "torch.topk(probabilities, k) gives the k largest values and their indices.",
    )
    probabilities = torch.softmax(logits, 0)
    values, indices = torch.topk(probabilities, 3)
    wanted = [(names[i], float(p)) for p, i in zip(values, indices)]
    got_names = [pair[0] for pair in got]
    got_probs = [float(pair[1]) for pair in got]
    expect(
        got_names == [n for n, _ in wanted],
        f"Speakers returned: {got_names}; expected the 3 most likely, most likely first.",
        "sort by decreasing score, and map each index to names[index].",
    )
    if np.allclose(got_probs, [float(logits[names.index(n)]) for n in got_names]):
        raise ExerciseError(
            "You return the logits, not probabilities.\nHint: torch.softmax(logits, dim=-1) turns "
            "scores into probabilities that sum to 1."
        )
    expect(
        np.allclose(got_probs, [p for _, p in wanted], atol=1e-5),
        f"Probabilities returned: {np.round(got_probs, 3).tolist()}; they should be the softmax of "
        "the logits.",
        "torch.softmax(logits, dim=-1).",
    )
    passed("top predictions: the k most likely speakers with their softmax probabilities.")


def model_comparison(rows: Sequence[dict]) -> None:
    """Check the comparison table: one row per trained model, with the numbers the notebook discusses."""
    keys = {"model", "feature", "parameters", "accuracy", "utterance_accuracy"}
    expect(
        isinstance(rows, Sequence) and len(rows) >= 3,
        f"Expected a list of at least 3 rows (dense, cnn1d, cnn2d); got {len(rows) if isinstance(rows, Sequence) else type(rows).__name__}.",
        "append one dict per trained model to `rows`.",
    )
    for row in rows:
        missing = keys - set(row)
        expect(
            not missing,
            f"The row {row!r} lacks {sorted(missing)}.",
            f"each row needs the keys {sorted(keys)}.",
        )
        for key in ("accuracy", "utterance_accuracy"):
            expect(
                0.0 <= float(row[key]) <= 1.0,
                f"{row['model']}: {key} = {row[key]} is not a fraction between 0 and 1.",
                "store the accuracy as a fraction (0.83), not a percentage.",
            )
        expect(
            int(row["parameters"]) > 0,
            f"{row['model']}: parameters = {row['parameters']}.",
            "count the trainable parameters with count_parameters(model).",
        )
        pooled = str(row["feature"]).endswith("_pooled")
        expect(
            pooled == (row["model"] == "dense"),
            f"{row['model']} is paired with the feature {row['feature']!r}.",
            "the dense model takes a pooled feature (one vector per clip); the CNNs take a "
            "time-frequency feature (mfcc or spectrogram).",
        )
    families = {row["model"] for row in rows}
    expect(
        {"dense", "cnn1d", "cnn2d"} <= families,
        f"The table has the models {sorted(families)}.",
        "train one dense, one cnn1d and one cnn2d model.",
    )
    passed(f"comparison table: {len(rows)} models, every row complete.")


# --------------------------------------------------------------------------------------------------
# 05 · metrics


def _confusions() -> list[np.ndarray]:
    """Confusion matrices (rows true, columns predicted) with imbalance and a never-predicted class."""
    a = np.array([[30, 5, 0, 1], [2, 10, 3, 0], [4, 0, 6, 0], [1, 1, 0, 2]])
    b = np.array([[8, 2, 0], [3, 1, 0], [5, 0, 0]])  # class 2 never predicted
    rng = np.random.default_rng(7)
    c = rng.integers(0, 4, size=(6, 6)) + np.diag(rng.integers(5, 40, size=6))
    return [a, b, c]


def _reference_prf(cm: np.ndarray):
    from sklearn.metrics import precision_recall_fscore_support

    y_true = np.repeat(np.repeat(np.arange(len(cm)), len(cm)), cm.ravel())
    y_pred = np.repeat(np.tile(np.arange(len(cm)), len(cm)), cm.ravel())
    labels = np.arange(len(cm))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    from sklearn.metrics import f1_score

    macro = f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    weighted = f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)
    return p, r, f, s, float(macro), float(weighted)


def precision_recall_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (precision, recall, f1)`` per class, against scikit-learn."""
    for cm in _confusions():
        p, r, f, _, _, _ = _reference_prf(cm)
        got = compute(cm.copy())
        expect(
            isinstance(got, tuple | list) and len(got) == 3,
            "compute(cm) should return a tuple (precision, recall, f1) of per-class arrays.",
            "return precision, recall, f1.",
        )
        gp, gr, gf = (_numpy(v).astype(float) for v in got)
        expect(
            gp.shape == p.shape and gr.shape == r.shape and gf.shape == f.shape,
            f"For {len(cm)} classes, got shapes {gp.shape}, {gr.shape}, {gf.shape}; expected "
            f"({len(cm)},) each.",
            "one value per class: sum the confusion matrix along one axis.",
        )
        expect(
            not (np.isnan(gp).any() or np.isnan(gr).any() or np.isnan(gf).any()),
            "Some values are NaN: a class that is never predicted (or never present) gives 0 / 0.",
            "define those as 0, as scikit-learn does with zero_division=0 (np.divide(..., "
            "out=np.zeros(...), where=denominator > 0)).",
        )
        if np.allclose(gp, r) and np.allclose(gr, p) and not np.allclose(p, r):
            raise ExerciseError(
                "Precision and recall are swapped.\nHint: rows are the true speakers, columns the "
                "predicted ones. Precision = diagonal / column sums (of the clips predicted as "
                "that speaker, how many were right); recall = diagonal / row sums."
            )
        expect(
            np.allclose(gp, p, atol=1e-6),
            f"Precision differs from scikit-learn's: {np.round(gp, 3).tolist()} vs "
            f"{np.round(p, 3).tolist()}.",
            "precision of class k = cm[k, k] / cm[:, k].sum() (the column: predicted as k).",
        )
        expect(
            np.allclose(gr, r, atol=1e-6),
            f"Recall differs from scikit-learn's: {np.round(gr, 3).tolist()} vs "
            f"{np.round(r, 3).tolist()}.",
            "recall of class k = cm[k, k] / cm[k, :].sum() (the row: truly k).",
        )
        expect(
            np.allclose(gf, f, atol=1e-6),
            f"F1 differs from scikit-learn's: {np.round(gf, 3).tolist()} vs {np.round(f, 3).tolist()}.",
            "F1 is the harmonic mean 2 P R / (P + R), 0 when P + R = 0.",
        )
    passed("per-class precision, recall and F1 match scikit-learn (zero_division=0).")


def macro_weighted_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (macro_f1, weighted_f1)`` against scikit-learn."""
    for cm in _confusions():
        p, r, f, support, macro, weighted = _reference_prf(cm)
        got = compute(cm.copy())
        expect(
            isinstance(got, tuple | list) and len(got) == 2 and all(_is_number(v) for v in got),
            f"compute(cm) should return two numbers (macro_f1, weighted_f1); got {got!r}.",
            "return macro_f1, weighted_f1.",
        )
        g_macro, g_weighted = (float(v) for v in got)
        accuracy = np.trace(cm) / cm.sum()
        if math.isclose(g_macro, weighted, abs_tol=1e-6) and math.isclose(
            g_weighted, macro, abs_tol=1e-6
        ):
            raise ExerciseError(
                "Macro and weighted F1 are swapped.\nHint: macro = plain mean of the per-class F1 "
                "(every speaker counts the same); weighted = mean weighted by each class's support."
            )
        if not math.isclose(g_macro, macro, abs_tol=1e-6):
            mp, mr = p.mean(), r.mean()
            f1_of_means = 2 * mp * mr / (mp + mr)
            if math.isclose(g_macro, f1_of_means, abs_tol=1e-6):
                hint = (
                    "you take the F1 of the averaged precision and recall; macro F1 is the average "
                    "of the per-class F1 scores."
                )
            elif math.isclose(g_macro, accuracy, abs_tol=1e-6):
                hint = "that is the micro average (= accuracy); macro averages the per-class F1."
            else:
                hint = "macro F1 = mean over classes of the per-class F1 (f1.mean())."
            raise ExerciseError(
                f"Macro F1 = {g_macro:.4f}; scikit-learn gives {macro:.4f}.\nHint: {hint}"
            )
        if not math.isclose(g_weighted, weighted, abs_tol=1e-6):
            predicted = cm.sum(axis=0)
            by_predicted = float((f * predicted).sum() / predicted.sum())
            if math.isclose(g_weighted, by_predicted, abs_tol=1e-6):
                hint = (
                    "you weight by the number of predictions (column sums); the support is the "
                    "number of TRUE clips of each class (row sums)."
                )
            elif math.isclose(g_weighted, float((f * support).sum()), abs_tol=1e-6):
                hint = "divide the weighted sum by the total support."
            else:
                hint = "weighted F1 = sum_k f1[k] * support[k] / support.sum(), support = row sums."
            raise ExerciseError(
                f"Weighted F1 = {g_weighted:.4f}; scikit-learn gives {weighted:.4f}.\nHint: {hint}"
            )
    passed("macro and weighted F1 match scikit-learn on three confusion matrices.")


# --------------------------------------------------------------------------------------------------
# 06 · embeddings


def choose_speakers(choose: Callable[[Sequence[str], int, int], Sequence[str]]) -> None:
    """Check ``choose(speakers, n, seed)``: n distinct speakers, reproducible, order-independent."""
    import random

    speakers = [str(s) for s in range(100, 3100, 97)]  # 31 names, not in sorted order as strings
    shuffled = list(speakers)
    random.Random(5).shuffle(shuffled)

    np.random.seed(1)
    torch.manual_seed(1)
    random.seed(1)
    first = list(choose(speakers, 20, 0))
    np.random.seed(2)
    torch.manual_seed(2)
    random.seed(2)
    again = list(choose(speakers, 20, 0))
    expect(
        len(first) == 20,
        f"choose(31 speakers, n=20) returned {len(first)} speakers.",
        "return exactly n of them (all of them when there are fewer than n).",
    )
    expect(
        len(set(first)) == 20,
        "The chosen speakers contain duplicates.",
        "draw without replacement (rng.choice(..., replace=False) or rng.permutation).",
    )
    expect(
        set(first) <= set(speakers),
        "Some chosen speakers are not in the list given.",
        "choose among the speakers passed in.",
    )
    expect(
        first == again,
        "Two calls with the same seed give different speakers.",
        "use a generator created from the seed, np.random.default_rng(seed), not the global "
        "random state (which other cells keep moving).",
    )
    from_shuffled = list(choose(shuffled, 20, 0))
    expect(
        sorted(from_shuffled) == sorted(first),
        "The choice depends on the order of the input list.",
        "sort the speakers first, so the same set always gives the same choice.",
    )
    expect(
        sorted(choose(speakers, 20, 1)) != sorted(first),
        "Another seed gives the same speakers.",
        "the seed should drive the random choice (and not, say, just take the first n).",
    )
    few = list(choose(speakers[:8], 20, 0))
    expect(
        sorted(few) == sorted(speakers[:8]),
        f"With 8 speakers and n=20 you return {len(few)}; expected all 8.",
        "min(n, len(speakers)).",
    )
    passed("speaker choice: n distinct speakers, reproducible from the seed, order-independent.")


def embedding_model(embedder: nn.Module, classifier: nn.Module, x: torch.Tensor) -> None:
    """Check ``embedder(x)`` returns the trained classifier's penultimate features, deterministically."""
    expect(
        isinstance(embedder, nn.Module),
        f"Expected an nn.Module, got {type(embedder).__name__}.",
        "build a model whose forward returns the embeddings.",
    )
    was = classifier.training
    classifier.eval()
    try:
        with torch.no_grad():
            logits = classifier(x)
            wanted = classifier.embed(x)
            first = embedder(x)
            second = embedder(x)
    finally:
        classifier.train(was)
    expect(
        isinstance(first, torch.Tensor) and first.ndim == 2 and first.shape[0] == x.shape[0],
        f"embedder(x) should return (batch, embedding_dim); got "
        f"{tuple(first.shape) if isinstance(first, torch.Tensor) else type(first).__name__}.",
        "return the penultimate features, one row per clip.",
    )
    if first.shape == logits.shape and torch.allclose(first, logits, atol=1e-5):
        raise ExerciseError(
            f"These are the logits ({logits.shape[1]} values, one per training speaker), not the "
            "embeddings.\nHint: take the features just before the last Linear layer (embed), which "
            "describe any voice, not only the training speakers."
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
        "call .eval() on the embedding model (Dropout and BatchNorm must not change anything).",
    )
    expect(
        torch.allclose(first, wanted, atol=1e-4, rtol=1e-3),
        "The embeddings differ from the trained model's penultimate features.",
        "load the trained weights (load_state_dict from the checkpoint), and use eval mode.",
    )
    passed(
        f"embedding model: {x.shape[0]} clips → {tuple(first.shape)} penultimate features, trained weights."
    )


def _pca_data(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    scales = np.array([5.0, 3.0, 2.0, 0.5, 0.4, 0.3, 0.2, 0.2, 0.1, 0.1])
    rotation, _ = np.linalg.qr(rng.normal(size=(10, 10)))
    return (rng.normal(size=(80, 10)) * scales) @ rotation + 7.0


def pca_projection(project: Callable[[np.ndarray], tuple]) -> None:
    """Check ``project(emb) -> (points (N, 3), explained_variance_ratio (3,))`` against sklearn PCA."""
    from sklearn.decomposition import PCA

    data = _pca_data()
    got = project(data.copy())
    expect(
        isinstance(got, tuple | list) and len(got) == 2,
        "project(emb) should return (points, explained_variance_ratio).",
        "return pca.fit_transform(emb), pca.explained_variance_ratio_.",
    )
    points, ratio = _numpy(got[0]).astype(float), _numpy(got[1]).astype(float).ravel()
    expect(
        points.ndim == 2 and points.shape[0] == len(data),
        f"For {len(data)} embeddings the points have shape {points.shape}.",
        "one row per embedding: fit_transform(emb), not fit_transform(emb.T).",
    )
    expect(
        points.shape[1] == 3,
        f"The points have {points.shape[1]} coordinates each; expected 3.",
        "PCA(n_components=3).",
    )
    pca = PCA(n_components=3).fit(data)
    wanted = pca.transform(data)
    signs = np.sign((points * wanted).sum(0))
    signs[signs == 0] = 1
    if not np.allclose(points * signs, wanted, atol=1e-4 * np.abs(wanted).max()):
        standardized = wanted / wanted.std(0, ddof=1)
        if np.allclose(np.abs(points), np.abs(standardized), rtol=1e-3, atol=1e-3):
            hint = "the points are whitened (unit variance); keep whiten=False so distances mean something."
        elif np.allclose(np.abs(points), np.abs(data @ pca.components_.T), rtol=1e-3):
            hint = (
                "the embeddings are not centred before projecting: subtract the mean (PCA does it)."
            )
        else:
            hint = "PCA(n_components=3).fit_transform(emb), rows = embeddings."
        raise ExerciseError(f"The projected points differ from scikit-learn's PCA.\nHint: {hint}")
    expect(
        ratio.shape == (3,),
        f"explained_variance_ratio has shape {ratio.shape}; expected (3,).",
        "pca.explained_variance_ratio_ after fitting with 3 components.",
    )
    if np.allclose(ratio, pca.explained_variance_, rtol=1e-3):
        raise ExerciseError(
            "You return the variances, not the ratios.\nHint: explained_variance_ratio_ = the "
            "fraction of the total variance each component keeps (between 0 and 1)."
        )
    expect(
        np.allclose(ratio, pca.explained_variance_ratio_, atol=1e-6),
        f"explained variance ratios {np.round(ratio, 4).tolist()}; expected "
        f"{np.round(pca.explained_variance_ratio_, 4).tolist()}.",
        "pca.explained_variance_ratio_.",
    )
    passed(
        f"PCA(3): points match scikit-learn (up to the sign of each axis); the 3 axes keep "
        f"{ratio.sum():.1%} of the variance of the check's data."
    )


def embedding_scatter(figure: object, points: np.ndarray, labels: Sequence) -> None:
    """Check a plotly 3-D scatter of ``points`` coloured by speaker, with a title and axis titles."""
    import plotly.graph_objects as go

    expect(
        isinstance(figure, go.Figure),
        f"Expected a plotly Figure, got {type(figure).__name__}.",
        "build it with go.Figure([go.Scatter3d(...), ...]) and return it from the function.",
    )
    traces = list(figure.data)
    expect(
        traces and all(t.type == "scatter3d" for t in traces),
        f"The figure's traces are {[t.type for t in traces]}; expected 3-D scatters.",
        "go.Scatter3d(x=..., y=..., z=..., mode='markers').",
    )
    points = _numpy(points)
    n_points = sum(len(t.x) for t in traces)
    expect(
        n_points == len(points),
        f"The figure shows {n_points} points; there are {len(points)} embeddings.",
        "plot every row of the projected points once.",
    )
    xs = np.sort(np.concatenate([np.asarray(t.x, dtype=float) for t in traces]))
    expect(
        np.allclose(xs, np.sort(points[:, 0].astype(float))),
        "The x coordinates are not the first PCA coordinate of the points.",
        "x = points[:, 0], y = points[:, 1], z = points[:, 2].",
    )
    n_speakers = len(set(map(str, labels)))
    coloured = len(traces) == n_speakers or any(
        t.marker is not None and t.marker.color is not None and np.size(t.marker.color) == len(t.x)
        for t in traces
    )
    expect(
        coloured,
        f"The points are not coloured by speaker ({n_speakers} speakers, {len(traces)} trace(s)).",
        "add one go.Scatter3d trace per speaker (name=the speaker): each gets its own colour "
        "and legend entry.",
    )
    title = figure.layout.title.text
    expect(bool(title), "The figure has no title.", "fig.update_layout(title=...).")
    scene = figure.layout.scene
    axis_titles = [scene.xaxis.title.text, scene.yaxis.title.text, scene.zaxis.title.text]
    expect(
        all(axis_titles),
        f"Axis titles: {axis_titles}.",
        "fig.update_layout(scene=dict(xaxis_title='PC 1', yaxis_title='PC 2', zaxis_title='PC 3')).",
    )
    passed(f"3-D scatter: {n_points} points, {n_speakers} speakers, title and axis titles.")


# --------------------------------------------------------------------------------------------------
# 07 · verification


def holdout_speakers(split: Callable[[Sequence[str], int, int], tuple]) -> None:
    """Check ``split(speakers, n_unseen, seed) -> (seen, unseen)``: disjoint, complete, reproducible."""
    import random

    speakers = [str(s) for s in range(200, 2200, 83)]
    shuffled = list(speakers)
    random.Random(3).shuffle(shuffled)
    np.random.seed(4)
    seen, unseen = (list(v) for v in split(speakers, 5, 0))
    np.random.seed(5)
    seen2, unseen2 = (list(v) for v in split(shuffled, 5, 0))
    expect(
        len(unseen) == 5,
        f"split(..., n_unseen=5) holds out {len(unseen)} speakers.",
        "hold out exactly n_unseen speakers.",
    )
    expect(
        not set(seen) & set(unseen),
        f"Speakers both seen and held out: {sorted(set(seen) & set(unseen))}.",
        "a held-out speaker must never appear in training: the two groups must be disjoint.",
    )
    expect(
        sorted(seen + unseen) == sorted(speakers),
        "seen + unseen is not the list of speakers given (some are missing or repeated).",
        "every speaker goes to exactly one group.",
    )
    expect(
        sorted(unseen) == sorted(unseen2) and sorted(seen) == sorted(seen2),
        "The split changes with the order of the input or with the global random state.",
        "sort the speakers, then shuffle them with np.random.default_rng(seed).",
    )
    expect(
        sorted(split(speakers, 5, 1)[1]) != sorted(unseen),
        "Another seed holds out the same speakers.",
        "let the seed drive the choice.",
    )
    passed(f"speaker hold-out: {len(seen)} seen + {len(unseen)} unseen, disjoint and reproducible.")


def cosine_scores(cosine: Callable) -> None:
    """Check ``cosine(a, b) -> (len(a), len(b))`` cosine similarities."""
    rng = np.random.default_rng(2)
    a = rng.normal(size=(4, 6)) * np.array([[1.0], [3.0], [0.2], [10.0]])
    b = rng.normal(size=(3, 6)) * np.array([[2.0], [0.5], [7.0]])
    got = _numpy(cosine(a.copy(), b.copy())).astype(float)
    na = a / np.linalg.norm(a, axis=1, keepdims=True)
    nb = b / np.linalg.norm(b, axis=1, keepdims=True)
    wanted = na @ nb.T
    expect(
        got.shape == (4, 3),
        f"For a (4, 6) and b (3, 6) the result has shape {got.shape}; expected (4, 3).",
        "one score for every pair (row of a, row of b): a_normalised @ b_normalised.T.",
    )
    if np.allclose(got, a @ b.T):
        hint = "these are dot products: divide each vector by its norm first."
    elif np.allclose(got, na @ b.T) or np.allclose(got, a @ nb.T):
        hint = "normalise both a and b."
    elif np.allclose(got, 1 - wanted):
        hint = "that is the cosine distance; return the similarity (higher = more alike)."
    else:
        hint = "cos(u, v) = u·v / (|u| |v|), for every row u of a and row v of b."
    expect(np.allclose(got, wanted, atol=1e-6), "The scores are not cosine similarities.", hint)
    passed("cosine scores: a (4, 3) matrix of similarities between -1 and 1.")


def _reference_trials(emb: np.ndarray, labels: np.ndarray):
    n = len(emb)
    unit = emb / np.linalg.norm(emb, axis=1, keepdims=True)
    i, j = np.triu_indices(n, k=1)
    return (unit[i] * unit[j]).sum(1), labels[i] == labels[j]


def verification_trials(trials: Callable) -> None:
    """Check ``trials(emb, labels) -> (scores, same)``: every unordered pair of distinct utterances once."""
    rng = np.random.default_rng(4)
    labels = np.repeat(np.array([3, 7, 9, 11]), [3, 2, 4, 3])
    emb = rng.normal(size=(len(labels), 5))
    got = trials(emb.copy(), labels.copy())
    expect(
        isinstance(got, tuple | list) and len(got) == 2,
        "trials(emb, labels) should return (scores, same).",
        "return two arrays of the same length: the cosine score of each pair, and whether its two "
        "utterances share a speaker.",
    )
    scores, same = _numpy(got[0]).astype(float).ravel(), _numpy(got[1]).astype(bool).ravel()
    n = len(labels)
    ref_scores, ref_same = _reference_trials(emb, labels)
    expect(
        len(scores) == len(same),
        f"{len(scores)} scores but {len(same)} same/different labels.",
        "one label per score.",
    )
    if len(scores) == n * n:
        hint = "you score every ordered pair, including each utterance with itself (score 1)."
    elif len(scores) == n * (n - 1):
        hint = "each pair appears twice, (i, j) and (j, i): keep i < j."
    elif len(scores) == n * (n + 1) // 2:
        hint = "the pairs of an utterance with itself (i == j) are included: keep i < j."
    else:
        hint = "np.triu_indices(n, k=1) gives every pair i < j once."
    expect(
        len(scores) == len(ref_scores),
        f"{n} utterances give {len(ref_scores)} distinct pairs; you return {len(scores)} trials.",
        hint,
    )
    expect(
        int(same.sum()) == int(ref_same.sum()),
        f"{int(same.sum())} target (same-speaker) trials; there should be {int(ref_same.sum())}.",
        "same = labels[i] == labels[j] for the pair (i, j).",
    )
    order = np.lexsort((scores, same))
    ref_order = np.lexsort((ref_scores, ref_same))
    expect(
        np.allclose(scores[order], ref_scores[ref_order], atol=1e-5),
        "The scores of the pairs are not the cosine similarities of their embeddings.",
        "score the pair (i, j) with cosine(emb[i], emb[j]); check which label goes with which score.",
    )
    passed(
        f"trials: {len(scores)} pairs, {int(same.sum())} target and {int((~same).sum())} non-target."
    )


def _eer_cases() -> list[tuple[str, np.ndarray, np.ndarray, float]]:
    rng = np.random.default_rng(11)
    gaussian = np.concatenate([rng.normal(2.0, 1.0, 400), rng.normal(0.0, 1.0, 4000)])
    gaussian_same = np.arange(4400) < 400
    skewed = np.concatenate([rng.normal(0.6, 0.1, 300), rng.uniform(-0.2, 0.7, 2000)])
    skewed_same = np.arange(2300) < 300
    separable = np.concatenate([rng.uniform(0.6, 1.0, 50), rng.uniform(-1.0, 0.5, 500)])
    separable_same = np.arange(550) < 50
    return [
        ("two Gaussians 2 standard deviations apart", gaussian, gaussian_same, 0.01),
        ("cosine-like scores with overlap", skewed, skewed_same, 0.01),
        ("perfectly separated scores", separable, separable_same, 0.005),
    ]


def equal_error_rate(eer_fn: Callable) -> None:
    """Check ``eer_fn(scores, same) -> (eer, threshold)`` on constructed score sets."""
    for name, scores, same, tolerance in _eer_cases():
        got = eer_fn(scores.copy(), same.copy())
        expect(
            isinstance(got, tuple | list) and len(got) == 2 and all(_is_number(v) for v in got),
            f"eer_fn(scores, same) should return two numbers (eer, threshold); got {got!r}.",
            "return the EER (a rate between 0 and 1) and the score threshold where it is reached.",
        )
        eer, threshold = float(got[0]), float(got[1])
        wanted, _ = reference_eer(scores, same)
        if eer > 1.0 and math.isclose(eer / 100, wanted, abs_tol=tolerance):
            raise ExerciseError(
                f"EER = {eer:.2f}: a percentage.\nHint: return a rate between 0 and 1."
            )
        if not math.isclose(eer, wanted, abs_tol=tolerance):
            inverted, _ = reference_eer(-scores, same)
            if math.isclose(eer, inverted, abs_tol=tolerance) or math.isclose(
                eer, 1 - wanted, abs_tol=tolerance
            ):
                hint = (
                    "a higher score must mean 'same speaker': roc_curve(same, scores), with the "
                    "target trials as the positive class."
                )
            elif eer < 1e-6 or eer > 1 - 1e-6:
                hint = (
                    "the EER is where the false rejection rate (1 - tpr) equals the false "
                    "acceptance rate (fpr), not where tpr equals fpr."
                )
            else:
                hint = (
                    "fnr = 1 - tpr; find where fnr - fpr changes sign along the ROC, and "
                    "interpolate between the two points around the crossing."
                )
            raise ExerciseError(
                f"On {name} your EER is {eer:.4f}; it should be {wanted:.4f} (± {tolerance}).\n"
                f"Hint: {hint}"
            )
        far = float(np.mean(scores[~same] >= threshold))
        frr = float(np.mean(scores[same] < threshold))
        expect(
            abs(far - wanted) <= 2 * tolerance + 0.01 and abs(frr - wanted) <= 2 * tolerance + 0.01,
            f"On {name}, at your threshold {threshold:.4f} the false acceptance rate is {far:.3f} "
            f"and the false rejection rate {frr:.3f}; both should be close to the EER {wanted:.3f}.",
            "return thresholds[i] of roc_curve at the crossing point.",
        )
    passed("equal error rate: matches the reference on three score sets, threshold included.")
