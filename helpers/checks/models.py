"""Checks for notebook 04, models: a classifier's contract and architecture, parameters, pooling.

The course's models share one convention (``helpers.models`` too): input ``(batch, n_features)`` for
a pooled feature, ``(batch, n_features, frames)`` otherwise; ``model.embed(x)`` is the speaker
embedding ``(batch, embedding_dim)``; ``model(x)`` one raw score per speaker ``(batch, n_classes)``.
``classifier`` watches the architecture with forward hooks.
"""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from .core import Mistake, Observed, call, exercise, passed, verdict

__all__ = ["classifier", "parameter_count", "parameter_formula", "statistics_pooling"]

BATCH = 4
FRAMES = (301, 151)  # 3 s and 1.5 s of 10-ms frames
FAMILIES = {  # family → what its ✓ line says it has
    "dense": "a hidden layer with BatchNorm and Dropout, a signed embedding",
    "cnn1d": "BatchNorm, skip connections, mean+std pooling",
    "cnn2d": "2-D convolutions, BatchNorm, skip connections, mean+std pooling",
}
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
SHAPE = "For an input {x} the output is {got}; expected (batch, n_classes) = {wanted}: "

# fmt: off
OUTPUTS = [
    Mistake(lambda o: o.failed,
            "The model works for clips of {first} frames but fails for {failed}: a layer depends on the clip length (a Linear after flattening the time axis?). Pool over time before the classifier, so that any clip length gives the same embedding size."),
    Mistake(lambda o: o.kind != "Tensor", "model(x) should return a tensor of scores, got {kind}: forward should end with the last Linear layer's output."),
    Mistake(lambda o: o.got != o.wanted and o.got[:1] == o.wanted[:1] and len(o.x) == 3,
            SHAPE + "one score per speaker whatever the clip length, so pool over time (mean and std) before the classifier instead of flattening the time axis."),
    Mistake(lambda o: o.got != o.wanted and o.got[-1:] != o.wanted[-1:], SHAPE + "the last Linear layer should have out_features = n_classes."),
    Mistake(lambda o: o.got != o.wanted, SHAPE + "keep the batch axis first and flatten everything else before the last Linear layer."),
    Mistake(lambda o: not o.finite, "The output holds NaN or infinite values: look for a division by zero or a log of zero (add a small epsilon)."),
    Mistake(lambda o: o.probabilities,
            "Each output row sums to 1: the model returns probabilities. Return raw scores (logits): nn.CrossEntropyLoss applies log-softmax itself, and a softmax before it slows learning down."),
    Mistake(lambda o: not o.alone_ok,
            "In evaluation mode, the scores of a clip change with the other clips of its batch: normalise or pool over the time or feature axes, never over the batch axis (dim 0)."),
    Mistake(lambda o: not o.has_embed,
            "The model has no embed(x) method: split the model in two, embed(x) returning the penultimate features (batch, embedding_dim) and forward(x) applying the last Linear layer to them."),
]
EMBEDDING = [
    Mistake(lambda o: o.shape is None or len(o.shape) != 2, "embed(x) should return (batch, embedding_dim); got {shape}: pool over time and flatten before returning the embedding."),
    Mistake(lambda o: o.shape[0] != BATCH, "embed(x) gives {shape} for a batch of 4: keep the batch axis first and pool over time, not over the batch."),
    Mistake(lambda o: o.declared not in (None, o.shape[1]), "model.embedding_dim is {declared} but embed(x) returns {shape}: set self.embedding_dim to the size of the penultimate layer."),
    Mistake(lambda o: o.non_negative,
            "Every value of embed(x) is ≥ 0: the embedding goes through a ReLU (or ReLU → Dropout) at its end. Cosine scoring (notebook 07) needs signed embeddings: end embed with the embedding layer itself, with no ReLU after it."),
]
ARCHITECTURE = [
    Mistake(lambda o: not o.batchnorm,
            "No BatchNorm layer runs in the forward pass: put a BatchNorm after each Linear (dense) or convolution (CNNs), before the ReLU, to keep every layer's inputs on one scale."),
    Mistake(lambda o: o.family == "dense" and o.linears < 3, "{linears} Linear layer(s) run: the exercise asks for three, the hidden layer, the embedding layer and the head."),
    Mistake(lambda o: o.family == "dense" and not o.dropout,
            "No Dropout layer runs in the forward pass: end the hidden layer with Dropout (forward applies it before the head too), which regularises the small dense model."),
    Mistake(lambda o: o.family != "dense" and not o.conv,
            "No {wanted_conv} layer runs{other_conv}: a 2-D CNN adds a channel axis (B, 1, F, T) and convolves the (frequency, time) image with Conv2d; a 1-D CNN takes the feature bins as the channels of a Conv1d and convolves over time only."),
    Mistake(lambda o: o.family != "dense" and not o.skip,
            "No skip connection: every block of convolutions stops passing its input on when its convolutions are switched off (the check zeroed their weights). A residual block returns relu(x + F(x)): add the block's input to its output."),
    Mistake(lambda o: o.family != "dense" and o.before_pooling is None,
            "The check found no feature map with a time axis: the model pools before any layer runs. Convolve first (with nn.Module layers), then pool over time."),
    Mistake(lambda o: o.family != "dense" and not o.sees_spread,
            "The embedding does not change when the feature maps before pooling vary twice as much over time (same mean): the pooling keeps only the mean. Statistics pooling keeps the mean *and* the standard deviation over time of each channel."),
    Mistake(lambda o: o.family != "dense" and not o.only_moments,
            "The embedding changes when the feature maps before pooling are mirrored around their mean over time (same mean, same spread): the pooling keeps something else (a maximum?). Pool with exactly two statistics over time: the mean and the standard deviation."),
    Mistake(lambda o: o.silent, "These parameters get no gradient, so they would never learn: {silent}. A layer created in __init__ but never used in forward (or embed)? Use it or delete it."),
]
# fmt: on


