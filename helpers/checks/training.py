"""Checks for notebook 05, training: the epoch loop, the comparison table, scoring, metrics.

``train_one_epoch`` runs on a tiny problem with hooks on every part it must use: the model records
its mode and whether its input was moved with ``.to(device)`` (the loader hands out a tensor subclass
that only ``.to`` turns into a plain tensor: a fake device); the optimizer compares, before each
step, the gradients it holds with those of the last backward pass; the loss records each batch.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .core import Mistake, Observed, as_array, call, exercise, is_number, passed, verdict

__all__ = ["ablation_runs", "batchnorm_removed", "macro_weighted_f1", "model_comparison", "precision_recall_f1", "top_predictions", "train_one_epoch", "utterance_scores"]  # fmt: skip

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)

# --------------------------------------------------------------------------------------------------
# Exercise: one training epoch


class _HostTensor(torch.Tensor):
    """A batch as the loader hands it out, "on the host": only ``.to(...)`` makes it a plain tensor."""

    def to(self, *args: Any, **kwargs: Any) -> torch.Tensor:  # type: ignore[override]
        return torch.Tensor.to(self, *args, **kwargs).as_subclass(torch.Tensor)


def _record_moved(moved: list[bool], index: int) -> Callable:
    """A forward pre-hook recording whether argument ``index`` was moved; it passes plain tensors."""

    def hook(module: nn.Module, args: tuple) -> tuple:
        moved.append(not isinstance(args[index], _HostTensor))
        return tuple(a.as_subclass(torch.Tensor) for a in args)

    return hook


# fmt: off
EPOCH = [
    Mistake(lambda o: not all(o.modes),
            "The model was in evaluation mode during training (the check left it in eval mode, as a validation pass does): switch it to training mode at the start of the epoch; Dropout and BatchNorm behave differently when training."),
    Mistake(lambda o: not all(o.inputs_moved),
            "{unmoved} of {batches} batches reached the model without being moved to the device: on a GPU the model's weights and the batch would be on different devices. Move each batch's inputs with .to(device) inside the loop."),
    Mistake(lambda o: not all(o.labels_moved), "The labels of {labels_unmoved} batches reached the loss without being moved to the device: move the labels too, not only the inputs."),
    Mistake(lambda o: len(o.losses) != o.batches, "The loss function was called {n_losses} times for {batches} batches: compute the loss once per batch, inside the loop over the loader."),
    Mistake(lambda o: o.backwards != o.batches, "backward() ran {backwards} times for {batches} batches: call backward on each batch's loss."),
    Mistake(lambda o: len(o.steps) != o.batches, "The optimizer stepped {n_steps} times for {batches} batches: update the weights once per batch, after the backward pass."),
    Mistake(lambda o: "accumulated" in o.steps,
            "At a step the optimizer held the gradients of several batches added up: they are not reset between batches. Reset them (the optimizer's zero_grad) once per batch, before the backward pass."),
    Mistake(lambda o: "wiped" in o.steps, "At a step the gradients were empty: they were reset after backward and before step, so the step changed nothing. Reset them before the backward pass."),
    Mistake(lambda o: "no backward" in o.steps, "The optimizer stepped before any backward pass of its batch: backward, then step."),
    Mistake(lambda o: o.result is None, "The function returns None: return the average training loss of the epoch (a float)."),
    Mistake(lambda o: getattr(o.result, "requires_grad", False),
            "The returned loss is a tensor still attached to the computation graph: accumulate each loss's Python value (.item()), which also frees each batch's graph."),
    Mistake(lambda o: not is_number(o.result), "The function should return one number, the mean loss; got {kind}."),
    Mistake(lambda o: not o.accepted and o.close(o.losses[-1]),
            "You return the loss of the last batch only; the average loss over the epoch was {mean:.4f}. Add up each batch's loss × its batch size, and divide by the number of items."),
    Mistake(lambda o: not o.accepted and (o.close(sum(o.losses)) or o.close(o.total)),
            "You return the sum of the batch losses; the average loss over the epoch was {mean:.4f}: divide by the number of items."),
    Mistake(lambda o: not o.accepted, "You return {result:.4f}; the average loss over the epoch was {mean:.4f}: add up each batch's loss × its batch size, and divide by the number of items."),
]
PROGRESS = [
    Mistake(lambda o: o.end_loss >= 0.5 * o.start_loss,
            "After 5 epochs on an easy problem the loss went from {start_loss:.3f} to {end_loss:.3f}: the order is reset, forward, loss, backward, step, and the loss must be minimised."),
    Mistake(lambda o: o.generator_error,
            "Your function fails on a generator of batches, which notebook 05's ablation cell passes it ({generator_error}): a generator has no len() and no .dataset. Count the items as you go through the batches."),
]
# fmt: on


@exercise(
    "One epoch = for every batch: move it to the device, reset the gradients, forward, loss, backward, step; in training mode; return the mean loss.",
    "The check watches each part: the model's mode at every forward pass, whether each batch went through .to(device), whether the optimizer holds the gradients of exactly the last backward pass when it steps (not piled up, not wiped), and what you return. It also passes a plain generator of batches, as notebook 05's ablation cell does.",
    "Training mode first; then per batch: both tensors to the device, the optimizer's zero_grad, the loss of the model's output against the labels, its backward, the optimizer's step, and add the loss's Python value × batch size to a total; return total / number of items.",
)
def train_one_epoch(train: Callable) -> None:
    """Check ``train(model, loader, optimizer, loss_fn, device) -> mean loss``.

    Requires: training mode; each batch's inputs and labels moved with ``.to(device)``; per batch
    one loss, one backward and one step, the gradients reset before backward; the mean loss per
    item (or per batch) returned as a number off the graph; the loss halved in 5 epochs of an easy
    problem; a DataLoader and a plain generator of batches (notebook 05's ablation cell) both work.
    """
    from torch.utils.data import DataLoader, TensorDataset, default_collate

    generator = torch.Generator().manual_seed(0)
    y = torch.arange(100) % 3
    x = (torch.randn(3, 8, generator=generator) * 2.0)[y] + torch.randn(100, 8, generator=generator)

    def host(batch: list) -> list[torch.Tensor]:  # the batches "on the host"
        return [t.as_subclass(_HostTensor) for t in default_collate(batch)]

    loader = DataLoader(TensorDataset(x, y), batch_size=16, collate_fn=host)  # 7 batches
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1))
        model.append(nn.Linear(16, 3)).eval()  # the function must put it in training mode

    def loss() -> float:
        return float(nn.functional.cross_entropy(model.eval()(x), y).detach())

    seen = Observed(start_loss=loss(), modes=[], inputs_moved=[], labels_moved=[], losses=[])
    seen["steps"] = []
    loss_fn, gradients, batch_sizes = nn.CrossEntropyLoss(), [], []  # the first weight's gradients
    model.register_forward_pre_hook(lambda m, args: seen.modes.append(m.training))
    model.register_forward_pre_hook(_record_moved(seen.inputs_moved, 0))
    loss_fn.register_forward_pre_hook(_record_moved(seen.labels_moved, 1))
    loss_fn.register_forward_hook(lambda m, args, out: seen.losses.append(float(out.detach())))
    loss_fn.register_forward_hook(lambda m, args, out: batch_sizes.append(len(args[1])))
    model[0].weight.register_hook(lambda g: gradients.append(g.detach().clone()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

    def before_step(optimizer: torch.optim.Optimizer, args: tuple, kwargs: dict) -> None:
        last, grad = (gradients[-1] if gradients else None), model[0].weight.grad
        if last is None or grad is None or not bool(grad.abs().sum() > 0):
            seen.steps.append("no backward" if last is None else "wiped")
        else:
            same = torch.allclose(grad, last, rtol=1e-4, atol=1e-7)
            seen.steps.append("ok" if same else "accumulated")
        gradients.append(None)

    optimizer.register_step_pre_hook(before_step)
    what, cpu = "train_one_epoch(model, loader, optimizer, loss_fn, device)", torch.device("cpu")
    result = call(train, model, loader, optimizer, loss_fn, cpu, what=what)
    losses, sizes = np.array(seen.losses), np.array(batch_sizes)
    seen.update(
        result=result, kind=type(result).__name__, batches=len(loader), n_losses=len(losses)
    )
    seen.update(
        unmoved=seen.inputs_moved.count(False), labels_unmoved=seen.labels_moved.count(False)
    )
    seen.update(n_steps=len(seen.steps), backwards=len(gradients) - gradients.count(None))
    seen.update(total=float(losses @ sizes), mean=float(losses @ sizes) / max(sizes.sum(), 1))
    if is_number(result) and not getattr(result, "requires_grad", False):
        seen["close"] = lambda v: math.isclose(float(result), v, rel_tol=1e-3, abs_tol=1e-4)
        seen["accepted"] = seen.close(seen.mean) or seen.close(losses.mean())
    verdict(seen, EPOCH)
    for _ in range(4):
        call(train, model, loader, optimizer, loss_fn, cpu, what=what)
    seen.update(end_loss=loss(), generator_error="")
    try:  # notebook 05's ablation cell passes a generator of batches
        train(model, ([t.to(cpu) for t in batch] for batch in loader), optimizer, loss_fn, cpu)
    except Exception as error:  # the student's code may raise anything
        seen["generator_error"] = f"{type(error).__name__}: {error}"
    ok = "train_one_epoch: train mode, batches moved to the device, one reset/backward/step per batch, mean loss returned, any iterable of batches; loss {start_loss:.3f} → {end_loss:.3f} in 5 epochs."
    verdict(seen, PROGRESS, ok.format_map(seen))


# --------------------------------------------------------------------------------------------------
# Exercise: the comparison table

ROW_KEYS = ("model", "feature", "parameters", "epochs", "seconds", "accuracy", "utterance_accuracy")
RUN_KEYS = ("model", "feature", "history", "result", "val_set", "transform")
"""What the cells after the comparison read from each run of ``trained``."""

# fmt: off
ROW = [
    Mistake(lambda o: not isinstance(o.row, Mapping), "A row is a {kind}, not a dict: append one dict per model."),
    Mistake(lambda o: o.missing, "The row {row!r:.200} lacks {missing}: each row needs the keys " + ", ".join(ROW_KEYS) + "."),
    Mistake(lambda o: o.not_fraction, "{name}: {not_fraction} is not a fraction between 0 and 1: store the accuracy as a fraction (0.83), not a percentage or a dict."),
    Mistake(lambda o: not (is_number(o.row["parameters"]) and int(o.row["parameters"]) > 0), "{name}: parameters = {row[parameters]!r}: count the trainable parameters of the model."),
    Mistake(lambda o: o.run_missing, "{name}: the run stored in `trained` lacks {run_missing}; the cells after this one read them (the history, the evaluation result, the validation set...)."),
    Mistake(lambda o: o.count not in (None, int(o.row["parameters"])),
            "{name}: parameters = {row[parameters]}, but the trained {name} model has {count}: count the parameters of the model trained in this iteration of the loop."),
    Mistake(lambda o: o.epochs not in (None, o.row["epochs"]),
            "{name}: epochs = {row[epochs]!r}, but its history has {epochs} epochs: count the epochs fit ran (its history has one entry per epoch)."),
    Mistake(lambda o: not (is_number(o.row["seconds"]) and float(o.row["seconds"]) > 0),
            "{name}: seconds = {row[seconds]!r}: read the clock before and after the training, and store the difference in seconds."),
    Mistake(lambda o: str(o.row["feature"]).endswith("_pooled") != (o.family in ("dense", "denseclassifier")),
            "{name} is paired with the feature {row[feature]!r}: the dense model takes a pooled feature (one vector per clip); the CNNs take a time-frequency feature."),
]
TABLE = [
    Mistake(lambda o: o.rows_problem, "Expected a list of at least 3 rows (dense, cnn1d, cnn2d); got {rows_problem}: append one dict per trained model to `rows`."),
    Mistake(lambda o: not {"dense", "cnn1d", "cnn2d"} <= set(o.names), "The table has the models {names}: train one dense, one cnn1d and one cnn2d model."),
    Mistake(lambda o: len(set(o.names)) != len(o.names), "Some models appear in several rows: {names}. Append one row per model, after its training (not inside the epoch loop)."),
    Mistake(lambda o: len(o.counts) == 1, "Every row says {count} parameters: the count is not the model's of that row. Count the parameters of the model trained in this iteration of the loop."),
]
# fmt: on


def _row(row: object, models: Mapping[str, Any] | None) -> Observed:
    """What one row of the table (and its run in ``models``) holds."""
    seen = Observed(row=row, kind=type(row).__name__, missing=[])
    if isinstance(row, Mapping):
        seen["missing"] = [key for key in ROW_KEYS if key not in row]
    if not isinstance(row, Mapping) or seen.missing:
        return seen
    run = (models or {}).get(row["model"])
    model = run.get("model") if isinstance(run, Mapping) else run
    history = run.get("history") if isinstance(run, Mapping) else None
    params = [p for p in (model.parameters() if model is not None else []) if p.requires_grad]
    accuracies = ("accuracy", "utterance_accuracy")
    bad = [k for k in accuracies if not (is_number(row[k]) and 0 <= float(row[k]) <= 1)]
    return Observed(
        seen,
        name=row["model"],
        family=str(row["model"]).split()[-1].lower(),  # "your DenseClassifier" is dense too
        not_fraction=f"{bad[0]} = {row[bad[0]]!r}" if bad else "",
        run_missing=[k for k in RUN_KEYS if k not in run] if isinstance(run, Mapping) else [],
        count=None if model is None else sum(p.numel() for p in params),
        epochs=None if history is None else len(history.epoch),
    )


@exercise(
    "One row per trained model, with the keys the table prints, filled from that model's own results.",
    f"Each row is a dict with at least the keys {', '.join(ROW_KEYS)}; accuracies are fractions (0.83, not 83); the parameter count is the trained model's; dense goes with a pooled feature. Each run holds {', '.join(RUN_KEYS)}.",
    "Inside the loop, after fit and evaluate for this (name, kind): append a dict holding the name, the kind, the model's trainable parameter count, and the two accuracies from evaluate's result (plus the epochs and seconds it took).",
)
def model_comparison(rows: Sequence[Mapping], models: Mapping[str, Any] | None = None) -> None:
    """Check notebook 05's comparison table, and the runs the cells after it read.

    Requires: at least 3 rows, one per model (dense, cnn1d and cnn2d among them), each a dict with
    ``ROW_KEYS``: accuracies in [0, 1], a positive parameter count (not the same in every row),
    positive seconds, a pooled feature exactly for the dense models. With ``models`` (name → trained
    model, or → run dict): each row's count is its model's, its epochs its history's, and a run dict
    holds ``RUN_KEYS``.
    """
    valid = isinstance(rows, Sequence) and len(rows) >= 3
    size = len(rows) if isinstance(rows, Sequence) else type(rows).__name__
    verdict(Observed(rows_problem="" if valid else size), TABLE[:1])
    for row in rows:
        verdict(_row(row, models), ROW)
    names, counts = [str(row["model"]) for row in rows], {int(row["parameters"]) for row in rows}
    seen = Observed(rows_problem="", names=names, counts=counts, count=min(counts))
    verdict(seen, TABLE, f"comparison table: {len(rows)} models, every row complete.")


# --------------------------------------------------------------------------------------------------
# Exercise: utterance scores

NOT_MEAN = "The utterance scores are not the mean log-probabilities over the crops: "
# fmt: off
SCORES = [
    Mistake(lambda o: any(training for training, _ in o.modes),
            "The model scored the crops in training mode: Dropout dropped random units, so the same crops get different scores on every call. Switch it to evaluation mode before predicting."),
    Mistake(lambda o: any(grad for _, grad in o.modes),
            "The model ran with gradient recording on: predicting needs no gradient, and recording them costs memory for every crop. Predict inside a no-gradient block."),
    Mistake(lambda o: o.got is None, "score(model, crops) should return a tensor of class scores, got {kind}: return the (n_classes,) average over the crops."),
    Mistake(lambda o: o.got.shape == (5, 4), "For 5 crops and 4 classes the result has shape (5, 4): one row per crop, not averaged. Average over the crops axis (0), keeping one score per class."),
    Mistake(lambda o: o.got.shape != (4,), "For 5 crops and 4 classes the result has shape {shape}; expected (4,): average over the crops axis (0), keeping one score per class."),
    Mistake(lambda o: o.equals(o.logits.mean(0)), NOT_MEAN + "you average raw logits; average log-probabilities, so that each crop counts as normalised evidence."),
    Mistake(lambda o: o.equals(torch.softmax(o.logits, 1).mean(0)), NOT_MEAN + "you average probabilities; average their logarithms."),
    Mistake(lambda o: o.equals(torch.log_softmax(o.logits, 0).mean(0)), NOT_MEAN + "the normalisation runs over the crops; it belongs over the classes (axis 1)."),
    Mistake(lambda o: o.equals(torch.log_softmax(o.logits, 1).sum(0)), NOT_MEAN + "you add up the crops' scores: average them, so that utterances with more crops are on the same scale."),
    Mistake(lambda o: o.equals(torch.log_softmax(o.logits, 1).max(0).values), NOT_MEAN + "you keep each class's best crop; average over the crops instead."),
    Mistake(lambda o: not o.equals(torch.log_softmax(o.logits, 1).mean(0)), NOT_MEAN + "log-softmax over the classes of each crop, then the mean over the crops."),
]
# fmt: on


@exercise(
    "Score every crop with the model in evaluation mode, turn each crop's scores into log-probabilities over the speakers, then average over the crops.",
    "The model arrives in training mode (Dropout active): switch it to evaluation and predict without recording gradients. Normalise over the classes axis, average over the crops axis.",
    "eval mode; inside a no-gradient block: the model's logits for all crops (n_crops, n_classes), log-softmax along the classes axis (1), mean along the crops axis (0) → (n_classes,).",
)
def utterance_scores(score: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> None:
    """Check ``score(model, crops) -> (n_classes,)`` for float crops ``(n_crops, n_features, frames)``.

    Requires: the model in eval mode, no gradient recorded; a tensor or array ``(n_classes,)``: the
    mean over the crops of the log-softmax over the classes.
    """
    crops = torch.randn(5, 3, 2, generator=torch.Generator().manual_seed(3)) * 3
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Dropout(0.5), nn.Flatten(), nn.Linear(6, 4))
    modes: list[tuple[bool, bool]] = []
    model.register_forward_hook(lambda m, i, o: modes.append((m.training, torch.is_grad_enabled())))
    got = call(score, model.train(), crops.clone(), what="utterance_log_probs(model, crops)")
    seen = Observed(modes=list(modes), kind=type(got).__name__)
    array = isinstance(got, torch.Tensor | np.ndarray)
    got = as_array(got, "the scores").astype(float) if array else None
    with torch.no_grad():
        seen.update(logits=model.eval()(crops).double(), got=got)
    seen.update(shape=got.shape if array else None)
    seen["equals"] = lambda value: np.allclose(got, value.numpy(), atol=1e-5)
    verdict(
        seen,
        SCORES,
        "utterance scores: eval mode, no gradient, mean log-probability over the crops.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: top predictions

# fmt: off
TOP = [
    Mistake(lambda o: not o.pairs, "top(logits, names, k={k}) should return a list of (name, probability) pairs; got {got!r:.120}."),
    Mistake(lambda o: len(o.got) != o.k, "top(logits, names, k={k}) returned {n} pairs: return exactly k; use the k argument, not a constant."),
    Mistake(lambda o: not all(isinstance(n, str) for n in o.names), "The first element of each pair should be a speaker name; got {names}: map each class index to names[index]."),
    Mistake(lambda o: o.names == o.wanted_names[::-1], "Speakers returned: {names}: least likely first. Sort by decreasing probability."),
    Mistake(lambda o: o.names != o.wanted_names, "Speakers returned: {names}; expected the {k} most likely, most likely first."),
    Mistake(lambda o: np.allclose(o.probabilities, o.logits), "You return the logits, not probabilities: the softmax turns scores into probabilities that sum to 1."),
    Mistake(lambda o: not np.allclose(o.probabilities, o.wanted, atol=1e-5),
            "Probabilities returned: {shown}; they should be the softmax of the logits over all the classes, before keeping the top k."),
    Mistake(lambda o: o.error,
            "top(logits, names, k) works on a tensor but fails on a numpy array, as evaluate's result['logits'][i] is in the cell after this one ({error}): turn the logits into a tensor first."),
]
# fmt: on


@exercise(
    "Probabilities first (softmax of the logits), then the k largest, most likely first, with names.",
    "Use k as given (the check asks for 3 and for 2); map each class index to its speaker name; return (name, probability) pairs. The logits may come as a tensor or as a numpy array (evaluate returns numpy arrays).",
    "softmax of the logits along the last axis → the top-k values and indices (largest first) → a list of (names[index], float(probability)) for each pair.",
)
def top_predictions(top: Callable) -> None:
    """Check ``top(logits, names, k) -> [(name, probability), ...]``, most likely first.

    Requires: k pairs, most likely first, with the names from ``names`` and the softmax over all the
    classes; for logits given as a tensor and as the float32 numpy row ``evaluate(...)["logits"][i]``
    that the cell after the exercise passes.
    """
    names = ["ana", "bo", "cy", "dee", "eli"]
    for values, k in [([0.5, 2.0, -1.0, 1.5, 0.0], 3), ([3.0, -2.0, 0.1, 0.2, 2.5], 2)]:
        logits, what = torch.tensor(values), f"top_speakers(logits, names, k={k})"
        got = call(top, logits.clone(), list(names), k, what=what)
        try:
            top(logits.numpy().copy(), list(names), k)
            error = ""
        except Exception as raised:  # the student's code may raise anything
            error = f"{type(raised).__name__}: {str(raised).splitlines()[0]}"
        wanted, indices = torch.topk(torch.softmax(logits, 0), k)
        pairs = isinstance(got, Sequence) and all(
            isinstance(p, tuple | list) and len(p) == 2 for p in got
        )
        seen = Observed(got=got, k=k, error=error, pairs=pairs, n=len(got) if pairs else 0)
        seen.update(names=[p[0] for p in got] if pairs else [], wanted=wanted.tolist())
        seen.update(wanted_names=[names[i] for i in indices])
        shown = [float(p[1]) for p in got] if pairs and len(got) == k else [0.0] * k
        seen.update(probabilities=shown, shown=np.round(shown, 3).tolist())
        seen["logits"] = [float(logits[names.index(n)]) for n in seen.names if n in names]
        verdict(seen, TOP)
    passed("top predictions: the k most likely speakers with their softmax probabilities.")


# --------------------------------------------------------------------------------------------------
# Exercises: precision, recall and F1


def _confusions() -> list[Observed]:
    """Integer confusion matrices (rows true, columns predicted, as ``confusion`` returns them), with
    imbalance and a never-predicted class, and scikit-learn's per-class P, R, F1 and support."""
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(7)
    matrices = [
        np.array([[30, 5, 0, 1], [2, 10, 3, 0], [4, 0, 6, 0], [1, 1, 0, 2]]),
        np.array([[8, 2, 0], [3, 1, 0], [5, 0, 0]]),  # class 2 never predicted
        rng.integers(0, 4, size=(6, 6)) + np.diag(rng.integers(5, 40, size=6)),
    ]
    cases = []
    for cm in matrices:
        k = np.arange(len(cm))
        true, predicted = np.repeat(k, len(k)), np.tile(k, len(k))  # every cell's (row, column)
        p, r, f, s = precision_recall_fscore_support(
            np.repeat(true, cm.ravel()), np.repeat(predicted, cm.ravel()), labels=k, zero_division=0
        )
        cases.append(Observed(cm=cm, n=len(cm), p=p, r=r, f=f, support=s, macro=f.mean()))
        cases[-1]["weighted"] = f @ s / s.sum()
    return cases


# fmt: off
PRF = [
    Mistake(lambda o: not (isinstance(o.got, tuple | list) and len(o.got) == 3), "compute(cm) should return three per-class arrays: the precision, then the recall, then the F1."),
    Mistake(lambda o: [v.shape for v in o.arrays] != [o.p.shape] * 3, "For {n} classes, got shapes {shapes}; expected ({n},) each: one value per class, a sum of the confusion matrix along one axis."),
    Mistake(lambda o: any(np.isnan(v).any() for v in o.arrays),
            "Some values are NaN: a class that is never predicted (or never present) gives 0 / 0. Define those as 0, as scikit-learn does with zero_division=0 (numpy's divide can write a default where the denominator is 0)."),
    Mistake(lambda o: o.near(o.arrays[0], o.r) and o.near(o.arrays[1], o.p) and not o.near(o.p, o.r),
            "Precision and recall are swapped: rows are the true speakers, columns the predicted ones. Precision: of the clips predicted as that speaker (a column), how many were right; recall: of that speaker's clips (a row), how many were found."),
    Mistake(lambda o: not o.near(o.arrays[0], o.p), "Precision differs from scikit-learn's: {shown[0]} vs {shown[3]}. Class k's precision divides the diagonal cell by column k's sum."),
    Mistake(lambda o: not o.near(o.arrays[1], o.r), "Recall differs from scikit-learn's: {shown[1]} vs {shown[4]}. Class k's recall divides the diagonal cell by row k's sum."),
    Mistake(lambda o: not o.near(o.arrays[2], o.f), "F1 differs from scikit-learn's: {shown[2]} vs {shown[5]}. F1 is the harmonic mean 2 P R / (P + R), 0 when P + R = 0."),
]
# fmt: on


@exercise(
    "Rows are the true speakers, columns the predicted ones: precision reads a column, recall a row.",
    "precision of k = the diagonal cell over the sum of column k; recall of k = the diagonal cell over the sum of row k; F1 is their harmonic mean. A class never predicted (or never present) divides 0 by 0: define that as 0, as scikit-learn does.",
    "hits = the diagonal; divide it by the column sums and by the row sums with numpy's divide, writing 0 where the denominator is 0; F1 = 2PR / (P + R), also 0 where P + R is 0.",
)
def precision_recall_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (precision, recall, f1)`` per class.

    Requires: three arrays of one value per class, equal to scikit-learn's with ``zero_division=0``
    (no NaN), on three integer confusion matrices with imbalance and a never-predicted class.
    """
    for seen in _confusions():
        what = f"precision_recall_f1(a {seen.n}×{seen.n} matrix)"
        seen["got"] = call(compute, seen.cm.copy(), what=what)
        seen["near"] = lambda a, b: np.allclose(a, b, atol=1e-6)
        if isinstance(seen.got, tuple | list) and len(seen.got) == 3:
            with np.errstate(all="ignore"):
                seen["arrays"] = [as_array(v, "a result").astype(float) for v in seen.got]
            seen["shapes"] = ", ".join(str(a.shape) for a in seen.arrays)
            shown = [*seen.arrays, seen.p, seen.r, seen.f]
            seen["shown"] = [np.round(v, 3).tolist() for v in shown]
        verdict(seen, PRF)
    passed("per-class precision, recall and F1 match scikit-learn (zero_division=0).")


# fmt: off
F1 = [
    Mistake(lambda o: not (isinstance(o.got, tuple | list) and len(o.got) == 2 and all(map(is_number, o.got))),
            "compute(cm) should return two numbers (macro_f1, weighted_f1), macro first; got {got!r:.120}."),
    Mistake(lambda o: o.near(o.macro_got, o.weighted) and o.near(o.weighted_got, o.macro),
            "Macro and weighted F1 are swapped: macro is the plain mean of the per-class F1 (every speaker counts the same); weighted is the mean weighted by each class's support."),
    Mistake(lambda o: not o.near(o.macro_got, o.macro) and o.near(o.macro_got, 2 * o.p.mean() * o.r.mean() / (o.p.mean() + o.r.mean())),
            "Macro F1 = {macro_got:.4f}; scikit-learn gives {macro:.4f}: you take the F1 of the averaged precision and recall; macro F1 is the average of the per-class F1 scores."),
    Mistake(lambda o: not o.near(o.macro_got, o.macro) and o.near(o.macro_got, np.trace(o.cm) / o.cm.sum()),
            "Macro F1 = {macro_got:.4f}; scikit-learn gives {macro:.4f}: that is the micro average (= accuracy); macro averages the per-class F1."),
    Mistake(lambda o: not o.near(o.macro_got, o.macro), "Macro F1 = {macro_got:.4f}; scikit-learn gives {macro:.4f}: macro F1 = the mean over classes of the per-class F1."),
    Mistake(lambda o: not o.near(o.weighted_got, o.weighted) and o.near(o.weighted_got, o.f @ o.cm.sum(0) / o.cm.sum()),
            "Weighted F1 = {weighted_got:.4f}; scikit-learn gives {weighted:.4f}: you weight by the number of predictions (column sums); the support is the number of TRUE clips of each class (row sums)."),
    Mistake(lambda o: not o.near(o.weighted_got, o.weighted) and o.near(o.weighted_got, o.f @ o.support),
            "Weighted F1 = {weighted_got:.4f}; scikit-learn gives {weighted:.4f}: divide the weighted sum by the total support."),
    Mistake(lambda o: not o.near(o.weighted_got, o.weighted),
            "Weighted F1 = {weighted_got:.4f}; scikit-learn gives {weighted:.4f}: weight each class's F1 by its support (row sums), then divide by their total."),
]
# fmt: on


@exercise(
    "Two averages of the per-class F1: every speaker counts the same (macro), or each counts by its number of true clips (weighted).",
    "Macro is the plain mean of the per-class F1 scores (not the F1 of the mean precision and recall, not the accuracy); the weights of the weighted mean are the row sums (the support).",
    "macro = the mean of f1; weighted = the sum of f1 × support divided by the total support, support being the row sums of the matrix.",
)
def macro_weighted_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (macro_f1, weighted_f1)``.

    Requires: two numbers, macro first, equal to scikit-learn's on three integer confusion matrices.
    """
    for seen in _confusions():
        got = call(compute, seen.cm.copy(), what=f"macro_weighted_f1(a {seen.n}×{seen.n} matrix)")
        numbers = isinstance(got, tuple | list) and len(got) == 2 and all(map(is_number, got))
        seen.update(got=got, near=lambda a, b: math.isclose(a, b, abs_tol=1e-6))
        seen.update(
            macro_got=float(got[0]) if numbers else 0.0,
            weighted_got=float(got[1]) if numbers else 0.0,
        )
        verdict(seen, F1)
    passed("macro and weighted F1 match scikit-learn on three confusion matrices.")


# --------------------------------------------------------------------------------------------------
# Exercise: a model without BatchNorm


def _probe_model() -> nn.Module:
    """BatchNorm at three depths (a child, in a Sequential, in a Sequential in a Sequential), one 2-D."""
    stem = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU())
    block = nn.Sequential(
        nn.Sequential(nn.Conv1d(4, 4, 3, padding=1), nn.BatchNorm1d(4)), nn.ReLU()
    )
    image = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2))
    return nn.Sequential(
        nn.BatchNorm1d(3),
        stem,
        block,
        nn.Unflatten(1, (1, 4)),
        image,
        nn.Flatten(),
        nn.Linear(96, 5),
    )


