"""Checks for the evaluation exercises."""

__all__: list[str] = []
