"""Checks for notebook 04, models: a classifier's contract and architecture, parameters, pooling.

A model takes ``(batch, n_features[, frames])``; ``model.embed(x)`` gives ``(batch, embedding_dim)``,
``model(x)`` one raw score per speaker ``(batch, n_classes)``."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from .core import (
    BATCH_NORMS,
    Mistake,
    Observed,
    call,
    exercise,
    is_module,
    modules_run,
    passed,
    trainable,
    verdict,
)

__all__ = ["classifier", "parameter_count", "parameter_formula", "statistics_pooling"]

BATCH, FRAMES = 4, (301, 151)  # 3 s and 1.5 s of 10-ms frames
FAMILIES = {  # family → what its ✓ line says it has
    "dense": "a hidden layer with BatchNorm and Dropout, a signed embedding",
    "cnn1d": "BatchNorm, skip connections, mean+std pooling",
    "cnn2d": "2-D convolutions, BatchNorm, skip connections, mean+std pooling",
}
SHAPE = "For an input {x} the output is {got}; expected (batch, n_classes) = {wanted}: "


# fmt: off
OUTPUTS = [
    Mistake(lambda o: o.failed, "The model works for clips of {first} frames but fails for {failed}: a layer depends on the clip length; pool over time before the classifier."),
    Mistake(lambda o: o.kind != "Tensor", "model(x) should return a tensor of scores, got {kind}: forward ends with the last Linear layer's output."),
    Mistake(lambda o: o.got != o.wanted and o.got[:1] == o.wanted[:1] and len(o.x) == 3, SHAPE + "pool over time before the classifier instead of flattening the time axis."),
    Mistake(lambda o: o.got != o.wanted and o.got[-1:] != o.wanted[-1:], SHAPE + "the last Linear layer has out_features = n_classes."),
    Mistake(lambda o: o.got != o.wanted, SHAPE + "keep the batch axis first and flatten the rest before the last Linear layer."),
    Mistake(lambda o: not o.finite, "The output holds NaN or infinite values: a division by zero or a log of zero?"),
    Mistake(lambda o: o.probabilities, "Each output row sums to 1: these are probabilities; return raw scores (logits), as nn.CrossEntropyLoss applies log-softmax itself."),
    Mistake(lambda o: not o.alone_ok, "In evaluation mode a clip's scores change with the other clips of its batch: normalise or pool over time or features, never over the batch axis."),
    Mistake(lambda o: not o.has_embed, "The model has no embed(x) method: embed(x) returns the penultimate features (batch, embedding_dim), forward applies the last Linear layer to them."),
    Mistake(lambda o: o.shape is None or len(o.shape) != 2, "embed(x) should return (batch, embedding_dim); got {shape}: pool over time and flatten first."),
    Mistake(lambda o: o.shape[0] != BATCH, "embed(x) gives {shape} for a batch of 4: keep the batch axis first; pool over time, not over the batch."),
    Mistake(lambda o: o.declared not in (None, o.shape[1]), "model.embedding_dim is {declared} but embed(x) returns {shape}: make it the penultimate layer's size."),
    Mistake(lambda o: o.non_negative, "Every value of embed(x) is ≥ 0: the embedding goes through a ReLU at its end; cosine scoring (notebook 07) needs signed embeddings."),
]
ARCHITECTURE = [
    Mistake(lambda o: not o.batchnorm, "No BatchNorm layer runs in the forward pass: one after each Linear (dense) or convolution (CNNs), before the ReLU."),
    Mistake(lambda o: o.dense and o.linears < 3, "{linears} Linear layer(s) run: the exercise asks for three, the hidden layer, the embedding layer and the head."),
    Mistake(lambda o: o.dense and not o.dropout, "No Dropout layer runs in the forward pass: end the hidden layer with Dropout, and apply it before the head too."),
    Mistake(lambda o: not (o.dense or o.conv), "No {wanted_conv} layer runs{other_conv}: cnn2d convolves the (frequency, time) image with Conv2d, cnn1d takes the bins as Conv1d channels."),
    Mistake(lambda o: not (o.dense or o.skip), "No skip connection: with its convolutions zeroed, no block passes its input on; a residual block returns relu(x + F(x))."),
    Mistake(lambda o: not (o.dense or o.timed), "No feature map with a time axis: the model pools before any layer runs; convolve first, then pool over time."),
    Mistake(lambda o: not (o.dense or o.sees_spread), "The embedding ignores how much the maps before pooling vary over time: the pooling keeps only the mean, not the standard deviation too."),
    Mistake(lambda o: not (o.dense or o.only_moments), "The embedding changes when the maps before pooling are mirrored around their mean over time: the pooling keeps something else (a maximum?)."),
    Mistake(lambda o: o.silent, "These parameters get no gradient, so they never learn: {silent}. A layer made in __init__ but unused in forward (or embed)?"),
]
# fmt: on


@exercise("""One score per speaker for clips of any length, an embed(x) method, and the parts listed.
dense: Linear, BatchNorm1d, ReLU, Dropout, then the embedding layer; CNNs: residual blocks, mean+std.
A skip adds the block's input to its output; no softmax at the end, no ReLU after the embedding.""")
def classifier(
    model: nn.Module, n_features: int, n_classes: int, family: str, frames: tuple = FRAMES
) -> None:
    """Check a classifier of notebook 04 (``family`` "dense", "cnn1d" or "cnn2d") on float32 batches.
    Requires: an ``nn.Module``; ``model(x)`` finite raw scores ``(batch, n_classes)`` for every clip
    length in ``frames`` (dense: no frames), in eval mode independent of the batch; ``embed(x)``
    ``(batch, embedding_dim)``, signed; BatchNorm; dense: 3 Linear layers, Dropout; CNNs: the
    family's convolution, a skip, mean+std pooling; every parameter learns."""
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {tuple(FAMILIES)}, not {family!r}")
    is_module(model, "an instance of your class")
    was_training = model.training
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    sizes = [(n_features,)] if family == "dense" else [(n_features, t) for t in frames]
    inputs = [torch.randn(BATCH, *s, generator=generator).to(device) for s in sizes]
    try:
        with torch.no_grad():
            verdict(_outputs(model.eval(), inputs, n_classes), OUTPUTS)
            seen = _architecture(model, inputs[0], family)
        model.train().zero_grad(set_to_none=True)
        call(model, inputs[-1], what="model(x) in training mode").float().square().mean().backward()
        silent = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
        seen["silent"] = ", ".join(silent[:5])
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    shown = " and ".join(f"{tuple(x.shape)} → {(BATCH, n_classes)}" for x in inputs)
    ok = f"{type(model).__name__}: {shown}; {FAMILIES[family]}; embeddings of size {seen.size}; "
    verdict(seen, ARCHITECTURE, ok + f"{trainable(model):,} trainable parameters.")


