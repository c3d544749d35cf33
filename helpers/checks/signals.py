"""Checks for the signals exercises."""

__all__: list[str] = []