@exercise(
    "The classifier must give one score per speaker for clips of any length, expose embed(x), and have the parts the exercise lists.",
    "dense: a hidden layer Linear → BatchNorm1d → ReLU → Dropout, then the embedding layer Linear → BatchNorm1d. cnn1d / cnn2d: convolutions with BatchNorm, residual blocks relu(x + F(x)), then statistics pooling (mean and standard deviation over time) before the embedding layer; cnn2d convolves the (frequency, time) image in 2-D. The embedding ends without a ReLU.",
    "Read the failure: it names the missing part. A skip connection adds the block's input to the output of its second BatchNorm; the pooling concatenates the mean and the std over the last axis; forward applies the head to embed(x) and returns raw scores (no softmax).",
)
def classifier(
    model: nn.Module, n_features: int, n_classes: int, family: str, frames: tuple = FRAMES
) -> None:
    """Check a classifier of notebook 04 (``family`` "dense", "cnn1d" or "cnn2d") on float32 batches.

    Requires: an ``nn.Module``; ``model(x)`` a finite ``(batch, n_classes)`` tensor of raw scores
    (not probabilities) for ``(batch, n_features)`` (dense) or every clip length in ``frames``; in
    eval mode a clip's scores independent of its batch; ``embed(x)`` ``(batch, embedding_dim)`` with
    signed values (no final ReLU); BatchNorm runs; dense: 3 Linear layers and Dropout; CNNs: the
    family's convolution, a skip connection, mean+std pooling over time; every parameter learns.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {tuple(FAMILIES)}, not {family!r}")
    wrong = f"Expected an nn.Module (an instance of your class), got {type(model).__name__}."
    verdict(model, [Mistake(lambda m: not isinstance(m, nn.Module), wrong)])
    was_training = model.training
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    sizes = [(n_features,)] if family == "dense" else [(n_features, t) for t in frames]
    inputs = [torch.randn(BATCH, *s, generator=generator).to(device) for s in sizes]
    try:
        model.eval()
        with torch.no_grad():
            verdict(_outputs(model, inputs, n_classes), OUTPUTS)
            embedding = call(model.embed, inputs[0], what="model.embed(x)")
            shape = tuple(embedding.shape) if isinstance(embedding, torch.Tensor) else None
            seen = Observed(shape=shape, declared=getattr(model, "embedding_dim", None))
            verdict(Observed(seen, non_negative=shape and bool((embedding >= 0).all())), EMBEDDING)
            seen = _architecture(model, inputs[0], family)
        model.train()
        model.zero_grad(set_to_none=True)
        call(model, inputs[-1], what="model(x) in training mode").float().square().mean().backward()
        silent = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
        seen["silent"] = ", ".join(silent[:5])
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    count = sum(p.numel() for p in model.parameters() if p.requires_grad)
    shown = " and ".join(f"{tuple(x.shape)} → {(BATCH, n_classes)}" for x in inputs)
    ok = f"{type(model).__name__}: {shown}; {FAMILIES[family]}; embeddings of size {shape[1]}; "
    verdict(seen, ARCHITECTURE, ok + f"{count:,} trainable parameters.")


def _outputs(model: nn.Module, inputs: list[torch.Tensor], n_classes: int) -> Observed:
    """The first wrong output (or the last), its finiteness, batch independence, ``embed``."""
    first = call(model, inputs[0], what=f"model(x) for x of shape {tuple(inputs[0].shape)}")
    seen = Observed(first=inputs[0].shape[-1], failed="")
    seen["has_embed"] = callable(getattr(model, "embed", None))
    for x in inputs:
        try:
            out = first if x is inputs[0] else model(x)
        except Exception as error:  # the student's model may raise anything
            seen["failed"] = f"{x.shape[-1]} frames ({type(error).__name__}: {error})"
            return seen
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else ()
        seen.update(kind=type(out).__name__, x=tuple(x.shape), got=got, wanted=(BATCH, n_classes))
        if got != seen.wanted:
            return seen
    alone = call(model, inputs[0][:1], what="model(x) for a batch of one clip")
    return Observed(
        seen,
        finite=bool(torch.isfinite(first).all()),
        probabilities=bool((first >= 0).all())
        and torch.allclose(first.sum(1), torch.ones_like(first[:, 0]), atol=1e-4),
        alone_ok=torch.allclose(alone, first[:1], atol=1e-4, rtol=1e-3),
    )


def _architecture(model: nn.Module, x: torch.Tensor, family: str) -> Observed:
    """What one forward pass shows (eval mode, no grad): the layers run, skips, the pooling."""
    calls: list[tuple[nn.Module, object, object]] = []  # (module, its one input, its output)
    with nn.modules.module.register_module_forward_hook(
        lambda m, i, o: calls.append((m, i[0] if len(i) == 1 else None, o))
    ):
        model(x)
    calls = [call for call in calls if call[0] is not model]
    ran = [m for m, _, _ in calls]
    conv, other = (nn.Conv2d, nn.Conv1d) if family == "cnn2d" else (nn.Conv1d, nn.Conv2d)
    uses_other = any(isinstance(m, other) for m in ran)
    timed = [
        m for m, _, o in calls if isinstance(o, torch.Tensor) and o.ndim > 2 and o.shape[-1] > 1
    ]
    seen = Observed(
        family=family,
        wanted_conv=conv.__name__,
        other_conv=f"; the model uses {other.__name__}" if uses_other else "",
        batchnorm=any(isinstance(m, BATCH_NORMS) for m in ran),
        linears=sum(isinstance(m, nn.Linear) for m in ran),
        dropout=any(isinstance(m, nn.Dropout) for m in ran),
        conv=any(isinstance(m, conv) for m in ran),
        skip=family == "dense" or any(_passes_input_on(m, i) for m, i, _ in calls),
        before_pooling=timed[-1] if timed else None,
    )
    if family != "dense" and timed:
        base = model.embed(x)
        tolerance = 1e-4 * float(base.abs().max()) + 1e-5

        def embed_with(scale: float) -> torch.Tensor:  # the last time maps scaled around their mean
            def change(module: nn.Module, inputs: tuple, out: torch.Tensor) -> torch.Tensor:
                mean = out.mean(dim=-1, keepdim=True)
                return mean + scale * (out - mean)

            with timed[-1].register_forward_hook(change):
                return model.embed(x)

        seen["sees_spread"] = not torch.allclose(embed_with(2.0), base, atol=tolerance)
        seen["only_moments"] = torch.allclose(embed_with(-1.0), base, atol=tolerance)
    return seen


def _passes_input_on(module: nn.Module, inputs: object) -> bool:
    """True if ``module`` holds ≥ 2 spatial convolutions and, with them zeroed, still uses its input."""

    def spatial(m: nn.Module) -> bool:
        return isinstance(m, nn.Conv1d | nn.Conv2d) and max(m.kernel_size) > 1

    convs = list(filter(spatial, module.modules()))
    if len(convs) < 2 or not isinstance(inputs, torch.Tensor) or len(inputs) < 2:
        return False
    switched_off = copy.deepcopy(module).eval()
    for conv in filter(spatial, switched_off.modules()):
        for p in conv.parameters():
            nn.init.zeros_(p)
    try:
        a, b = switched_off(inputs), switched_off(inputs.flip(0))
    except Exception:  # a module that needs more than one input: not a block
        return False
    return isinstance(a, torch.Tensor) and not torch.allclose(a, b, atol=1e-6)


# --------------------------------------------------------------------------------------------------
# Exercise: statistics pooling

# fmt: off
POOLING = [
    Mistake(lambda o: o.kind != "Tensor", "pool(x) should return a tensor, got {kind}: use torch operations on the tensor."),
    Mistake(lambda o: o.shape == (3, 5), "The output has one value per channel: only one statistic. Concatenate the mean AND the standard deviation over time: (batch, 2 * channels)."),
    Mistake(lambda o: o.shape == (6, 5), "The output has shape (6, 5): the statistics were stacked along the batch axis. Concatenate along the channel axis (dim 1), keeping one row per clip."),
    Mistake(lambda o: o.shape == (3, 2, 5), "The output has shape (3, 2, 5): the statistics were stacked on a new axis. Concatenate along the existing channel axis (dim 1), which gives (3, 10)."),
    Mistake(lambda o: o.shape != (3, 10), "For x of shape (3, 5, 50) the output is {shape}; expected (3, 10): take the statistics over the last axis (time) and concatenate them along dim 1."),
    Mistake(lambda o: o.halves(o.std, o.mean), "The standard deviations come before the means: the course's convention is the means first, then the standard deviations."),
    Mistake(lambda o: not o.halves(o.mean, None), "The first half is not the mean over time of each channel (over the last axis)."),
    Mistake(lambda o: any(o.halves(None, x.var(-1, unbiased=u)) for x in [o.x] for u in (True, False)),
            "The second half is the variance, not the standard deviation: take its square root, so both halves have the units of the features."),
    Mistake(lambda o: not any(o.halves(None, x.std(-1, unbiased=u)) for x in [o.x] for u in (True, False)),
            "The second half is not the standard deviation over time of each channel (over the last axis; add a small epsilon inside a square root if you compute it by hand)."),
]
# fmt: on


@exercise(
    "Two statistics per channel, computed over time (the last axis), then put side by side.",
    "The output is (batch, 2 × channels): first every channel's mean, then every channel's standard deviation (not the variance), concatenated along the channel axis.",
    "The mean over the last axis and the standard deviation over the last axis, each (B, C), concatenated along dim 1 in that order.",
)
def statistics_pooling(pool: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``pool(x)``: ``(batch, channels, frames)`` → ``(batch, 2 * channels)`` float tensors.

    Requires: a tensor of that shape, the means over time first, then the standard deviations
    (biased or not; not the variances).
    """
    x = torch.randn(3, 5, 50, generator=torch.Generator().manual_seed(1))
    x = x * torch.arange(1.0, 6.0).view(1, 5, 1) + 2.0
    out = call(pool, x.clone(), what="stats_pool(x) for x of shape (3, 5, 50)")
    tensor = isinstance(out, torch.Tensor)

    def close(part: torch.Tensor, value: torch.Tensor | None) -> bool:
        return value is None or torch.allclose(part, value, atol=1e-3)

    seen = Observed(x=x, kind=type(out).__name__, shape=tuple(out.shape) if tensor else None)
    seen.update(mean=x.mean(-1), std=x.std(-1))
    seen["halves"] = lambda first, second: close(out[:, :5], first) and close(out[:, 5:], second)
    ok = "statistics pooling: (3, 5, 50) → (3, 10), the mean then the standard deviation over time."
    verdict(seen, POOLING, ok)


