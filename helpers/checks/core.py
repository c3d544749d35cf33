"""What every check shares: how it reports, how it calls the student's code, its hints and its spies.

A check is a function decorated with ``@check(first_hint, second_hint, third_hint)``. It prints one
line starting with ✓ when the answer is right; when it is wrong it raises ``ExerciseError`` saying what
is wrong and where to look, never the solution line. ``hint(name)`` prints the check's hints one at a
time, each a little more explicit than the last; the last may describe the idea, never the code.
"""

from __future__ import annotations

import difflib
import functools
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn, TypeVar

import numpy as np
import torch

Check = TypeVar("Check", bound=Callable[..., None])

HINTS: dict[str, tuple[str, ...]] = {}
"""Check name → its hints, most general first (filled by ``@check``)."""

_hints_shown: dict[str, int] = {}


class ExerciseError(AssertionError):
    """An exercise answer is wrong. The message says what, and where to look for the fix."""


def passed(message: str) -> None:
    """Report a passed check: one line starting with ✓."""
    print(f"✓ {message}")


def fail(problem: str, hint: str) -> NoReturn:
    """Raise ``ExerciseError`` with the problem, then ``Hint: `` and where to look."""
    __tracebackhide__ = True
    raise ExerciseError(f"{problem}\nHint: {hint}")


def expect(condition: object, problem: str, hint: str) -> None:
    """Raise ``ExerciseError(problem + hint)`` unless ``condition`` holds."""
    __tracebackhide__ = True
    if not condition:
        fail(problem, hint)


def check(*hints: str) -> Callable[[Check], Check]:
    """Register a check and its tiered hints (at least three, the most general first).

    A failure message of the decorated check ends with how to ask for more help:
    ``More help: checks.hint("<name>")``.
    """
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
    """Print a hint for the check ``name``: the next one each call, or hint number ``level``.

    Parameters
    ----------
    name : str
        The check's name, as in ``checks.<name>(...)`` (e.g. ``"stft_db"``).
    level : int, optional
        1 for the most general hint, up to the number of hints (the most explicit). Without it, each
        call shows the next hint, and the last one again once they are all shown.
    """
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
    more = (
        f'(next: checks.hint("{name}") again)' if level < len(hints) else "(that was the last one)"
    )
    print(f"Hint {level} of {len(hints)} for {name}: {hints[level - 1]}\n{more}")


def call(function: Callable[..., Any], *args: Any, what: str, **kwargs: Any) -> Any:
    """Run the student's ``function(*args, **kwargs)``; turn an unexpected error into a diagnosis.

    ``NotImplementedError`` (an unsolved FIXME) and ``ExerciseError`` pass through unchanged. Any
    other exception becomes the ``ExerciseError`` of ``diagnose``, chained to it so that the
    traceback still shows the failing line of the student's code.
    """
    __tracebackhide__ = True
    try:
        return function(*args, **kwargs)
    except (NotImplementedError, ExerciseError):
        raise
    except Exception as error:  # the student's code may raise anything
        raise diagnose(error, what) from error


def diagnose(error: Exception, what: str) -> ExerciseError:
    """The ``ExerciseError`` for an exception raised by the student's ``what`` (e.g. ``"f(x)"``)."""
    problem = f"{what} raised {type(error).__name__}: {error}"
    if isinstance(error, NameError | AttributeError):
        where = (
            "a name that does not exist: check the spelling of every function and attribute in "
            "your cell, and that the imports cell ran (the traceback above shows the line)."
        )
    else:
        where = (
            "read the traceback above: it ends at the line of your code that failed. Compare "
            "the shapes and types you pass there with what the exercise describes."
        )
    return ExerciseError(f"{problem}\nHint: {where}")


def as_array(value: object, what: str) -> np.ndarray:
    """``value`` as a numpy array (from numpy, torch or a list), or a clear ``ExerciseError``."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu().numpy()
    try:
        return np.asarray(value)
    except Exception:  # anything numpy cannot take
        fail(f"{what} is a {type(value).__name__}, not an array.", "return a numpy array.")


def as_number(value: object, what: str) -> float:
    """``value`` as a float (Python, numpy or a 0-d tensor), or a clear ``ExerciseError``."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        fail(
            f"{what} should be one number, got {type(value).__name__} {value!r:.60}.",
            "return a float, not a tuple, an array or a string.",
        )


