"""Notebook 05's checks accept the reference answers and reject the mistakes students make."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from test_checks_core import Case, accepts, rejects, right, wrong
from torch import nn

from helpers import checks
from helpers.course import show_table
from helpers.models import make_model

# --------------------------------------------------------------------------------------------------
# train_one_epoch


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


def train_variant(**changes):
    """train_one_epoch with one step changed (the mistakes students make)."""

    def train(model, loader, optimizer, loss_fn, device):
        if not changes.get("no_train_mode"):
            model.train()
        if changes.get("zero_once"):
            optimizer.zero_grad()
        losses = []
        for x, y in loader:
            if not changes.get("not_moved"):
                x = x.to(device)
            if not changes.get("not_moved") and not changes.get("labels_not_moved"):
                y = y.to(device)
            if not changes.get("zero_once") and not changes.get("zero_after_backward"):
                optimizer.zero_grad()
            loss = loss_fn(model(x), y)
            if not changes.get("no_backward"):
                loss.backward()
            if changes.get("zero_after_backward"):
                optimizer.zero_grad()
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


def train_ascent(model, loader, optimizer, loss_fn, device):
    model.train()
    total = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = -loss_fn(model(x), y)  # gradient ascent
        loss.backward()
        optimizer.step()
        total += -loss.item()
    return total / len(loader)


def train_per_dataset_item(model, loader, optimizer, loss_fn, device):
    """Right on a DataLoader, but notebook 05's ablation cell passes a generator (no .dataset)."""
    model.train()
    total = 0.0
    for x, y in loader:
        x, y = x.to(device), y.to(device)
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
        total += loss.item() * len(y)
    return total / len(loader.dataset)


TRAIN_WRONG = {
    "no train mode": ({"no_train_mode": True}, "evaluation mode during training"),
    "batch never moved": ({"not_moved": True}, "without being moved to the device"),
    "labels not moved": ({"labels_not_moved": True}, "labels of 7 batches"),
    "zero_grad once": ({"zero_once": True}, "added up"),
    "zero_grad after backward": ({"zero_after_backward": True}, "reset after backward"),
    "no backward": ({"no_backward": True}, "backward\\(\\) ran 0 times"),
    "no step": ({"no_step": True}, "stepped 0 times"),
    "tensor returned": ({"tensor": True}, "attached to the computation graph"),
    "last loss": ({"last": True}, "last batch only"),
    "sum": ({"sum": True}, "sum of the batch losses"),
}


# --------------------------------------------------------------------------------------------------
# The comparison table


def rows():
    return [
        {
            "model": "dense",
            "feature": "mfcc_pooled",
            "parameters": 10,
            "epochs": 4,
            "seconds": 3.5,
            "accuracy": 0.5,
            "utterance_accuracy": 0.6,
        },
        {
            "model": "cnn1d",
            "feature": "mfcc",
            "parameters": 20,
            "epochs": 4,
            "seconds": 6.1,
            "accuracy": 0.7,
            "utterance_accuracy": 0.8,
        },
        {
            "model": "cnn2d",
            "feature": "spectrogram",
            "parameters": 30,
            "epochs": 3,
            "seconds": 9.0,
            "accuracy": 0.6,
            "utterance_accuracy": 0.7,
        },
    ]


def changed_rows(index: int, **changes):
    table = copy.deepcopy(rows())
    for key, value in changes.items():
        if value is None:
            del table[index][key]
        else:
            table[index][key] = value
    return table


class History:
    def __init__(self, epochs):
        self.epoch = list(range(1, epochs + 1))


def models_of(table, **changes):
    """Runs as train_and_evaluate returns them: models whose parameter counts are those of the rows
    (a Linear with n weights, no bias), histories of the rows' epochs, and the other keys."""
    runs = {}
    for row in table:
        run = {
            "model": nn.Linear(row["parameters"], 1, bias=False),
            "feature": row["feature"],
            "history": History(row["epochs"]),
            "result": {},
            "val_set": [],
            "transform": None,
        }
        for key, value in changes.items():
            if value is None:
                del run[key]
            else:
                run[key] = value
        runs[row["model"]] = run
    return runs


