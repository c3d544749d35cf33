"""Notebook 04's code travels to 05 as a file: written from the cells run, tested alone, said loudly."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.model_code import load_model_code, model_code_path, save_model_code

CELLS = [
    "import torch\nfrom torch import nn\nfrom helpers.model_code import save_model_code",
    "WIDTH = 2\n\n\ndef pool(x):\n    return torch.cat([x.mean(-1), x.std(-1)], dim=1)",
    "class Tiny(nn.Module):\n    def __init__(self, n_features, n_classes):\n"
    "        super().__init__()\n        self.head = nn.Linear(WIDTH * n_features, n_classes)\n\n"
    "    def forward(self, x):\n        return self.head(pool(x))\n\n\nprint('defined')",
    "class Todo(nn.Module):\n    def __init__(self, n_features, n_classes):\n"
    '        raise NotImplementedError("FIXME: write it")',
    "tiny = Tiny(3, 4)\nassert tiny(torch.randn(2, 3, 7)).shape == (2, 4)",
]
EXAMPLES = '{"Tiny": torch.randn(2, 3, 7), "Todo": torch.randn(2, 3, 7)}'


def run_cells(cells: list[str], tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def test_the_cells_code_is_written_tested_alone_and_imported_back(tmp_path: Path) -> None:
    """A helper function and a constant at the top level of a cell travel with the class."""
    target = tmp_path / "drive" / "my_models.py"
    nb = run_cells([*CELLS, f"save_model_code({EXAMPLES}, {str(target)!r})"], tmp_path)
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "Todo: not written yet" in out and f"Saved your code to {target}" in out
    assert "these run: Tiny" in out
    text = target.read_text()
    assert "def pool(x):" in text and "class Tiny(nn.Module):" in text and "WIDTH = 2" in text
    assert "print('defined')" not in text and "tiny = Tiny" not in text, "statements were copied"
    module = load_model_code(target)
    assert module.READY == ["Tiny"]
    assert module.Tiny(3, 5)(torch.randn(2, 3, 7)).shape == (2, 5)


def test_the_last_version_of_a_class_wins(tmp_path: Path) -> None:
    target = tmp_path / "my_models.py"
    fixed = CELLS[3].replace('raise NotImplementedError("FIXME: write it")', "super().__init__()")
    fixed += "\n\n    def forward(self, x):\n        return x.mean(-1)[:, :5] * 0 + torch.zeros(5)"
    save_model_code({"Todo": torch.randn(2, 6, 7)}, target, cells=[CELLS[0], CELLS[3], fixed])
    assert load_model_code(target).READY == ["Todo"]
    assert target.read_text().count("class Todo") == 1


def test_a_helper_defined_inside_another_cell_block_is_reported_in_04(tmp_path: Path) -> None:
    """The issue-18 case: a name the class uses does not reach the file, and 04 says so at once."""
    hidden = "if True:\n    def pool(x):\n        return torch.cat([x.mean(-1), x.std(-1)], dim=1)"
    save = "save_model_code({'Tiny': torch.randn(2, 3, 7)}, 'm.py')"
    cells = [CELLS[0], "WIDTH = 2", hidden, CELLS[2], save]
    with pytest.raises(CellExecutionError, match=r"Tiny: NameError: name 'pool' is not defined"):
        run_cells(cells, tmp_path)
    assert load_model_code(tmp_path / "m.py", verbose=False).READY == []


def test_outside_a_notebook_it_says_so(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="call it in a notebook"):
        save_model_code({}, tmp_path / "x.py")


def test_load_says_which_file_it_imports(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "my_models.py"
    target.write_text(
        "from torch import nn\n\n\nclass Net(nn.Module):\n    pass\n\nREADY = ['Net']\n"
    )
    assert load_model_code(target).Net.__name__ == "Net"
    assert f"Importing your model code from {target} (written by notebook 04): Net" in (
        capsys.readouterr().out
    )


def test_no_file_is_a_visible_fallback_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert load_model_code(tmp_path / "absent.py") is None
    out = capsys.readouterr().out
    assert "No model code from notebook 04" in out and "reference models" in out


def test_a_file_that_fails_names_itself_and_the_fix(tmp_path: Path) -> None:
    target = tmp_path / "my_models.py"
    target.write_text("import torch\nraise RuntimeError('boom')\n")
    with pytest.raises(ImportError, match=r"my_models.py fails to run: RuntimeError: boom.*04"):
        load_model_code(target)


def test_the_default_file_is_in_the_checkpoint_dir_on_drive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIO_COURSE_DRIVE_DIR", str(tmp_path / "MyDrive" / "audio-course"))
    assert model_code_path() == tmp_path / "MyDrive" / "audio-course" / "checkpoints" / (
        "my_models.py"
    )