LEFT = "BatchNorm layers are left in the model: {left_names}. "
# fmt: off
BATCHNORM = [
    Mistake(lambda o: not isinstance(o.got, nn.Module), "without_batchnorm returned {kind}, not the model: return the model (changed in place is fine) so that it can be used in one expression."),
    Mistake(lambda o: o.dotted,
            "The model gained layers named {dotted}: setattr with a dotted name adds a new attribute with that name instead of replacing the layer inside the sub-module. Set the attribute on the parent module, with the child's own (undotted) name."),
    Mistake(lambda o: o.left and {kind for _, kind in o.left} == {"BatchNorm2d"}, LEFT + "Replace BatchNorm2d too (2-D CNNs use it), not only BatchNorm1d."),
    Mistake(lambda o: o.left and all("." in name for name, _ in o.left), LEFT + "named_children() gives one level only: go down into the sub-modules too."),
    Mistake(lambda o: o.left, LEFT + "Look at every child of the model, and at their children."),
    Mistake(lambda o: o.changed, "Layers that are not BatchNorm were changed or removed: {changed}. Replace only BatchNorm1d and BatchNorm2d layers."),
    Mistake(lambda o: o.not_identity,
            "The BatchNorm layers {removed} are not nn.Identity layers now: {not_identity}. Replace each by nn.Identity(), which returns its input: the forward pass then still works."),
    Mistake(lambda o: not o.same_weights,
            "The weights of the other layers changed: the model was rebuilt or re-initialised. Change the model you are given, layer by layer; keep its other layers as they are."),
]
# fmt: on


