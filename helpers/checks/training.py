"""Checks for notebook 05, training: the epoch loop, the comparison table, scoring, metrics.

``train_one_epoch`` is watched by hooks: batches "on the host" that only ``.to(device)`` makes plain
(a fake device), the mode, each loss, and the gradients at each step against the last backward's."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import torch
from torch import nn

from .core import (
    BATCH_NORMS,
    Mistake,
    Observed,
    as_array,
    call,
    exercise,
    is_number,
    modules_run,
    passed,
    trainable,
    verdict,
)

__all__ = ["ablation_runs", "batchnorm_removed", "macro_weighted_f1", "model_comparison", "precision_recall_f1", "top_predictions", "train_one_epoch", "utterance_scores"]  # fmt: skip


def _raises(function: Callable, *args: object) -> str:
    """``"Type: first line"`` of what ``function(*args)`` raises, or ``""``."""
    try:
        function(*args)
    except Exception as error:  # the student's code may raise anything
        return f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
    return ""


class _HostTensor(torch.Tensor):
    """A batch as the loader hands it out, "on the host": only ``.to(...)`` makes it a plain tensor."""

    def to(self, *args: Any, **kwargs: Any) -> torch.Tensor:  # type: ignore[override]
        return torch.Tensor.to(self, *args, **kwargs).as_subclass(torch.Tensor)


def _moved(record: list[bool], index: int) -> Callable:
    """A forward pre-hook recording whether argument ``index`` was moved; it passes plain tensors."""

    def hook(module: nn.Module, args: tuple) -> tuple:
        record.append(not isinstance(args[index], _HostTensor))
        return tuple(a.as_subclass(torch.Tensor) for a in args)

    return hook


def _step(gradients: list, grad: torch.Tensor | None) -> str:
    """What the optimizer holds at a step, against the last backward's ``gradients[-1]``."""
    last = gradients[-1] if gradients else None
    gradients.append(None)
    if last is None or grad is None or not bool(grad.abs().sum() > 0):
        return "no backward" if last is None else "wiped"
    return "ok" if torch.allclose(grad, last, rtol=1e-4, atol=1e-7) else "accumulated"


def _watched_epoch() -> tuple:
    """A 3-class problem in 7 batches "on the host", a model left in eval mode, its optimizer and
    loss, their hooks filling an ``Observed``, and the model's loss on the data."""
    from torch.utils.data import DataLoader, TensorDataset, default_collate

    generator = torch.Generator().manual_seed(0)
    y = torch.arange(100) % 3
    x = (torch.randn(3, 8, generator=generator) * 2.0)[y] + torch.randn(100, 8, generator=generator)
    loader = DataLoader(
        TensorDataset(x, y),
        batch_size=16,
        collate_fn=lambda batch: [t.as_subclass(_HostTensor) for t in default_collate(batch)],
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Linear(8, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.1))
        model.append(nn.Linear(16, 3)).eval()  # the function must put it in training mode

    def loss() -> float:
        return float(nn.functional.cross_entropy(model.eval()(x), y).detach())

    seen = Observed(start_loss=loss(), modes=[], inputs_moved=[], labels_moved=[], losses=[])
    seen.update(sizes=[], steps=[], gradients=[])  # the first weight's, None after each step
    loss_fn, weight = nn.CrossEntropyLoss(), model[0].weight
    model.register_forward_pre_hook(lambda m, args: seen.modes.append(m.training))
    model.register_forward_pre_hook(_moved(seen.inputs_moved, 0))
    loss_fn.register_forward_pre_hook(_moved(seen.labels_moved, 1))
    loss_fn.register_forward_hook(lambda m, args, out: seen.losses.append(float(out.detach())))
    loss_fn.register_forward_hook(lambda m, args, out: seen.sizes.append(len(args[1])))
    weight.register_hook(lambda g: seen.gradients.append(g.detach().clone()))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    optimizer.register_step_pre_hook(
        lambda *_: seen.steps.append(_step(seen.gradients, weight.grad))
    )
    return model, loader, optimizer, loss_fn, seen, loss


