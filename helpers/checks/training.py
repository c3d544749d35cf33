"""Checks for notebook 05, training: the epoch loop, the comparison table, scoring, metrics.

``train_one_epoch`` is run on a tiny problem with spies on every part it must use: the model records
its mode at each forward pass and whether its input was moved with ``.to(device)`` (the loader hands
out a tensor subclass that only ``.to`` turns into a plain tensor: a fake device); the optimizer
compares, at each step, the gradients it holds with those of the last backward pass (so gradients that
pile up, or are wiped before the step, show); the loss records each batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .core import as_array, call, check, expect, fail, is_number, passed

__all__ = [
    "ablation_runs",
    "batchnorm_removed",
    "macro_weighted_f1",
    "model_comparison",
    "precision_recall_f1",
    "top_predictions",
    "train_one_epoch",
    "utterance_scores",
]


# --------------------------------------------------------------------------------------------------
# Exercise: one training epoch


class _HostTensor(torch.Tensor):
    """A batch as the loader hands it out, "on the host": only ``.to(...)`` makes it a plain tensor."""

    def to(self, *args: Any, **kwargs: Any) -> torch.Tensor:  # type: ignore[override]
        return torch.Tensor.to(self, *args, **kwargs).as_subclass(torch.Tensor)


class _Loader:
    """Batches of a tensor dataset, handed out as ``_HostTensor``s; ``len`` is the number of batches."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, batch_size: int) -> None:
        from torch.utils.data import TensorDataset

        self.dataset = TensorDataset(x, y)
        self.batch_size = batch_size
        self.batches = [
            (x[i : i + batch_size], y[i : i + batch_size]) for i in range(0, len(x), batch_size)
        ]

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for x, y in self.batches:
            yield x.as_subclass(_HostTensor), y.as_subclass(_HostTensor)

    def __len__(self) -> int:
        return len(self.batches)


class _ProbeNet(nn.Module):
    """A small classifier with Dropout and BatchNorm that records its mode and its inputs."""

    def __init__(self, n_in: int = 8, n_classes: int = 3) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Linear(n_in, 16),
            nn.BatchNorm1d(16),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Linear(16, n_classes),
        )
        self.modes: list[bool] = []
        self.unmoved = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.modes.append(self.training)
        if isinstance(x, _HostTensor):
            self.unmoved += 1
            x = x.as_subclass(torch.Tensor)
        return self.body(x)


class _SpySGD(torch.optim.SGD):
    """SGD that checks, at each step, that it holds the gradients of exactly the last backward pass."""

    def __init__(self, params: Any, watched: nn.Parameter, **kwargs: Any) -> None:
        super().__init__(params, **kwargs)
        self.watched, self.steps, self.backwards = watched, 0, 0
        self.last_gradient: torch.Tensor | None = None
        self.problems: list[str] = []
        watched.register_hook(self._record)

    def _record(self, gradient: torch.Tensor) -> None:
        self.backwards += 1
        self.last_gradient = gradient.detach().clone()

    def step(self, closure: Any = None) -> Any:  # type: ignore[override]
        self.steps += 1
        grad = self.watched.grad
        if self.last_gradient is None:
            self.problems.append("no backward")
        elif grad is None or not bool(grad.abs().sum() > 0):
            self.problems.append("wiped")
        elif not torch.allclose(grad, self.last_gradient, rtol=1e-4, atol=1e-7):
            self.problems.append("accumulated")
        self.last_gradient = None
        return super().step(closure)


class _SpyLoss(nn.Module):
    """Cross-entropy that records each loss value and batch size, and whether its target was moved."""

    def __init__(self) -> None:
        super().__init__()
        self.values: list[float] = []
        self.sizes: list[int] = []
        self.unmoved = 0

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if isinstance(target, _HostTensor):
            self.unmoved += 1
            target = target.as_subclass(torch.Tensor)
        loss = nn.functional.cross_entropy(logits, target)
        self.values.append(float(loss.detach()))
        self.sizes.append(int(target.shape[0]))
        return loss


def _blobs(n: int = 100, n_in: int = 8, n_classes: int = 3, seed: int = 0):
    generator = torch.Generator().manual_seed(seed)
    centres = torch.randn(n_classes, n_in, generator=generator) * 2.0
    y = torch.arange(n) % n_classes
    x = centres[y] + torch.randn(n, n_in, generator=generator)
    return x, y