def _outputs(model: nn.Module, inputs: list[torch.Tensor], n_classes: int) -> Observed:
    """The first wrong output (or the last), its finiteness, batch independence, the embedding."""
    first = call(model, inputs[0], what=f"model(x) for x of shape {tuple(inputs[0].shape)}")
    seen = Observed(first=inputs[0].shape[-1], failed="", wanted=(BATCH, n_classes))
    seen["has_embed"] = callable(getattr(model, "embed", None))
    for x in inputs:
        try:
            out = first if x is inputs[0] else model(x)
        except Exception as error:  # the student's model may raise anything
            seen["failed"] = f"{x.shape[-1]} frames ({type(error).__name__}: {error})"
            return seen
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else ()
        seen.update(kind=type(out).__name__, x=tuple(x.shape), got=got)
        if got != seen.wanted:
            return seen
    alone = call(model, inputs[0][:1], what="model(x) for a batch of one clip")
    seen.update(finite=bool(torch.isfinite(first).all()), probabilities=bool((first >= 0).all()))
    seen["probabilities"] &= torch.allclose(first.sum(1), torch.ones_like(first[:, 0]), atol=1e-4)
    seen["alone_ok"] = torch.allclose(alone, first[:1], atol=1e-4, rtol=1e-3)
    if not seen.has_embed:
        return seen
    embedding = call(model.embed, inputs[0], what="model.embed(x)")
    seen["shape"] = tuple(embedding.shape) if isinstance(embedding, torch.Tensor) else None
    seen["declared"] = getattr(model, "embedding_dim", None)
    seen["non_negative"] = seen.shape and bool((embedding >= 0).all())
    return seen