# fmt: off
EPOCH = [
    Mistake(lambda o: not all(o.modes), "The model was in evaluation mode during training (the check left it so, as validation does): switch to training mode first."),
    Mistake(lambda o: not all(o.inputs_moved), "{unmoved} of {batches} batches reached the model without being moved to the device: move each batch with .to(device)."),
    Mistake(lambda o: not all(o.labels_moved), "The labels of {labels_unmoved} batches reached the loss without being moved to the device: move them too."),
    Mistake(lambda o: len(o.losses) != o.batches, "The loss function was called {n_losses} times for {batches} batches: once per batch, inside the loop."),
    Mistake(lambda o: o.backwards != o.batches, "backward() ran {backwards} times for {batches} batches: call backward on each batch's loss."),
    Mistake(lambda o: len(o.steps) != o.batches, "The optimizer stepped {n_steps} times for {batches} batches: once per batch, after backward."),
    Mistake(lambda o: "accumulated" in o.steps, "At a step the optimizer held the gradients of several batches added up: reset them once per batch, before backward."),
    Mistake(lambda o: "wiped" in o.steps, "At a step the gradients were empty: they were reset after backward, before step; reset them before backward."),
    Mistake(lambda o: "no backward" in o.steps, "The optimizer stepped before any backward pass of its batch: backward, then step."),
    Mistake(lambda o: o.result is None, "The function returns None: return the epoch's mean training loss (a float)."),
    Mistake(lambda o: getattr(o.result, "requires_grad", False), "The returned loss is a tensor still attached to the computation graph: add up each loss's Python value (.item())."),
    Mistake(lambda o: not is_number(o.result), "The function should return one number, the mean loss; got {kind}."),
    Mistake(lambda o: not o.accepted and o.close(o.losses[-1]), "You return the loss of the last batch only; the epoch's mean loss was {mean:.4f}."),
    Mistake(lambda o: not o.accepted and (o.close(sum(o.losses)) or o.close(o.total)), "You return the sum of the batch losses; the epoch's mean loss was {mean:.4f}."),
    Mistake(lambda o: not o.accepted, "You return {result:.4f}; the epoch's mean loss was {mean:.4f}: each batch's loss × its size, over the number of items."),
]
PROGRESS = [
    Mistake(lambda o: o.end_loss >= 0.5 * o.start_loss, "After 5 epochs of an easy problem the loss went from {start_loss:.3f} to {end_loss:.3f}: is the loss minimised, in the right order?"),
    Mistake(lambda o: o.error, "Your function fails on a generator of batches, as notebook 05's ablation cell passes ({error}): it has no len() and no .dataset."),
]
# fmt: on


@exercise("""One epoch: per batch, to the device, reset the gradients, forward, loss, backward, step.
The check watches the mode, each batch's .to(device), the gradients at each step, and the result.
Training mode; per batch: move, zero_grad, loss, backward, step, add loss value × batch size.""")
def train_one_epoch(train: Callable) -> None:
    """Check ``train(model, loader, optimizer, loss_fn, device) -> mean loss``. Requires: training
    mode; each batch's inputs and labels moved with ``.to(device)``; per batch one loss, backward and
    step, the gradients reset before backward; the mean loss per item (or batch), a number off the
    graph; the loss halved in 5 epochs of an easy problem; a loader or a generator of batches."""
    model, loader, optimizer, loss_fn, seen, loss = _watched_epoch()
    what, cpu = "train_one_epoch(model, loader, optimizer, loss_fn, device)", torch.device("cpu")
    result = call(train, model, loader, optimizer, loss_fn, cpu, what=what)
    losses, sizes = np.array(seen.losses), np.array(seen.sizes)
    seen.update(result=result, kind=type(result).__name__, batches=len(loader))
    seen.update(unmoved=seen.inputs_moved.count(0), labels_unmoved=seen.labels_moved.count(0))
    seen.update(n_losses=len(losses), n_steps=len(seen.steps))
    seen["backwards"] = len(seen.gradients) - seen.gradients.count(None)
    seen.update(total=float(losses @ sizes), mean=float(losses @ sizes) / max(sizes.sum(), 1))
    if is_number(result) and not getattr(result, "requires_grad", False):
        seen["close"] = lambda v: math.isclose(float(result), v, rel_tol=1e-3, abs_tol=1e-4)
        seen["accepted"] = seen.close(seen.mean) or seen.close(losses.mean())
    verdict(seen, EPOCH)
    for _ in range(4):
        call(train, model, loader, optimizer, loss_fn, cpu, what=what)
    batches = ([t.to(cpu) for t in batch] for batch in loader)  # as notebook 05's ablation cell
    seen.update(end_loss=loss(), error=_raises(train, model, batches, optimizer, loss_fn, cpu))
    ok = "train_one_epoch: train mode, batches moved, a reset/backward/step per batch, mean loss"
    verdict(seen, PROGRESS, ok + f"; loss {seen.start_loss:.3f} → {seen.end_loss:.3f}.")


