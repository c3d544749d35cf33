"""Your model classes, carried from notebook 04 to 05 (a new runtime) in ``checkpoint_dir() / "my_models.py"``.

04's :func:`save_model_code` writes the top-level imports, functions, classes and literal constants of
the cells run so far (IPython's ``In``, each name's last version), then rebuilds each class from that
file alone, so a name it lacks shows at once in 04. 05's :func:`load_model_code` imports the file.
"""

import ast
import importlib.util
from pathlib import Path
from types import ModuleType

import torch

from .checkpoints import checkpoint_dir
from .paths import atomic_write_text


def model_code_path() -> Path:
    """``checkpoint_dir() / "my_models.py"`` (on Drive when mounted)."""
    return checkpoint_dir() / "my_models.py"


def _top_level_code(cells: list[str]) -> str:
    """Imports first, then functions, classes and literal constants (not ``{}``, ``[]``, ``()``)."""
    imports, definitions = {}, {}
    for cell in cells:
        try:
            tree, lines = ast.parse(cell), cell.splitlines()
        except SyntaxError:
            continue
        for node in tree.body:
            first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
            text = "\n".join(lines[first - 1 : node.end_lineno])
            if isinstance(node, ast.Import | ast.ImportFrom) and "__future__" not in text:
                imports[text] = text
            elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                definitions[node.name] = text
            elif isinstance(node, ast.Assign):
                try:
                    if ast.literal_eval(node.value) not in ({}, [], ()):
                        definitions[ast.unparse(node.targets)] = text
                except Exception:  # not a literal
                    pass
    header = '"""Written by notebook 04 from your cells: edit and rerun 04, not this file."""'
    return "\n\n\n".join([header + "\n\n" + "\n".join(imports), *definitions.values()])


def save_model_code(examples: dict[str, torch.Tensor], path=None, cells=None) -> Path:
    """Write the top-level code of ``cells`` (default: the notebook's history) to ``path`` (default
    :func:`model_code_path`), then build each class of ``examples`` (name -> batch ``(B, F[, T])``) from
    that file alone as ``cls(F, 5).eval()``, which must return ``(B, 5)``.

    The file's ``READY`` lists those that do (05 trains them); one missing or raising
    ``NotImplementedError`` is left out with a message. ``RuntimeError`` names any other that fails.
    """
    if cells is None:
        from IPython import get_ipython

        shell = get_ipython()
        if shell is None or "In" not in shell.user_ns:
            raise RuntimeError("save_model_code reads the notebook's cells: call it in a notebook")
        cells = list(shell.user_ns["In"])
    path = Path(path or model_code_path())
    code = _top_level_code(cells)
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, code)
    module, ready, failed = _import(path), [], []
    for name, x in examples.items():
        try:
            if not hasattr(module, name):
                raise NotImplementedError
            with torch.no_grad():
                shape = tuple(getattr(module, name)(x.shape[1], 5).eval()(x).shape)
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


def load_model_code(path=None, verbose: bool = True) -> ModuleType | None:
    """Import the file 04 wrote, saying which; ``None`` (and how to make it) if there is none."""
    path = Path(path or model_code_path())
    if path.is_file():
        module = _import(path)
        if verbose:
            ready = ", ".join(getattr(module, "READY", [])) or "none"
            print(f"Importing your model code from {path} (written by notebook 04): {ready}")
        return module
    if verbose:
        print(
            f"No model code from notebook 04 at {path}: run notebook 04 to its end first (in Colab "
            "with `drive` ticked, so that the file survives the runtime).\n"
            "Meanwhile only the reference models of helpers.models are trained here."
        )
    return None


def _import(path: Path) -> ModuleType:
    """Run the file as a module; ``ImportError`` naming the file and the fix if it fails."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the student's code may raise anything
        raise ImportError(
            f"{path} fails to run: {type(error).__name__}: {error}. It holds your code of notebook "
            "04: fix it there and run 04 to its end again (it rewrites the file)."
        ) from error
    return module