# --------------------------------------------------------------------------------------------------
# Utterance scores and top predictions


def utterance_log_probs(model, crops):
    model.eval()
    with torch.no_grad():
        return torch.log_softmax(model(crops), dim=1).mean(dim=0)


def scores_variant(
    train_mode=False, grad=False, combine=lambda logits: torch.log_softmax(logits, 1).mean(0)
):
    def score(model, crops):
        if not train_mode:
            model.eval()
        with torch.set_grad_enabled(grad):
            return combine(model(crops))

    return score


def top_speakers(logits, names, k=3):
    probabilities = torch.softmax(torch.as_tensor(logits, dtype=torch.float32), dim=-1)
    values, indices = torch.topk(probabilities, k)
    return [(names[int(i)], float(p)) for p, i in zip(values, indices)]


def top_tensors_only(logits, names, k=3):
    """Right on a tensor; the cell after the exercise passes evaluate's numpy logits."""
    values, indices = torch.topk(torch.softmax(logits, dim=-1), k)
    return [(names[int(i)], float(p)) for p, i in zip(values, indices)]


def top_logits(logits, names, k=3):
    values, indices = torch.topk(logits, k)
    return [(names[int(i)], float(v)) for v, i in zip(values, indices)]


def top_indices(logits, names, k=3):
    probabilities = torch.softmax(logits, -1)
    values, indices = torch.topk(probabilities, k)
    return [(int(i), float(p)) for p, i in zip(values, indices)]


def top_softmax_of_top(logits, names, k=3):
    values, indices = torch.topk(logits, k)
    return [(names[int(i)], float(p)) for p, i in zip(torch.softmax(values, 0), indices)]


# --------------------------------------------------------------------------------------------------
# Precision, recall, F1


def precision_recall_f1(cm):
    cm = np.asarray(cm, dtype=float)
    hits = np.diag(cm)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, actual, out=np.zeros_like(hits), where=actual > 0)
    both = precision + recall
    f1 = np.divide(2 * precision * recall, both, out=np.zeros_like(hits), where=both > 0)
    return precision, recall, f1


def macro_weighted_f1(cm):
    _, _, f1 = precision_recall_f1(cm)
    support = np.asarray(cm).sum(axis=1)
    return float(f1.mean()), float((f1 * support).sum() / support.sum())


def prf_swapped(cm):
    p, r, f = precision_recall_f1(cm)
    return r, p, f