ROW_KEYS = ("model", "feature", "parameters", "epochs", "seconds", "accuracy", "utterance_accuracy")
RUN_KEYS = ("model", "feature", "history", "result", "val_set", "transform")  # the next cells read

# fmt: off
ROW = [
    Mistake(lambda o: not isinstance(o.row, Mapping), "A row is a {kind}, not a dict: append one dict per model."),
    Mistake(lambda o: o.missing, "The row {row!r:.200} lacks {missing}: each row needs the keys " + ", ".join(ROW_KEYS) + "."),
    Mistake(lambda o: o.not_fraction, "{name}: {not_fraction} is not a fraction between 0 and 1 (0.83, not a percentage or a dict)."),
    Mistake(lambda o: not (is_number(o.row["parameters"]) and int(o.row["parameters"]) > 0), "{name}: parameters = {row[parameters]!r}: count the model's trainable parameters."),
    Mistake(lambda o: o.run_missing, "{name}: the run stored in `trained` lacks {run_missing}, which the cells after this one read."),
    Mistake(lambda o: o.count not in (None, int(o.row["parameters"])), "{name}: parameters = {row[parameters]}, but the trained {name} model has {count}: count this iteration's model."),
    Mistake(lambda o: o.epochs not in (None, o.row["epochs"]), "{name}: epochs = {row[epochs]!r}, but its history has {epochs} epochs (one entry per epoch fit ran)."),
    Mistake(lambda o: not (is_number(o.row["seconds"]) and float(o.row["seconds"]) > 0), "{name}: seconds = {row[seconds]!r}: the clock after the training minus the clock before."),
    Mistake(lambda o: str(o.row["feature"]).endswith("_pooled") != (o.family in ("dense", "denseclassifier")),
            "{name} is paired with the feature {row[feature]!r}: dense takes a pooled feature, the CNNs a time-frequency one."),
]
TABLE = [
    Mistake(lambda o: o.rows_problem, "Expected a list of at least 3 rows (dense, cnn1d, cnn2d); got {rows_problem}: one dict per trained model."),
    Mistake(lambda o: not {"dense", "cnn1d", "cnn2d"} <= set(o.names), "The table has the models {names}: train one dense, one cnn1d and one cnn2d model."),
    Mistake(lambda o: len(set(o.names)) != len(o.names), "Some models appear in several rows: {names}; one row per model, after its training."),
    Mistake(lambda o: len(o.counts) == 1, "Every row says {count} parameters: count the parameters of the model trained in that iteration."),
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
    bad = [k for k in ROW_KEYS[5:] if not (is_number(row[k]) and 0 <= float(row[k]) <= 1)]
    return Observed(
        seen,
        name=row["model"],
        family=str(row["model"]).split()[-1].lower(),  # "your DenseClassifier" is dense too
        not_fraction=f"{bad[0]} = {row[bad[0]]!r}" if bad else "",
        run_missing=[k for k in RUN_KEYS if k not in run] if isinstance(run, Mapping) else [],
        count=None if model is None else trainable(model),
        epochs=None if history is None else len(history.epoch),
    )


@exercise(f"""One row per trained model, with the keys the table prints, from that model's own results.
Keys {", ".join(ROW_KEYS)}; accuracies are fractions; dense goes with a pooled feature.
After fit and evaluate of each model: a dict of its name, kind, parameter count, epochs, seconds, accuracies.""")
def model_comparison(rows: Sequence[Mapping], models: Mapping[str, Any] | None = None) -> None:
    """Check notebook 05's comparison table and the runs the cells after it read. Requires: ≥ 3 rows
    (dense, cnn1d, cnn2d once each), dicts with ``ROW_KEYS``: accuracies in [0, 1], positive counts
    (not all equal) and seconds, a pooled feature exactly for dense. With ``models`` (name → model or
    run dict): each count and epochs its model's and history's; a run dict has ``RUN_KEYS``."""
    size = len(rows) if isinstance(rows, Sequence) else type(rows).__name__
    valid = isinstance(rows, Sequence) and len(rows) >= 3
    verdict(Observed(rows_problem="" if valid else size), TABLE[:1])
    for row in rows:
        verdict(_row(row, models), ROW)
    names, counts = [str(row["model"]) for row in rows], {int(row["parameters"]) for row in rows}
    seen = Observed(rows_problem="", names=names, counts=counts, count=min(counts))
    verdict(seen, TABLE, f"comparison table: {len(rows)} models, every row complete.")


NOT_MEAN = "The utterance scores are not the mean log-probabilities over the crops: "
SCORES = [
    Mistake(lambda o: any(training for training, _ in o.modes), "The model scored the crops in training mode: Dropout makes every call differ; switch to evaluation mode first."),
    Mistake(lambda o: any(grad for _, grad in o.modes), "The model ran with gradient recording on, which costs memory for every crop: predict in a no-gradient block."),
    Mistake(lambda o: o.got is None, "score(model, crops) should return a tensor of class scores, got {kind}: the (n_classes,) average over the crops."),
    Mistake(lambda o: o.got.shape == (5, 4), "For 5 crops and 4 classes the result has shape (5, 4): one row per crop, not averaged over the crops (axis 0)."),
    Mistake(lambda o: o.got.shape != (4,), "For 5 crops and 4 classes the result has shape {shape}; expected (4,): average over the crops axis (0)."),
    Mistake(lambda o: o.equals(o.logits.mean(0)), NOT_MEAN + "you average raw logits; average log-probabilities."),
    Mistake(lambda o: o.equals(torch.softmax(o.logits, 1).mean(0)), NOT_MEAN + "you average probabilities; average their logarithms."),
    Mistake(lambda o: o.equals(torch.log_softmax(o.logits, 0).mean(0)), NOT_MEAN + "the normalisation runs over the crops, not the classes (axis 1)."),
    Mistake(lambda o: o.equals(torch.log_softmax(o.logits, 1).sum(0)), NOT_MEAN + "you add up the crops' scores; average them."),
    Mistake(lambda o: o.equals(torch.log_softmax(o.logits, 1).max(0).values), NOT_MEAN + "you keep each class's best crop; average over the crops."),
    Mistake(lambda o: not o.equals(torch.log_softmax(o.logits, 1).mean(0)), NOT_MEAN + "log-softmax over the classes of each crop, then the mean over the crops."),
]  # fmt: skip


@exercise("""Score every crop in evaluation mode, make log-probabilities over the speakers, average.
The model arrives in training mode: evaluation mode, no gradients; normalise over the classes.
eval mode, no-gradient block: logits (n_crops, n_classes), log-softmax on axis 1, mean on axis 0.""")
def utterance_scores(score: Callable[[nn.Module, torch.Tensor], torch.Tensor]) -> None:
    """Check ``score(model, crops) -> (n_classes,)`` for float crops ``(n_crops, n_features,
    frames)``. Requires: the model in eval mode, no gradient recorded; a tensor or array, the mean
    over the crops of the log-softmax over the classes."""
    crops = torch.randn(5, 3, 2, generator=torch.Generator().manual_seed(3)) * 3
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = nn.Sequential(nn.Dropout(0.5), nn.Flatten(), nn.Linear(6, 4))
    what = "utterance_log_probs(model, crops)"
    got, calls = modules_run(score, model.train(), crops.clone(), what=what)
    seen = Observed(modes=[c[3:] for c in calls if c[0] is model], kind=type(got).__name__)
    array = isinstance(got, torch.Tensor | np.ndarray)
    seen["got"] = as_array(got, "scores").astype(float) if array else None
    with torch.no_grad():
        seen.update(logits=model.eval()(crops).double(), shape=getattr(seen.got, "shape", None))
    seen["equals"] = lambda value: np.allclose(seen.got, value.numpy(), atol=1e-5)
    verdict(seen, SCORES, "utterance scores: eval mode, no gradient, mean log-probabilities.")


TOP = [
    Mistake(lambda o: not o.pairs, "top(logits, names, k={k}) should return a list of (name, probability) pairs; got {got!r:.120}."),
    Mistake(lambda o: len(o.got) != o.k, "top(logits, names, k={k}) returned {n} pairs: use the k argument, not a constant."),
    Mistake(lambda o: not all(isinstance(n, str) for n in o.names), "Each pair should start with a speaker name; got {names}: names[index] of each class index."),
    Mistake(lambda o: o.names == o.wanted_names[::-1], "Speakers returned: {names}: least likely first; sort by decreasing probability."),
    Mistake(lambda o: o.names != o.wanted_names, "Speakers returned: {names}; expected the {k} most likely, most likely first."),
    Mistake(lambda o: np.allclose(o.probabilities, o.logits), "You return the logits, not probabilities: the softmax makes probabilities that sum to 1."),
    Mistake(lambda o: not np.allclose(o.probabilities, o.wanted, atol=1e-5), "Probabilities returned: {shown}; they should be the softmax over all the classes, before keeping the top k."),
    Mistake(lambda o: o.error, "top(logits, names, k) fails on a numpy array, as evaluate's result['logits'][i] in the next cell ({error}): make it a tensor first."),
]  # fmt: skip


@exercise("""Probabilities first (softmax of the logits), then the k largest, most likely first, named.
Use k as given (the check asks for 3 and 2); logits may come as a tensor or as a numpy array.
softmax along the last axis, then topk, then (names[index], float(probability)) for each.""")
def top_predictions(top: Callable) -> None:
    """Check ``top(logits, names, k) -> [(name, probability), ...]``. Requires: k pairs, most likely
    first, the names from ``names``, the softmax over all the classes; for a tensor and for the
    float32 numpy row ``evaluate(...)["logits"][i]`` that the next cell passes."""
    names = ["ana", "bo", "cy", "dee", "eli"]
    for values, k in [([0.5, 2.0, -1.0, 1.5, 0.0], 3), ([3.0, -2.0, 0.1, 0.2, 2.5], 2)]:
        logits, what = torch.tensor(values), f"top_speakers(logits, names, k={k})"
        got = call(top, logits.clone(), list(names), k, what=what)
        wanted, indices = torch.topk(torch.softmax(logits, 0), k)
        pairs = isinstance(got, Sequence)
        pairs = pairs and all(isinstance(p, tuple | list) and len(p) == 2 for p in got)
        seen = Observed(got=got, k=k, pairs=pairs, n=len(got) if pairs else 0)
        seen.update(names=[p[0] for p in got] if pairs else [], wanted=wanted.tolist())
        seen["wanted_names"] = [names[i] for i in indices]
        shown = [float(p[1]) for p in got] if pairs and len(got) == k else [0.0] * k
        seen.update(probabilities=shown, shown=np.round(shown, 3).tolist())
        seen["logits"] = [float(logits[names.index(n)]) for n in seen.names if n in names]
        seen["error"] = _raises(top, logits.numpy().copy(), list(names), k)
        verdict(seen, TOP)
    passed("top predictions: the k most likely speakers with their softmax probabilities.")


def _confusions() -> list[Observed]:
    """Integer confusion matrices (rows true, columns predicted), imbalanced, one with a class never
    predicted, with scikit-learn's per-class P, R, F1, support and macro and weighted F1."""
    from sklearn.metrics import precision_recall_fscore_support

    rng = np.random.default_rng(7)
    cases = []
    for cm in [
        np.array([[30, 5, 0, 1], [2, 10, 3, 0], [4, 0, 6, 0], [1, 1, 0, 2]]),
        np.array([[8, 2, 0], [3, 1, 0], [5, 0, 0]]),  # class 2 never predicted
        rng.integers(0, 4, size=(6, 6)) + np.diag(rng.integers(5, 40, size=6)),
    ]:
        k = np.arange(len(cm))
        true, predicted = np.repeat(k, len(k)), np.tile(k, len(k))  # every cell's (row, column)
        p, r, f, s = precision_recall_fscore_support(
            np.repeat(true, cm.ravel()), np.repeat(predicted, cm.ravel()), labels=k, zero_division=0
        )
        seen = Observed(cm=cm, n=len(cm), p=p, r=r, f=f, support=s, macro=f.mean())
        cases.append(Observed(seen, weighted=f @ s / s.sum(), what=f"a {len(cm)}×{len(cm)} matrix"))
    return cases


PRF = [
    Mistake(lambda o: not (isinstance(o.got, tuple | list) and len(o.got) == 3), "compute(cm) should return three per-class arrays: the precision, the recall, the F1."),
    Mistake(lambda o: [v.shape for v in o.arrays] != [o.p.shape] * 3, "For {n} classes, got shapes {shapes}; expected ({n},) each: a sum of the matrix along one axis."),
    Mistake(lambda o: any(np.isnan(v).any() for v in o.arrays), "Some values are NaN: a class never predicted (or never present) gives 0 / 0, which is 0 in scikit-learn's zero_division=0."),
    Mistake(lambda o: o.near(o.arrays[0], o.r) and o.near(o.arrays[1], o.p) and not o.near(o.p, o.r),
            "Precision and recall are swapped: rows are the true speakers, columns the predicted; precision reads a column, recall a row."),
    Mistake(lambda o: not o.near(o.arrays[0], o.p), "Precision differs from scikit-learn's: {shown[0]} vs {shown[3]}: the diagonal cell over column k's sum."),
    Mistake(lambda o: not o.near(o.arrays[1], o.r), "Recall differs from scikit-learn's: {shown[1]} vs {shown[4]}: the diagonal cell over row k's sum."),
    Mistake(lambda o: not o.near(o.arrays[2], o.f), "F1 differs from scikit-learn's: {shown[2]} vs {shown[5]}: F1 is the harmonic mean of P and R, 0 when both are."),
]  # fmt: skip


@exercise("""Rows are the true speakers, columns the predicted ones: precision reads a column, recall a row.
precision of k = diagonal / column k's sum; recall = diagonal / row k's sum; F1 their harmonic mean.
Where a denominator is 0 (a class never predicted or present) the value is 0, as in scikit-learn.""")
def precision_recall_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (precision, recall, f1)`` on three integer confusion matrices.
    Requires: three arrays, one value per class, scikit-learn's with ``zero_division=0`` (no NaN)."""
    for seen in _confusions():
        seen["got"] = call(compute, seen.cm.copy(), what=f"precision_recall_f1({seen.what})")
        seen["near"] = lambda a, b: np.allclose(a, b, atol=1e-6)
        if isinstance(seen.got, tuple | list) and len(seen.got) == 3:
            with np.errstate(all="ignore"):
                seen["arrays"] = [as_array(v, "a result").astype(float) for v in seen.got]
            seen["shapes"] = ", ".join(str(a.shape) for a in seen.arrays)
            seen["shown"] = [
                np.round(v, 3).tolist() for v in (*seen.arrays, seen.p, seen.r, seen.f)
            ]
        verdict(seen, PRF)
    passed("per-class precision, recall and F1 match scikit-learn (zero_division=0).")


WEIGHTED = "Weighted F1 = {weighted_got:.4f}; scikit-learn gives {weighted:.4f}: "
MACRO = "Macro F1 = {macro_got:.4f}; scikit-learn gives {macro:.4f}: "
F1 = [
    Mistake(lambda o: not o.numbers, "compute(cm) should return two numbers (macro_f1, weighted_f1), macro first; got {got!r:.120}."),
    Mistake(lambda o: o.near(o.macro_got, o.weighted) and o.near(o.weighted_got, o.macro), "Macro and weighted F1 are swapped: macro is the plain mean of the per-class F1, weighted by support."),
    Mistake(lambda o: not o.near(o.macro_got, o.macro) and o.near(o.macro_got, 2 * o.p.mean() * o.r.mean() / (o.p.mean() + o.r.mean())),
            MACRO + "you take the F1 of the averaged precision and recall, not the average of the per-class F1."),
    Mistake(lambda o: not o.near(o.macro_got, o.macro) and o.near(o.macro_got, np.trace(o.cm) / o.cm.sum()), MACRO + "that is the micro average (= accuracy)."),
    Mistake(lambda o: not o.near(o.macro_got, o.macro), MACRO + "macro F1 = the mean over classes of the per-class F1."),
    Mistake(lambda o: not o.near(o.weighted_got, o.weighted) and o.near(o.weighted_got, o.f @ o.cm.sum(0) / o.cm.sum()),
            WEIGHTED + "you weight by the predictions (column sums); the support counts the TRUE clips (row sums)."),
    Mistake(lambda o: not o.near(o.weighted_got, o.weighted) and o.near(o.weighted_got, o.f @ o.support), WEIGHTED + "divide the weighted sum by the total support."),
    Mistake(lambda o: not o.near(o.weighted_got, o.weighted), WEIGHTED + "weight each class's F1 by its support (row sums), over their total."),
]  # fmt: skip


@exercise("""Two averages of the per-class F1: every speaker the same (macro), or by its true clips.
Macro: the plain mean of the per-class F1 (not the F1 of mean P and R, not the accuracy).
weighted = the sum of f1 × support over the total support, the support being the row sums.""")
def macro_weighted_f1(compute: Callable[[np.ndarray], tuple]) -> None:
    """Check ``compute(cm) -> (macro_f1, weighted_f1)``. Requires: two numbers, macro first, equal to
    scikit-learn's on three integer confusion matrices."""
    for seen in _confusions():
        got = call(compute, seen.cm.copy(), what=f"macro_weighted_f1({seen.what})")
        numbers = isinstance(got, tuple | list) and len(got) == 2 and all(map(is_number, got))
        seen.update(got=got, numbers=numbers, near=lambda a, b: math.isclose(a, b, abs_tol=1e-6))
        macro, weighted = (float(v) for v in got) if numbers else (0.0, 0.0)
        seen.update(macro_got=macro, weighted_got=weighted)
        verdict(seen, F1)
    passed("macro and weighted F1 match scikit-learn on three confusion matrices.")


def _probe_model() -> nn.Module:
    """BatchNorm at three depths (a child, in a Sequential, in a Sequential in a Sequential), one 2-D."""
    stem = nn.Sequential(nn.Conv1d(3, 4, 3, padding=1), nn.BatchNorm1d(4), nn.ReLU())
    inner = nn.Sequential(nn.Conv1d(4, 4, 3, padding=1), nn.BatchNorm1d(4))
    block = nn.Sequential(inner, nn.ReLU())
    image = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.BatchNorm2d(2))
    model = nn.Sequential(nn.BatchNorm1d(3), stem, block, nn.Unflatten(1, (1, 4)), image)
    return model.extend([nn.Flatten(), nn.Linear(96, 5)])


