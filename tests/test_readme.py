"""The README's course map stays true: every notebook linked, with Colab badges for this repository."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
REPOSITORY = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
SLUG = REPOSITORY.removeprefix("https://github.com/")
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))


def test_every_notebook_has_a_solution() -> None:
    assert len(SOLUTIONS) == 7
    assert [p.name for p in sorted((ROOT / "notebooks").glob("*.ipynb"))] == [
        p.name for p in SOLUTIONS
    ]


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
@pytest.mark.parametrize("folder", ["notebooks", "solutions"])
def test_course_map_links_the_notebook_and_its_colab_badge(path: Path, folder: str) -> None:
    assert f"]({folder}/{path.name})" in README
    colab = f"https://colab.research.google.com/github/{SLUG}/blob/main/{folder}/{path.name}"
    assert colab in README, f"README lacks the Colab badge {colab} (repository from pyproject.toml)"


def test_readme_test_command_is_what_ci_runs() -> None:
    assert "make test" in (ROOT / ".ci" / "run").read_text()
    assert "make test" in README and "make run" in README