@exercise(
    "Every BatchNorm layer of the model, however deep, must be replaced by a layer that passes its input through unchanged, and nothing else may change.",
    "named_children() gives a module's direct sub-modules: look at each, replace the BatchNorm ones (1-D and 2-D) on their parent with setattr, and go down into the others. A dotted name such as 'stem.1' given to setattr adds a new layer instead of replacing one.",
    "A recursive function: for each (name, child) of the module, if the child is a BatchNorm1d or BatchNorm2d set the parent's attribute of that name to nn.Identity(), otherwise call the function on the child; return the model.",
)
def batchnorm_removed(without_batchnorm: Callable[[nn.Module], nn.Module]) -> None:
    """Check ``without_batchnorm(model) -> model``.

    Requires: the model returned; every BatchNorm1d/2d, at every depth, replaced on its parent by
    ``nn.Identity`` (no dotted attribute added); every other layer and weight unchanged; it runs.
    """
    with torch.random.fork_rng():  # the same weights twice, without moving the global generator
        torch.manual_seed(0)
        model = _probe_model()
        torch.manual_seed(0)
        reference = _probe_model()
    got = call(without_batchnorm, model, what="your without_batchnorm, on a model")
    seen = Observed(got=got, kind=type(got).__name__)
    if isinstance(got, nn.Module):
        now, weights = dict(got.named_modules()), dict(reference.named_parameters())
        removed = [n for n, m in reference.named_modules() if isinstance(m, BATCH_NORMS)]
        left = [(n, type(m).__name__) for n, m in now.items() if isinstance(m, BATCH_NORMS)]
        seen.update(removed=removed, left=left, left_names=[n for n, _ in left])
        seen["dotted"] = [n for m in got.modules() for n, _ in m.named_children() if "." in n]
        kept = [(n, type(m)) for n, m in reference.named_modules() if type(m) not in BATCH_NORMS]
        seen["changed"] = [n for n, kind in kept[1:] if not isinstance(now.get(n), kind)]
        kinds = [type(now.get(n)) for n in removed]
        seen["not_identity"] = [kind.__name__ for kind in kinds if kind is not nn.Identity]
        seen["same_weights"] = all(torch.equal(p, weights[n]) for n, p in got.named_parameters())
    verdict(seen, BATCHNORM)
    x = torch.randn(4, 3, 12, generator=torch.Generator().manual_seed(1))
    call(got, x, what="the model without BatchNorm, on a batch")
    passed(
        f"{len(seen.removed)} BatchNorm layers (1-D and 2-D, every depth) replaced by nn.Identity."
    )