LEFT = "BatchNorm layers are left in the model: {left_names}. "
BATCHNORM = [
    Mistake(lambda o: not isinstance(o.got, nn.Module), "without_batchnorm returned {kind}, not the model: return it (changed in place is fine)."),
    Mistake(lambda o: o.dotted, "The model gained layers named {dotted}: setattr with a dotted name adds a layer; set the child's own name on its parent."),
    Mistake(lambda o: o.left and {kind for _, kind in o.left} == {"BatchNorm2d"}, LEFT + "Replace BatchNorm2d too, not only BatchNorm1d."),
    Mistake(lambda o: o.left and all("." in name for name, _ in o.left), LEFT + "named_children() gives one level only: go down into the sub-modules too."),
    Mistake(lambda o: o.left, LEFT + "Look at every child of the model, and at their children."),
    Mistake(lambda o: o.changed, "Layers that are not BatchNorm were changed or removed: {changed}; replace only BatchNorm1d and BatchNorm2d."),
    Mistake(lambda o: o.not_identity, "The BatchNorm layers {removed} are not nn.Identity layers now: {not_identity}; nn.Identity() returns its input."),
    Mistake(lambda o: not o.same_weights, "The weights of the other layers changed: the model was rebuilt or re-initialised; change the model you are given."),
]  # fmt: skip


