#!/usr/bin/env python3
"""Build the student notebooks (``notebooks/``) from the instructor solutions (``solutions/``).

Solution regions (``# BEGIN SOLUTION: <instruction>`` ... ``# END SOLUTION``, and the markdown
``<!-- BEGIN SOLUTION/ANSWER -->`` pairs; tools/NOTEBOOK_STYLE.md) become FIXME stubs, placeholders
and collapsible answers. Every notebook is normalised (solutions keep only the text of
``# NBVAL_CHECK_OUTPUT`` cells) and stamped after its title with a Colab badge and a setup form, from
pyproject's ``[project.urls] Repository`` (also stamped into README's badges). ``# EXPECTED_OUTPUT``
figures (``notebooks/expected/<notebook>-<source hash>-<k>.png``) are embedded after their cell.

Usage: ``python tools/build_student_notebooks.py [--check] [--record DIR] [--expected DIR]``
(``--check``: write nothing, exit 1 if stale; ``make outputs`` passes ``build/quick`` to both).
"""

from __future__ import annotations

import argparse
import base64
import copy
import hashlib
import io
import json
import re
import sys
import tomllib
from collections import namedtuple
from pathlib import Path

import nbformat
from nbformat import NotebookNode

BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::(?P<instruction>.*))?$")
END_RE = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
EXPECTED_MARKER, EXPECTED_TAG, EXPECTED_DIR = "# EXPECTED_OUTPUT", "expected-output", "expected"
EXPECTED_WIDTH, EXPECTED_MAX_BYTES = 720, 60_000  # pixels, bytes per PNG
EXPECTED_TEXT = "**Expected output** of the cell above: the reference solution's figure (quick mode, synthetic data; yours may differ in detail, not in kind)."
FIGURE = "![expected figure {}](data:image/png;base64,{})"
BADGE_TAG, SETUP_TAG = "course-badge", "course-setup"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
NOTEBOOK_METADATA = {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
BADGE = "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/{slug}/blob/main/{path})"
SETUP_CODE = """\
# @title Setup
# @markdown Run this cell first (in Colab only; elsewhere it does nothing): it fetches the kit,
# @markdown adds only the packages Colab lacks and gets the data. Tick `drive` to keep data and
# @markdown checkpoints on your Google Drive: later notebooks download nothing. `mirror`: your
# @markdown instructor's copy of the data, if they gave you one.
data = "small"  # @param {tiers}
drive = False  # @param {type:"boolean"}
mirror = ""  # @param {type:"string"}
import os
import subprocess
import sys

if "google.colab" in sys.modules:
    REPO = "/content/audio-course"
    if not os.path.exists(REPO):
        URL = "{url}"
        subprocess.run(["git", "clone", "-q", "--depth", "1", URL, REPO], check=True)
    os.chdir(REPO + "/{folder}")
    sys.path.insert(0, REPO)
    if mirror.strip():
        os.environ["AUDIO_COURSE_DATA_URL"] = mirror.strip()
    import helpers.colab

    helpers.colab.setup(data, drive{gpu})"""
SETUP_METADATA = {"cellView": "form", "tags": [SETUP_TAG]}  # Colab folds it to its form
KEPT_METADATA = ("cellView", "tags")  # the cell metadata that normalise keeps
TRAINING_PREFIXES = ("05_", "06_", "07_")  # these offer the `full` tier and ask for a GPU


def setup_code(url: str, path: str) -> str:
    """The setup cell of the notebook at ``path`` (e.g. ``notebooks/05_training.ipynb``)."""
    folder, _, name = path.rpartition("/")
    training = name.startswith(TRAINING_PREFIXES)
    tiers = '["small", "full", "synthetic"]' if training else '["small", "synthetic"]'
    code = SETUP_CODE.replace("{url}", url).replace("{folder}", folder)
    return code.replace("{tiers}", tiers).replace("{gpu}", ", gpu=True" if training else "")


class BuildError(Exception):
    """A problem in the sources (markers, title cell, pyproject.toml) that the author must fix."""


class MarkerError(BuildError):
    """A malformed marker at 1-based ``line`` (of cell ``cell``, when known)."""

    def __init__(self, line: int, message: str, cell: int | None = None) -> None:
        super().__init__(f"{'' if cell is None else f'cell {cell}, '}line {line}: {message}")
        self.line, self.message, self.cell = line, message, cell


Region = namedtuple("Region", "start end indent instruction")  # 0-based BEGIN/END lines


def find_regions(source: str) -> list[Region]:
    """The ``# BEGIN SOLUTION: ...``/``# END SOLUTION`` regions of a code cell (MarkerError if bad)."""
    regions, begin = [], None
    for n, line in enumerate(source.split("\n"), 1):
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line:
            continue
        if match := BEGIN_RE.match(line):
            if begin is not None:
                raise MarkerError(n, f"nested BEGIN SOLUTION (line {begin[0]} is open)")
            if not (match["instruction"] or "").strip():
                raise MarkerError(n, "write '# BEGIN SOLUTION: <instruction>'")
            begin = (n, match)
        elif END_RE.match(line):
            if begin is None:
                raise MarkerError(n, "END SOLUTION without a BEGIN SOLUTION")
            indent, instruction = begin[1]["indent"], begin[1]["instruction"].strip()
            regions.append(Region(begin[0] - 1, n - 1, indent, instruction))
            begin = None
        else:
            raise MarkerError(n, f"malformed marker: {line.strip()!r}")
    if begin is not None:
        raise MarkerError(begin[0], "BEGIN SOLUTION without an END SOLUTION")
    return regions


def stub_code(source: str) -> str:
    """Replace each exercise region of a code cell by a FIXME comment and a raise."""
    lines = source.split("\n")
    for r in reversed(find_regions(source)):
        fixme = f"FIXME: {r.instruction}"
        stub = f"raise NotImplementedError({json.dumps(fixme, ensure_ascii=False)})"
        lines[r.start : r.end + 1] = [f"{r.indent}# {fixme}", r.indent + stub]
    return "\n".join(lines)


def replace_pairs(source: str, word: str, replace) -> str:
    """``source`` with each ``<!-- BEGIN word -->x<!-- END word -->`` replaced by ``replace(x)``."""
    parts, kept_from, begin = [], 0, None
    for match in re.finditer(rf"<!-- (BEGIN|END) {word} -->|(?:BEGIN|END) {word}", source):
        line = source.count("\n", 0, match.start()) + 1
        if match[1] is None:
            raise MarkerError(line, f"write <!-- BEGIN {word} --> ... <!-- END {word} -->")
        if match[1] == "BEGIN":
            if begin is not None:
                raise MarkerError(line, f"nested BEGIN {word} (line {begin[0]} is open)")
            parts.append(source[kept_from : match.start()])
            begin = (line, match.end())
        else:
            if begin is None:
                raise MarkerError(line, f"END {word} without a BEGIN {word}")
            parts.append(replace(source[begin[1] : match.start()]))
            kept_from, begin = match.end(), None
    if begin is not None:
        raise MarkerError(begin[0], f"BEGIN {word} without an END {word}")
    return "".join(parts) + source[kept_from:]


def stub_markdown(source: str) -> str:
    """Replace each ``<!-- BEGIN SOLUTION -->...<!-- END SOLUTION -->`` by a placeholder."""
    return replace_pairs(source, "SOLUTION", lambda _: "*Your answer here.*")


def reveal_answers(source: str) -> str:
    """Turn each ``<!-- BEGIN ANSWER -->...<!-- END ANSWER -->`` into a collapsible ``<details>``."""
    show = "<details>\n<summary>Show the answer</summary>\n\n{}\n\n</details>"
    return replace_pairs(source, "ANSWER", lambda answer: show.format(answer.strip()))


def count_exercises(nb: NotebookNode) -> int:
    """Number of exercise regions in the code cells of a solution notebook."""
    return sum(len(find_regions(c.source)) for c in nb.cells if c.cell_type == "code")


def build_student_notebook(nb: NotebookNode) -> NotebookNode:
    """A copy of a solution notebook with every solution stubbed (MarkerError names the cell)."""
    student = copy.deepcopy(nb)
    stubs = {"code": stub_code, "markdown": lambda s: reveal_answers(stub_markdown(s))}
    for index, cell in enumerate(student.cells):
        try:
            cell.source = stubs.get(cell.cell_type, str)(cell.source)
        except MarkerError as err:
            raise MarkerError(err.line, err.message, cell=index) from None
    return student


def stamp(nb: NotebookNode, slug: str, path: str) -> NotebookNode:
    """Badge and setup cells (replacing old ones) after the title; ``slug``: GitHub owner/name."""
    tags = {BADGE_TAG, SETUP_TAG}
    cells = [c for c in nb.cells if not tags & set(c.get("metadata", {}).get("tags", []))]
    title = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), None)
    if title is None:
        raise BuildError("no markdown title cell to put the Colab badge after")
    badge = BADGE.format(slug=slug, path=path)
    badge = nbformat.v4.new_markdown_cell(badge, metadata={"tags": [BADGE_TAG]})
    code = setup_code(f"https://github.com/{slug}", path)
    setup = nbformat.v4.new_code_cell(code, metadata=copy.deepcopy(SETUP_METADATA))
    stamped = copy.deepcopy(nb)
    stamped.cells = [*cells[: title + 1], badge, setup, *cells[title + 1 :]]
    return stamped