# --------------------------------------------------------------------------------------------------
# Exercise: the ablation table

ABLATIONS = {  # notebook 05's rows → (what the row changes, to what)
    "baseline": (None, None),
    "without BatchNorm": ("BatchNorm", False),
    "without residuals": ("skip connections", False),
    "SGD instead of AdamW": ("optimizer", "SGD"),
    "without label smoothing": ("label smoothing", 0.0),
}
BASELINE = {"BatchNorm": True, "skip connections": True, "optimizer": "AdamW", "label smoothing": 0.1}  # fmt: skip

# fmt: off
RUN = [
    Mistake(lambda o: not (isinstance(o.run, tuple | list) and len(o.run) == 3),
            "make_run({change!r}) returned {kind}; expected (model, optimizer, loss_fn): the three things a training run needs, in that order."),
    Mistake(lambda o: o.shared, "Several rows share one model object: the second row would start from the weights the first one trained. Build a new model in every call of make_run."),
    Mistake(lambda o: not (isinstance(o.run[0], nn.Module) and isinstance(o.run[1], torch.optim.Optimizer)),
            "make_run({change!r}) returned ({kinds}, ...); expected an nn.Module then a torch.optim optimizer."),
    Mistake(lambda o: {id(p) for p in o.run[0].parameters()} != {id(p) for g in o.run[1].param_groups for p in g["params"]},
            "In the row {change!r} the optimizer holds other parameters than the model's: training would step another model (or none) while this one stays as it was built. Build the optimizer from this row's model's parameters, after building the model."),
]
ABLATION = [
    *(Mistake(lambda o, key=key, value=value: o.described["baseline"][key] != value,
              f"The baseline has {key} = {{described[baseline][{key}]!r}}; the table's baseline has {value!r}: BatchNorm, skip connections, AdamW, label smoothing 0.1.")
      for key, value in BASELINE.items()),
    *(Mistake(lambda o, change=change, key=key, value=value: o.described[change][key] != value,
              f"The row {change!r} has {key} = {{described[{change}][{key}]!r}}, as the baseline: change what the row's name says.")
      for change, (key, value) in ABLATIONS.items() if key),
    *(Mistake(lambda o, change=change: o.also[change],
              f"The row {change!r} also changes {{also[{change}]}}: with two changes the table cannot tell which one made the difference. Change one thing per row.")
      for change in ABLATIONS),
    *(Mistake(lambda o, change=change: not o.same_start[change],
              f"The row {change!r} starts from other initial weights than the baseline: part of its difference in the table would be luck of the draw. Seed the model of every row with the same seed when you build it.")
      for change in ("without BatchNorm", "SGD instead of AdamW", "without label smoothing")),
]
# fmt: on