def _architecture(model: nn.Module, x: torch.Tensor, family: str) -> Observed:
    """What one forward pass shows (eval mode, no grad): the layers run, skips, the pooling."""
    calls = [c for c in modules_run(model, x, what="model(x)")[1] if c[0] is not model]
    ran, embedding = [c[0] for c in calls], model.embed(x)
    conv, other = (nn.Conv2d, nn.Conv1d) if family == "cnn2d" else (nn.Conv1d, nn.Conv2d)
    timed = [
        m for m, _, o, *_ in calls if isinstance(o, torch.Tensor) and o.ndim > 2 and o.shape[-1] > 1
    ]
    seen = Observed(dense=family == "dense", wanted_conv=conv.__name__, timed=bool(timed))
    seen.update(size=embedding.shape[1], linears=sum(isinstance(m, nn.Linear) for m in ran))
    seen["other_conv"] = f"; the model uses {other.__name__}" if other in map(type, ran) else ""
    seen.update(batchnorm=any(isinstance(m, BATCH_NORMS) for m in ran), conv=conv in map(type, ran))
    seen.update(dropout=any(isinstance(m, nn.Dropout) for m in ran))
    seen["skip"] = seen.dense or any(_passes_input_on(m, i) for m, i, *_ in calls)
    if not seen.dense and timed:
        tolerance = 1e-4 * float(embedding.abs().max()) + 1e-5

        def scaled(scale: float) -> bool:  # the last time maps scaled around their mean
            def change(module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
                return out.mean(-1, keepdim=True) * (1 - scale) + scale * out

            with timed[-1].register_forward_hook(change):
                return torch.allclose(model.embed(x), embedding, atol=tolerance)

        seen.update(sees_spread=not scaled(2.0), only_moments=scaled(-1.0))
    return seen


def _passes_input_on(module: nn.Module, inputs: object) -> bool:
    """True if ``module`` holds ≥ 2 spatial convolutions and, with them zeroed, still uses its input."""
    convs = [m for m in module.modules() if isinstance(m, nn.Conv1d | nn.Conv2d)]
    convs = [m for m in convs if max(m.kernel_size) > 1]
    if len(convs) < 2 or not isinstance(inputs, torch.Tensor):
        return False
    switched_off, convs = copy.deepcopy((module, convs))  # in eval mode, as the model
    for p in (p for conv in convs for p in conv.parameters()):
        nn.init.zeros_(p)
    try:
        a, b = switched_off(inputs), switched_off(inputs.flip(0))
    except Exception:  # a module that needs more than one input: not a block
        return False
    return isinstance(a, torch.Tensor) and not torch.allclose(a, b, atol=1e-6)


POOLING = [
    Mistake(lambda o: o.kind != "Tensor", "pool(x) should return a tensor, got {kind}: use torch operations on the tensor."),
    Mistake(lambda o: o.shape == (3, 5), "The output has one value per channel: only one statistic; the mean AND the standard deviation over time."),
    Mistake(lambda o: o.shape == (6, 5), "The output has shape (6, 5): the statistics are stacked along the batch axis; concatenate along dim 1."),
    Mistake(lambda o: o.shape == (3, 2, 5), "The output has shape (3, 2, 5): the statistics are stacked on a new axis; concatenate along dim 1."),
    Mistake(lambda o: o.shape != (3, 10), "For x of shape (3, 5, 50) the output is {shape}; expected (3, 10): statistics over the last axis, side by side."),
    Mistake(lambda o: o.halves(o.std, o.mean), "The standard deviations come before the means: the course's convention is the means first."),
    Mistake(lambda o: not o.halves(o.mean, None), "The first half is not the mean over time of each channel (over the last axis)."),
    Mistake(lambda o: any(o.halves(None, o.x.var(-1, correction=c)) for c in (0, 1)), "The second half is the variance, not the standard deviation (its square root)."),
    Mistake(lambda o: not any(o.halves(None, o.x.std(-1, correction=c)) for c in (0, 1)), "The second half is not the standard deviation over time of each channel (over the last axis)."),
]  # fmt: skip


@exercise("""Two statistics per channel, computed over time (the last axis), then put side by side.
(batch, 2 × channels): every channel's mean, then every channel's standard deviation (not variance).
The mean and the std over the last axis, each (B, C), concatenated along dim 1 in that order.""")
def statistics_pooling(pool: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``pool(x)``: ``(batch, channels, frames)`` → ``(batch, 2 * channels)`` float tensors.
    Requires: a tensor of that shape, the means over time then the standard deviations (biased or
    not; not the variances)."""
    x = torch.randn(3, 5, 50, generator=torch.Generator().manual_seed(1))
    x = x * torch.arange(1.0, 6.0).view(1, 5, 1) + 2.0
    out = call(pool, x.clone(), what="stats_pool(x) for x of shape (3, 5, 50)")
    shape = tuple(out.shape) if isinstance(out, torch.Tensor) else None
    seen = Observed(kind=type(out).__name__, shape=shape, x=x, mean=x.mean(-1), std=x.std(-1))

    def halves(first: torch.Tensor | None, second: torch.Tensor | None) -> bool:
        parts = zip(out.split(5, 1), (first, second), strict=True)
        return all(v is None or torch.allclose(part, v, atol=1e-3) for part, v in parts)

    seen["halves"] = halves
    ok = "statistics pooling: (3, 5, 50) → (3, 10), the mean then the standard deviation over time."
    verdict(seen, POOLING, ok)


# fmt: off
COUNT = [
    Mistake(lambda o: not isinstance(o.got, int | torch.Tensor) or isinstance(o.got, bool), "count(model) should return an int, got {kind}."),
    Mistake(lambda o: int(o.got) == sum(p.numel() for p in o.model.parameters()), "On {name} you count {got}, frozen ones included; the trainable parameters are {wanted}."),
    Mistake(lambda o: int(o.got) == sum(p.numel() for n, p in o.model.named_parameters() if p.requires_grad and "bias" not in n),
            "On {name} you count {got}, the weights without the biases; the trainable parameters are {wanted}."),
    Mistake(lambda o: int(o.got) - o.wanted in {sum(b.numel() for b in o.model.buffers() if f or b.is_floating_point()) for f in (0, 1)},
            "On {name} you count {got}, with the buffers (BatchNorm's running statistics), which are not learned; the parameters are {wanted}."),
    Mistake(lambda o: int(o.got) in (len(list(o.model.parameters())), sum(p.requires_grad for p in o.model.parameters())),
            "On {name} you count {got}, the parameter tensors, not of numbers: add up the number of values each holds."),
    Mistake(lambda o: True, "On {name} you count {got} parameters; it has {wanted} trainable ones (the values of the parameters that require a gradient)."),
]
FORMULA = [
    Mistake(lambda o: o.got == o.wanted - o.n_classes - o.hidden, "{case}: each Linear layer also has one bias per output."),
    Mistake(lambda o: o.got == o.wanted - 2 * o.hidden, "{case}: BatchNorm1d learns a scale and a shift per feature (2 × hidden)."),
    Mistake(lambda o: o.got == o.wanted + 2 * o.hidden, "{case}: BatchNorm's running mean and variance are buffers, not learned parameters."),
    Mistake(lambda o: o.got != o.wanted, "{case}: count each layer (a Linear has weights and biases, BatchNorm1d 2 per feature, ReLU and Dropout none)."),
]
# fmt: on


@exercise("""Count the numbers that training changes: the values of the parameters that need a gradient.
A parameter is a tensor of many values; a frozen one is not trained; running statistics are buffers.
Add up the number of elements of each parameter that requires a gradient; return that int.""")
def parameter_count(count: Callable[[nn.Module], int]) -> None:
    """Check ``count(model)`` on a model with a frozen layer and a small CNN. Requires: an int (or a
    one-value tensor), the values of the parameters that require a gradient (biases included)."""
    frozen = nn.Sequential(nn.Linear(10, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    frozen[0].requires_grad_(False)
    conv = nn.Sequential(nn.Conv1d(4, 8, 3, bias=False), nn.BatchNorm1d(8), nn.Conv1d(8, 2, 1))
    for name, model in [("a model with a frozen first layer", frozen), ("a small CNN", conv)]:
        got = call(count, model, what=f"count_parameters({name})")
        seen = Observed(name=name, model=model, got=got, kind=type(got).__name__)
        seen["wanted"] = trainable(model)
        valid = isinstance(got, int | torch.Tensor) and not isinstance(got, bool)
        if not (valid and int(got) == seen.wanted):
            verdict(seen, COUNT)
    passed("count_parameters counts every trainable number (biases included), and nothing frozen.")


@exercise("""Add the parameters layer by layer: each Linear, the BatchNorm; ReLU and Dropout have none.
A Linear(in, out) holds a weight matrix and a bias per output; BatchNorm1d(n) learns 2 per feature.
The first Linear, BatchNorm1d(hidden) and the last Linear, each Linear in × out weights + out biases.""")
def parameter_formula(formula: Callable[[int, int, int], int]) -> None:
    """Check ``formula(n_features, hidden, n_classes)`` with three sets of int sizes. Requires: the
    parameter count of Linear → BatchNorm1d → ReLU → Dropout → Linear."""
    for n_features, hidden, n_classes in [(40, 256, 250), (201, 64, 8), (3, 5, 2)]:
        model = nn.Sequential(nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden))
        model.extend([nn.ReLU(), nn.Dropout(0.3), nn.Linear(hidden, n_classes)])
        sizes = f"n_features={n_features}, hidden={hidden}, n_classes={n_classes}"
        got = call(formula, n_features, hidden, n_classes, what=f"your formula for {sizes}")
        case = f"For {sizes} your formula gives {got}; the model has {trainable(model)} parameters"
        seen = Observed(case=case, got=got, wanted=trainable(model), hidden=hidden)
        verdict(Observed(seen, n_classes=n_classes), FORMULA)
    passed("parameter formula matches the model for three sets of sizes.")