def checked_outputs(cell: NotebookNode) -> list[NotebookNode]:
    """The text outputs (streams, ``text/plain``) of a ``# NBVAL_CHECK_OUTPUT`` cell: nbval's reference."""
    if cell.cell_type != "code" or CHECK_MARKER not in cell.source:
        return []
    kept = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            kept.append(nbformat.v4.new_output("stream", name=out.name, text=out.text))
        elif "text/plain" in out.get("data", {}):
            count = {"execution_count": 1} if out.output_type == "execute_result" else {}
            data = {"text/plain": out.data["text/plain"]}
            kept.append(nbformat.v4.new_output(out.output_type, data=data, **count))
    return kept


def normalise(nb: NotebookNode, name: str, keep_checked: bool = False) -> NotebookNode:
    """Strip outputs (but checked ones with ``keep_checked``), counts and metadata; ids from ``name``."""
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(NOTEBOOK_METADATA))
    for index, cell in enumerate(nb.cells):
        meta = {k: copy.deepcopy(v) for k, v in cell.metadata.items() if k in KEPT_METADATA and v}
        new = getattr(nbformat.v4, f"new_{cell.cell_type}_cell")(cell.source, metadata=meta)
        if keep_checked and (outputs := checked_outputs(cell)):
            new.outputs, new.execution_count = outputs, 1  # nbval refuses output of an "unrun" cell
        if cell.cell_type == "markdown" and cell.get("attachments"):
            new.attachments = copy.deepcopy(cell.attachments)
        new.id = hashlib.sha1(f"{name}/{index}".encode()).hexdigest()[:8]
        out.cells.append(new)
    return out


