"""Checks for notebook 04, models: a classifier's contract and architecture, parameters, pooling.

The models of the course follow one convention, the one ``helpers.models`` uses too:

* input ``(batch, n_features)`` for a pooled feature kind, ``(batch, n_features, frames)`` otherwise
  (a 2-D CNN adds the channel axis itself);
* ``model.embed(x)`` returns the penultimate features ``(batch, embedding_dim)``, the speaker embedding;
* ``model(x)`` returns one raw score (logit) per speaker, ``(batch, n_classes)``.

``classifier`` checks shapes *and* what the exercise asks the architecture to do, by watching it with
forward hooks: BatchNorm and Dropout layers that run, skip connections (a block whose convolutions are
switched off must still pass its input through), and statistics pooling (the embedding must change
when the spread of the last feature maps over time changes, and only with their mean and spread).
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import torch
from torch import nn

from .core import ExerciseError, call, check, expect, fail, passed, shape_text

__all__ = ["classifier", "parameter_count", "parameter_formula", "statistics_pooling"]

BATCH = 4
FRAMES = (301, 151)  # 3 s and 1.5 s of 10-ms frames
FAMILIES = ("dense", "cnn1d", "cnn2d")
BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)
CONVOLUTIONS = (nn.Conv1d, nn.Conv2d)


@contextmanager
def _watch(model: nn.Module) -> Iterator[list[tuple[str, nn.Module, object, object]]]:
    """Record ``(name, module, input, output)`` of every submodule call, in the order they finish."""
    calls: list[tuple[str, nn.Module, object, object]] = []
    handles = []
    for name, module in model.named_modules():
        if module is model:
            continue

        def hook(module: nn.Module, inputs: tuple, output: object, name: str = name) -> None:
            first = inputs[0] if len(inputs) == 1 else None
            calls.append((name, module, first, output))

        handles.append(module.register_forward_hook(hook))
    try:
        yield calls
    finally:
        for handle in handles:
            handle.remove()


@check(
    "The classifier must give one score per speaker for clips of any length, expose embed(x), and "
    "have the parts the exercise lists.",
    "dense: two hidden Linear→BatchNorm1d→ReLU→Dropout layers. cnn1d / cnn2d: convolutions with "
    "BatchNorm, residual blocks relu(x + F(x)), then statistics pooling (mean and standard deviation "
    "over time) before the embedding layer; cnn2d convolves the (frequency, time) image in 2-D.",
    "Read the failure: it names the missing part. A skip connection adds the block's input to the "
    "output of its second BatchNorm; the pooling concatenates the mean and the std over the last "
    "axis; forward applies the head to embed(x) and returns raw scores (no softmax).",
)
def classifier(
    model: nn.Module,
    n_features: int,
    n_classes: int,
    family: str,
    frames: tuple[int, ...] = FRAMES,
) -> None:
    """Check a speaker classifier: shapes, any clip length, logits, ``embed``, its architecture.

    Parameters
    ----------
    model : nn.Module
        The student's model.
    n_features : int
        Feature bins of its input (40 MFCCs, 201 spectrogram bins...).
    n_classes : int
        Number of speakers.
    family : {"dense", "cnn1d", "cnn2d"}
        What the model should be: the dense one takes pooled features ``(batch, n_features)``, the
        CNNs ``(batch, n_features, frames)``.
    frames : tuple of int
        Clip lengths (frames) a CNN must accept.
    """
    if family not in FAMILIES:
        raise ValueError(f"family must be one of {FAMILIES}, not {family!r}")
    expect(
        isinstance(model, nn.Module),
        f"Expected an nn.Module (an instance of your class), got {type(model).__name__}.",
        "create the model from your class, and pass the instance.",
    )
    was_training = model.training
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    shapes = (
        [(BATCH, n_features)] if family == "dense" else [(BATCH, n_features, t) for t in frames]
    )
    inputs = [torch.randn(s, generator=generator).to(device) for s in shapes]
    try:
        model.eval()
        with torch.no_grad():
            embedding = _check_contract(model, inputs, n_classes)
            _check_architecture(model, inputs[0], family)
        model.train()
        _check_gradients(model, inputs[-1])
    finally:
        model.zero_grad(set_to_none=True)
        model.train(was_training)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    shown = " and ".join(
        f"{shape_text(x.shape)} → {shape_text((BATCH, n_classes))}" for x in inputs
    )
    parts = {
        "dense": "BatchNorm and Dropout in two hidden layers",
        "cnn1d": "BatchNorm, skip connections, mean+std pooling",
        "cnn2d": "2-D convolutions, BatchNorm, skip connections, mean+std pooling",
    }
    passed(
        f"{type(model).__name__}: {shown}; {parts[family]}; embeddings of size "
        f"{embedding.shape[1]}; {n_params:,} trainable parameters."
    )


def _forward(model: nn.Module, x: torch.Tensor, what: str) -> torch.Tensor:
    try:
        return model(x)
    except (NotImplementedError, ExerciseError):
        raise
    except Exception as error:  # the student's model may raise anything
        raise ExerciseError(
            f"{what}: model(x) with x of shape {shape_text(x.shape)} raised "
            f"{type(error).__name__}: {error}\n"
            "Hint: the input is (batch, n_features) for a pooled feature and (batch, n_features, "
            "frames) otherwise; a 2-D CNN adds the channel axis itself. Check that each layer's "
            "input size matches the previous layer's output size."
        ) from error


def _check_contract(model: nn.Module, inputs: list[torch.Tensor], n_classes: int) -> torch.Tensor:
    """Shapes for every clip length, batch independence, ``embed``; return the embedding."""
    _check_logits(_forward(model, inputs[0], "Forward pass"), inputs[0], n_classes)
    for x in inputs[1:]:
        try:
            logits = model(x)
        except Exception as error:  # the student's model may raise anything
            raise ExerciseError(
                f"The model works for clips of {inputs[0].shape[-1]} frames but fails for "
                f"{x.shape[-1]} frames: {type(error).__name__}: {error}\nHint: a layer depends on "
                "the clip length (a Linear after flattening the time axis?). Pool over time before "
                "the classifier, so that any clip length gives the same embedding size."
            ) from error
        _check_logits(logits, x, n_classes)
    x = inputs[0]
    alone = _forward(model, x[:1], "A batch of one clip")
    together = _forward(model, x, "Forward pass")[:1]
    expect(
        torch.allclose(alone, together, atol=1e-4, rtol=1e-3),
        "In evaluation mode, the scores of a clip change with the other clips of its batch.",
        "each clip must be scored on its own: normalise or pool over the time or feature axes, "
        "never over the batch axis (dim 0).",
    )
    expect(
        callable(getattr(model, "embed", None)),
        "The model has no embed(x) method.",
        "split the model in two: embed(x) returns the penultimate features (batch, "
        "embedding_dim), and forward(x) applies the last Linear layer to them.",
    )
    embedding = call(model.embed, x, what="model.embed(x)")
    described = (
        shape_text(embedding.shape)
        if isinstance(embedding, torch.Tensor)
        else type(embedding).__name__
    )
    expect(
        isinstance(embedding, torch.Tensor) and embedding.ndim == 2,
        f"embed(x) should return (batch, embedding_dim); got {described}.",
        "pool over time and flatten before returning the embedding.",
    )
    expect(
        embedding.shape[0] == BATCH,
        f"embed(x) gives {embedding.shape[0]} rows for a batch of {BATCH}.",
        "keep the batch axis first; pool over time, not over the batch.",
    )
    declared = getattr(model, "embedding_dim", None)
    expect(
        declared is None or declared == embedding.shape[1],
        f"model.embedding_dim is {declared} but embed(x) returns {embedding.shape[1]} values per clip.",
        "set self.embedding_dim to the size of the penultimate layer.",
    )
    return embedding


def _check_logits(logits: object, x: torch.Tensor, n_classes: int) -> None:
    expect(
        isinstance(logits, torch.Tensor),
        f"model(x) should return a tensor of scores, got {type(logits).__name__}.",
        "forward should end with the last Linear layer's output.",
    )
    assert isinstance(logits, torch.Tensor)
    shape, wanted = tuple(logits.shape), (x.shape[0], n_classes)
    if len(x.shape) == 3 and shape != wanted and shape[:1] == wanted[:1]:
        hint = (
            "one score per speaker whatever the clip length: pool over time (mean and std) before "
            "the classifier instead of flattening the time axis."
        )
    elif shape[-1:] != (n_classes,):
        hint = f"the last Linear layer should have out_features = n_classes = {n_classes}."
    else:
        hint = "keep the batch axis first and flatten everything else before the last Linear layer."
    expect(
        shape == wanted,
        f"For an input {shape_text(x.shape)} the output is {shape_text(shape)}; expected "
        f"(batch, n_classes) = {shape_text(wanted)}.",
        hint,
    )
    expect(
        bool(torch.isfinite(logits).all()),
        "The output holds NaN or infinite values.",
        "look for a division by zero or a log of zero (add a small epsilon).",
    )
    probabilities = bool((logits >= 0).all()) and torch.allclose(
        logits.sum(dim=1), torch.ones(logits.shape[0], device=logits.device), atol=1e-4
    )
    expect(
        not probabilities,
        "Each output row sums to 1: the model returns probabilities.",
        "return raw scores (logits): nn.CrossEntropyLoss applies log-softmax itself, and a softmax "
        "before it slows learning down.",
    )


def _check_architecture(model: nn.Module, x: torch.Tensor, family: str) -> None:
    """What the exercise asks of each family, observed in one forward pass (eval mode, no grad)."""
    with _watch(model) as calls:
        model(x)
    ran = [module for _, module, _, _ in calls]
    expect(
        any(isinstance(m, BATCH_NORMS) for m in ran),
        "No BatchNorm layer runs in the forward pass.",
        "put a BatchNorm after each Linear (dense) or convolution (CNNs), before the ReLU: it keeps "
        "every layer's inputs on one scale and lets the network train fast.",
    )
    if family == "dense":
        linears = sum(isinstance(m, nn.Linear) for m in ran)
        expect(
            linears >= 3,
            f"{linears} Linear layer(s) run: the exercise asks for two hidden layers and the head.",
            "build the body from two Linear→BatchNorm1d→ReLU→Dropout layers, then the head.",
        )
        expect(
            any(isinstance(m, nn.Dropout) for m in ran),
            "No Dropout layer runs in the forward pass.",
            "end each hidden layer with Dropout, which regularises the small dense model.",
        )
        return
    conv = nn.Conv2d if family == "cnn2d" else nn.Conv1d
    other = nn.Conv1d if family == "cnn2d" else nn.Conv2d
    expect(
        any(isinstance(m, conv) for m in ran),
        f"No {conv.__name__} layer runs"
        + (f"; the model uses {other.__name__}" if any(isinstance(m, other) for m in ran) else "")
        + f": a {family} convolves "
        + (
            "the (frequency, time) image in 2-D."
            if family == "cnn2d"
            else "over time only, in 1-D."
        ),
        "a 2-D CNN adds a channel axis (B, 1, F, T) and uses Conv2d; a 1-D CNN takes the feature "
        "bins as the channels of a Conv1d.",
    )
    expect(
        _has_skip_connection(calls),
        "No skip connection: every block of convolutions stops passing its input on when its "
        "convolutions are switched off (the check zeroed their weights).",
        "a residual block returns relu(x + F(x)): add the block's input to its output.",
    )
    _check_statistics_pooling(model, x, calls)


def _spatial_convs(module: nn.Module) -> list[nn.Module]:
    """The convolutions of ``module`` whose kernel is wider than 1 (a 1×1 is a projection)."""
    return [m for m in module.modules() if isinstance(m, CONVOLUTIONS) and max(m.kernel_size) > 1]


def _has_skip_connection(calls: list[tuple[str, nn.Module, object, object]]) -> bool:
    """True if some block with ≥ 2 convolutions still depends on its input with them zeroed."""
    seen: set[int] = set()
    for _, module, inputs, _ in calls:
        if id(module) in seen or not isinstance(inputs, torch.Tensor) or len(inputs) < 2:
            continue
        seen.add(id(module))
        if len(_spatial_convs(module)) < 2:
            continue
        switched_off = copy.deepcopy(module).eval()
        for conv in _spatial_convs(switched_off):
            nn.init.zeros_(conv.weight)
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)
        try:
            a, b = switched_off(inputs), switched_off(inputs.flip(0))
        except Exception:  # a module that needs more than one input: not a block
            continue
        if isinstance(a, torch.Tensor) and not torch.allclose(a, b, atol=1e-6):
            return True
    return False


def _pooling_input(model: nn.Module, calls: list) -> nn.Module | None:
    """The module whose output is the last feature map with a time axis (input of the pooling)."""
    for _, module, _, output in reversed(calls):
        if isinstance(output, torch.Tensor) and output.ndim >= 3 and output.shape[-1] > 1:
            return module
    return None


def _embed_with(model: nn.Module, module: nn.Module, x: torch.Tensor, change) -> torch.Tensor:
    handle = module.register_forward_hook(lambda m, i, out: change(out))
    try:
        return model.embed(x)
    finally:
        handle.remove()


def _check_statistics_pooling(model: nn.Module, x: torch.Tensor, calls: list) -> None:
    """The embedding must see the mean and the spread over time of the last feature maps, only those."""
    module = _pooling_input(model, calls)
    expect(
        module is not None,
        "The check found no feature map with a time axis: the model pools before any layer runs.",
        "convolve first (as nn.Module layers), then pool over time.",
    )
    base = model.embed(x)
    tolerance = 1e-4 * float(base.abs().max()) + 1e-5

    def spread(out: torch.Tensor) -> torch.Tensor:
        mean = out.mean(dim=-1, keepdim=True)
        return mean + 2 * (out - mean)

    def mirror(out: torch.Tensor) -> torch.Tensor:
        mean = out.mean(dim=-1, keepdim=True)
        return mean - (out - mean)

    expect(
        not torch.allclose(_embed_with(model, module, x, spread), base, atol=tolerance),
        "The embedding does not change when the feature maps before pooling vary twice as much "
        "over time (same mean): the pooling keeps only the mean.",
        "statistics pooling keeps the mean *and* the standard deviation over time of each channel.",
    )
    expect(
        torch.allclose(_embed_with(model, module, x, mirror), base, atol=tolerance),
        "The embedding changes when the feature maps before pooling are mirrored around their mean "
        "over time (same mean, same spread): the pooling keeps something else (a maximum?).",
        "pool with exactly two statistics over time: the mean and the standard deviation.",
    )


def _check_gradients(model: nn.Module, x: torch.Tensor) -> None:
    model.zero_grad(set_to_none=True)
    logits = _forward(model, x, "Forward pass in training mode")
    logits.float().square().mean().backward()
    silent = [name for name, p in model.named_parameters() if p.requires_grad and p.grad is None]
    expect(
        not silent,
        f"These parameters get no gradient, so they would never learn: {', '.join(silent[:5])}"
        + (" ..." if len(silent) > 5 else ""),
        "a layer created in __init__ but never used in forward (or embed)? Use it or delete it.",
    )


# --------------------------------------------------------------------------------------------------
# Exercise: statistics pooling


@check(
    "Two statistics per channel, computed over time (the last axis), then put side by side.",
    "The output is (batch, 2 × channels): first every channel's mean, then every channel's standard "
    "deviation (not the variance), concatenated along the channel axis.",
    "The mean over the last axis and the standard deviation over the last axis, each (B, C), "
    "concatenated along dim 1 in that order.",
)
def statistics_pooling(pool: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``pool(x)``: ``(batch, channels, frames)`` → ``(batch, 2 * channels)``, means then stds."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(3, 5, 50, generator=generator) * torch.arange(1.0, 6.0).view(1, 5, 1) + 2.0
    out = call(pool, x.clone(), what="stats_pool(x) for x of shape (3, 5, 50)")
    expect(
        isinstance(out, torch.Tensor),
        f"pool(x) should return a tensor, got {type(out).__name__}.",
        "use torch operations on the tensor.",
    )
    mean, std = x.mean(dim=-1), x.std(dim=-1)
    std_biased = x.std(dim=-1, unbiased=False)
    shape = tuple(out.shape)
    expect(
        shape != (3, 5),
        "The output has one value per channel: only one statistic.",
        "concatenate the mean AND the standard deviation over time: (batch, 2 * channels).",
    )
    expect(
        shape != (6, 5),
        "The output has shape (6, 5): the statistics were stacked along the batch axis.",
        "concatenate along the channel axis (dim 1), keeping one row per clip.",
    )
    expect(
        shape != (3, 2, 5),
        "The output has shape (3, 2, 5): the statistics were stacked on a new axis.",
        "concatenate along the existing channel axis (dim 1), which gives (3, 10).",
    )
    expect(
        shape == (3, 10),
        f"For x of shape (3, 5, 50) the output is {shape_text(shape)}; expected (3, 10).",
        "take the statistics over the last axis (time) and concatenate them along dim 1.",
    )
    expect(
        not torch.allclose(out, torch.cat([std, mean], 1), atol=1e-4),
        "The standard deviations come before the means.",
        "the course's convention is the means first, then the standard deviations.",
    )
    expect(
        torch.allclose(out[:, :5], mean, atol=1e-4),
        "The first half is not the mean over time of each channel.",
        "the mean over the last axis.",
    )
    variance_like = torch.allclose(out[:, 5:], x.var(dim=-1), atol=1e-3) or torch.allclose(
        out[:, 5:], x.var(dim=-1, unbiased=False), atol=1e-3
    )
    expect(
        not variance_like,
        "The second half is the variance, not the standard deviation.",
        "take its square root, so both halves have the units of the features.",
    )
    expect(
        torch.allclose(out[:, 5:], std, atol=1e-3)
        or torch.allclose(out[:, 5:], std_biased, atol=1e-3),
        "The second half is not the standard deviation over time of each channel.",
        "the standard deviation over the last axis (add a small epsilon inside a square root if "
        "you compute it by hand).",
    )
    passed(
        "statistics pooling: (3, 5, 50) → (3, 10), the mean then the standard deviation over time."
    )


# --------------------------------------------------------------------------------------------------
# Exercises: counting parameters


def _reference_count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def _probe_models() -> list[tuple[str, nn.Module]]:
    """Small models with frozen layers, biases, BatchNorm buffers and bias-free layers."""
    frozen = nn.Sequential(nn.Linear(10, 6), nn.BatchNorm1d(6), nn.ReLU(), nn.Linear(6, 3))
    for p in frozen[0].parameters():
        p.requires_grad_(False)
    conv = nn.Sequential(
        nn.Conv1d(4, 8, 3, padding=1, bias=False), nn.BatchNorm1d(8), nn.Conv1d(8, 2, 1)
    )
    return [("a model with a frozen first layer", frozen), ("a small CNN", conv)]


_COUNT_MISTAKES = {
    "all parameters, frozen ones included": "keep only the parameters that require a gradient (a "
    "frozen layer is not learned).",
    "the weights without the biases": "every parameter counts, biases too.",
    "the parameters plus the buffers (BatchNorm running statistics)": "buffers are not learned by "
    "gradient descent: count the parameters, not the whole state dict.",
    "the parameters plus all buffers": "buffers are not learned by gradient descent: count the "
    "parameters, not the whole state dict.",
    "the number of parameter tensors, not of numbers": "a parameter is a tensor: add up the number "
    "of values each holds.",
    "the number of all parameter tensors": "a parameter is a tensor: add up the number of values "
    "each holds.",
}


def _count_candidates(model: nn.Module) -> dict[str, int]:
    wanted = _reference_count(model)
    return {
        "all parameters, frozen ones included": sum(p.numel() for p in model.parameters()),
        "the weights without the biases": sum(
            p.numel() for n, p in model.named_parameters() if p.requires_grad and "bias" not in n
        ),
        "the parameters plus the buffers (BatchNorm running statistics)": wanted
        + sum(b.numel() for b in model.buffers() if b.is_floating_point()),
        "the parameters plus all buffers": wanted + sum(b.numel() for b in model.buffers()),
        "the number of parameter tensors, not of numbers": sum(
            1 for p in model.parameters() if p.requires_grad
        ),
        "the number of all parameter tensors": len(list(model.parameters())),
    }


@check(
    "Count the numbers that training changes: the values of every parameter that requires a gradient.",
    "A parameter is a tensor of many values; a frozen parameter (requires_grad False) is not "
    "trained, and BatchNorm's running statistics are buffers, not parameters.",
    "Add up, over the model's parameters that require a gradient, the number of elements of each, "
    "and return that sum as an int.",
)
def parameter_count(count: Callable[[nn.Module], int]) -> None:
    """Check ``count(model)``: the number of trainable numbers (frozen ones and buffers excluded)."""
    for name, model in _probe_models():
        got = call(count, model, what=f"count_parameters({name})")
        expect(
            isinstance(got, int | torch.Tensor) and not isinstance(got, bool),
            f"count(model) should return an int, got {type(got).__name__}.",
            "return a Python int.",
        )
        got, wanted = int(got), _reference_count(model)
        if got == wanted:
            continue
        for what, value in _count_candidates(model).items():
            if got == value:
                fail(
                    f"On {name} you count {got}, which is {what}; the trainable parameters are "
                    f"{wanted}.",
                    _COUNT_MISTAKES[what],
                )
        fail(
            f"On {name} you count {got} parameters; it has {wanted} trainable ones.",
            "add up the sizes of the parameters that require a gradient.",
        )
    passed("count_parameters counts every trainable number (biases included), and nothing frozen.")


@check(
    "Add the parameters layer by layer: each Linear, the BatchNorm; ReLU and Dropout have none.",
    "A Linear(in, out) holds a weight matrix and one bias per output; a BatchNorm1d(n) learns a scale "
    "and a shift per feature (its running mean and variance are buffers, not parameters).",
    "first Linear (n_features → hidden) + BatchNorm1d(hidden) + last Linear (hidden → n_classes), "
    "each Linear counted as in × out weights plus out biases, the BatchNorm as 2 per feature.",
)
def parameter_formula(formula: Callable[[int, int, int], int]) -> None:
    """Check ``formula(n_features, hidden, n_classes)`` for Linear → BatchNorm1d → ReLU → Linear."""
    for n_features, hidden, n_classes in [(40, 256, 250), (201, 64, 8), (3, 5, 2)]:
        model = nn.Sequential(
            nn.Linear(n_features, hidden),
            nn.BatchNorm1d(hidden),
            nn.ReLU(),
            nn.Dropout(0.3),
            nn.Linear(hidden, n_classes),
        )
        wanted = _reference_count(model)
        case = f"n_features={n_features}, hidden={hidden}, n_classes={n_classes}"
        got = call(formula, n_features, hidden, n_classes, what=f"your formula for {case}")
        no_bias = n_features * hidden + n_classes * hidden + 2 * hidden
        no_bn = wanted - 2 * hidden
        hints = {
            no_bias: "each Linear layer also has one bias per output.",
            no_bn: "BatchNorm1d learns a scale and a shift per feature (2 × hidden).",
            wanted + 2 * hidden: "BatchNorm's running mean and variance are buffers, not learned "
            "parameters.",
        }
        expect(
            got == wanted,
            f"For {case} your formula gives {got}; the model has {wanted} parameters.",
            hints.get(
                got,
                "count each layer: a Linear has weights and biases, BatchNorm1d 2 per feature, "
                "ReLU and Dropout none.",
            ),
        )
    passed("parameter formula matches the model for three sets of sizes.")