def is_number(value: object) -> bool:
    """True for a Python/numpy number or a one-element tensor (not a bool)."""
    if isinstance(value, torch.Tensor):
        return value.numel() == 1
    return isinstance(value, int | float | np.number) and not isinstance(value, bool)


def shape_text(shape: tuple[int, ...] | torch.Size) -> str:
    """``(4, 40, 301)``: a shape as the messages show it."""
    return "(" + ", ".join(str(int(s)) for s in shape) + ")"


@contextmanager
def watch_global_rngs() -> Iterator[list[str]]:
    """Yield a list that, after the block, names the global random generators the block moved.

    Python's ``random``, ``numpy.random``'s global state and torch's default CPU generator: code that
    draws from them depends on what every other cell drew before (and changes it for them).
    """
    before = (random.getstate(), np.random.get_state(), torch.random.get_rng_state())
    moved: list[str] = []
    try:
        yield moved
    finally:
        python, numpy_state, torch_state = before
        if random.getstate() != python:
            moved.append("Python's random")
        now = np.random.get_state()
        if (
            now[0] != numpy_state[0]
            or not np.array_equal(now[1], numpy_state[1])
            or now[2:] != (numpy_state[2:])
        ):
            moved.append("numpy's global np.random")
        if not torch.equal(torch.random.get_rng_state(), torch_state):
            moved.append("torch's global generator")


class Decode:
    """One decode of an audio file seen by ``record_decodes``: ``start`` and ``frames`` in samples."""

    def __init__(self, path: str, start: int, frames: int, total: int) -> None:
        self.path, self.start, self.frames, self.total = path, start, frames, total

    def __repr__(self) -> str:
        return (
            f"Decode({self.path!r}, start={self.start}, frames={self.frames}, total={self.total})"
        )


@contextmanager
def record_decodes() -> Iterator[list[Decode]]:
    """Record every window soundfile decodes inside the block (``load_audio``, ``sf.read``, librosa).

    Spies on the public ``soundfile.SoundFile`` methods ``read``, ``seek`` and ``close``: a read
    records where it started and how many frames it returned; a file closed without a ``read`` call
    (decoded by other means) records the span from its first absolute seek to its final position.
    """
    import soundfile as sf

    decodes: list[Decode] = []
    first_seek: dict[int, int] = {}
    has_read: set[int] = set()
    read, seek, close = sf.SoundFile.read, sf.SoundFile.seek, sf.SoundFile.close

    def spy_read(self: sf.SoundFile, frames: int = -1, *args: Any, **kwargs: Any) -> Any:
        start = self.tell()
        data = read(self, frames, *args, **kwargs)
        has_read.add(id(self))
        decodes.append(Decode(self.name, start, len(data), self.frames))
        return data

    def spy_seek(self: sf.SoundFile, frames: int, whence: int = sf.SEEK_SET) -> int:
        position = seek(self, frames, whence)
        if whence == sf.SEEK_SET:
            first_seek.setdefault(id(self), position)
        return position

    def spy_close(self: sf.SoundFile) -> None:
        key = id(self)
        if not self.closed and self.mode == "r" and key not in has_read:
            start = first_seek.get(key, 0)
            decodes.append(Decode(self.name, start, self.tell() - start, self.frames))
        first_seek.pop(key, None)
        has_read.discard(key)
        close(self)

    sf.SoundFile.read, sf.SoundFile.seek, sf.SoundFile.close = spy_read, spy_seek, spy_close
    try:
        yield decodes
    finally:
        sf.SoundFile.read, sf.SoundFile.seek, sf.SoundFile.close = read, seek, close


@contextmanager
def count_modules() -> Iterator[list[int]]:
    """Count ``nn.Module`` constructions inside the block: ``with count_modules() as built: ...``."""
    built = [0]
    original = torch.nn.Module.__init__

    def counting(self: torch.nn.Module, *args: Any, **kwargs: Any) -> None:
        built[0] += 1
        original(self, *args, **kwargs)

    torch.nn.Module.__init__ = counting  # type: ignore[method-assign]
    try:
        yield built
    finally:
        torch.nn.Module.__init__ = original  # type: ignore[method-assign]


def write_test_audio(path: Any, data: np.ndarray, sample_rate: int) -> np.ndarray:
    """Write ``data`` ``(frames,)`` or ``(frames, channels)`` as 16-bit audio; return what it holds."""
    import soundfile as sf

    sf.write(path, data, sample_rate, subtype="PCM_16")
    stored, _ = sf.read(path, dtype="float32", always_2d=True)
    return stored