def prf_nan(cm):
    cm = np.asarray(cm, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = np.diag(cm) / cm.sum(0)
        r = np.diag(cm) / cm.sum(1)
        return p, r, 2 * p * r / (p + r)


def prf_arithmetic(cm):
    p, r, _ = precision_recall_f1(cm)
    return p, r, (p + r) / 2


def prf_recall_by_columns(cm):
    p, _, _ = precision_recall_f1(cm)
    r = np.diag(cm) / np.maximum(np.asarray(cm).sum(0), 1)  # both over the columns
    both = p + r
    return p, r, np.divide(2 * p * r, both, out=np.zeros_like(both), where=both > 0)


def f1_swapped(cm):
    macro, weighted = macro_weighted_f1(cm)
    return weighted, macro


def f1_of_means(cm):
    p, r, _ = precision_recall_f1(cm)
    return float(2 * p.mean() * r.mean() / (p.mean() + r.mean())), macro_weighted_f1(cm)[1]


def f1_micro(cm):
    return float(np.trace(cm) / np.sum(cm)), macro_weighted_f1(cm)[1]


def f1_by_predictions(cm):
    _, _, f1 = precision_recall_f1(cm)
    predicted = np.asarray(cm).sum(0)
    return macro_weighted_f1(cm)[0], float((f1 * predicted).sum() / predicted.sum())


def f1_unnormalised(cm):
    _, _, f1 = precision_recall_f1(cm)
    return macro_weighted_f1(cm)[0], float((f1 * np.asarray(cm).sum(1)).sum())


# --------------------------------------------------------------------------------------------------
# Without BatchNorm, and the ablation table

BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def without_batchnorm(model):
    for name, child in model.named_children():
        if isinstance(child, BATCH_NORMS):
            setattr(model, name, nn.Identity())
        else:
            without_batchnorm(child)
    return model


def without_batchnorm_top_level(model):
    for name, child in model.named_children():
        if isinstance(child, BATCH_NORMS):
            setattr(model, name, nn.Identity())
    return model


def without_batchnorm_1d(model):
    for name, child in model.named_children():
        if isinstance(child, nn.BatchNorm1d):
            setattr(model, name, nn.Identity())
        else:
            without_batchnorm_1d(child)
    return model


def without_batchnorm_dotted(model):
    for name, module in list(model.named_modules()):
        if isinstance(module, BATCH_NORMS):
            setattr(model, name, nn.Identity())
    return model


def without_batchnorm_none(model):
    for name, child in model.named_children():
        if isinstance(child, BATCH_NORMS):
            setattr(model, name, None)
        else:
            without_batchnorm_none(child)
    return model


def without_batchnorm_in_place_only(model):
    without_batchnorm(model)


def without_batchnorm_and_dropout(model):
    for name, child in model.named_children():
        if isinstance(child, (*BATCH_NORMS, nn.ReLU)):
            setattr(model, name, nn.Identity())
        else:
            without_batchnorm_and_dropout(child)
    return model


N_FEATURES, N_CLASSES = 8, 5


def run_variant(
    seed=lambda change: 0,
    reuse=False,
    optimizer_of_another=False,
    sgd_no_smoothing=False,
    residuals_by_batchnorm=False,
    baseline_smoothing=0.1,
):
    shared = {}

    def make_run(change):
        residual = change != "without residuals" or residuals_by_batchnorm
        if reuse and "model" in shared:
            model = shared["model"]
        else:
            model = make_model("cnn1d", N_FEATURES, N_CLASSES, seed=seed(change), residual=residual)
            shared["model"] = model
        if change == "without BatchNorm" or (
            residuals_by_batchnorm and change == "without residuals"
        ):
            model = without_batchnorm(model)
        params = model.parameters()
        if optimizer_of_another and change == "without residuals":
            params = make_model("cnn1d", N_FEATURES, N_CLASSES, seed=0).parameters()
        if change == "SGD instead of AdamW":
            optimizer = torch.optim.SGD(params, lr=0.05, momentum=0.9)
        else:
            optimizer = torch.optim.AdamW(params, lr=1e-3, weight_decay=0.05)
        smoothing = baseline_smoothing
        if change == "without label smoothing" or (
            sgd_no_smoothing and change == "SGD instead of AdamW"
        ):
            smoothing = 0.0
        return model, optimizer, nn.CrossEntropyLoss(label_smoothing=smoothing)

    return make_run


COUNTER = iter(range(10**6))


CASES: list[Case] = [
    right("train_one_epoch", "reference", lambda: (train_one_epoch,)),
    *(
        wrong("train_one_epoch", label, lambda c=c: (train_variant(**c),), match)
        for label, (c, match) in TRAIN_WRONG.items()
    ),
    wrong("train_one_epoch", "gradient ascent", lambda: (train_ascent,), "loss went from"),
    wrong(
        "train_one_epoch",
        "len(loader.dataset)",
        lambda: (train_per_dataset_item,),
        "fails on a generator of batches.*no .dataset",
    ),
    right("model_comparison", "reference", lambda: (rows(),)),
    right("model_comparison", "with the models", lambda: (rows(), models_of(rows()))),
    wrong("model_comparison", "two rows", lambda: (rows()[:2],), "at least 3 rows"),
    wrong(
        "model_comparison",
        "percentage",
        lambda: (changed_rows(0, accuracy=50.0),),
        "not a fraction",
    ),
    wrong(
        "model_comparison",
        "dense on frames",
        lambda: (changed_rows(0, feature="mfcc"),),
        "dense is paired",
    ),
    wrong(
        "model_comparison",
        "missing key",
        lambda: (changed_rows(1, utterance_accuracy=None),),
        "lacks",
    ),
    wrong(
        "model_comparison",
        "one count for all",
        lambda: ([{**row, "parameters": 10} for row in rows()],),
        "Every row says 10 parameters",
    ),
    wrong(
        "model_comparison",
        "another model's count",
        lambda: (changed_rows(2, parameters=20), models_of(rows())),
        "the trained cnn2d model has 30",
    ),
    wrong(
        "model_comparison",
        "run without its history",
        lambda: (rows(), models_of(rows(), history=None)),
        "lacks \\['history'\\]",
    ),
    wrong(
        "model_comparison",
        "epochs not the history's",
        lambda: (rows(), models_of(rows(), history=History(7))),
        "its history has 7 epochs",
    ),
    wrong("model_comparison", "a row per epoch", lambda: (rows() + rows()[:1],), "several rows"),
    wrong(
        "model_comparison",
        "result dict as accuracy",
        lambda: (changed_rows(1, accuracy={"accuracy": 0.7}),),
        "not a fraction",
    ),
    right("utterance_scores", "reference", lambda: (utterance_log_probs,)),
    wrong(
        "utterance_scores",
        "training mode",
        lambda: (scores_variant(train_mode=True),),
        "training mode",
    ),
    wrong(
        "utterance_scores", "gradients", lambda: (scores_variant(grad=True),), "gradient recording"
    ),
    wrong(
        "utterance_scores",
        "mean logits",
        lambda: (scores_variant(combine=lambda z: z.mean(0)),),
        "raw logits",
    ),
    wrong(
        "utterance_scores",
        "mean probabilities",
        lambda: (scores_variant(combine=lambda z: torch.softmax(z, 1).mean(0)),),
        "average probabilities",
    ),
    wrong(
        "utterance_scores",
        "softmax over crops",
        lambda: (scores_variant(combine=lambda z: torch.log_softmax(z, 0).mean(0)),),
        "over the crops",
    ),
    wrong(
        "utterance_scores",
        "sum",
        lambda: (scores_variant(combine=lambda z: torch.log_softmax(z, 1).sum(0)),),
        "add up",
    ),
    wrong(
        "utterance_scores",
        "per crop",
        lambda: (scores_variant(combine=lambda z: torch.log_softmax(z, 1)),),
        "not averaged",
    ),
    right("top_predictions", "reference", lambda: (top_speakers,)),
    wrong("top_predictions", "logits", lambda: (top_logits,), "logits, not probabilities"),
    wrong(
        "top_predictions",
        "tensors only",
        lambda: (top_tensors_only,),
        "fails on a numpy array",
    ),
    wrong(
        "top_predictions",
        "ascending",
        lambda: (lambda z, n, k: top_speakers(z, n, k)[::-1],),
        "least likely first",
    ),
    wrong(
        "top_predictions",
        "k ignored",
        lambda: (lambda z, n, k: top_speakers(z, n, 3),),
        "use the k argument",
    ),
    wrong("top_predictions", "indices", lambda: (top_indices,), "speaker name"),
    wrong(
        "top_predictions",
        "softmax of the top k",
        lambda: (top_softmax_of_top,),
        "before keeping the top k",
    ),
    right("precision_recall_f1", "reference", lambda: (precision_recall_f1,)),
    wrong("precision_recall_f1", "swapped", lambda: (prf_swapped,), "swapped"),
    wrong("precision_recall_f1", "NaN", lambda: (prf_nan,), "NaN.*zero_division"),
    wrong("precision_recall_f1", "arithmetic mean", lambda: (prf_arithmetic,), "harmonic mean"),
    wrong(
        "precision_recall_f1",
        "recall by columns",
        lambda: (prf_recall_by_columns,),
        "Recall differs.*row k",
    ),
    right("macro_weighted_f1", "reference", lambda: (macro_weighted_f1,)),
    wrong("macro_weighted_f1", "swapped", lambda: (f1_swapped,), "swapped"),
    wrong("macro_weighted_f1", "F1 of means", lambda: (f1_of_means,), "F1 of the averaged"),
    wrong("macro_weighted_f1", "micro", lambda: (f1_micro,), "micro average"),
    wrong("macro_weighted_f1", "by predictions", lambda: (f1_by_predictions,), "TRUE clips"),
    wrong(
        "macro_weighted_f1", "not normalised", lambda: (f1_unnormalised,), "divide the weighted sum"
    ),
    right("batchnorm_removed", "reference", lambda: (without_batchnorm,)),
    wrong("batchnorm_removed", "top level only", lambda: (without_batchnorm_top_level,), "go down"),
    wrong("batchnorm_removed", "1-D only", lambda: (without_batchnorm_1d,), "BatchNorm2d too"),
    wrong("batchnorm_removed", "dotted names", lambda: (without_batchnorm_dotted,), "dotted name"),
    wrong("batchnorm_removed", "set to None", lambda: (without_batchnorm_none,), "not nn.Identity"),
    wrong(
        "batchnorm_removed",
        "returns None",
        lambda: (without_batchnorm_in_place_only,),
        "returned NoneType",
    ),
    wrong(
        "batchnorm_removed",
        "ReLU too",
        lambda: (without_batchnorm_and_dropout,),
        "not BatchNorm were changed",
    ),
    right("ablation_runs", "reference", lambda: (run_variant(),)),
    wrong("ablation_runs", "one model", lambda: (run_variant(reuse=True),), "share one model"),
    wrong(
        "ablation_runs",
        "unseeded",
        lambda: (run_variant(seed=lambda change: next(COUNTER)),),
        "other initial weights",
    ),
    wrong(
        "ablation_runs",
        "optimizer of another model",
        lambda: (run_variant(optimizer_of_another=True),),
        "other parameters than the model",
    ),
    wrong(
        "ablation_runs",
        "two changes",
        lambda: (run_variant(sgd_no_smoothing=True),),
        "also changes label smoothing 0.1 → 0.0",
    ),
    wrong(
        "ablation_runs",
        "wrong change",
        lambda: (run_variant(residuals_by_batchnorm=True),),
        "'without residuals' has skip connections = True",
    ),
    wrong(
        "ablation_runs",
        "baseline without smoothing",
        lambda: (run_variant(baseline_smoothing=0.0),),
        "baseline has label smoothing = 0.0",
    ),
]


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> None:
    accepts(case, capsys)


@pytest.mark.parametrize("case", [c for c in CASES if c.match is not None], ids=str)
def test_rejects(case: Case) -> None:
    rejects(case)


# --------------------------------------------------------------------------------------------------
# The given cells after each exercise of solutions/05_training.ipynb, fed the types the notebook passes
# them: every answer its check accepts runs through them (issue 18, "the student's path holds").

CPU = torch.device("cpu")


def after_train_one_epoch(train):
    """Section 2's loop (a DataLoader, Adam), then the ablation cell's generator of batches."""
    from torch.utils.data import DataLoader, TensorDataset

    loader = DataLoader(TensorDataset(torch.randn(40, 8), torch.arange(40) % 4), batch_size=16)
    model = make_model("dense", 8, 4, seed=0)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = [train(model, loader, optimizer, nn.CrossEntropyLoss(), CPU)]
    on_device = ((x.to(CPU), y) for x, y in loader)
    losses.append(train(model, on_device, optimizer, nn.CrossEntropyLoss(label_smoothing=0.1), CPU))
    print(f"training loss {losses[0]:.3f}, {losses[-1]:.3f}")


def after_model_comparison(table, trained=None):
    """The table shown, the best row picked; its run's model, history, result, set and transform."""
    show_table(table, {"parameters": "{:,}", "seconds": "{:.0f}", "accuracy": "{:.1%}"})
    best_row = max(table, key=lambda row: (row["utterance_accuracy"], row["accuracy"]))
    if trained is not None:
        best = trained[best_row["model"]]
        assert len(best["history"].epoch) == best_row["epochs"]
        assert {"model", "val_set", "transform", "result", "feature"} <= set(best)


def after_utterance_scores(score):
    """The best model (a kit cnn1d) scores each validation file's crops (n_crops, 40, frames)."""
    model = make_model("cnn1d", 40, 8, channels=16, seed=0)
    assert 0 <= int(score(model, torch.randn(3, 40, 301)).argmax()) < 8


def after_top_predictions(top):
    """The examples table: one row of evaluate's float32 numpy logits per file, NAMES a list."""
    logits = np.random.default_rng(0).normal(size=(3, 5)).astype(np.float32)
    for row in logits:
        print("  ".join(f"{name} {p:.0%}" for name, p in top(row, ["a", "b", "c", "d", "e"], k=3)))


def after_precision_recall_f1(compute):
    """The metrics cell: confusion()'s integer matrix, the per-class values indexed and sorted."""
    from helpers.metrics import confusion

    cm = confusion(np.array([0, 1, 2, 2, 1, 0, 2]), np.array([0, 2, 2, 2, 1, 1, 0]), 4)
    precision, recall, f1 = compute(cm)
    hardest = [
        {"precision": precision[k], "recall": recall[k], "F1": f1[k]} for k in np.argsort(f1)
    ]
    show_table(hardest, {"precision": "{:.2f}", "F1": "{:.2f}"})


def after_macro_weighted_f1(compute):
    from helpers.metrics import confusion

    macro, weighted = compute(confusion(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 1]), 3))
    print(f"macro F1    {macro:.4f}\nweighted F1 {weighted:.4f}")


