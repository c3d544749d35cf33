"""Notebook 04's classes travel to 05 (a new runtime) by value: what they use goes with them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import torch
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from helpers.model_code import load_model_code, model_code_path, save_model_code

CELLS = [
    "import torch\nfrom torch import nn\nfrom helpers.model_code import save_model_code",
    # the issue-18 case: a helper defined inside a block, a constant computed, not literal
    "WIDTH = len('ab')\n\nif True:\n\n    def pool(x):\n"
    "        return torch.cat([x.mean(-1), x.std(-1)], dim=1)",
    "class Tiny(nn.Module):\n    def __init__(self, n_features, n_classes):\n"
    "        super().__init__()\n        self.head = nn.Linear(WIDTH * n_features, n_classes)\n\n"
    "    def forward(self, x):\n        return self.head(pool(x))",
    "class Todo(nn.Module):\n    def __init__(self, n_features, n_classes):\n"
    '        raise NotImplementedError("FIXME: write it")',
]
LOAD_IN_A_NEW_PROCESS = """
import sys, torch
from helpers.model_code import load_model_code
classes = load_model_code(sys.argv[1])
print(sorted(classes), tuple(classes["Tiny"](3, 5)(torch.randn(2, 3, 7)).shape))
"""


def run_cells(cells: list[str], tmp_path: Path) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata.kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    NotebookClient(nb, timeout=120, resources={"metadata": {"path": str(tmp_path)}}).execute()
    return nb


def test_the_classes_and_what_they_use_reach_a_new_runtime(tmp_path: Path) -> None:
    target = tmp_path / "drive" / "my_models.pkl"
    save = f"save_model_code({{Tiny: torch.randn(2, 3, 7), Todo: torch.randn(2, 3, 7)}}, {str(target)!r})"
    nb = run_cells([*CELLS, save], tmp_path)
    out = "".join(o.get("text", "") for o in nb.cells[-1].outputs)
    assert "Todo: not written yet" in out and f"Saved Tiny to {target} for notebook 05" in out
    loaded = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_NEW_PROCESS, str(target)],
        capture_output=True, text=True, check=True, cwd=tmp_path,
    )  # fmt: skip
    assert f"Your classes of notebook 04, from {target}: Tiny" in loaded.stdout
    assert "['Tiny'] (2, 5)" in loaded.stdout, loaded.stdout + loaded.stderr


def test_a_class_that_fails_is_named_in_04_and_the_others_are_kept(tmp_path: Path) -> None:
    broken = CELLS[2].replace("WIDTH * n_features", "n_features").replace("class Tiny", "class Bad")
    save = "save_model_code({Tiny: torch.randn(2, 3, 7), Bad: torch.randn(2, 3, 7)}, 'm.pkl')"
    with pytest.raises(CellExecutionError, match=r"Bad: RuntimeError: mat1 and mat2 shapes"):
        run_cells([*CELLS, broken, save], tmp_path)
    assert list(load_model_code(tmp_path / "m.pkl", verbose=False)) == ["Tiny"]


def test_a_wrong_output_shape_is_named(tmp_path: Path) -> None:
    class Wrong(torch.nn.Module):
        def __init__(self, n_features: int, n_classes: int) -> None:
            super().__init__()

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x.mean(-1)

    with pytest.raises(RuntimeError, match=r"Wrong: ValueError: returns \(2, 3\), not \(2, 5\)"):
        save_model_code({Wrong: torch.randn(2, 3, 7)}, tmp_path / "m.pkl")


def test_no_file_is_a_visible_fallback_not_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    assert load_model_code(tmp_path / "absent.pkl") == {}
    out = capsys.readouterr().out
    assert "No model code from notebook 04" in out and "reference models" in out


def test_a_file_that_fails_names_itself_and_the_fix(tmp_path: Path) -> None:
    target = tmp_path / "my_models.pkl"
    target.write_bytes(b"\x80\x05truncated")
    with pytest.raises(ImportError, match=r"my_models.pkl cannot be loaded: .*notebook 04"):
        load_model_code(target)


def test_the_default_file_is_in_the_checkpoint_dir_on_drive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AUDIO_COURSE_DRIVE_DIR", str(tmp_path / "MyDrive" / "audio-course"))
    assert model_code_path() == tmp_path / "MyDrive" / "audio-course" / "checkpoints" / (
        "my_models.pkl"
    )
