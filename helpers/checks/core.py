"""The self-check engine: a check is its reference behaviour plus a table of known mistakes.

``verdict(Observed(...), [Mistake(seen, message), ...])`` raises ``ExerciseError`` for the first row
seen; ``@exercise`` registers the hints ``hint(name)`` shows; the shared probes follow. How to write
a check: ``docs/checks.md``.
"""

from __future__ import annotations

import difflib
import functools
import inspect
import random
from collections import namedtuple
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar
from unittest import mock

import numpy as np
import torch
from torch import nn

Check = TypeVar("Check", bound=Callable[..., None])
HINTS: dict[str, tuple[str, ...]] = {}  # check name → its hints, most general first
_hints_shown: dict[str, int] = {}


class ExerciseError(AssertionError):
    """An exercise answer is wrong. The message says what, and where to look for the fix."""


class Observed(dict):
    """What a check saw: ``Observed(got=...)``; ``o.got`` is ``o["got"]`` (but not ``o.items``)."""

    __setattr__ = dict.__setitem__

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


@dataclass(frozen=True)
class Mistake:
    """A row of a check's table: ``seen(observed)`` is true when the observation shows the mistake
    (rows tried in order); ``message`` names it and where to look (``{field}`` reads the fields)."""

    seen: Callable[[Any], bool]
    message: str


def verdict(observed: Any, mistakes: Sequence[Mistake], ok: str | None = None) -> None:
    """Raise ``ExerciseError`` for the first row whose ``seen(observed)`` is true; else print
    ``✓ ok`` (nothing without ``ok``: a check of several cases calls ``passed`` at the end)."""
    __tracebackhide__ = True
    for row in mistakes:
        if row.seen(observed):
            mapping = isinstance(observed, Mapping)
            raise ExerciseError(row.message.format_map(observed) if mapping else row.message)
    if ok is not None:
        passed(ok)


def passed(message: str) -> None:
    """Report a passed check: one line starting with ✓."""
    print(f"✓ {message}")


def exercise(*hints: str) -> Callable[[Check], Check]:
    """Register a check and its hints (at least three, the most general first; one string each or
    one a line); its failure messages end with ``More help: checks.hint("<name>")``."""
    hints = tuple(line for text in hints for line in text.strip().splitlines())  # or one a line
    if len(hints) < 3:
        raise ValueError("a check needs at least three hints")

    def register(function: Check) -> Check:
        name = function.__name__
        HINTS[name] = tuple(hints)

        @functools.wraps(function)
        def run(*args: Any, **kwargs: Any) -> None:
            __tracebackhide__ = True
            try:
                function(*args, **kwargs)
            except ExerciseError as error:
                if error.args and "More help:" not in str(error.args[0]):
                    error.args = (f"{error.args[0]}\nMore help: checks.hint({name!r})",)
                raise

        return run  # type: ignore[return-value]

    return register


def hint(name: str, level: int | None = None) -> None:
    """Print hint number ``level`` (1 = the most general) of the check ``name`` (``"stft_db"``);
    without ``level``, the next one each call (the last one again once all are shown)."""
    if name not in HINTS:
        close = difflib.get_close_matches(name, HINTS, n=3)
        suggestion = f" Did you mean {', '.join(map(repr, close))}?" if close else ""
        raise ValueError(f"No check is called {name!r}.{suggestion}")
    hints = HINTS[name]
    if level is None:
        level = min(_hints_shown.get(name, 0) + 1, len(hints))
    if not 1 <= level <= len(hints):
        raise ValueError(f"{name!r} has hints 1 to {len(hints)}; there is no hint {level}.")
    _hints_shown[name] = max(_hints_shown.get(name, 0), level)
    more = f'(next: checks.hint("{name}") again)' if level < len(hints) else "(the last one)"
    print(f"Hint {level} of {len(hints)} for {name}: {hints[level - 1]}\n{more}")


