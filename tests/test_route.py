"""The 3-hour route's budget (tools/route.py): what it counts, README's table held to it, and the
whole route within its targets (issue 18)."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import route  # noqa: E402


def notebook(tmp_path: Path, *cells) -> Path:
    path = tmp_path / "09_example.ipynb"
    nbformat.write(new_notebook(cells=list(cells)), path)
    return path


def test_counts_intro_core_and_summary_with_answers_but_not_the_rest(tmp_path: Path) -> None:
    path = notebook(
        tmp_path,
        new_markdown_cell("# 09 · Title\n\none two three"),  # 5 words
        new_markdown_cell("[![Open In Colab](https://x/badge.svg)](https://colab/x)"),  # image
        new_code_cell("print('code is not read')"),
        new_markdown_cell(
            "## 1 · Core one\n\n*Core — on the 3-hour route.*\n\nfour [five](https://a/b)\n\n"
            "### Exercise 9.1 — a\n\n**Think! 9.1 — b.** why?\n\n<!-- BEGIN ANSWER -->\n"
            "because\n<!-- END ANSWER -->"
        ),
        new_markdown_cell(
            "## 2 · Skipped\n\n*Optional — not on the 3-hour route.*\n\nsix seven\n\n"
            "### Exercise 9.2 — c"
        ),
        new_markdown_cell("## Summary\n\n- eight"),
        new_markdown_cell("## Further reading\n\n- nine ten eleven"),
    )
    b = route.budget(path)
    # title 7 + core: heading 5, mark 6, "four [five]" 2, exercise 5, Think 5, answer 1
    # + summary: "## Summary" 2, "- eight" 2; the badge, the code and Further reading: 0
    assert b.words == 7 + (5 + 6 + 2 + 5 + 5 + 1) + (2 + 2)
    assert (b.exercises, b.thinks, b.core, b.optional) == (1, 1, [1], [2])
    assert b.full_exercises == 2 and b.full_words == b.words + 4 + 7 + 2 + 5
    assert b.minutes() == pytest.approx(b.words / 180 + 6 + route.SETUP_MINUTES)


def test_a_section_without_a_route_mark_is_an_error(tmp_path: Path) -> None:
    path = notebook(tmp_path, new_markdown_cell("# 09 · T\n\n## 1 · Unmarked\n\ntext"))
    with pytest.raises(ValueError, match="no Core/Optional mark"):
        route.budget(path)


def test_spans() -> None:
    assert route.spans([1, 2, 3, 4, 6, 7]) == "1–4, 6–7"
    assert route.spans([1, 3]) == "1, 3"


def test_readme_shows_the_scripts_table() -> None:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    assert route.readme_block(text) == route.block(), "run python tools/route.py --write-readme"


def test_title_cells_give_the_models_times() -> None:
    assert route.stale_titles(route.budgets()) == []


def test_every_route_keeps_a_think() -> None:
    assert [b.number for b in route.budgets() if b.thinks == 0] == []


def test_the_whole_route_meets_its_targets() -> None:
    total = route.totals(route.budgets())
    assert total["words"] <= route.TARGETS["words"], total
    assert total["exercises"] <= route.TARGETS["exercises"], total
    assert total["minutes"] <= route.TARGETS["minutes"], total
