"""The text of a solution notebook, for the tests that read what the notebooks say."""

from pathlib import Path

import nbformat

SOLUTIONS = Path(__file__).resolve().parents[1] / "solutions"


def cells(number: str, kind: str = "markdown") -> list[str]:
    """The sources of the ``kind`` cells of solution notebook ``number`` (``"01"`` … ``"07"``)."""
    nb = nbformat.read(next(SOLUTIONS.glob(f"{number}_*.ipynb")), as_version=4)
    return [c.source for c in nb.cells if c.cell_type == kind]


def text(number: str, kind: str = "markdown") -> str:
    """Those cells joined by newlines."""
    return "\n".join(cells(number, kind))
