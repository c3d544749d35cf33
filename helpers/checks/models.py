"""Checks for the models exercises (notebook 04).

The models of the course follow one convention, the one ``helpers.models`` uses too:

* input ``(batch, n_features)`` for a pooled feature kind, ``(batch, n_features, frames)`` otherwise
  (a 2-D CNN adds the channel axis itself);
* ``model.embed(x)`` returns the penultimate features ``(batch, embedding_dim)``, the speaker embedding;
* ``model(x)`` returns one raw score (logit) per speaker, ``(batch, n_classes)``.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from ._common import ExerciseError, expect, passed

__all__ = ["classifier", "count_parameters", "parameter_formula", "statistics_pooling"]

BATCH = 4
FRAMES = (301, 151)  # 3 s and 1.5 s of 10-ms frames


def _describe(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(s) for s in shape) + ")"


def _forward(model: nn.Module, x: torch.Tensor, what: str) -> torch.Tensor:
    try:
        return model(x)
    except Exception as error:  # the student's model may raise anything
        raise ExerciseError(
            f"{what}: model(x) with x of shape {_describe(tuple(x.shape))} raised "
            f"{type(error).__name__}: {error}\n"
            "Hint: the input is (batch, n_features) for a pooled feature and (batch, n_features, "
            "frames) otherwise; a 2-D CNN adds the channel axis itself (x.unsqueeze(1)). Check that "
            "each layer's input size matches the previous layer's output size."
        ) from None


def classifier(
    model: nn.Module,
    n_features: int,
    n_classes: int,
    pooled: bool = False,
    frames: tuple[int, ...] = FRAMES,
) -> None:
    """Check a speaker classifier: shapes, any clip length, logits, ``embed``, gradients everywhere.

    Parameters
    ----------
    model : nn.Module
        The student's model.
    n_features : int
        Feature bins of its input (40 MFCCs, 201 spectrogram bins...).
    n_classes : int
        Number of speakers.
    pooled : bool
        ``True`` for a pooled feature kind: input ``(batch, n_features)``.
    frames : tuple of int
        Clip lengths (frames) the model must accept, when not pooled.
    """
    expect(
        isinstance(model, nn.Module),
        f"Expected an nn.Module (an instance of your class), got {type(model).__name__}.",
        "create the model, e.g. model = CNN1d(n_features, n_classes), and pass the instance.",
    )
    was_training = model.training
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    generator = torch.Generator().manual_seed(0)
    shapes = [(BATCH, n_features)] if pooled else [(BATCH, n_features, t) for t in frames]
    inputs = [torch.randn(s, generator=generator).to(device) for s in shapes]
    try:
        model.eval()
        with torch.no_grad():
            _check_logits(_forward(model, inputs[0], "Forward pass"), inputs[0], n_classes)
            for x in inputs[1:]:
                try:
                    logits = model(x)
                except Exception as error:  # the student's model may raise anything
                    raise ExerciseError(
                        f"The model works for clips of {inputs[0].shape[-1]} frames but fails for "
                        f"{x.shape[-1]} frames: {type(error).__name__}: {error}\nHint: a layer "
                        "depends on the clip length (a Linear after flattening the time axis?). "
                        "Pool over time (mean, or mean and std) before the classifier, so that any "
                        "clip length gives the same embedding size."
                    ) from None
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
                hasattr(model, "embed") and callable(model.embed),
                "The model has no embed(x) method.",
                "split the model in two: embed(x) returns the penultimate features (batch, "
                "embedding_dim), and forward(x) applies the last Linear layer to them.",
            )
            embedding = model.embed(x)
            expect(
                isinstance(embedding, torch.Tensor) and embedding.ndim == 2,
                f"embed(x) should return (batch, embedding_dim); got "
                f"{_describe(tuple(embedding.shape)) if isinstance(embedding, torch.Tensor) else type(embedding).__name__}.",
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
                f"model.embedding_dim is {declared} but embed(x) returns {embedding.shape[1]} values "
                "per clip.",
                "set self.embedding_dim to the size of the penultimate layer.",
            )
        model.train()
        model.zero_grad(set_to_none=True)
        logits = _forward(model, inputs[-1], "Forward pass in training mode")
        logits.float().square().mean().backward()
        silent = [
            name for name, p in model.named_parameters() if p.requires_grad and p.grad is None
        ]
        expect(
            not silent,
            f"These parameters get no gradient, so they would never learn: {', '.join(silent[:5])}"
            + (" ..." if len(silent) > 5 else ""),
            "a layer created in __init__ but never used in forward (or embed)? Use it or delete it.",
        )
        model.zero_grad(set_to_none=True)
    finally:
        model.train(was_training)
    n_params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    shown = " and ".join(
        f"{_describe(tuple(x.shape))} → {_describe((BATCH, n_classes))}" for x in inputs
    )
    passed(
        f"{type(model).__name__}: {shown}; embeddings of size {embedding.shape[1]}; "
        f"{n_params:,} trainable parameters."
    )


def _check_logits(logits: object, x: torch.Tensor, n_classes: int) -> None:
    expect(
        isinstance(logits, torch.Tensor),
        f"model(x) should return a tensor of scores, got {type(logits).__name__}.",
        "forward should end with the last Linear layer's output.",
    )
    shape, wanted = tuple(logits.shape), (x.shape[0], n_classes)
    if len(x.shape) == 3 and shape != wanted and shape[:1] == wanted[:1]:
        hint = (
            "one score per speaker whatever the clip length: pool over time (mean, or mean and std) "
            "before the classifier instead of flattening the time axis."
        )
    elif shape[-1:] != (n_classes,):
        hint = f"the last Linear layer should have out_features = n_classes = {n_classes}."
    else:
        hint = "keep the batch axis first and flatten everything else before the last Linear layer."
    expect(
        shape == wanted,
        f"For an input {_describe(tuple(x.shape))} the output is {_describe(shape)}; expected "
        f"(batch, n_classes) = {_describe(wanted)}.",
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


def statistics_pooling(pool: Callable[[torch.Tensor], torch.Tensor]) -> None:
    """Check ``pool(x)``: ``(batch, channels, frames)`` → ``(batch, 2 * channels)``, means then stds."""
    generator = torch.Generator().manual_seed(1)
    x = torch.randn(3, 5, 50, generator=generator) * torch.arange(1.0, 6.0).view(1, 5, 1) + 2.0
    out = pool(x)
    expect(
        isinstance(out, torch.Tensor),
        f"pool(x) should return a tensor, got {type(out).__name__}.",
        "use torch operations (x.mean, x.std, torch.cat).",
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
        shape == (3, 10),
        f"For x of shape (3, 5, 50) the output is {_describe(shape)}; expected (3, 10).",
        "take the statistics over the last axis (time, dim=-1) and concatenate them along dim 1.",
    )
    if torch.allclose(out, torch.cat([std, mean], 1), atol=1e-4):
        raise ExerciseError(
            "The standard deviations come before the means.\nHint: the course's convention is "
            "torch.cat([mean, std], dim=1)."
        )
    expect(
        torch.allclose(out[:, :5], mean, atol=1e-4),
        "The first half is not the mean over time of each channel.",
        "x.mean(dim=-1).",
    )
    variance_like = torch.allclose(out[:, 5:], x.var(dim=-1), atol=1e-3) or torch.allclose(
        out[:, 5:], x.var(dim=-1, unbiased=False), atol=1e-3
    )
    expect(
        not variance_like,
        "The second half is the variance, not the standard deviation.",
        "take its square root (x.std), so both halves have the units of the features.",
    )
    expect(
        torch.allclose(out[:, 5:], std, atol=1e-3)
        or torch.allclose(out[:, 5:], std_biased, atol=1e-3),
        "The second half is not the standard deviation over time of each channel.",
        "x.std(dim=-1) (add a small epsilon inside a sqrt if you compute it by hand).",
    )
    passed(
        "statistics pooling: (3, 5, 50) → (3, 10), the mean then the standard deviation over time."
    )


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


def count_parameters(count: Callable[[nn.Module], int]) -> None:
    """Check ``count(model)``: the number of trainable numbers (frozen ones and buffers excluded)."""
    for name, model in _probe_models():
        got = count(model)
        expect(
            isinstance(got, int | torch.Tensor) and not isinstance(got, bool),
            f"count(model) should return an int, got {type(got).__name__}.",
            "sum the .numel() of the parameters and return the Python int.",
        )
        got = int(got)
        wanted = _reference_count(model)
        trainable = [p for p in model.parameters() if p.requires_grad]
        candidates = {
            "all parameters, frozen ones included": sum(p.numel() for p in model.parameters()),
            "the weights without the biases": sum(
                p.numel()
                for n, p in model.named_parameters()
                if p.requires_grad and "bias" not in n
            ),
            "the parameters plus the buffers (BatchNorm running statistics)": wanted
            + sum(b.numel() for b in model.buffers() if b.is_floating_point()),
            "the parameters plus all buffers": wanted + sum(b.numel() for b in model.buffers()),
            "the number of parameter tensors, not of numbers": len(trainable),
            "the number of all parameter tensors": len(list(model.parameters())),
        }
        if got != wanted:
            for what, value in candidates.items():
                if got == value and value != wanted:
                    raise ExerciseError(
                        f"On {name} you count {got}, which is {what}; the trainable parameters "
                        f"are {wanted}.\nHint: "
                        + {
                            "all parameters, frozen ones included": "keep only the parameters "
                            "with p.requires_grad (a frozen layer is not learned).",
                            "the weights without the biases": "every parameter counts, biases "
                            "too: iterate over model.parameters().",
                            "the number of parameter tensors, not of numbers": "a parameter is "
                            "a tensor: add up p.numel(), the number of values it holds.",
                        }.get(
                            what,
                            "buffers are not learned by gradient descent: use model.parameters(), "
                            "not model.state_dict().",
                        )
                    )
            raise ExerciseError(
                f"On {name} you count {got} parameters; it has {wanted} trainable ones.\n"
                "Hint: sum p.numel() over model.parameters() keeping those with p.requires_grad."
            )
    passed("count_parameters counts every trainable number (biases included), and nothing frozen.")


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
        got = formula(n_features, hidden, n_classes)
        no_bias = n_features * hidden + n_classes * hidden + 2 * hidden
        no_bn = wanted - 2 * hidden
        hints = {
            no_bias: "each Linear layer also has one bias per output.",
            no_bn: "BatchNorm1d learns a scale and a shift per feature (2 × hidden).",
            no_bn + 2 * hidden + 2 * hidden: "BatchNorm's running mean and variance are buffers, "
            "not learned parameters.",
        }
        expect(
            got == wanted,
            f"For n_features={n_features}, hidden={hidden}, n_classes={n_classes} your formula "
            f"gives {got}; the model has {wanted} parameters.",
            hints.get(
                got,
                "a Linear(in, out) has in × out weights + out biases; BatchNorm1d(n) has 2n; ReLU "
                "and Dropout have none.",
            ),
        )
    passed("parameter formula matches the model for three sets of sizes.")