@check(
    "One epoch = for every batch: move it to the device, reset the gradients, forward, loss, "
    "backward, step; in training mode; return the mean loss.",
    "The check watches each part: the model's mode at every forward pass, whether each batch went "
    "through .to(device), whether the optimizer holds the gradients of exactly the last backward "
    "pass when it steps (not piled up, not wiped), and what you return.",
    "Training mode first; then per batch: both tensors to the device, the optimizer's zero_grad, "
    "the loss of the model's output against the labels, its backward, the optimizer's step, and add "
    "the loss's Python value × batch size to a total; return total / number of items.",
)
def train_one_epoch(train: Callable) -> None:
    """Check ``train(model, loader, optimizer, loss_fn, device) -> mean loss`` on a tiny problem."""
    x, y = _blobs()
    loader = _Loader(x, y, batch_size=16)  # 7 batches, the last of 4
    n_batches = len(loader)
    torch.manual_seed(0)
    model = _ProbeNet()
    model.eval()  # the function must put it back in training mode
    with torch.no_grad():
        start_loss = float(nn.functional.cross_entropy(model.body(x), y))
    optimizer = _SpySGD(model.parameters(), model.body[0].weight, lr=0.05, momentum=0.9)
    loss_fn = _SpyLoss()
    what = "train_one_epoch(model, loader, optimizer, loss_fn, device)"
    result = call(train, model, loader, optimizer, loss_fn, torch.device("cpu"), what=what)
    _check_epoch_steps(model, optimizer, loss_fn, n_batches)
    _check_mean_loss(result, loss_fn)
    for _ in range(4):
        call(train, model, loader, optimizer, loss_fn, torch.device("cpu"), what=what)
    model.eval()
    with torch.no_grad():
        end_loss = float(nn.functional.cross_entropy(model.body(x), y))
    expect(
        end_loss < 0.5 * start_loss,
        f"After 5 epochs on an easy problem the loss went from {start_loss:.3f} to {end_loss:.3f}.",
        "the order is: reset, forward, loss, backward, step; and the loss must be minimised.",
    )
    passed(
        "train_one_epoch: train mode, batches moved to the device, one reset/backward/step per "
        f"batch, mean loss returned; loss {start_loss:.3f} → {end_loss:.3f} in 5 epochs."
    )


def _check_epoch_steps(
    model: _ProbeNet, optimizer: _SpySGD, loss_fn: _SpyLoss, n_batches: int
) -> None:
    expect(
        model.modes and all(model.modes),
        "The model was in evaluation mode during training (the check left it in eval mode, as a "
        "validation pass does).",
        "switch the model to training mode at the start of the epoch: Dropout and BatchNorm "
        "behave differently when training.",
    )
    expect(
        model.unmoved == 0,
        f"{model.unmoved} of {len(model.modes)} batches reached the model without being moved to "
        "the device: on a GPU the model's weights and the batch would be on different devices.",
        "move each batch's inputs with .to(device) inside the loop.",
    )
    expect(
        loss_fn.unmoved == 0,
        f"The labels of {loss_fn.unmoved} batches reached the loss without being moved to the device.",
        "move the labels too, not only the inputs.",
    )
    expect(
        len(loss_fn.values) == n_batches,
        f"The loss function was called {len(loss_fn.values)} times for {n_batches} batches.",
        "compute the loss once per batch, inside the loop over the loader.",
    )
    expect(
        optimizer.backwards == n_batches,
        f"backward() ran {optimizer.backwards} times for {n_batches} batches.",
        "call backward on each batch's loss.",
    )
    expect(
        optimizer.steps == n_batches,
        f"The optimizer stepped {optimizer.steps} times for {n_batches} batches.",
        "update the weights once per batch, after the backward pass.",
    )
    problems = set(optimizer.problems)
    expect(
        "accumulated" not in problems,
        "At a step the optimizer held the gradients of several batches added up: they are not "
        "reset between batches.",
        "reset the gradients (the optimizer's zero_grad) once per batch, before the backward pass.",
    )
    expect(
        "wiped" not in problems,
        "At a step the gradients were empty: they were reset after backward and before step, so "
        "the step changed nothing.",
        "reset the gradients before the backward pass, not between backward and step.",
    )
    expect(
        "no backward" not in problems,
        "The optimizer stepped before any backward pass of its batch.",
        "the order is backward, then step.",
    )


