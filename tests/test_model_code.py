"""Notebook 04's classes travel to 05 as a file: written from cells, imported back, said loudly."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient

from helpers import model_code
from helpers.model_code import load_model_code, model_code_path, save_model_code, source_of

CELLS = [
    "import torch\nfrom torch import nn\nfrom helpers.model_code import save_model_code",
    "def pool(x):\n    return torch.cat([x.mean(-1), x.std(-1)], dim=1)",
    "class Tiny(nn.Module):\n    def __init__(self, n_features, n_classes):\n"
    "        super().__init__()\n        self.head = nn.Linear(2 * n_features, n_classes)\n\n"
    "    def forward(self, x):\n        return self.head(pool(x))\n\n\nprint('defined')",
]


def run_cells(cells: list[str], tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def test_classes_and_functions_defined_in_cells_are_written_and_imported_back(
    tmp_path: Path,
) -> None:
    """In a real kernel (where inspect.getsource fails on classes) the file holds both, and runs."""
    target = tmp_path / "drive" / "my_models.py"
    nb = run_cells([*CELLS, f"save_model_code([pool, Tiny], {str(target)!r})"], tmp_path)
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert f"Saved your code (pool, Tiny) to {target}" in out
    text = target.read_text()
    assert "def pool(x):" in text and "class Tiny(nn.Module):" in text
    assert "print('defined')" not in text, "code after the class in its cell was copied too"
    module = load_model_code(target)
    model = module.Tiny(3, 5)
    assert model(torch.randn(2, 3, 7)).shape == (2, 5)


def test_load_says_which_file_it_imports(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    target = tmp_path / "my_models.py"
    target.write_text("from torch import nn\n\n\nclass Net(nn.Module):\n    pass\n")
    module = load_model_code(target)
    assert module.Net.__name__ == "Net"
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
        model_code.MODEL_CODE_FILE
    )


def test_source_of_a_class_defined_in_a_file() -> None:
    from helpers.models import StatsPool

    assert source_of(StatsPool).startswith("class StatsPool(nn.Module):")


def test_save_refuses_what_has_no_source(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="cannot find the source code"):
        save_model_code([len], tmp_path / "x.py")