@exercise("""Replace every BatchNorm layer, however deep, by a layer that passes its input on; change nothing else.
named_children() gives the direct sub-modules: replace BatchNorm ones with setattr, go down into the rest.
A recursive function: each BatchNorm1d/2d child set to nn.Identity() on its parent, recurse otherwise.""")
def batchnorm_removed(without_batchnorm: Callable[[nn.Module], nn.Module]) -> None:
    """Check ``without_batchnorm(model) -> model``. Requires: the model returned; every
    BatchNorm1d/2d, at every depth, replaced on its parent by ``nn.Identity`` (no dotted attribute);
    every other layer and weight unchanged; it runs."""
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
    passed(f"{len(seen.removed)} BatchNorm layers (1-D, 2-D, every depth) replaced by nn.Identity.")


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
    Mistake(lambda o: not (isinstance(o.run, tuple | list) and len(o.run) == 3), "make_run({change!r}) returned {kind}; expected (model, optimizer, loss_fn), in that order."),
    Mistake(lambda o: o.shared, "Several rows share one model object: the second would start from the weights the first trained; build a new model in every call."),
    Mistake(lambda o: not (isinstance(o.run[0], nn.Module) and isinstance(o.run[1], torch.optim.Optimizer)),
            "make_run({change!r}) returned ({kinds}, ...); expected an nn.Module then a torch.optim optimizer."),
    Mistake(lambda o: {id(p) for p in o.run[0].parameters()} != {id(p) for g in o.run[1].param_groups for p in g["params"]},
            "In the row {change!r} the optimizer holds other parameters than the model's: build it from this row's model, after the model."),
]
ABLATION = [
    *(Mistake(lambda o, key=key, value=value: o.described["baseline"][key] != value,
              f"The baseline has {key} = {{described[baseline][{key}]!r}}; the table's baseline has {value!r}.") for key, value in BASELINE.items()),
    *(Mistake(lambda o, change=change, key=key, value=value: o.described[change][key] != value,
              f"The row {change!r} has {key} = {{described[{change}][{key}]!r}}, as the baseline: change what the row's name says.")
      for change, (key, value) in ABLATIONS.items() if key),
    *(Mistake(lambda o, change=change: o.also[change], f"The row {change!r} also changes {{also[{change}]}}: change one thing per row.") for change in ABLATIONS),
    *(Mistake(lambda o, change=change: not o.same_start[change], f"The row {change!r} starts from other initial weights than the baseline: seed every row's model alike.")
      for change in ("without BatchNorm", "SGD instead of AdamW", "without label smoothing")),
]
# fmt: on


