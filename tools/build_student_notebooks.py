#!/usr/bin/env python3
"""Build the student notebooks (``notebooks/``) from the instructor solutions (``solutions/``).

Instructors edit only ``solutions/NN_name.ipynb``. In a code cell an exercise is marked::

    # BEGIN SOLUTION: <one-line instruction for the student>
    ...solution code...
    # END SOLUTION

and becomes, at the same indentation, in the student notebook::

    # FIXME: <instruction>
    raise NotImplementedError("FIXME: <instruction>")

In a markdown cell ``<!-- BEGIN SOLUTION -->...<!-- END SOLUTION -->`` becomes ``*Your answer here.*``.
A Think! answer, ``<!-- BEGIN ANSWER -->...<!-- END ANSWER -->`` (shown as a plain paragraph in the
solutions), becomes a collapsible ``<details><summary>Show the answer</summary>...</details>`` block: the
student thinks first, then reveals it.

Every notebook (the solutions, rewritten in place, and the student notebooks) is normalised (no
outputs, minimal metadata, deterministic cell ids) and stamped, right after its first markdown
(title) cell, with an Open-in-Colab badge and a setup cell folded as a Colab form (``# @title Setup``,
``cellView: form``). The repository URL is read from ``[project.urls] Repository`` in
``pyproject.toml`` and stamped into those cells and into ``README.md``'s Colab and CI badges.

Usage::

    python tools/build_student_notebooks.py          # rewrite solutions/, regenerate notebooks/
    python tools/build_student_notebooks.py --check  # write nothing; exit 1 if anything is stale
    python tools/build_student_notebooks.py --record build/quick  # keep checked outputs (nbval)
    python tools/build_student_notebooks.py --expected build/quick  # refresh expected figures

Solutions keep one kind of output: the text of cells marked ``# NBVAL_CHECK_OUTPUT``, the reference
that nbval compares a fresh run against in CI. ``make outputs`` executes the solutions in quick mode
and records those outputs with ``--record``; every other output is stripped.

Student notebooks show the **expected output** of cells marked ``# EXPECTED_OUTPUT``: the figures
(``image/png``) of that cell in an executed solution, downscaled to small PNG files committed in
``notebooks/expected/<notebook>-<hash of the cell's source>-<k>.png``, and embedded (as a data URI,
which Colab renders, unlike notebook attachments) in a markdown cell tagged ``expected-output``
right after the cell. ``--expected DIR`` re-renders those files from the executed notebooks in DIR
(``make outputs``); every other run, ``--check`` included, only reads the committed files, so it is
deterministic. A marked cell whose source changed has no file until ``make outputs`` is run again
(the build says so), and files no marked cell uses are stale (removed by the build).
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
from dataclasses import dataclass
from pathlib import Path

import nbformat
from nbformat import NotebookNode

BEGIN_RE = re.compile(r"^(?P<indent>[ \t]*)# BEGIN SOLUTION(?::(?P<instruction>.*))?$")
END_RE = re.compile(r"^[ \t]*# END SOLUTION[ \t]*$")
MD_MARKER_RE = re.compile(r"<!-- (BEGIN|END) SOLUTION -->|BEGIN SOLUTION|END SOLUTION")
MD_PLACEHOLDER = "*Your answer here.*"
ANSWER_RE = re.compile(r"<!-- (BEGIN|END) ANSWER -->")
ANSWER_SUMMARY = "Show the answer"
CHECK_MARKER = "# NBVAL_CHECK_OUTPUT"
EXPECTED_MARKER, EXPECTED_TAG, EXPECTED_DIR = "# EXPECTED_OUTPUT", "expected-output", "expected"
EXPECTED_WIDTH, EXPECTED_MAX_BYTES = 720, 60_000  # pixels, bytes per PNG
EXPECTED_TEXT = (
    "**Expected output** of the cell above: the reference solution's figure (quick mode, synthetic "
    "data; yours may differ in detail, not in kind)."
)
BADGE_TAG, SETUP_TAG = "course-badge", "course-setup"
NOTEBOOK_METADATA = {
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"},
}
BADGE = (
    "[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
    "(https://colab.research.google.com/github/{slug}/blob/main/{path})"
)
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
SETUP_METADATA = {"cellView": "form", "tags": [SETUP_TAG]}
"""Colab folds a cell with ``cellView: form`` to its title and its ``# @param`` fields."""
KEPT_METADATA = ("cellView", "tags")
"""The cell metadata that ``normalise`` keeps."""
TRAINING_PREFIXES = ("05_", "06_", "07_")
"""Notebooks that train: their setup cell offers the ``full`` tier and warns without a GPU."""
TIERS_TRAINING = '["small", "full", "synthetic"]'
TIERS_OTHERS = '["small", "synthetic"]'