def call(function: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
    """Run the student's ``function(*args, **kwargs)``; an unexpected exception becomes an
    ``ExerciseError`` naming ``what``, chained to it (the traceback still shows the student's line).
    ``NotImplementedError`` (an unsolved FIXME) and ``ExerciseError`` pass through."""
    __tracebackhide__ = True
    try:
        return function(*args, **kwargs)
    except (NotImplementedError, ExerciseError):
        raise
    except Exception as error:  # the student's code may raise anything
        where = (
            "A name that does not exist: check the spelling, and that the imports cell ran."
            if isinstance(error, NameError | AttributeError)
            else "The traceback above ends at the failing line: compare what you pass there with "
            "the shapes and types the exercise describes."
        )
        raise ExerciseError(f"{what} raised {type(error).__name__}: {error}\n{where}") from error


def as_array(value: object, what: str) -> np.ndarray:
    """``value`` as a numpy array (from numpy, torch or a list), or a clear ``ExerciseError``."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception:  # anything numpy cannot take
        raise ExerciseError(f"{what} is a {type(value).__name__}, not an array.") from None


def as_number(value: object, what: str) -> float:
    """``value`` as a float (Python, numpy or a 0-d tensor), or a clear ``ExerciseError``."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        kind = type(value).__name__
        raise ExerciseError(f"{what} should be one number, got {kind} {value!r:.60}.") from None


def is_number(value: object) -> bool:
    """True for a Python/numpy number or a one-element tensor (not a bool)."""
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def same(a: object, b: object) -> bool:
    """True when two results are equal: numbers, arrays, tensors, or tuples/lists/dicts of them."""
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(map(same, a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    try:
        x, y = as_array(a, "a"), as_array(b, "b")
        return x.shape == y.shape and bool(np.array_equal(x, y))
    except Exception:  # objects numpy cannot compare
        return bool(a == b)


def returns_pair(result: object, what: str, names: str) -> tuple:
    """``result`` as a tuple, or ``ExerciseError``: "``what`` returned …; expected a pair …"."""
    __tracebackhide__ = True
    if not (isinstance(result, tuple | list) and len(result) == 2):
        kind = type(result).__name__
        raise ExerciseError(f"{what} returned {kind}; expected a pair {names}, in that order.")
    return tuple(result)


def uses_argument(
    function: Callable[..., Any], args: tuple, index: int, other: object, what: str
) -> None:
    """Fail unless changing argument ``index`` of ``function(*args)`` to ``other`` changes the
    result (an answer that ignores the argument, or replaces it by a constant, gives the same)."""
    __tracebackhide__ = True
    changed = (*args[:index], other, *args[index + 1 :])
    if same(call(function, *args, what=what), call(function, *changed, what=what)):
        try:
            name = repr(list(inspect.signature(function).parameters)[index])
        except (TypeError, ValueError, IndexError):
            name = f"number {index + 1}"
        raise ExerciseError(
            f"{what} gives the same result when its argument {name} changes ({args[index]!r:.40} "
            f"→ {other!r:.40}): that argument is ignored, or replaced by a constant in your code."
        )


def repeatable(function: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
    """Call ``function`` twice with the same arguments (the same seed); fail unless the results
    agree. Returns the first result."""
    __tracebackhide__ = True
    first = call(function, *args, what=what, **kwargs)
    if not same(first, call(function, *args, what=what, **kwargs)):
        raise ExerciseError(
            f"Two calls of {what} with the same arguments (the same seed) gave different results: "
            "not reproducible. Make the generator from the seed argument, on every call."
        )
    return first


@contextmanager
def leaves_global_rngs(what: str) -> Iterator[None]:
    """Fail if the block (which ran ``what``) moved Python's, numpy's or torch's global generator;
    an error raised inside the block passes through unchanged."""
    __tracebackhide__ = True
    python, numbers, generator = random.getstate(), np.random.get_state(), torch.get_rng_state()
    yield
    moved = [("Python's random", random.getstate() != python)]
    moved.append(("numpy's global np.random", not same(np.random.get_state(), numbers)))
    moved.append(("torch's global generator", not torch.equal(torch.get_rng_state(), generator)))
    if any(m for _, m in moved):
        raise ExerciseError(
            f"{what} drew from {' and '.join(n for n, m in moved if m)}: its result depends on "
            "every draw made before, in any cell. Draw from a generator made from the seed."
        )


@contextmanager
def watching(owner: object, attribute: str) -> Iterator[mock.MagicMock]:
    """Watch ``owner.attribute`` in the block: it still works, and the yielded mock records its
    calls (``mock.patch.object(..., wraps=)``; for a method, an autospec that records ``self``)."""
    original = getattr(owner, attribute)
    if isinstance(owner, type) and inspect.isfunction(inspect.getattr_static(owner, attribute)):
        patcher = mock.patch.object(owner, attribute, autospec=True, side_effect=original)
    else:
        patcher = mock.patch.object(owner, attribute, wraps=original)
    with patcher as watched:
        yield watched


BATCH_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d)


def is_module(value: object, what: str) -> None:
    """Fail unless ``value`` is an ``nn.Module`` (``what`` says which one the exercise wants)."""
    if not isinstance(value, nn.Module):
        raise ExerciseError(f"Expected an nn.Module ({what}), got {type(value).__name__}.")


def modules_run(function: Callable, *args: object, what: str) -> tuple[object, list[tuple]]:
    """``function(*args)`` and, for every module that ran in it (a global forward hook), the tuple
    ``(module, its one input or None, its output, its training mode, gradients enabled)``."""
    calls: list[tuple] = []

    def hook(m: nn.Module, inputs: tuple, out: object) -> None:
        one = inputs[0] if len(inputs) == 1 else None
        calls.append((m, one, out, m.training, torch.is_grad_enabled()))

    with nn.modules.module.register_module_forward_hook(hook):
        return call(function, *args, what=what), calls


def trainable(model: nn.Module) -> int:
    """The number of values of ``model``'s parameters that require a gradient."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def seeded_draw(draw: Callable, speakers: Sequence, n: int, what: str, probe: bool = False) -> Any:
    """``draw(speakers, n, 0)``, failing if it moves a global generator; with ``probe``, also unless
    it is repeatable and depends on its seed (the third argument)."""
    with leaves_global_rngs(what):
        if probe:
            repeatable(draw, list(speakers), n, 0, what=what)
            uses_argument(draw, (list(speakers), n, 0), 2, 1, what=what)
        return call(draw, list(speakers), n, 0, what=what)


def pair_of_arrays(function: Callable, args: tuple, what: str, names: str) -> Observed:
    """``function(*args)`` as a pair ``got`` of float arrays ``arrays``, with ``kinds`` (the types)
    and ``numpy`` (true when both are numpy arrays or tensors), for a check's ``Observed``."""
    got = returns_pair(call(function, *args, what=what), what, names)
    seen = Observed(got=got, kinds=", ".join(type(v).__name__ for v in got))
    seen["numpy"] = all(isinstance(v, np.ndarray | torch.Tensor) for v in got)
    return Observed(seen, arrays=[as_array(v, "the result") for v in got])


Decode = namedtuple("Decode", "path start frames total")  # a window read, in samples (of total)


@contextmanager
def record_decodes() -> Iterator[list[Decode]]:
    """After the block, the yielded list holds every window soundfile decoded in it (watched
    ``SoundFile.seek``/``read``: a read starts at the last absolute seek before it on its file)."""
    import soundfile as sf

    decodes: list[Decode] = []
    calls = mock.Mock()
    with watching(sf.SoundFile, "seek") as seek, watching(sf.SoundFile, "read") as read:
        calls.attach_mock(seek, "seek")
        calls.attach_mock(read, "read")
        yield decodes
    position: dict[int, int] = {}
    for name, args, kwargs in calls.mock_calls:
        file = args[0]
        if name == "seek" and (args[2] if len(args) > 2 else kwargs.get("whence", 0)) == 0:
            position[id(file)] = args[1] if len(args) > 1 else kwargs["frames"]
        elif name == "read":
            start = position.get(id(file), 0)
            asked = args[1] if len(args) > 1 else kwargs.get("frames", -1)
            left = file.frames - start
            frames = left if asked < 0 else min(asked, left)
            decodes.append(Decode(file.name, start, frames, file.frames))