@exercise("""Each row changes exactly one thing of the baseline and starts from the same weights.
Build everything afresh in each call: the same seed, its own optimizer on its parameters, the loss.
The baseline's three settings, then per name: no BatchNorm, no skips, SGD, or smoothing 0.""")
def ablation_runs(make_run: Callable[[str], tuple]) -> None:
    """Check ``make_run(change) -> (model, optimizer, loss_fn)`` for every row of the table.
    Requires: each row a new model, an optimizer on its parameters; the baseline with BatchNorm, skip
    connections, AdamW and label smoothing 0.1; each other row changing exactly what its name says;
    the rows that keep the architecture start from the baseline's initial weights."""
    runs = {change: call(make_run, change, what=f"make_run({change!r})") for change in ABLATIONS}
    models = [run[0] for run in runs.values() if isinstance(run, tuple | list) and len(run) == 3]
    for change, run in runs.items():
        seen = Observed(change=change, run=run, kind=type(run).__name__)
        seen["shared"] = len(models) == len(runs) and len(set(map(id, models))) < len(models)
        parts = run[:2] if isinstance(run, tuple | list) else []
        seen["kinds"] = ", ".join(type(part).__name__ for part in parts)
        verdict(seen, RUN)
    seen = Observed(described={}, same_start={}, also={})
    start = dict(runs["baseline"][0].named_parameters())
    for change, (model, optimizer, loss_fn) in runs.items():
        now = dict(zip(BASELINE, [
            any(isinstance(m, BATCH_NORMS) for m in model.modules()),
            all(getattr(m, "residual", True) is not False for m in model.modules()),
            type(optimizer).__name__,
            float(getattr(loss_fn, "label_smoothing", 0.0)),
        ]))  # fmt: skip
        weights, key = dict(model.named_parameters()), ABLATIONS[change][0]
        same = all(torch.equal(p, weights[n]) for n, p in start.items() if n in weights)
        also = [f"{k} {v!r} → {now[k]!r}" for k, v in BASELINE.items() if k != key and now[k] != v]
        seen.described[change], seen.same_start[change] = now, same
        seen.also[change] = ", ".join(also)
    verdict(seen, ABLATION, f"{len(ABLATIONS)} runs, one change each, same start.")
