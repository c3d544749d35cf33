"""Your model classes, carried from notebook 04 to notebook 05 in ``checkpoint_dir() / "my_models.py"``.

Each Colab notebook runs in a fresh runtime. 04 ends with :func:`save_model_code`: the top-level
imports, functions, classes and literal constants of the cells run so far (IPython's history ``In``,
the last version of each name winning) go to the file, which is then imported on its own and each
class built and run on a batch, so a name it lacks shows at once in 04. 05 calls :func:`load_model_code`.
"""

from __future__ import annotations

import ast
import importlib.util
import os
from pathlib import Path
from types import ModuleType

import torch

from .checkpoints import checkpoint_dir
from .paths import atomic_write_text

__all__ = ["load_model_code", "model_code_path", "save_model_code"]

HEADER = (
    '"""Written by notebook 04 from your cells: edit 04 and run it again, not this file."""\n\n'
)


def model_code_path() -> Path:
    """``checkpoint_dir() / "my_models.py"`` (on Drive when mounted)."""
    return checkpoint_dir() / "my_models.py"


def _top_level_code(cells: list[str]) -> str:
    """Imports first, then functions, classes and literal constants, each name's last version."""
    imports, definitions = {}, {}
    for cell in cells:
        try:
            tree = ast.parse(cell)
        except SyntaxError:
            continue
        lines = cell.splitlines()
        for node in tree.body:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            text = "\n".join(lines[first - 1 : node.end_lineno])
            if isinstance(node, ast.Import | ast.ImportFrom) and "__future__" not in text:
                imports[text] = text
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                definitions[node.name] = text
            elif isinstance(node, ast.Assign):
                try:
                    if ast.literal_eval(node.value) in ({}, [], ()):
                        continue  # an empty container a cell fills: no constant a class needs
                except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                    continue
                definitions[ast.unparse(node.targets)] = text
    return HEADER + "\n".join(imports.values()) + "\n\n\n" + "\n\n\n".join(definitions.values())


def save_model_code(
    examples: dict[str, torch.Tensor],
    path: str | os.PathLike | None = None,
    cells: list[str] | None = None,
) -> Path:
    """Write the top-level code of the cells run so far, then build and run each class from it alone.

    ``examples`` maps a class name to a batch it takes, ``(B, n_features[, T])``: the class is built
    as ``cls(n_features, 5)`` from the file and must return ``(B, 5)`` in ``eval()`` mode. Those that
    do are listed in the file's ``READY`` (05 trains them); one not defined or still raising
    ``NotImplementedError`` (an exercise not done) is left out with a message. ``cells`` defaults to
    the notebook's history; ``path`` to :func:`model_code_path`.

    Raises ``RuntimeError`` naming each class that fails from the file alone (e.g. a helper it calls
    was defined inside an ``if`` rather than at the top level of a cell).
    """
    if cells is None:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or "In" not in shell.user_ns:
            raise RuntimeError("save_model_code reads the notebook's cells: call it in a notebook")
        cells = list(shell.user_ns["In"])
    path = Path(path) if path is not None else model_code_path()
    code = _top_level_code(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, code)
    module, ready, failed = _import(path), [], []
    for name, x in examples.items():
        try:
            model = getattr(module, name)(x.shape[1], 5).eval() if hasattr(module, name) else None
            if model is None:
                raise NotImplementedError
            with torch.no_grad():
                shape = tuple(model(x).shape)
            if shape != (len(x), 5):
                raise ValueError(f"returns {shape}, not {(len(x), 5)}")
            ready.append(name)
        except NotImplementedError:
            print(f"{name}: not written yet, so 05 trains only the reference model")
        except Exception as error:  # the student's code may raise anything
            failed.append(f"{name}: {type(error).__name__}: {error}")
    atomic_write_text(path, code + f"\n\n\nREADY = {ready!r}  # the classes 05 trains\n")
    if failed:
        raise RuntimeError(
            f"Rebuilt from {path} alone, as 05 will:\n  " + "\n  ".join(failed) + "\nEvery name a "
            "class uses must be defined at the top level of a cell of this notebook (an import, a "
            "function, a class or a literal constant). Fix it and run this cell again."
        )
    print(f"Saved your code to {path}; rebuilt from it alone, these run: {', '.join(ready)}")
    return path


def load_model_code(
    path: str | os.PathLike | None = None, verbose: bool = True
) -> ModuleType | None:
    """Import the file 04 wrote, saying which; ``None`` (and how to make it) if there is none."""
    path = Path(path) if path is not None else model_code_path()
    if not path.is_file():
        if verbose:
            print(
                f"No model code from notebook 04 at {path}: run notebook 04 to its end first (in "
                "Colab with `drive` ticked, so that the file survives the runtime).\n"
                "Meanwhile only the reference models of helpers.models are trained here."
            )
        return None
    module = _import(path)
    if verbose:
        ready = ", ".join(getattr(module, "READY", [])) or "none"
        print(f"Importing your model code from {path} (written by notebook 04): {ready}")
    return module


def _import(path: Path) -> ModuleType:
    """Run the file as a module; ``ImportError`` naming the file and the fix if it fails."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the student's code may raise anything
        raise ImportError(
            f"{path} fails to run: {type(error).__name__}: {error}. It holds your code of notebook "
            "04: fix it there and run 04 to its end again (it rewrites the file)."
        ) from error
    return module