def setup_code(url: str, path: str) -> str:
    """The setup cell of the notebook at ``path`` (e.g. ``notebooks/05_training.ipynb``)."""
    folder, _, name = path.rpartition("/")
    training = name.startswith(TRAINING_PREFIXES)
    return (
        SETUP_CODE.replace("{url}", url)
        .replace("{folder}", folder)
        .replace("{tiers}", TIERS_TRAINING if training else TIERS_OTHERS)
        .replace("{gpu}", ", gpu=True" if training else "")
    )


class BuildError(Exception):
    """A problem in the sources (markers, title cell, pyproject.toml) that the author must fix."""


class MarkerError(BuildError):
    """A malformed ``BEGIN SOLUTION``/``END SOLUTION`` marker at 1-based ``line`` of a cell."""

    def __init__(self, line: int, message: str, cell: int | None = None) -> None:
        where = f"line {line}" if cell is None else f"cell {cell}, line {line}"
        super().__init__(f"{where}: {message}")
        self.line, self.message, self.cell = line, message, cell


@dataclass(frozen=True)
class Region:
    """An exercise region: 0-based ``start``/``end`` lines of its BEGIN and END markers."""

    start: int
    end: int
    indent: str
    instruction: str


def find_regions(source: str) -> list[Region]:
    """Find the ``# BEGIN SOLUTION: ...`` / ``# END SOLUTION`` regions of a code cell.

    Raises
    ------
    MarkerError
        On nested, unbalanced or malformed markers, or a BEGIN marker without an instruction.
    """
    regions: list[Region] = []
    begin: tuple[int, re.Match[str]] | None = None
    for number, line in enumerate(source.split("\n")):
        if "BEGIN SOLUTION" not in line and "END SOLUTION" not in line:
            continue
        if match := BEGIN_RE.match(line):
            if begin is not None:
                raise MarkerError(
                    number + 1, f"nested BEGIN SOLUTION (line {begin[0] + 1} is open)"
                )
            if not (match["instruction"] or "").strip():
                raise MarkerError(number + 1, "write '# BEGIN SOLUTION: <instruction>'")
            begin = (number, match)
        elif END_RE.match(line):
            if begin is None:
                raise MarkerError(number + 1, "END SOLUTION without a BEGIN SOLUTION")
            start, match = begin
            regions.append(Region(start, number, match["indent"], match["instruction"].strip()))
            begin = None
        else:
            raise MarkerError(number + 1, f"malformed marker: {line.strip()!r}")
    if begin is not None:
        raise MarkerError(begin[0] + 1, "BEGIN SOLUTION without an END SOLUTION")
    return regions


def stub_code(source: str) -> str:
    """Replace each exercise region of a code cell by a FIXME comment and a raise."""
    lines = source.split("\n")
    for region in reversed(find_regions(source)):
        message = json.dumps(f"FIXME: {region.instruction}", ensure_ascii=False)
        lines[region.start : region.end + 1] = [
            f"{region.indent}# FIXME: {region.instruction}",
            f"{region.indent}raise NotImplementedError({message})",
        ]
    return "\n".join(lines)


def stub_markdown(source: str) -> str:
    """Replace each ``<!-- BEGIN SOLUTION -->...<!-- END SOLUTION -->`` by a placeholder."""
    parts: list[str] = []
    kept_from, begin_line = 0, 0
    for match in MD_MARKER_RE.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        if match[1] is None:
            raise MarkerError(line, "write <!-- BEGIN SOLUTION --> ... <!-- END SOLUTION -->")
        if match[1] == "BEGIN":
            if begin_line:
                raise MarkerError(line, f"nested BEGIN SOLUTION (line {begin_line} is open)")
            parts.append(source[kept_from : match.start()])
            begin_line = line
        else:
            if not begin_line:
                raise MarkerError(line, "END SOLUTION without a BEGIN SOLUTION")
            parts.append(MD_PLACEHOLDER)
            kept_from, begin_line = match.end(), 0
    if begin_line:
        raise MarkerError(begin_line, "BEGIN SOLUTION without an END SOLUTION")
    return "".join(parts) + source[kept_from:]


