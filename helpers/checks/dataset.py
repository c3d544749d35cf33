"""Checks for the dataset exercises."""

__all__: list[str] = []
