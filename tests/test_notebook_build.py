"""Tests of tools/build_student_notebooks.py: on constructed notebooks, then on the real repo."""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "build_student_notebooks.py"
_spec = importlib.util.spec_from_file_location("build_student_notebooks", TOOL)
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build
_spec.loader.exec_module(build)

SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
STUDENT_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
SLUG = "someone/audio-course"

EXERCISE = '''\
import math


def area(radius):
    """Area of a disc."""
    # BEGIN SOLUTION: return the area of a disc of this radius
    squared = radius**2
    return math.pi * squared
    # END SOLUTION


# NBVAL_CHECK_OUTPUT
# BEGIN SOLUTION: print the "area" of a unit disc
print(area(1))
# END SOLUTION
print("done")'''

STUB = r'''import math


def area(radius):
    """Area of a disc."""
    # FIXME: return the area of a disc of this radius
    raise NotImplementedError("FIXME: return the area of a disc of this radius")


# NBVAL_CHECK_OUTPUT
# FIXME: print the "area" of a unit disc
raise NotImplementedError("FIXME: print the \"area\" of a unit disc")
print("done")'''


def demo_solution() -> nbformat.NotebookNode:
    """A messy solution notebook, as saved by Colab: outputs, counts, extra metadata."""
    nb = nbformat.v4.new_notebook()
    nb.metadata = {
        "colab": {"provenance": []},
        "widgets": {"application/vnd.jupyter.widget-state+json": {}},
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "p"},
    }
    nb.cells = [
        nbformat.v4.new_markdown_cell("# 01 · Démo"),
        nbformat.v4.new_code_cell(
            EXERCISE,
            execution_count=7,
            outputs=[nbformat.v4.new_output("stream", text="3.14\n")],
            metadata={"colab": {"base_uri": "x"}, "tags": ["keep-me"], "collapsed": False},
        ),
        nbformat.v4.new_markdown_cell(
            "Why squared?\n\n<!-- BEGIN SOLUTION -->\nBecause **area**.\n<!-- END SOLUTION -->\n"
        ),
        nbformat.v4.new_code_cell("# NBVAL_SKIP\nx = 1", execution_count=8),
    ]
    return nb


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A tmp repo root: pyproject.toml with the URL, and one messy solution notebook."""
    (tmp_path / "pyproject.toml").write_text(
        f'[project]\nname = "x"\n\n[project.urls]\nRepository = "https://github.com/{SLUG}"\n'
    )
    (tmp_path / "solutions").mkdir()
    nbformat.write(demo_solution(), tmp_path / "solutions" / "01_demo.ipynb")
    return tmp_path


def run_tool(root: Path, *args: str) -> int:
    return build.main(["--root", str(root), *args])


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in root.glob("*/*.ipynb")}


# --- the transformation --------------------------------------------------------------------------


def test_find_regions() -> None:
    regions = build.find_regions(EXERCISE)
    assert [(r.start, r.end, r.indent) for r in regions] == [(5, 8, "    "), (12, 14, "")]
    assert regions[1].instruction == 'print the "area" of a unit disc'


def test_code_regions_become_fixme_stubs() -> None:
    student = build.build_student_notebook(demo_solution()).cells[1].source
    assert student == STUB
    namespace: dict[str, object] = {}
    with pytest.raises(NotImplementedError, match=r'^FIXME: print the "area" of a unit disc$'):
        exec(compile(student, "cell", "exec"), namespace)
    with pytest.raises(NotImplementedError, match=r"^FIXME: return the area"):
        namespace["area"](1)  # type: ignore[operator]


def test_markdown_region_becomes_placeholder() -> None:
    student = build.build_student_notebook(demo_solution())
    assert student.cells[2].source == "Why squared?\n\n*Your answer here.*\n"
    assert build.stub_markdown("A: <!-- BEGIN SOLUTION -->42<!-- END SOLUTION -->.") == (
        "A: *Your answer here.*."
    )


def test_think_answer_becomes_collapsible() -> None:
    source = (
        "**Think! 1.1 — why?** Why squared?\n\n<!-- BEGIN ANSWER -->\nBecause *area*.\n"
        "<!-- END ANSWER -->\n\nMore text."
    )
    nb = demo_solution()
    nb.cells[2].source = source
    student = build.build_student_notebook(nb).cells[2].source
    assert student == (
        "**Think! 1.1 — why?** Why squared?\n\n<details>\n<summary>Show the answer</summary>"
        "\n\nBecause *area*.\n\n</details>\n\nMore text."
    )
    assert "ANSWER -->" not in student
    assert nb.cells[2].source == source  # the solution keeps the answer as a plain paragraph
    both = "A <!-- BEGIN ANSWER -->x<!-- END ANSWER --> B <!-- BEGIN ANSWER -->y<!-- END ANSWER -->"
    assert build.reveal_answers(both).count("<details>") == 2


@pytest.mark.parametrize(
    ("source", "words"),
    [
        ("<!-- BEGIN ANSWER -->a", "BEGIN ANSWER without an END ANSWER"),
        ("a<!-- END ANSWER -->", "END ANSWER without a BEGIN ANSWER"),
        ("<!-- BEGIN ANSWER -->\n<!-- BEGIN ANSWER -->a<!-- END ANSWER -->", "nested"),
    ],
)
def test_bad_answer_markers(source: str, words: str) -> None:
    nb = demo_solution()
    nb.cells[2].source = source
    with pytest.raises(build.MarkerError, match=rf"^cell 2, line \d: .*{words}"):
        build.build_student_notebook(nb)


@pytest.mark.parametrize(
    ("source", "line", "words"),
    [
        ("x = 1\n# BEGIN SOLUTION: a\n# BEGIN SOLUTION: b\n# END SOLUTION", 3, "nested"),
        ("# BEGIN SOLUTION: a\nx = 1", 1, "without an END"),
        ("x = 1\n# END SOLUTION", 2, "without a BEGIN"),
        ("# BEGIN SOLUTION\nx = 1\n# END SOLUTION", 1, "BEGIN SOLUTION: <instruction>"),
        ("# BEGIN SOLUTION:   \nx = 1\n# END SOLUTION", 1, "BEGIN SOLUTION: <instruction>"),
        ("#BEGIN SOLUTION: a\nx = 1\n# END SOLUTION", 1, "malformed"),
    ],
)
def test_bad_code_markers_name_cell_and_line(source: str, line: int, words: str) -> None:
    nb = demo_solution()
    nb.cells[3].source = source
    with pytest.raises(build.MarkerError, match=rf"^cell 3, line {line}: .*{re.escape(words)}"):
        build.build_student_notebook(nb)


@pytest.mark.parametrize(
    "source",
    [
        "<!-- BEGIN SOLUTION -->a",
        "a<!-- END SOLUTION -->",
        "<!-- BEGIN SOLUTION --><!-- BEGIN SOLUTION -->a<!-- END SOLUTION -->",
        "BEGIN SOLUTION: a\nEND SOLUTION",
    ],
)
def test_bad_markdown_markers(source: str) -> None:
    nb = demo_solution()
    nb.cells[2].source = source
    with pytest.raises(build.MarkerError, match=r"^cell 2, line 1: "):
        build.build_student_notebook(nb)


def test_bad_marker_fails_the_cli_naming_the_notebook(repo: Path, capsys) -> None:
    nb = demo_solution()
    nb.cells[3].source = "x = 1\n\n    # END SOLUTION"
    nbformat.write(nb, repo / "solutions" / "01_demo.ipynb")
    assert run_tool(repo) == 2
    assert "solutions/01_demo.ipynb: cell 3, line 3" in capsys.readouterr().err
    assert not (repo / "notebooks").exists()


# --- the CLI on a tmp repo -----------------------------------------------------------------------


def test_build_writes_normalised_stamped_notebooks(repo: Path, capsys) -> None:
    assert run_tool(repo) == 0
    assert "01_demo.ipynb: 2 exercise(s)" in capsys.readouterr().out
    for folder in ("solutions", "notebooks"):
        path = repo / folder / "01_demo.ipynb"
        text = path.read_text(encoding="utf-8")
        assert text.startswith('{\n "cells": [\n') and text.endswith("}\n")
        assert "Démo" in text  # not \u00e9
        nb = json.loads(text)
        assert nb["nbformat"] == 4
        assert nb["metadata"] == {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
        cells = nb["cells"]
        assert [c["metadata"] for c in cells] == [
            {},
            {"tags": ["course-badge"]},
            {"cellView": "form", "tags": ["course-setup"]},
            {"tags": ["keep-me"]},
            {},
            {},
        ]
        code = [c for c in cells if c["cell_type"] == "code"]
        # Only the solution keeps an output: the text of its # NBVAL_CHECK_OUTPUT cell, with an
        # execution count, without which nbval rejects it as the output of an unrun cell.
        kept = [{"name": "stdout", "output_type": "stream", "text": ["3.14\n"]}]
        assert cells[3]["outputs"] == (kept if folder == "solutions" else [])
        assert cells[3]["execution_count"] == (1 if folder == "solutions" else None)
        assert all(c["execution_count"] is None for c in code if c is not cells[3])
        assert all(c["outputs"] == [] for c in code if c is not cells[3])
        assert len({c["id"] for c in cells}) == len(cells)
        badge, setup = "".join(cells[1]["source"]), "".join(cells[2]["source"])
        assert badge == (
            "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{SLUG}/blob/main/{folder}/01_demo.ipynb)"
        )
        assert setup.startswith("# @title Setup\n# @markdown ")  # Colab folds it to a form
        assert 'mirror = ""  # @param {type:"string"}' in setup
        assert f'"https://github.com/{SLUG}"' in setup and f'REPO + "/{folder}"' in setup
        assert "helpers.colab.setup(data, drive)" in setup
        assert "# NBVAL_CHECK_OUTPUT" in "".join(cells[3]["source"])
        assert "".join(cells[5]["source"]).startswith("# NBVAL_SKIP\n")
    student = (repo / "notebooks" / "01_demo.ipynb").read_text(encoding="utf-8")
    assert "SOLUTION" not in student and "math.pi" not in student and "**area**" not in student


def test_setup_cell_does_nothing_outside_colab(repo: Path) -> None:
    run_tool(repo)
    nb = nbformat.read(repo / "notebooks" / "01_demo.ipynb", as_version=4)
    cwd, path = Path.cwd(), list(sys.path)
    exec(compile(nb.cells[2].source, "setup", "exec"), {})
    assert (Path.cwd(), sys.path) == (cwd, path)


def test_rebuild_is_idempotent_and_stamps_once(repo: Path) -> None:
    assert run_tool(repo) == 0
    first = snapshot(repo)
    assert run_tool(repo) == 0
    assert snapshot(repo) == first
    for text in first.values():
        assert text.count(b"course-badge") == 1 and text.count(b"# @title Setup") == 1


def test_check(repo: Path, capsys) -> None:
    assert run_tool(repo, "--check") == 1  # solution not yet normalised, student missing
    out = capsys.readouterr().out
    assert "solutions/01_demo.ipynb" in out and "notebooks/01_demo.ipynb" in out
    assert "make notebooks" in out
    assert not (repo / "notebooks").exists()

    run_tool(repo)
    assert run_tool(repo, "--check") == 0

    student = repo / "notebooks" / "01_demo.ipynb"
    student.write_text(student.read_text().replace("FIXME: print", "FIXME: Print"))
    capsys.readouterr()
    assert run_tool(repo, "--check") == 1
    assert capsys.readouterr().out.split("\n")[1:] == ["  notebooks/01_demo.ipynb", ""]

    run_tool(repo)
    solution = repo / "solutions" / "01_demo.ipynb"
    nb = nbformat.read(solution, as_version=4)
    nb.cells[5].outputs = [nbformat.v4.new_output("stream", text="1\n")]  # not a checked cell
    nbformat.write(nb, solution)
    assert run_tool(repo, "--check") == 1
    assert "  solutions/01_demo.ipynb" in capsys.readouterr().out


def test_stale_student_notebook_is_reported_then_removed(repo: Path) -> None:
    run_tool(repo)
    stale = repo / "notebooks" / "02_gone.ipynb"
    stale.write_text("{}")
    assert run_tool(repo, "--check") == 1
    assert run_tool(repo) == 0
    assert not stale.exists()


@pytest.mark.parametrize(
    ("pyproject", "words"),
    [
        (None, "pyproject.toml not found"),
        ('[project]\nname = "x"\n', "no repository URL"),
        ('[project.urls]\nRepository = "https://gitlab.com/a/b"\n', "not a GitHub URL"),
    ],
)
def test_repository_url_is_required(repo: Path, capsys, pyproject: str | None, words: str) -> None:
    (repo / "pyproject.toml").unlink()
    if pyproject is not None:
        (repo / "pyproject.toml").write_text(pyproject)
    assert run_tool(repo) == 2
    err = capsys.readouterr().err
    assert words in err and "[project.urls] Repository" in err


def test_notebook_needs_a_markdown_title(repo: Path, capsys) -> None:
    nb = demo_solution()
    nb.cells = [c for c in nb.cells if c.cell_type == "code"]
    nbformat.write(nb, repo / "solutions" / "01_demo.ipynb")
    assert run_tool(repo) == 2
    assert "01_demo.ipynb: no markdown title cell" in capsys.readouterr().err


# --- the real repository -------------------------------------------------------------------------


@pytest.mark.skipif(not SOLUTIONS, reason="no notebooks in solutions/ yet")
def test_record_copies_only_checked_text_outputs(repo: Path, tmp_path: Path) -> None:
    run_tool(repo)
    executed = nbformat.read(repo / "solutions" / "01_demo.ipynb", as_version=4)
    executed.cells[3].outputs = [
        nbformat.v4.new_output("stream", text="3.141592653589793\ndone\n"),
        nbformat.v4.new_output("display_data", data={"image/png": "AAAA", "text/plain": "<Fig>"}),
    ]
    executed.cells[5].outputs = [nbformat.v4.new_output("stream", text="unchecked\n")]
    (tmp_path / "run").mkdir()
    nbformat.write(executed, tmp_path / "run" / "01_demo.ipynb")
    assert run_tool(repo, "--record", str(tmp_path / "run")) == 0
    cells = nbformat.read(repo / "solutions" / "01_demo.ipynb", as_version=4).cells
    assert [o.get("text") or o.get("data") for o in cells[3].outputs] == [
        "3.141592653589793\ndone\n",
        {"text/plain": "<Fig>"},
    ]
    assert cells[5].outputs == []
    assert run_tool(repo, "--check") == 0  # the recorded output is part of the normal form


def test_real_notebooks_are_up_to_date() -> None:
    result = subprocess.run(
        [sys.executable, str(TOOL), "--check"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.name)
def test_real_solution_notebook(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    assert build.count_exercises(nb) >= 1, "no '# BEGIN SOLUTION: ...' exercise region"
    assert nb.metadata.kernelspec.name == "python3"
    assert "colab" not in nb.metadata
    for cell in nb.cells:
        assert "colab" not in cell.metadata
        if cell.cell_type == "code":
            if "# NBVAL_CHECK_OUTPUT" in cell.source:  # the reference text nbval compares against
                assert cell.outputs and cell.execution_count == 1, "run `make outputs`"
                assert all(
                    o.output_type in ("stream", "execute_result", "display_data")
                    for o in cell.outputs
                )
                assert all(set(o.get("data", {})) <= {"text/plain"} for o in cell.outputs)
            else:
                assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=lambda p: p.name)
def test_real_student_notebook_has_no_solution(path: Path) -> None:
    assert "BEGIN SOLUTION" not in path.read_text(encoding="utf-8")


# --- expected outputs ----------------------------------------------------------------------------

FIGURE_CELL = "# EXPECTED_OUTPUT\nplot(area)"
UNMARKED_FIGURE_CELL = "plot(2 * area)"


def figure_png(width_inches: float = 12.0) -> str:
    """A real matplotlib PNG (base64), as the inline backend stores it; 1200 px wide by default."""
    import base64
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(width_inches, 4), dpi=100)
    ax.plot(range(100), [x**0.5 for x in range(100)])
    ax.set(xlabel="x", ylabel="y", title="a figure")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    return base64.b64encode(buffer.getvalue()).decode()


@pytest.fixture
def figure_repo(repo: Path, tmp_path: Path) -> Path:
    """The tmp repo with a marked and an unmarked figure cell, and an executed copy in tmp/run."""
    nb = demo_solution()
    nb.cells += [
        nbformat.v4.new_code_cell(FIGURE_CELL),
        nbformat.v4.new_code_cell(UNMARKED_FIGURE_CELL),
    ]
    nbformat.write(nb, repo / "solutions" / "01_demo.ipynb")
    assert run_tool(repo) == 0
    executed = nbformat.read(repo / "solutions" / "01_demo.ipynb", as_version=4)
    for cell in executed.cells[-2:]:
        cell.outputs = [nbformat.v4.new_output("display_data", data={"image/png": figure_png()})]
    (tmp_path / "run").mkdir()
    nbformat.write(executed, tmp_path / "run" / "01_demo.ipynb")
    return repo


def expected_cells(path: Path) -> list[tuple[int, str]]:
    cells = nbformat.read(path, as_version=4).cells
    return [(i, c.source) for i, c in enumerate(cells) if "expected-output" in _cell_tags(c)]


def _cell_tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def test_marked_cell_gets_its_expected_figure_and_unmarked_does_not(
    figure_repo: Path, tmp_path: Path
) -> None:
    import base64
    import io

    from PIL import Image

    assert run_tool(figure_repo, "--expected", str(tmp_path / "run")) == 0
    pngs = sorted((figure_repo / "notebooks" / "expected").glob("*.png"))
    assert [p.name for p in pngs] == [build.expected_name("01_demo", FIGURE_CELL, 0)]
    image = Image.open(pngs[0])
    assert image.width == 720 and len(pngs[0].read_bytes()) <= 60_000  # downscaled from 1200 px
    student = nbformat.read(figure_repo / "notebooks" / "01_demo.ipynb", as_version=4)
    found = expected_cells(figure_repo / "notebooks" / "01_demo.ipynb")
    assert len(found) == 1
    index, text = found[0]
    assert student.cells[index - 1].source == FIGURE_CELL  # right after the marked cell
    assert student.cells[index + 1].source == UNMARKED_FIGURE_CELL  # nothing after the unmarked one
    assert text.startswith("**Expected output**")
    embedded = re.search(r"\(data:image/png;base64,([A-Za-z0-9+/=]+)\)", text)
    assert embedded and base64.b64decode(embedded[1]) == pngs[0].read_bytes()
    assert Image.open(io.BytesIO(base64.b64decode(embedded[1]))).size == image.size
    # the solution keeps no figure, and the result is the normal form: --check reads the PNG files
    assert expected_cells(figure_repo / "solutions" / "01_demo.ipynb") == []
    assert "image/png" not in (figure_repo / "solutions" / "01_demo.ipynb").read_text()
    before = snapshot(figure_repo)
    assert run_tool(figure_repo, "--check") == 0
    assert run_tool(figure_repo) == 0
    assert snapshot(figure_repo) == before and pngs[0].exists()


def test_check_fails_when_a_solution_changes_and_stale_figures_go(
    figure_repo: Path, tmp_path: Path, capsys
) -> None:
    assert run_tool(figure_repo, "--expected", str(tmp_path / "run")) == 0
    png = figure_repo / "notebooks" / "expected" / build.expected_name("01_demo", FIGURE_CELL, 0)
    solution = figure_repo / "solutions" / "01_demo.ipynb"
    nb = nbformat.read(solution, as_version=4)
    nb.cells[-1].source = "plot(3 * area)"  # an unmarked cell: the student notebook is stale
    nbformat.write(nb, solution)
    capsys.readouterr()
    assert run_tool(figure_repo, "--check") == 1
    assert "  notebooks/01_demo.ipynb" in capsys.readouterr().out
    nb.cells[-2].source = FIGURE_CELL + "  # changed"  # the marked cell: its figure is stale too
    nbformat.write(nb, solution)
    assert run_tool(figure_repo, "--check") == 1
    out = capsys.readouterr().out
    assert f"notebooks/expected/{png.name} (no marked cell uses it)" in out
    assert png.exists()  # --check writes nothing
    assert run_tool(figure_repo) == 0
    out = capsys.readouterr().out
    assert not png.exists() and "no expected figure for marked cell(s) 6: run `make outputs`" in out
    assert expected_cells(figure_repo / "notebooks" / "01_demo.ipynb") == []
    assert run_tool(figure_repo, "--check") == 0


def test_marked_cell_without_a_figure_is_an_error(
    figure_repo: Path, tmp_path: Path, capsys
) -> None:
    run = tmp_path / "run" / "01_demo.ipynb"
    executed = nbformat.read(run, as_version=4)
    executed.cells[-2].outputs = [nbformat.v4.new_output("stream", text="no figure\n")]
    nbformat.write(executed, run)
    assert run_tool(figure_repo, "--expected", str(tmp_path / "run")) == 2
    err = capsys.readouterr().err
    assert "01_demo.ipynb: cell 6 is marked # EXPECTED_OUTPUT but drew no figure" in err


def test_real_marked_cells_have_small_expected_figures() -> None:
    marked = 0
    for path in SOLUTIONS:
        solution = nbformat.read(path, as_version=4)
        student = nbformat.read(ROOT / "notebooks" / path.name, as_version=4)
        for cell in solution.cells:
            if not build.is_expected(cell):
                continue
            marked += 1
            name = build.expected_name(path.stem, cell.source, 0)
            assert (ROOT / "notebooks" / "expected" / name).exists(), (
                f"{path.name}: no expected figure for {cell.source.splitlines()[1]!r}: "
                "run `make outputs`"
            )
        # one expected-output cell per marked cell, right after it
        shown = [i for i, c in enumerate(student.cells) if "expected-output" in _cell_tags(c)]
        assert [build.is_expected(student.cells[i - 1]) for i in shown] == [True] * len(shown)
        assert len(shown) == sum(build.is_expected(c) for c in solution.cells)
    pngs = list((ROOT / "notebooks" / "expected").glob("*.png"))
    assert marked >= 10 and len(pngs) >= marked
    assert all(p.stat().st_size <= 60_000 for p in pngs)
