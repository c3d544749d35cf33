"""What every check shares: how it reports success and failure."""

from __future__ import annotations


class ExerciseError(AssertionError):
    """An exercise answer is wrong. The message says what, and hints at how to fix it."""


def passed(message: str) -> None:
    """Report a passed check."""
    print(f"✓ {message}")


def expect(condition: bool, problem: str, hint: str) -> None:
    """Raise ``ExerciseError(problem + hint)`` unless ``condition`` holds."""
    if not condition:
        raise ExerciseError(f"{problem}\nHint: {hint}")