def reveal_answers(source: str) -> str:
    """Turn each ``<!-- BEGIN ANSWER -->...<!-- END ANSWER -->`` into a collapsible ``<details>``.

    Raises
    ------
    MarkerError
        On nested or unbalanced ANSWER markers, naming the 1-based line.
    """
    parts: list[str] = []
    kept_from, begin = 0, None
    for match in ANSWER_RE.finditer(source):
        line = source.count("\n", 0, match.start()) + 1
        if match[1] == "BEGIN":
            if begin is not None:
                raise MarkerError(line, f"nested BEGIN ANSWER (line {begin[0]} is open)")
            parts.append(source[kept_from : match.start()])
            begin = (line, match.end())
        else:
            if begin is None:
                raise MarkerError(line, "END ANSWER without a BEGIN ANSWER")
            answer = source[begin[1] : match.start()].strip()
            parts.append(
                f"<details>\n<summary>{ANSWER_SUMMARY}</summary>\n\n{answer}\n\n</details>"
            )
            kept_from, begin = match.end(), None
    if begin is not None:
        raise MarkerError(begin[0], "BEGIN ANSWER without an END ANSWER")
    return "".join(parts) + source[kept_from:]


def student_markdown(source: str) -> str:
    """A markdown cell as students see it: solution regions stubbed, Think! answers collapsible."""
    return reveal_answers(stub_markdown(source))


def count_exercises(nb: NotebookNode) -> int:
    """Number of exercise regions in the code cells of a solution notebook."""
    return sum(len(find_regions(c.source)) for c in nb.cells if c.cell_type == "code")


def build_student_notebook(nb: NotebookNode) -> NotebookNode:
    """Return a copy of a solution notebook with every solution region replaced by a stub.

    Raises
    ------
    MarkerError
        Naming the cell index and line of the first bad marker.
    """
    student = copy.deepcopy(nb)
    for index, cell in enumerate(student.cells):
        stub = {"code": stub_code, "markdown": student_markdown}.get(cell.cell_type)
        if stub is None:
            continue
        try:
            cell.source = stub(cell.source)
        except MarkerError as err:
            raise MarkerError(err.line, err.message, cell=index) from None
    return student


def stamp(nb: NotebookNode, slug: str, path: str) -> NotebookNode:
    """Put the badge and setup cells (replacing old ones) right after the first markdown cell.

    ``slug`` is ``owner/name`` on GitHub; ``path`` the notebook's path in the repository.
    """
    cells = [c for c in nb.cells if not {BADGE_TAG, SETUP_TAG} & set(_tags(c))]
    title = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"), None)
    if title is None:
        raise BuildError("no markdown title cell to put the Colab badge after")
    badge = nbformat.v4.new_markdown_cell(
        BADGE.format(slug=slug, path=path), metadata={"tags": [BADGE_TAG]}
    )
    code = setup_code(f"https://github.com/{slug}", path)
    setup = nbformat.v4.new_code_cell(code, metadata=copy.deepcopy(SETUP_METADATA))
    stamped = copy.deepcopy(nb)
    stamped.cells = [*cells[: title + 1], badge, setup, *cells[title + 1 :]]
    return stamped


def checked_outputs(cell: NotebookNode) -> list[NotebookNode]:
    """The outputs nbval compares for a ``# NBVAL_CHECK_OUTPUT`` cell: its text, nothing else.

    Streams and the ``text/plain`` part of results are kept; images, HTML, widgets and execution
    counts are dropped, so the stored reference is small, readable and machine-independent.
    """
    if cell.cell_type != "code" or CHECK_MARKER not in cell.source:
        return []
    kept = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            kept.append(nbformat.v4.new_output("stream", name=output.name, text=output.text))
        elif output.output_type in (
            "execute_result",
            "display_data",
        ) and "text/plain" in output.get("data", {}):
            kept.append(
                nbformat.v4.new_output(
                    "execute_result" if output.output_type == "execute_result" else "display_data",
                    data={"text/plain": output.data["text/plain"]},
                    **({"execution_count": 1} if output.output_type == "execute_result" else {}),
                )
            )
    return kept


def normalise(nb: NotebookNode, name: str, keep_checked: bool = False) -> NotebookNode:
    """Strip outputs, execution counts and metadata; give cells ids derived from ``name``.

    With ``keep_checked`` (solutions), the text outputs of ``# NBVAL_CHECK_OUTPUT`` cells stay: they
    are the reference nbval compares a fresh run against (``make outputs`` records them).
    """
    out = nbformat.v4.new_notebook(metadata=copy.deepcopy(NOTEBOOK_METADATA))
    for index, cell in enumerate(nb.cells):
        metadata = {
            k: copy.deepcopy(v) for k, v in cell.metadata.items() if k in KEPT_METADATA and v
        }
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(cell.source, metadata=metadata)
            if keep_checked and (outputs := checked_outputs(cell)):
                new.outputs = outputs
                new.execution_count = 1  # nbval refuses a stored output of an "unrun" cell
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
            if cell.get("attachments"):
                new.attachments = copy.deepcopy(cell.attachments)
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=metadata)
        new.id = hashlib.sha1(f"{name}/{index}".encode()).hexdigest()[:8]
        out.cells.append(new)
    return out


