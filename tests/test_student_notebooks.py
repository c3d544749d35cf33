"""Execute every student notebook: it must complete, or stop at a FIXME stub and nowhere else."""

from __future__ import annotations

import importlib.util
import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location(
    "build_student_notebooks", ROOT / "tools" / "build_student_notebooks.py"
)
build = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = build
_spec.loader.exec_module(build)

STUDENT_NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


def execution_problem(path: Path, timeout: int = 600) -> str | None:
    """Execute a notebook in its folder; return what went wrong, or None if all is well.

    All is well if the notebook completes, or if it stops with ``NotImplementedError("FIXME: ...")``
    raised by a stub whose ``# FIXME: ...`` line is in the failing cell or an earlier one (an
    exercise may define a function that a later cell calls).
    """
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    try:
        client.execute()
    except CellExecutionError as err:
        index = next(
            i
            for i, cell in enumerate(client.nb.cells)
            if any(out.get("output_type") == "error" for out in cell.get("outputs", []))
        )
        stubs = {
            line.strip()
            for cell in client.nb.cells[: index + 1]
            if cell.cell_type == "code"
            for line in cell.source.splitlines()
        }
        if err.ename == "NotImplementedError" and err.evalue.startswith("FIXME"):
            if f"# {err.evalue}" in stubs:
                return None
        return f"cell {index} raised {err.ename}: {err.evalue}\n{err}"
    return None


@pytest.fixture
def course_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """The environment the notebooks are tested in: quick mode, and the kit importable."""
    monkeypatch.setenv("AUDIO_COURSE_QUICK", "1")
    pythonpath = [str(ROOT), *filter(None, [os.environ.get("PYTHONPATH")])]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(pythonpath))


@pytest.mark.parametrize("path", STUDENT_NOTEBOOKS, ids=lambda p: p.name)
def test_student_notebook_runs_to_its_first_fixme(path: Path, course_env: None) -> None:
    problem = execution_problem(path)
    assert problem is None, problem


def test_execution_problem_tells_fixme_stops_from_errors(tmp_path: Path, course_env: None) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project.urls]\nRepository = "https://github.com/someone/audio-course"\n'
    )
    (tmp_path / "solutions").mkdir()
    exercise = (
        "def double(x):\n    # BEGIN SOLUTION: return twice x\n    return 2 * x\n    # END SOLUTION"
    )
    good = nbformat.v4.new_notebook()
    good.cells = [
        nbformat.v4.new_markdown_cell("# Good"),
        nbformat.v4.new_code_cell(
            'import os\n\nassert os.environ["AUDIO_COURSE_QUICK"] == "1"\n'
            'assert os.path.basename(os.getcwd()) in ("solutions", "notebooks")'
        ),
        nbformat.v4.new_code_cell(exercise),
        nbformat.v4.new_code_cell("assert double(2) == 4"),
    ]
    bad = nbformat.v4.new_notebook()
    bad.cells = [
        nbformat.v4.new_markdown_cell("# Bad"),
        nbformat.v4.new_code_cell('raise ValueError("broken before any exercise")'),
        nbformat.v4.new_code_cell(exercise + "\n\n\ndouble(1)"),
    ]
    nbformat.write(good, tmp_path / "solutions" / "01_good.ipynb")
    nbformat.write(bad, tmp_path / "solutions" / "02_bad.ipynb")
    assert build.main(["--root", str(tmp_path)]) == 0

    assert execution_problem(tmp_path / "solutions" / "01_good.ipynb") is None
    assert execution_problem(tmp_path / "notebooks" / "01_good.ipynb") is None  # stops at FIXME
    problem = execution_problem(tmp_path / "notebooks" / "02_bad.ipynb")
    assert problem is not None and problem.startswith("cell 3 raised ValueError: broken before")