def render(nb: NotebookNode) -> bytes:
    """Serialise a notebook: JSON, indent 1, sorted keys, non-ASCII kept, trailing newline."""
    return (nbformat.writes(nb).rstrip("\n") + "\n").encode()


def repo_slug(root: Path) -> str:
    """``owner/name`` from ``[project.urls] Repository`` in ``root/pyproject.toml``."""
    path = root / "pyproject.toml"
    hint = 'add [project.urls] Repository = "https://github.com/<owner>/<name>"'
    try:
        url = tomllib.loads(path.read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    except FileNotFoundError:
        raise BuildError(f"{path} not found: {hint}") from None
    except (KeyError, TypeError, tomllib.TOMLDecodeError) as err:
        raise BuildError(f"{path} has no repository URL ({err!r}): {hint}") from None
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", str(url))
    if match is None:
        raise BuildError(f"{path}: Repository = {url!r} is not a GitHub URL: {hint}")
    return match[1]


README_LINKS = (
    ("colab\\.research\\.google\\.com/github/", "/blob/"),
    ("github\\.com/", "/actions/workflows/"),
)


def stamp_readme(text: str, slug: str) -> str:
    """``text`` (the README) with every Colab badge and CI badge pointing at ``slug``."""
    for prefix, suffix in README_LINKS:
        text = re.sub(rf"(https://{prefix})[\w.-]+/[\w.-]+?({suffix})", rf"\g<1>{slug}\2", text)
    return text


def is_expected(cell: NotebookNode) -> bool:
    """Whether a cell is marked ``# EXPECTED_OUTPUT`` (on a line of its own)."""
    return cell.cell_type == "code" and EXPECTED_MARKER in cell.source.split("\n")


def expected_name(stem: str, source: str, k: int) -> str:
    """File name of the ``k``-th expected figure of a marked cell: keyed by the cell's source."""
    return f"{stem}-{hashlib.sha1(source.encode()).hexdigest()[:10]}-{k}.png"


def shrink_png(data: bytes) -> bytes:
    """A palette PNG ≤ ``EXPECTED_WIDTH`` px wide: halve colours, then width, until under the cap."""
    from PIL import Image

    image = Image.open(io.BytesIO(data)).convert("RGB")
    width, colours = min(EXPECTED_WIDTH, image.width), 128
    while True:
        small = image.resize((width, round(image.height * width / image.width)), Image.LANCZOS)
        buffer = io.BytesIO()
        small.quantize(colours).save(buffer, format="PNG", optimize=True)
        if buffer.tell() <= EXPECTED_MAX_BYTES or width < 200:
            return buffer.getvalue()
        colours, width = (colours // 2, width) if colours > 32 else (colours, width * 3 // 4)


def render_expected(nb: NotebookNode, executed: NotebookNode, stem: str) -> dict[str, bytes]:
    """Expected figures (file name -> PNG) of the marked cells of ``nb``, from an executed copy."""
    sources = {c.source: c for c in executed.cells if c.cell_type == "code"}  # unchanged cells
    images: dict[str, bytes] = {}
    for index, cell in enumerate(nb.cells):
        if not is_expected(cell) or cell.source not in sources:
            continue
        outputs = sources[cell.source].get("outputs", [])
        pngs = [o.data["image/png"] for o in outputs if "image/png" in o.get("data", {})]
        if not pngs:
            raise BuildError(f"cell {index} is marked {EXPECTED_MARKER} but drew no figure")
        for k, png in enumerate(pngs):
            images[expected_name(stem, cell.source, k)] = shrink_png(base64.b64decode(png))
    return images


def add_expected(
    student: NotebookNode, solution: NotebookNode, stem: str, images: dict[str, bytes]
) -> tuple[list[str], list[int]]:
    """Insert an expected-output cell after each marked cell; return figures used, cells without."""
    cells, used, missing = [], [], []
    for index, (cell, source) in enumerate(zip(student.cells, solution.cells)):
        cells.append(cell)
        if not is_expected(source):
            continue
        names = []
        while (name := expected_name(stem, source.source, len(names))) in images:
            names.append(name)
        if not names:
            missing.append(index)
            continue
        data = [base64.b64encode(images[name]).decode() for name in names]
        figures = [FIGURE.format(k, b) for k, b in enumerate(data, 1)]
        text = "\n\n".join([EXPECTED_TEXT, *figures])
        cells.append(nbformat.v4.new_markdown_cell(text, metadata={"tags": [EXPECTED_TAG]}))
        used += names
    student.cells = cells
    return used, missing


def plan(
    root: Path, record: Path | None = None, expected: Path | None = None
) -> tuple[dict[Path, bytes], list[Path], list[str]]:
    """Files to write, stale files, report lines; ``record``/``expected``: executed solutions."""
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    slug = repo_slug(root) if solutions else ""
    files: dict[Path, bytes] = {}
    report: list[str] = []
    folder = root / "notebooks" / EXPECTED_DIR
    committed = {p.name: p.read_bytes() for p in folder.glob("*.png")}
    for path in solutions:
        where = path.relative_to(root).as_posix()
        try:
            raw = nbformat.read(path, as_version=4)
            if record is not None and (record / path.name).exists():
                ran = nbformat.read(record / path.name, as_version=4).cells
                ran = {c.source: c for c in ran if c.cell_type == "code"}  # unchanged cells
                for cell in raw.cells:  # normalise keeps only the checked cells' text
                    if cell.cell_type == "code" and cell.source in ran:
                        cell.outputs = ran[cell.source].outputs
            images = committed
            if expected is not None and (expected / path.name).exists():
                executed = nbformat.read(expected / path.name, as_version=4)
                images = {**committed, **render_expected(raw, executed, path.stem)}
            student = build_student_notebook(raw)
            used, missing = add_expected(student, raw, path.stem, images)
            files.update({folder / name: images[name] for name in used})
            exercises = count_exercises(raw)
            files[path] = render(normalise(stamp(raw, slug, where), path.stem, keep_checked=True))
            stamped = stamp(student, slug, f"notebooks/{path.name}")
            files[root / "notebooks" / path.name] = render(normalise(stamped, path.stem))
        except BuildError as err:
            raise BuildError(f"{where}: {err}") from None
        line = f"{where} -> notebooks/{path.name}: {exercises} exercise(s)"
        if missing:
            cells = ", ".join(str(i) for i in missing)
            line += f"; no expected figure for marked cell(s) {cells}: run `make outputs`"
        report.append(line)
    readme = root / "README.md"
    if solutions and readme.exists():
        files[readme] = stamp_readme(readme.read_text(encoding="utf-8"), slug).encode()
    names = {p.name for p in solutions}
    stale = [p for p in sorted((root / "notebooks").glob("*.ipynb")) if p.name not in names]
    stale += [folder / n for n in sorted(committed) if folder / n not in files]
    return files, stale, report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (0 ok, 1 ``--check`` failed, 2 error)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    for flag, what in (("--record", "# NBVAL_CHECK_OUTPUT outputs"), ("--expected", "figures")):
        parser.add_argument(flag, type=Path, metavar="DIR", help=f"take {what} from executed DIR")
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    try:
        files, stale, report = plan(root, args.record, args.expected)
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    changed = [p for p, content in files.items() if not p.exists() or p.read_bytes() != content]
    why = {p: ("(no marked cell uses it)", "(no solution)")[p.suffix == ".ipynb"] for p in stale}
    if args.check:
        problems = [f"  {p.relative_to(root).as_posix()}" for p in changed]
        problems += [f"  {p.relative_to(root).as_posix()} {why[p]}" for p in stale]
        if problems:
            print("Notebooks out of date; run `make notebooks`:", *problems, sep="\n")
            return 1
        figures, notebooks = (sum(p.suffix == s for p in files) for s in (".png", ".ipynb"))
        print(f"{notebooks} notebooks, {figures} expected figures and the README up to date.")
        return 0
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(files[path])
    for path in stale:
        path.unlink()
        print(f"removed {path.relative_to(root).as_posix()} {why[path]}")
    print("\n".join(report) or "no notebooks in solutions/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