def render(nb: NotebookNode) -> str:
    """Serialise a notebook: JSON, indent 1, sorted keys, non-ASCII kept, trailing newline."""
    return nbformat.writes(nb).rstrip("\n") + "\n"


def repo_slug(root: Path) -> str:
    """``owner/name`` from ``[project.urls] Repository`` in ``root/pyproject.toml``."""
    path = root / "pyproject.toml"
    hint = 'add [project.urls] Repository = "https://github.com/<owner>/<name>"'
    try:
        url = tomllib.loads(path.read_text(encoding="utf-8"))["project"]["urls"]["Repository"]
    except FileNotFoundError:
        raise BuildError(f"{path} not found: {hint}") from None
    except (KeyError, TypeError):
        raise BuildError(f"{path} has no repository URL: {hint}") from None
    except tomllib.TOMLDecodeError as err:
        raise BuildError(f"{path} is not valid TOML: {err}") from None
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+?)(?:\.git)?/?", str(url))
    if match is None:
        raise BuildError(f"{path}: Repository = {url!r} is not a GitHub URL: {hint}")
    return match[1]


README_LINKS = (
    (
        re.compile(r"(https://colab\.research\.google\.com/github/)[\w.-]+/[\w.-]+(/blob/)"),
        r"\g<1>{slug}\g<2>",
    ),
    (
        re.compile(r"(https://github\.com/)[\w.-]+/[\w.-]+?(/actions/workflows/)"),
        r"\g<1>{slug}\g<2>",
    ),
)
"""The README's links to this repository (Colab badges, the CI badge) and their rewrite."""


def stamp_readme(text: str, slug: str) -> str:
    """``text`` (the README) with every Colab badge and CI badge pointing at ``slug``."""
    for pattern, replacement in README_LINKS:
        text = pattern.sub(replacement.replace("{slug}", slug), text)
    return text


def record_outputs(nb: NotebookNode, executed: NotebookNode) -> int:
    """Copy the outputs of ``# NBVAL_CHECK_OUTPUT`` cells from an executed copy; return how many.

    Cells are matched by source, so an executed copy of an older version is only used where the
    cell is unchanged.
    """
    sources = {c.source: c for c in executed.cells if c.cell_type == "code"}
    count = 0
    for cell in nb.cells:
        if cell.cell_type == "code" and CHECK_MARKER in cell.source and cell.source in sources:
            cell.outputs = checked_outputs(sources[cell.source])
            count += 1
    return count


def is_expected(cell: NotebookNode) -> bool:
    """Whether a cell is marked ``# EXPECTED_OUTPUT`` (on a line of its own)."""
    return cell.cell_type == "code" and EXPECTED_MARKER in cell.source.split("\n")


def expected_name(stem: str, source: str, k: int) -> str:
    """File name of the ``k``-th expected figure of a marked cell: keyed by the cell's source."""
    return f"{stem}-{hashlib.sha1(source.encode()).hexdigest()[:10]}-{k}.png"


def shrink_png(data: bytes) -> bytes:
    """A PNG at most ``EXPECTED_WIDTH`` pixels wide, in a palette of colours, under the size cap.

    Halves the colours, then the width, until the file is under ``EXPECTED_MAX_BYTES``.
    """
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
    """Expected figures of the marked cells of ``nb``, from an executed copy: file name -> PNG.

    Cells are matched by source; a marked cell without a figure in ``executed`` is an error.
    """
    sources = {c.source: c for c in executed.cells if c.cell_type == "code"}
    images: dict[str, bytes] = {}
    for index, cell in enumerate(nb.cells):
        if not is_expected(cell) or cell.source not in sources:
            continue
        pngs = [
            o.data["image/png"]
            for o in sources[cell.source].get("outputs", [])
            if "image/png" in o.get("data", {})
        ]
        if not pngs:
            raise BuildError(f"cell {index} is marked {EXPECTED_MARKER} but drew no figure")
        for k, png in enumerate(pngs):
            images[expected_name(stem, cell.source, k)] = shrink_png(base64.b64decode(png))
    return images