@exercise(
    "Each row of an ablation changes exactly one thing of the baseline and starts from the same weights, so that the table says what that one thing is worth.",
    "Build everything afresh in each call: a model seeded with the same seed (the same initial weights in every row), its own optimizer on its parameters, and the loss; then change only what the row's name says.",
    "Start from the baseline's three settings (the reference cnn1d seeded, AdamW, cross-entropy with label smoothing 0.1) and, depending on the name, swap the model for one without BatchNorm or without skip connections, the optimizer for SGD, or the smoothing for 0.",
)
def ablation_runs(make_run: Callable[[str], tuple]) -> None:
    """Check ``make_run(change) -> (model, optimizer, loss_fn)`` for every row of the table.

    Requires: each row a new model with an optimizer on its parameters; the baseline with BatchNorm,
    skip connections, AdamW and label smoothing 0.1; each other row changing exactly what its name
    says; the rows that keep the architecture start from the baseline's initial weights.
    """
    runs = {change: call(make_run, change, what=f"make_run({change!r})") for change in ABLATIONS}
    models = [run[0] for run in runs.values() if isinstance(run, tuple | list) and len(run) == 3]
    for change, run in runs.items():
        seen = Observed(change=change, run=run, kind=type(run).__name__)
        seen["shared"] = len(models) == len(runs) and len(set(map(id, models))) < len(models)
        parts = run[:2] if isinstance(run, tuple | list) else []
        seen["kinds"] = ", ".join(type(part).__name__ for part in parts)
        verdict(seen, RUN)
    described = {}
    for change, (model, optimizer, loss_fn) in runs.items():
        described[change] = dict(zip(BASELINE, [
            any(isinstance(m, BATCH_NORMS) for m in model.modules()),
            all(getattr(m, "residual", True) is not False for m in model.modules()),
            type(optimizer).__name__,
            float(getattr(loss_fn, "label_smoothing", 0.0)),
        ]))  # fmt: skip
    start = dict(runs["baseline"][0].named_parameters())
    same_start = {
        change: all(torch.equal(p, weights[n]) for n, p in start.items() if n in weights)
        for change, weights in ((c, dict(run[0].named_parameters())) for c, run in runs.items())
    }
    also = {}
    for change, (key, _) in ABLATIONS.items():
        changed = [k for k, v in BASELINE.items() if k != key and described[change][k] != v]
        also[change] = ", ".join(f"{k} {BASELINE[k]!r} → {described[change][k]!r}" for k in changed)
    seen = Observed(described=described, same_start=same_start, also=also)
    verdict(
        seen, ABLATION, f"{len(ABLATIONS)} runs, each one change from the baseline, same weights."
    )
