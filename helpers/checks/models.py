"""Checks for the models exercises."""

__all__: list[str] = []