def add_expected(
    student: NotebookNode, solution: NotebookNode, stem: str, images: dict[str, bytes]
) -> tuple[list[str], list[int]]:
    """Insert an expected-output markdown cell after each marked cell that has its figures.

    ``student`` and ``solution`` have the same cells (before stamping). Returns the names of the
    figures used and the indices of the marked cells that have none in ``images``.
    """
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
        figures = "\n\n".join(
            f"![expected figure {k + 1}](data:image/png;base64,"
            f"{base64.b64encode(images[name]).decode()})"
            for k, name in enumerate(names)
        )
        text = f"{EXPECTED_TEXT}\n\n{figures}"
        cells.append(nbformat.v4.new_markdown_cell(text, metadata={"tags": [EXPECTED_TAG]}))
        used += names
    student.cells = cells
    return used, missing


def plan(
    root: Path, record: Path | None = None, expected: Path | None = None
) -> tuple[dict[Path, str | bytes], list[Path], list[str]]:
    """Compute every file to write, the stale files, and one report line per notebook.

    ``record``: a folder of executed solutions whose checked outputs are copied in first.
    ``expected``: a folder of executed solutions whose figures become the expected outputs;
    without it, the committed files in ``notebooks/expected/`` are used.
    """
    solutions = sorted((root / "solutions").glob("*.ipynb"))
    slug = repo_slug(root) if solutions else ""
    files: dict[Path, str | bytes] = {}
    report: list[str] = []
    folder = root / "notebooks" / EXPECTED_DIR
    committed = {p.name: p.read_bytes() for p in folder.glob("*.png")}
    for path in solutions:
        where = path.relative_to(root).as_posix()
        try:
            raw = nbformat.read(path, as_version=4)
            if record is not None and (record / path.name).exists():
                record_outputs(raw, nbformat.read(record / path.name, as_version=4))
            images = committed
            if expected is not None and (expected / path.name).exists():
                executed = nbformat.read(expected / path.name, as_version=4)
                images = {**committed, **render_expected(raw, executed, path.stem)}
            student = build_student_notebook(raw)
            used, missing = add_expected(student, raw, path.stem, images)
            files.update({folder / name: images[name] for name in used})
            exercises = count_exercises(raw)
            files[path] = render(normalise(stamp(raw, slug, where), path.stem, keep_checked=True))
            target = root / "notebooks" / path.name
            files[target] = render(
                normalise(stamp(student, slug, f"notebooks/{path.name}"), path.stem)
            )
        except BuildError as err:
            raise BuildError(f"{where}: {err}") from None
        line = f"{where} -> notebooks/{path.name}: {exercises} exercise(s)"
        if missing:
            cells = ", ".join(str(i) for i in missing)
            line += f"; no expected figure for marked cell(s) {cells}: run `make outputs`"
        report.append(line)
    readme = root / "README.md"
    if solutions and readme.exists():
        files[readme] = stamp_readme(readme.read_text(encoding="utf-8"), slug)
    names = {p.name for p in solutions}
    stale = [p for p in sorted((root / "notebooks").glob("*.ipynb")) if p.name not in names]
    stale += [folder / n for n in sorted(committed) if folder / n not in files]
    return files, stale, report


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit code (0 ok, 1 ``--check`` failed, 2 error)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="write nothing; exit 1 if stale")
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument(
        "--record",
        type=Path,
        metavar="DIR",
        help="copy the outputs of # NBVAL_CHECK_OUTPUT cells from executed notebooks in DIR",
    )
    parser.add_argument(
        "--expected",
        type=Path,
        metavar="DIR",
        help="re-render the expected figures of # EXPECTED_OUTPUT cells from executed notebooks in DIR",
    )
    args = parser.parse_args(argv)
    root: Path = args.root.resolve()
    try:
        files, stale, report = plan(root, args.record, args.expected)
    except BuildError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    data = {p: text.encode() if isinstance(text, str) else text for p, text in files.items()}
    changed = [p for p, content in data.items() if not p.exists() or p.read_bytes() != content]
    why = {
        p: "(no solution)" if p.suffix == ".ipynb" else "(no marked cell uses it)" for p in stale
    }
    if args.check:
        problems = [f"  {p.relative_to(root).as_posix()}" for p in changed]
        problems += [f"  {p.relative_to(root).as_posix()} {why[p]}" for p in stale]
        if problems:
            print("Notebooks out of date; run `make notebooks`:", *problems, sep="\n")
            return 1
        figures = sum(p.suffix == ".png" for p in files)
        notebooks = sum(p.suffix == ".ipynb" for p in files)
        print(f"{notebooks} notebooks, {figures} expected figures and the README up to date.")
        return 0
    for path in changed:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data[path])
    for path in stale:
        path.unlink()
        print(f"removed {path.relative_to(root).as_posix()} {why[path]}")
    print("\n".join(report) or "no notebooks in solutions/")
    return 0


def _tags(cell: NotebookNode) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


if __name__ == "__main__":
    sys.exit(main())