# --------------------------------------------------------------------------------------------------
# Exercises: counting parameters


def _trainable(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


# fmt: off
COUNT = [
    Mistake(lambda o: not isinstance(o.got, int | torch.Tensor) or isinstance(o.got, bool), "count(model) should return an int, got {kind}: return a Python int."),
    Mistake(lambda o: int(o.got) == sum(p.numel() for p in o.model.parameters()),
            "On {name} you count {got}, all parameters, frozen ones included; the trainable parameters are {wanted}. Keep only the parameters that require a gradient (a frozen layer is not learned)."),
    Mistake(lambda o: int(o.got) == sum(p.numel() for n, p in o.model.named_parameters() if p.requires_grad and "bias" not in n),
            "On {name} you count {got}, the weights without the biases; the trainable parameters are {wanted}. Every parameter counts, biases too."),
    Mistake(lambda o: int(o.got) - o.wanted in {sum(b.numel() for b in o.model.buffers() if f or b.is_floating_point()) for f in (0, 1)},
            "On {name} you count {got}, the parameters plus the buffers (BatchNorm running statistics); the trainable parameters are {wanted}. Buffers are not learned by gradient descent: count the parameters, not the whole state dict."),
    Mistake(lambda o: int(o.got) in (len(list(o.model.parameters())), sum(p.requires_grad for p in o.model.parameters())),
            "On {name} you count {got}, the number of parameter tensors, not of numbers: a parameter is a tensor; add up the number of values each holds."),
    Mistake(lambda o: True, "On {name} you count {got} parameters; it has {wanted} trainable ones: add up the sizes of the parameters that require a gradient."),
]
# fmt: on


@exercise(
    "Count the numbers that training changes: the values of every parameter that requires a gradient.",
    "A parameter is a tensor of many values; a frozen parameter (requires_grad False) is not trained, and BatchNorm's running statistics are buffers, not parameters.",
    "Add up, over the model's parameters that require a gradient, the number of elements of each, and return that sum as an int.",
)
def parameter_count(count: Callable[[nn.Module], int]) -> None:
    """Check ``count(model)``.

    Requires: an int (or a one-value tensor), the number of values of the parameters that require a
    gradient (frozen ones and buffers excluded, biases included), on a model with a frozen layer and
    on a small CNN.
    """
    frozen = nn.Sequential(nn.Linear(10, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    frozen[0].requires_grad_(False)
    conv = nn.Sequential(
        nn.Conv1d(4, 8, 3, padding=1, bias=False), nn.BatchNorm1d(8), nn.Conv1d(8, 2, 1)
    )
    for name, model in [("a model with a frozen first layer", frozen), ("a small CNN", conv)]:
        got = call(count, model, what=f"count_parameters({name})")
        wanted = _trainable(model)
        valid = isinstance(got, int | torch.Tensor) and not isinstance(got, bool)
        if not (valid and int(got) == wanted):
            seen = Observed(name=name, model=model, got=got, kind=type(got).__name__, wanted=wanted)
            verdict(seen, COUNT)
    passed("count_parameters counts every trainable number (biases included), and nothing frozen.")


# fmt: off
FORMULA = [
    Mistake(lambda o: o.got == o.wanted - o.n_classes - o.hidden, "{case}: each Linear layer also has one bias per output."),
    Mistake(lambda o: o.got == o.wanted - 2 * o.hidden, "{case}: BatchNorm1d learns a scale and a shift per feature (2 × hidden)."),
    Mistake(lambda o: o.got == o.wanted + 2 * o.hidden, "{case}: BatchNorm's running mean and variance are buffers, not learned parameters."),
    Mistake(lambda o: o.got != o.wanted, "{case}: count each layer (a Linear has weights and biases, BatchNorm1d 2 per feature, ReLU and Dropout none)."),
]
# fmt: on


@exercise(
    "Add the parameters layer by layer: each Linear, the BatchNorm; ReLU and Dropout have none.",
    "A Linear(in, out) holds a weight matrix and one bias per output; a BatchNorm1d(n) learns a scale and a shift per feature (its running mean and variance are buffers, not parameters).",
    "first Linear (n_features → hidden) + BatchNorm1d(hidden) + last Linear (hidden → n_classes), each Linear counted as in × out weights plus out biases, the BatchNorm as 2 per feature.",
)
def parameter_formula(formula: Callable[[int, int, int], int]) -> None:
    """Check ``formula(n_features, hidden, n_classes)`` with three sets of int sizes.

    Requires: the parameter count of Linear → BatchNorm1d → ReLU → Dropout → Linear.
    """
    for n_features, hidden, n_classes in [(40, 256, 250), (201, 64, 8), (3, 5, 2)]:
        model = nn.Sequential(nn.Linear(n_features, hidden), nn.BatchNorm1d(hidden), nn.ReLU())
        model.extend([nn.Dropout(0.3), nn.Linear(hidden, n_classes)])
        sizes = f"n_features={n_features}, hidden={hidden}, n_classes={n_classes}"
        got = call(formula, n_features, hidden, n_classes, what=f"your formula for {sizes}")
        wanted = _trainable(model)
        case = f"For {sizes} your formula gives {got}; the model has {wanted} parameters"
        seen = Observed(case=case, got=got, wanted=wanted, hidden=hidden, n_classes=n_classes)
        verdict(seen, FORMULA)
    passed("parameter formula matches the model for three sets of sizes.")
