"""Your model classes, carried from notebook 04 to notebook 05 as a Python file next to the checkpoints.

In Colab every notebook runs in a fresh runtime, so the classes you write in 04 are gone when 05
starts. Notebook 04 therefore ends by writing their source code, as you wrote it, into one file in
:func:`helpers.checkpoints.checkpoint_dir` (on Google Drive when the setup cell mounted it)::

    save_model_code([stats_pool, ResidualBlock1d, CNN1d])   # 04: writes .../my_models.py
    yours = load_model_code()                               # 05: imports it, says from where

The file is plain Python that you can open and read; 05 imports it (and prints its path) only if it
is there, and otherwise says how to make it.
"""

from __future__ import annotations

import ast
import importlib.util
import inspect
import linecache
import os
import textwrap
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType

from .checkpoints import checkpoint_dir
from .paths import atomic_write_text

__all__ = ["MODEL_CODE_FILE", "load_model_code", "model_code_path", "save_model_code", "source_of"]

MODEL_CODE_FILE = "my_models.py"
"""The file notebook 04 writes and notebook 05 imports, in ``checkpoint_dir()``."""

HEADER = '''\
"""Model code written by notebook 04 ({when}) from your cells: {names}.

Notebook 05 imports this file to train your models. Edit the cells of 04 and run them again
rather than this file: 04 rewrites it.
"""

import torch
import torch.nn.functional as F
from torch import nn
'''


def model_code_path() -> Path:
    """Where the model code lives: ``checkpoint_dir() / "my_models.py"`` (Drive when mounted)."""
    return checkpoint_dir() / MODEL_CODE_FILE


def source_of(obj: object) -> str:
    """The source code of a function or class defined in a notebook cell (or in a file).

    ``inspect.getsource`` finds functions defined in a Jupyter cell (IPython keeps each cell's text
    in ``linecache``) but not classes, whose module ``__main__`` has no file: a class is found
    through the cell of one of its methods, parsed with ``ast``.

    Raises
    ------
    ValueError
        If the source cannot be found (e.g. a class without any method, or a built-in).
    """
    try:
        return textwrap.dedent(inspect.getsource(obj))  # type: ignore[arg-type]
    except (OSError, TypeError):
        if not inspect.isclass(obj):
            raise ValueError(f"cannot find the source code of {obj!r}") from None
    for member in vars(obj).values():
        code = getattr(inspect.unwrap(getattr(member, "__func__", member)), "__code__", None)
        if code is None:
            continue
        lines = linecache.getlines(code.co_filename)
        for node in ast.walk(ast.parse("".join(lines))):
            if isinstance(node, ast.ClassDef) and node.name == obj.__name__:
                if node.lineno <= code.co_firstlineno <= (node.end_lineno or 0):
                    first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                    return textwrap.dedent("".join(lines[first - 1 : node.end_lineno]))
    raise ValueError(
        f"cannot find the source code of the class {obj.__name__}: define it in a cell of its own, "
        "with at least one method, and run that cell again"
    )


def save_model_code(objects: Sequence[object], path: str | os.PathLike | None = None) -> Path:
    """Write the source of ``objects`` (functions and classes, in order) into one Python file.

    Write them in the order they depend on each other (``stats_pool`` before the ``CNN1d`` that
    calls it). The file starts with the imports ``torch``, ``torch.nn.functional as F`` and
    ``from torch import nn``, and is imported back at once, so that a mistake shows here rather than
    in notebook 05.

    Parameters
    ----------
    objects : sequence of functions and classes
        What to write.
    path : path, optional
        Default: :func:`model_code_path`.

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path) if path is not None else model_code_path()
    names = [obj.__name__ for obj in objects]  # type: ignore[attr-defined]
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts = [HEADER.format(when=when, names=", ".join(names))]
    parts += [source_of(obj).rstrip() + "\n" for obj in objects]
    path.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(path, "\n\n".join(parts))
    module = _import(path)
    missing = [name for name in names if not hasattr(module, name)]
    if missing:
        raise ValueError(f"{path} does not define {missing} after writing it")
    print(
        f"Saved your code ({', '.join(names)}) to {path}: notebook 05 trains your models from it."
    )
    return path


def load_model_code(
    path: str | os.PathLike | None = None, verbose: bool = True
) -> ModuleType | None:
    """Import the model code notebook 04 wrote, saying which file it runs; ``None`` if there is none.

    Parameters
    ----------
    path : path, optional
        Default: :func:`model_code_path`.
    verbose : bool
        Print which file is imported, and what it defines (or why there is none).

    Raises
    ------
    ImportError
        If the file exists but does not run; the message names the file and the fix.
    """
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
        defined = [
            n
            for n, v in vars(module).items()
            if inspect.isclass(v) and v.__module__ == module.__name__
        ]
        print(
            f"Importing your model code from {path} (written by notebook 04): {', '.join(defined)}"
        )
    return module


def _import(path: Path) -> ModuleType:
    """Run the file ``path`` as the module ``my_models``; a failure names the file and the fix."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    try:
        spec.loader.exec_module(module)
    except Exception as error:  # the student's code may raise anything
        raise ImportError(
            f"{path} fails to run: {type(error).__name__}: {error}. It holds your classes of notebook "
            "04: fix them there and run 04 to its end again (it rewrites the file)."
        ) from error
    return module