def _check_mean_loss(result: object, loss_fn: _SpyLoss) -> None:
    expect(
        result is not None,
        "The function returns None.",
        "return the average training loss of the epoch (a float).",
    )
    if isinstance(result, torch.Tensor):
        expect(
            not result.requires_grad,
            "The returned loss is a tensor still attached to the computation graph.",
            "accumulate each loss's Python value (.item()), which also frees each batch's graph.",
        )
    expect(
        is_number(result),
        f"The function should return one number, the mean loss; got {type(result).__name__}.",
        "return the average of the batch losses (a float).",
    )
    value = float(result)  # type: ignore[arg-type]
    losses, sizes = np.array(loss_fn.values), np.array(loss_fn.sizes)
    means = [losses.mean(), (losses * sizes).sum() / sizes.sum()]
    if any(math.isclose(value, m, rel_tol=1e-3, abs_tol=1e-4) for m in means):
        return
    if math.isclose(value, losses[-1], rel_tol=1e-4):
        problem = "You return the loss of the last batch only"
    elif math.isclose(value, losses.sum(), rel_tol=1e-3) or math.isclose(
        value, (losses * sizes).sum(), rel_tol=1e-3
    ):
        problem = "You return the sum of the batch losses"
    else:
        problem = f"You return {value:.4f}"
    fail(
        f"{problem}; the average loss over the epoch was {means[1]:.4f}.",
        "add up each batch's loss × its batch size, and divide by the number of items.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the comparison table


ROW_KEYS = ("model", "feature", "parameters", "epochs", "seconds", "accuracy", "utterance_accuracy")


@check(
    "One row per trained model, with the keys the table prints, filled from that model's own results.",
    f"Each row is a dict with at least the keys {', '.join(ROW_KEYS)}; accuracies are fractions "
    "(0.83, not 83); the parameter count is the trained model's; dense goes with a pooled feature.",
    "Inside the loop, after fit and evaluate for this (name, kind): append a dict holding the "
    "name, the kind, the model's trainable parameter count, and the two accuracies from evaluate's "
    "result (plus the epochs and seconds it took).",
)
def model_comparison(rows: Sequence[Mapping], models: Mapping[str, Any] | None = None) -> None:
    """Check the comparison table: one row per trained model, with the numbers the notebook discusses.

    ``models`` (optional) maps each model name to its trained model (or to a dict with a ``"model"``
    key): then each row's parameter count is compared with that model's.
    """
    expect(
        isinstance(rows, Sequence) and len(rows) >= 3,
        f"Expected a list of at least 3 rows (dense, cnn1d, cnn2d); got "
        f"{len(rows) if isinstance(rows, Sequence) else type(rows).__name__}.",
        "append one dict per trained model to `rows`.",
    )
    for row in rows:
        _check_row(row, models)
    names = [str(row["model"]) for row in rows]
    expect(
        {"dense", "cnn1d", "cnn2d"} <= set(names),
        f"The table has the models {sorted(names)}.",
        "train one dense, one cnn1d and one cnn2d model.",
    )
    expect(
        len(set(names)) == len(names),
        f"Some models appear in several rows: {names}.",
        "append one row per model, after its training (not inside the epoch loop).",
    )
    counts = {int(row["parameters"]) for row in rows}
    expect(
        len(counts) > 1,
        f"Every row says {counts.pop()} parameters: the count is not the model's of that row.",
        "count the parameters of the model trained in this iteration of the loop.",
    )
    passed(f"comparison table: {len(rows)} models, every row complete.")


def _check_row(row: Mapping, models: Mapping[str, Any] | None) -> None:
    expect(
        isinstance(row, Mapping),
        f"A row is a {type(row).__name__}, not a dict.",
        "append one dict per model.",
    )
    missing = [key for key in ROW_KEYS if key not in row]
    expect(
        not missing,
        f"The row {dict(row)!r:.200} lacks {missing}.",
        f"each row needs the keys {', '.join(ROW_KEYS)}.",
    )
    name = row["model"]
    for key in ("accuracy", "utterance_accuracy"):
        expect(
            is_number(row[key]) and 0.0 <= float(row[key]) <= 1.0,
            f"{name}: {key} = {row[key]!r} is not a fraction between 0 and 1.",
            "store the accuracy as a fraction (0.83), not a percentage or a dict.",
        )
    expect(
        is_number(row["parameters"]) and int(row["parameters"]) > 0,
        f"{name}: parameters = {row['parameters']!r}.",
        "count the trainable parameters of the model.",
    )
    if models is not None and name in models:
        model = models[name]["model"] if isinstance(models[name], Mapping) else models[name]
        count = sum(p.numel() for p in model.parameters() if p.requires_grad)
        expect(
            int(row["parameters"]) == count,
            f"{name}: parameters = {row['parameters']}, but the trained {name} model has {count}.",
            "count the parameters of the model trained in this iteration of the loop.",
        )
    history = (
        models[name].get("history") if models and isinstance(models.get(name), Mapping) else None
    )
    if history is not None:
        expect(
            row["epochs"] == len(history.epoch),
            f"{name}: epochs = {row['epochs']!r}, but its history has {len(history.epoch)} epochs.",
            "count the epochs fit ran (its history has one entry per epoch).",
        )
    expect(
        is_number(row["seconds"]) and float(row["seconds"]) > 0,
        f"{name}: seconds = {row['seconds']!r}.",
        "read the clock before and after the training, and store the difference in seconds.",
    )
    pooled = str(row["feature"]).endswith("_pooled")
    family = str(name).split()[-1].lower()  # "your DenseClassifier" is a dense model too
    expect(
        pooled == (family in ("dense", "denseclassifier")),
        f"{name} is paired with the feature {row['feature']!r}.",
        "the dense model takes a pooled feature (one vector per clip); the CNNs take a "
        "time-frequency feature (mfcc or spectrogram).",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: utterance scores


def _scoring_model() -> tuple[nn.Module, list[tuple[bool, bool]]]:
    """A Dropout → Linear model whose forward hook records (training mode, gradients recorded)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Dropout(0.5), nn.Linear(6, 4))
    seen: list[tuple[bool, bool]] = []
    model.register_forward_hook(lambda m, i, o: seen.append((m.training, torch.is_grad_enabled())))
    return model, seen


@check(
    "Score every crop with the model in evaluation mode, turn each crop's scores into "
    "log-probabilities over the speakers, then average over the crops.",
    "The model arrives in training mode (Dropout active): switch it to evaluation and predict "
    "without recording gradients. Normalise over the classes axis, average over the crops axis.",
    "eval mode; inside a no-gradient block: the model's logits for all crops (n_crops, n_classes), "
    "log-softmax along the classes axis (1), mean along the crops axis (0) → (n_classes,).",
)
def utterance_scores(score: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> None:
    """Check ``score(model, crops) -> (n_classes,)``: mean log-probabilities over the crops, in eval mode."""
    generator = torch.Generator().manual_seed(3)
    crops = torch.randn(5, 6, generator=generator) * 3
    model, seen = _scoring_model()
    model.train()  # the function must switch to eval mode itself
    first = call(score, model, crops.clone(), what="utterance_log_probs(model, crops)")
    expect(
        seen and not any(training for training, _ in seen),
        "The model scored the crops in training mode: Dropout dropped random units, so the same "
        "crops get different scores on every call.",
        "switch the model to evaluation mode before predicting.",
    )
    expect(
        not any(grad for _, grad in seen),
        "The model ran with gradient recording on: predicting needs no gradient, and recording "
        "them costs memory for every crop.",
        "predict inside a no-gradient block.",
    )
    expect(
        isinstance(first, torch.Tensor | np.ndarray),
        f"score(model, crops) should return a tensor of class scores, got {type(first).__name__}.",
        "return the (n_classes,) average over the crops.",
    )
    got = as_array(first, "the scores").astype(np.float64)
    with torch.no_grad():
        logits = model.eval()(crops).double()
    expect(
        got.shape != (5, 4),
        f"For 5 crops and 4 classes the result has shape {got.shape}: one row per crop, not "
        "averaged.",
        "average over the crops axis (0), keeping one score per class.",
    )
    expect(
        got.shape == (4,),
        f"For 5 crops and 4 classes the result has shape {got.shape}; expected (4,).",
        "average over the crops axis (0), keeping one score per class.",
    )
    wanted = torch.log_softmax(logits, dim=1).mean(0).numpy()
    if np.allclose(got, wanted, atol=1e-5):
        passed("utterance scores: eval mode, no gradient, mean log-probability over the crops.")
        return
    _diagnose_scores(got, logits)


def _diagnose_scores(got: np.ndarray, logits: torch.Tensor) -> None:
    """Name the way ``got`` was combined from the crops' ``logits``, and fail."""
    mistakes = [
        (
            logits.mean(0),
            "you average raw logits; the exercise averages log-probabilities, so that "
            "each crop counts as normalised evidence.",
        ),
        (torch.softmax(logits, 1).mean(0), "you average probabilities; average their logarithms."),
        (
            torch.log_softmax(logits, 0).mean(0),
            "the normalisation runs over the crops; it belongs over the classes (axis 1).",
        ),
        (
            torch.log_softmax(logits, 1).sum(0),
            "you add up the crops' scores: average them, so that "
            "utterances with more crops are on the same scale.",
        ),
        (
            torch.log_softmax(logits, 1).max(0).values,
            "you keep each class's best crop; average over the crops instead.",
        ),
    ]
    for value, hint in mistakes:
        if np.allclose(got, value.numpy(), atol=1e-5):
            fail("The utterance scores are not the mean log-probabilities over the crops.", hint)
    fail(
        "The utterance scores are not the mean log-probabilities over the crops.",
        "log-softmax over the classes of each crop, then the mean over the crops.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: top predictions


@check(
    "Probabilities first (softmax of the logits), then the k largest, most likely first, with names.",
    "Use k as given (the check asks for 3 and for 2); map each class index to its speaker name; "
    "return (name, probability) pairs.",
    "softmax of the logits along the last axis → the top-k values and indices (largest first) → a "
    "list of (names[index], float(probability)) for each pair.",
)
def top_predictions(top: Callable) -> None:
    """Check ``top(logits, names, k) -> [(name, probability), ...]``, most likely first."""
    names = ["ana", "bo", "cy", "dee", "eli"]
    for logits, k in [
        (torch.tensor([0.5, 2.0, -1.0, 1.5, 0.0]), 3),
        (torch.tensor([3.0, -2.0, 0.1, 0.2, 2.5]), 2),
    ]:
        got = call(top, logits.clone(), list(names), k, what=f"top_speakers(logits, names, k={k})")
        probabilities = torch.softmax(logits, 0)
        values, indices = torch.topk(probabilities, k)
        wanted = [(names[i], float(p)) for p, i in zip(values, indices)]
        expect(
            isinstance(got, Sequence)
            and all(isinstance(p, tuple | list) and len(p) == 2 for p in got),
            f"top(logits, names, k={k}) should return a list of (name, probability) pairs; got {got!r:.120}.",
            "build a list of pairs (name, probability).",
        )
        expect(
            len(got) == k,
            f"top(logits, names, k={k}) returned {len(got)} pairs.",
            "return exactly k pairs: use the k argument, not a constant.",
        )
        got_names = [pair[0] for pair in got]
        expect(
            all(isinstance(n, str) for n in got_names),
            f"The first element of each pair should be a speaker name; got {got_names}.",
            "map each class index to names[index].",
        )
        expect(
            got_names != [n for n, _ in wanted][::-1] or k == 1,
            f"Speakers returned: {got_names}: least likely first.",
            "sort by decreasing probability.",
        )
        expect(
            got_names == [n for n, _ in wanted],
            f"Speakers returned: {got_names}; expected the {k} most likely, most likely first.",
            "sort by decreasing score, and map each index to names[index].",
        )
        got_probs = [float(pair[1]) for pair in got]
        expect(
            not np.allclose(got_probs, [float(logits[names.index(n)]) for n in got_names]),
            "You return the logits, not probabilities.",
            "the softmax turns scores into probabilities that sum to 1.",
        )
        expect(
            np.allclose(got_probs, [p for _, p in wanted], atol=1e-5),
            f"Probabilities returned: {np.round(got_probs, 3).tolist()}; they should be the "
            "softmax of the logits.",
            "the softmax over all the classes, before keeping the top k.",
        )
    passed("top predictions: the k most likely speakers with their softmax probabilities.")


# --------------------------------------------------------------------------------------------------
# Exercises: precision, recall and F1


def _confusions() -> list[np.ndarray]:
    """Confusion matrices (rows true, columns predicted) with imbalance and a never-predicted class."""
    a = np.array([[30, 5, 0, 1], [2, 10, 3, 0], [4, 0, 6, 0], [1, 1, 0, 2]])
    b = np.array([[8, 2, 0], [3, 1, 0], [5, 0, 0]])  # class 2 never predicted
    rng = np.random.default_rng(7)
    c = rng.integers(0, 4, size=(6, 6)) + np.diag(rng.integers(5, 40, size=6))
    return [a, b, c]


def _reference_prf(cm: np.ndarray):
    from sklearn.metrics import f1_score, precision_recall_fscore_support

    y_true = np.repeat(np.repeat(np.arange(len(cm)), len(cm)), cm.ravel())
    y_pred = np.repeat(np.tile(np.arange(len(cm)), len(cm)), cm.ravel())
    labels = np.arange(len(cm))
    p, r, f, s = precision_recall_fscore_support(y_true, y_pred, labels=labels, zero_division=0)
    macro = f1_score(y_true, y_pred, labels=labels, average="macro", zero_division=0)
    weighted = f1_score(y_true, y_pred, labels=labels, average="weighted", zero_division=0)
    return p, r, f, s, float(macro), float(weighted)


@check(
    "Rows are the true speakers, columns the predicted ones: precision reads a column, recall a row.",
    "precision of k = the diagonal cell over the sum of column k; recall of k = the diagonal cell "
    "over the sum of row k; F1 is their harmonic mean. A class never predicted (or never present) "
    "divides 0 by 0: define that as 0, as scikit-learn does.",
    "hits = the diagonal; divide it by the column sums and by the row sums with numpy's divide, "
    "writing 0 where the denominator is 0; F1 = 2PR / (P + R), also 0 where P + R is 0.",
)
def precision_recall_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (precision, recall, f1)`` per class, against scikit-learn."""
    for cm in _confusions():
        p, r, f, _, _, _ = _reference_prf(cm)
        got = call(compute, cm.copy(), what=f"precision_recall_f1(a {len(cm)}×{len(cm)} matrix)")
        expect(
            isinstance(got, tuple | list) and len(got) == 3,
            "compute(cm) should return three per-class arrays: the precision, then the recall, then the F1.",
            "return three arrays, in that order.",
        )
        with np.errstate(all="ignore"):
            gp, gr, gf = (as_array(v, "a result").astype(float) for v in got)
        expect(
            gp.shape == p.shape and gr.shape == r.shape and gf.shape == f.shape,
            f"For {len(cm)} classes, got shapes {gp.shape}, {gr.shape}, {gf.shape}; expected "
            f"({len(cm)},) each.",
            "one value per class: sum the confusion matrix along one axis.",
        )
        expect(
            not (np.isnan(gp).any() or np.isnan(gr).any() or np.isnan(gf).any()),
            "Some values are NaN: a class that is never predicted (or never present) gives 0 / 0.",
            "define those as 0, as scikit-learn does with zero_division=0 (numpy's divide can "
            "write a default where the denominator is 0).",
        )
        expect(
            not (np.allclose(gp, r) and np.allclose(gr, p) and not np.allclose(p, r)),
            "Precision and recall are swapped.",
            "rows are the true speakers, columns the predicted ones. Precision: of the clips "
            "predicted as that speaker (a column), how many were right; recall: of that speaker's "
            "clips (a row), how many were found.",
        )
        for name, mine, theirs, where in [
            (
                "Precision",
                gp,
                p,
                "class k's precision divides the diagonal cell by column k's sum.",
            ),
            ("Recall", gr, r, "class k's recall divides the diagonal cell by row k's sum."),
            ("F1", gf, f, "F1 is the harmonic mean 2 P R / (P + R), 0 when P + R = 0."),
        ]:
            expect(
                np.allclose(mine, theirs, atol=1e-6),
                f"{name} differs from scikit-learn's: {np.round(mine, 3).tolist()} vs "
                f"{np.round(theirs, 3).tolist()}.",
                where,
            )
    passed("per-class precision, recall and F1 match scikit-learn (zero_division=0).")


@check(
    "Two averages of the per-class F1: every speaker counts the same (macro), or each counts by its "
    "number of true clips (weighted).",
    "Macro is the plain mean of the per-class F1 scores (not the F1 of the mean precision and "
    "recall, not the accuracy); the weights of the weighted mean are the row sums (the support).",
    "macro = the mean of f1; weighted = the sum of f1 × support divided by the total support, "
    "support being the row sums of the matrix.",
)
def macro_weighted_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (macro_f1, weighted_f1)`` against scikit-learn."""
    for cm in _confusions():
        p, r, f, support, macro, weighted = _reference_prf(cm)
        got = call(compute, cm.copy(), what=f"macro_weighted_f1(a {len(cm)}×{len(cm)} matrix)")
        expect(
            isinstance(got, tuple | list) and len(got) == 2 and all(is_number(v) for v in got),
            f"compute(cm) should return two numbers (macro_f1, weighted_f1); got {got!r:.120}.",
            "return two floats, macro first.",
        )
        g_macro, g_weighted = (float(v) for v in got)
        expect(
            not (
                math.isclose(g_macro, weighted, abs_tol=1e-6)
                and math.isclose(g_weighted, macro, abs_tol=1e-6)
            ),
            "Macro and weighted F1 are swapped.",
            "macro = plain mean of the per-class F1 (every speaker counts the same); weighted = "
            "mean weighted by each class's support.",
        )
        if not math.isclose(g_macro, macro, abs_tol=1e-6):
            mp, mr = p.mean(), r.mean()
            if math.isclose(g_macro, 2 * mp * mr / (mp + mr), abs_tol=1e-6):
                where = "you take the F1 of the averaged precision and recall; macro F1 is the average of the per-class F1 scores."
            elif math.isclose(g_macro, np.trace(cm) / cm.sum(), abs_tol=1e-6):
                where = "that is the micro average (= accuracy); macro averages the per-class F1."
            else:
                where = "macro F1 = the mean over classes of the per-class F1."
            fail(f"Macro F1 = {g_macro:.4f}; scikit-learn gives {macro:.4f}.", where)
        if not math.isclose(g_weighted, weighted, abs_tol=1e-6):
            predicted = cm.sum(axis=0)
            if math.isclose(
                g_weighted, float((f * predicted).sum() / predicted.sum()), abs_tol=1e-6
            ):
                where = "you weight by the number of predictions (column sums); the support is the number of TRUE clips of each class (row sums)."
            elif math.isclose(g_weighted, float((f * support).sum()), abs_tol=1e-6):
                where = "divide the weighted sum by the total support."
            else:
                where = (
                    "weight each class's F1 by its support (row sums), then divide by their total."
                )
            fail(f"Weighted F1 = {g_weighted:.4f}; scikit-learn gives {weighted:.4f}.", where)
    passed("macro and weighted F1 match scikit-learn on three confusion matrices.")


# --------------------------------------------------------------------------------------------------
# Exercise: a model without BatchNorm

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


class _ProbeBlock(nn.Module):
    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(channels, channels, 3, padding=1)
        self.bn = nn.BatchNorm1d(channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x + self.bn(self.conv(x)))


class _ProbeModel(nn.Module):
    """BatchNorm at three depths (a child, inside a Sequential, inside a block) and one 2-D."""

    def __init__(self) -> None:
        super().__init__()
        self.input_norm = nn.BatchNorm1d(3)
        self.stem = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU())
        self.blocks = nn.Sequential(_ProbeBlock(4), _ProbeBlock(4))
        self.image = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2))
        self.head = nn.Linear(4 + 2, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.blocks(self.stem(self.input_norm(x)))
        image = self.image(x[:, None]).mean(dim=(2, 3))
        return self.head(torch.cat([h.mean(-1), image], dim=1))


@check(
    "Every BatchNorm layer of the model, however deep, must be replaced by a layer that passes its "
    "input through unchanged, and nothing else may change.",
    "named_children() gives a module's direct sub-modules: look at each, replace the BatchNorm ones "
    "(1-D and 2-D) on their parent with setattr, and go down into the others. A dotted name such as "
    "'stem.1' given to setattr adds a new layer instead of replacing one.",
    "A recursive function: for each (name, child) of the module, if the child is a BatchNorm1d or "
    "BatchNorm2d set the parent's attribute of that name to nn.Identity(), otherwise call the "
    "function on the child; return the model.",
)
def batchnorm_removed(without_batchnorm: Callable[[nn.Module], nn.Module]) -> None:
    """Check ``without_batchnorm(model) -> model``: every BatchNorm replaced by ``nn.Identity``."""
    with torch.random.fork_rng():  # the same weights twice, without moving the global generator
        torch.manual_seed(0)
        model = _ProbeModel()
        torch.manual_seed(0)
        reference = _ProbeModel()
    x = torch.randn(4, 3, 12, generator=torch.Generator().manual_seed(1))
    got = call(without_batchnorm, model, what="your without_batchnorm, on a model")
    expect(
        isinstance(got, nn.Module),
        f"without_batchnorm returned {type(got).__name__}, not the model.",
        "return the model (changed in place is fine) so that it can be used in one expression.",
    )
    assert isinstance(got, nn.Module)
    dotted = [
        name for module in got.modules() for name, _ in module.named_children() if "." in name
    ]
    expect(
        not dotted,
        f"The model gained layers named {dotted}: setattr with a dotted name adds a new attribute "
        "with that name instead of replacing the layer inside the sub-module.",
        "set the attribute on the parent module, with the child's own (undotted) name.",
    )
    removed = _check_replaced(got, reference)
    out = call(got, x, what="the model without BatchNorm, on a batch")
    expect(
        tuple(out.shape) == (4, 5),
        f"The model without BatchNorm returns shape {tuple(out.shape)}; expected (4, 5).",
        "only the BatchNorm layers should change.",
    )
    passed(
        f"{len(removed)} BatchNorm layers (1-D and 2-D, at every depth) replaced by nn.Identity."
    )


def _check_replaced(got: nn.Module, reference: nn.Module) -> list[str]:
    """Every BatchNorm of ``reference`` is an ``nn.Identity`` in ``got``, the rest unchanged."""
    left = [
        (name, type(m).__name__) for name, m in got.named_modules() if isinstance(m, BATCH_NORMS)
    ]
    if left:
        kinds = {kind for _, kind in left}
        if kinds == {"BatchNorm2d"}:
            where = "replace BatchNorm2d too (2-D CNNs use it), not only BatchNorm1d."
        elif all("." in name for name, _ in left):
            where = "go down into the sub-modules too: named_children() only gives one level."
        else:
            where = "look at every child of the model, and at their children."
        fail(f"BatchNorm layers are left in the model: {[n for n, _ in left]}.", where)
    kept = [(n, type(m)) for n, m in reference.named_modules() if not isinstance(m, BATCH_NORMS)]
    now = dict(got.named_modules())
    changed = [n for n, kind in kept if n and not isinstance(now.get(n), kind)]
    expect(
        not changed,
        f"Layers that are not BatchNorm were changed or removed: {changed}.",
        "replace only BatchNorm1d and BatchNorm2d layers.",
    )
    removed = [n for n, m in reference.named_modules() if isinstance(m, BATCH_NORMS)]
    expect(
        all(isinstance(now.get(n), nn.Identity) for n in removed),
        f"The BatchNorm layers {removed} are not nn.Identity layers now: "
        f"{[type(now.get(n)).__name__ for n in removed]}.",
        "replace each by nn.Identity(), which returns its input: the forward pass then still works.",
    )
    weights = dict(reference.named_parameters())
    expect(
        all(torch.equal(p, weights[n]) for n, p in got.named_parameters()),
        "The weights of the other layers changed: the model was rebuilt or re-initialised.",
        "change the model you are given, layer by layer; keep its other layers as they are.",
    )
    return removed


# --------------------------------------------------------------------------------------------------
# Exercise: the ablation table

ABLATIONS = (
    "baseline",
    "without BatchNorm",
    "without residuals",
    "SGD instead of AdamW",
    "without label smoothing",
)
"""The rows of notebook 05's ablation table; each changes one thing of the baseline."""


def _describe_run(run: object, change: str) -> dict[str, Any]:
    """What a run is made of: BatchNorm or not, skip connections or not, optimizer, smoothing."""
    model, optimizer, loss_fn = run
    expect(
        isinstance(model, nn.Module) and isinstance(optimizer, torch.optim.Optimizer),
        f"make_run({change!r}) returned ({type(model).__name__}, {type(optimizer).__name__}, ...); "
        "expected an nn.Module then a torch.optim optimizer.",
        "return (model, optimizer, loss_fn).",
    )
    mine = {id(p) for p in model.parameters()}
    theirs = {id(p) for group in optimizer.param_groups for p in group["params"]}
    expect(
        mine == theirs,
        f"In the row {change!r} the optimizer holds other parameters than the model's: training "
        "would step another model (or none) while this one stays as it was built.",
        "build the optimizer from this row's model's parameters, after building the model.",
    )
    return {
        "BatchNorm": any(isinstance(m, BATCH_NORMS) for m in model.modules()),
        "skip connections": all(getattr(m, "residual", True) is not False for m in model.modules()),
        "optimizer": type(optimizer).__name__,
        "label smoothing": float(getattr(loss_fn, "label_smoothing", 0.0)),
    }


BASELINE = {
    "BatchNorm": True,
    "skip connections": True,
    "optimizer": "AdamW",
    "label smoothing": 0.1,
}
CHANGED = {
    "without BatchNorm": ("BatchNorm", False),
    "without residuals": ("skip connections", False),
    "SGD instead of AdamW": ("optimizer", "SGD"),
    "without label smoothing": ("label smoothing", 0.0),
}


@check(
    "Each row of an ablation changes exactly one thing of the baseline and starts from the same "
    "weights, so that the table says what that one thing is worth.",
    "Build everything afresh in each call: a model seeded with the same seed (the same initial "
    "weights in every row), its own optimizer on its parameters, and the loss; then change only "
    "what the row's name says.",
    "Start from the baseline's three settings (the reference cnn1d seeded, AdamW, cross-entropy "
    "with label smoothing 0.1) and, depending on the name, swap the model for one without "
    "BatchNorm or without skip connections, the optimizer for SGD, or the smoothing for 0.",
)
def ablation_runs(make_run: Callable[[str], tuple]) -> None:
    """Check ``make_run(change) -> (model, optimizer, loss_fn)`` for every row of the table."""
    runs = {change: call(make_run, change, what=f"make_run({change!r})") for change in ABLATIONS}
    for change, run in runs.items():
        expect(
            isinstance(run, tuple | list) and len(run) == 3,
            f"make_run({change!r}) returned {type(run).__name__}; expected (model, optimizer, "
            "loss_fn).",
            "return the three things a training run needs, in that order.",
        )
    models = [run[0] for run in runs.values()]
    expect(
        len({id(m) for m in models}) == len(models),
        "Several rows share one model object: the second row would start from the weights the "
        "first one trained.",
        "build a new model in every call of make_run.",
    )
    described = {change: _describe_run(run, change) for change, run in runs.items()}
    base = described["baseline"]
    for key, value in BASELINE.items():
        expect(
            base[key] == value,
            f"The baseline has {key} = {base[key]!r}; the table's baseline has {value!r}.",
            "the baseline is the exercise's first row: BatchNorm, skip connections, AdamW, "
            "label smoothing 0.1.",
        )
    for change, (key, value) in CHANGED.items():
        row = described[change]
        expect(
            row[key] == value,
            f"The row {change!r} has {key} = {row[key]!r}, as the baseline.",
            "change what the row's name says.",
        )
        also = [f"{k} {base[k]!r} → {row[k]!r}" for k in BASELINE if k != key and row[k] != base[k]]
        expect(
            not also,
            f"The row {change!r} also changes {', '.join(also)}: with two changes the table "
            "cannot tell which one made the difference.",
            "change one thing per row; keep the rest as in the baseline.",
        )
    _check_same_start(runs)
    passed(f"{len(ABLATIONS)} runs, each one change from the baseline, all from the same weights.")


def _check_same_start(runs: Mapping[str, tuple]) -> None:
    """The rows with the baseline's architecture start from the baseline's initial weights."""
    start = {n: p for n, p in runs["baseline"][0].named_parameters()}
    for change in ("without BatchNorm", "SGD instead of AdamW", "without label smoothing"):
        weights = dict(runs[change][0].named_parameters())
        same = all(torch.equal(p, weights[n]) for n, p in start.items() if n in weights)
        expect(
            same,
            f"The row {change!r} starts from other initial weights than the baseline: part of "
            "its difference in the table would be luck of the draw.",
            "seed the model of every row with the same seed when you build it.",
        )