def after_batchnorm_removed(without):
    """make_run's use: the kit's cnn1d without BatchNorm trains."""
    model = without(make_model("cnn1d", N_FEATURES, N_CLASSES, channels=16, seed=0)).train()
    model(torch.randn(4, N_FEATURES, 50)).sum().backward()


def after_ablation_runs(make_run):
    """The ablation cell: each run moved to the device and trained by train_one_epoch."""
    batches = [(torch.randn(4, N_FEATURES, 50), torch.arange(4) % N_CLASSES)]
    for change in checks.training.ABLATIONS:
        model, optimizer, loss_fn = make_run(change)
        train_one_epoch(model.to(CPU), iter(batches), optimizer, loss_fn, CPU)


NEXT_CELLS = {
    "train_one_epoch": after_train_one_epoch,
    "model_comparison": after_model_comparison,
    "utterance_scores": after_utterance_scores,
    "top_predictions": after_top_predictions,
    "precision_recall_f1": after_precision_recall_f1,
    "macro_weighted_f1": after_macro_weighted_f1,
    "batchnorm_removed": after_batchnorm_removed,
    "ablation_runs": after_ablation_runs,
}


@pytest.mark.parametrize("case", [c for c in CASES if c.match is None], ids=str)
def test_what_the_check_accepts_runs_in_the_cells_after_it(case: Case, capsys) -> None:
    assert set(NEXT_CELLS) == {c.check for c in CASES}
    NEXT_CELLS[case.check](*case.args())
