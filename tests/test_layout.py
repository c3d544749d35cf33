"""The package's layout: imports run one way, no module uses another's private names, functions are short.

``LAYERS`` is the table of ``helpers/__init__.py`` in import order: a module may import only modules
listed before it (function-local imports included), so the package reads top to bottom.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import helpers

PACKAGE = Path(helpers.__file__).parent
LAYERS = [
    "paths",
    "audio",
    "features",
    "augment",
    "corpus",
    "cache",
    "dataset",
    "models",
    "checkpoints",
    "model_code",
    "training",
    "embeddings",
    "metrics",
    "plots",
    "enrol",
    "synthetic",
    "fetch",
    "download",
    "course",
    "colab",
    "checks",
    "cli",
]
MAX_LINES = 80
LONG_LINES = 60


def module_files() -> list[Path]:
    return sorted(p for p in PACKAGE.rglob("*.py") if "__pycache__" not in p.parts)


def layer_of(path: Path) -> str:
    relative = path.relative_to(PACKAGE).with_suffix("")
    return relative.parts[0]


def helpers_imports(path: Path) -> list[tuple[int, str]]:
    """``(line, top-level helpers module)`` of every import of a helpers module in ``path``."""
    tree = ast.parse(path.read_text())
    package = list(path.relative_to(PACKAGE.parent).with_suffix("").parts[:-1])
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                module = ".".join(base + ([node.module] if node.module else []))
            else:
                module = node.module or ""
            names = [module] if node.module else [f"{module}.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "helpers" and len(parts) > 1:
                found.append((node.lineno, parts[1]))
    return found


@pytest.mark.parametrize("path", module_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_run_one_way(path: Path) -> None:
    if path.name == "__init__.py" and path.parent == PACKAGE:
        return
    own = layer_of(path)
    assert own in LAYERS, f"{path.name}: add this module to LAYERS and to helpers/__init__.py"
    for line, target in helpers_imports(path):
        assert target in LAYERS, f"{path}:{line} imports helpers.{target}, which is not in LAYERS"
        if target == own:
            continue  # inside a package (checks/, cli/)
        assert LAYERS.index(target) < LAYERS.index(own), (
            f"{path.relative_to(PACKAGE)}:{line} imports helpers.{target}, a later module: "
            f"the import graph must run {' -> '.join(LAYERS)}"
        )


def test_every_module_is_in_the_table_of_contents() -> None:
    table = helpers.__doc__
    for layer in {layer_of(p) for p in module_files()} - {"__init__"}:
        assert f"``{layer}``" in table, f"helpers/__init__.py's table does not list {layer}"


def _module_aliases(tree: ast.AST) -> set[str]:
    aliases = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            aliases |= {a.asname or a.name.split(".")[0] for a in node.names}
    return aliases


@pytest.mark.parametrize("path", module_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_private_names_of_other_modules(path: Path) -> None:
    tree = ast.parse(path.read_text())
    aliases = _module_aliases(tree)
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            private = [a.name for a in node.names if a.name.startswith("_")]
            assert not private, f"{path.name}:{node.lineno} imports private {private}"
            module = node.module or ""
            private_module = any(
                part.startswith("_") and not part.startswith("__") for part in module.split(".")
            )
            assert not private_module, (
                f"{path.name}:{node.lineno} imports from the private module {module}"
            )
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = node.attr
            if node.value.id in aliases and name.startswith("_") and not name.startswith("__"):
                raise AssertionError(
                    f"{path.name}:{node.lineno} uses {node.value.id}.{name}, a private name"
                )


def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef, source: list[str]) -> int:
    """Lines of a function's body that hold code: no docstring, blank or comment-only line."""
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    if not body:
        return 0
    lines = source[body[0].lineno - 1 : node.end_lineno]
    return sum(1 for line in lines if line.strip() and not line.strip().startswith("#"))


def functions() -> list[tuple[Path, ast.FunctionDef]]:
    found = []
    for path in module_files():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.append((path, node))
    return found


def test_functions_are_short() -> None:
    too_long = []
    for path, node in functions():
        n = code_lines(node, path.read_text().splitlines())
        reason = "Length:" in (ast.get_docstring(node) or "")
        if n > MAX_LINES or (n > LONG_LINES and not reason):
            too_long.append(f"{path.relative_to(PACKAGE)}:{node.lineno} {node.name} ({n} lines)")
    assert not too_long, (
        f"functions over {LONG_LINES} code lines need a 'Length:' reason in their docstring, and "
        f"none may exceed {MAX_LINES}:\n  " + "\n  ".join(too_long)
    )
