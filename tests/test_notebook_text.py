"""The notebooks' text: one exercise numbering, Think! with revealable answers, a summary, links to
the documentation and to papers, 3-hour route marks that agree with README's course map, and
regression greps for statements that were wrong (issue 10)."""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
STUDENTS = sorted((ROOT / "notebooks").glob("*.ipynb"))
README = (ROOT / "README.md").read_text(encoding="utf-8")
EXERCISE = re.compile(r"^### Exercise (\d+)\.(\d+) — \S", re.M)
THINK = re.compile(r"^\*\*Think! (\d+)\.(\d+) — [^*]+\*\*", re.M)
SECTION = re.compile(r"^## (\d+) · (.+)$", re.M)
ROUTE = re.compile(r"^\*(Core|Optional) — ")
DOCS = re.compile(
    r"\]\((https://(?:librosa\.org/doc|docs\.pytorch\.org|numpy\.org/doc|scikit-learn\.org/stable"
    r"|plotly\.com/python|python-soundfile\.readthedocs\.io|ipython\.readthedocs\.io"
    r"|ipywidgets\.readthedocs\.io)[^)]*)\)"
)
PAPERS = re.compile(r"\]\((https://(?:arxiv\.org|doi\.org|www\.danielpovey\.com|ccrma)[^)]*)\)")
API = re.compile(
    r"\b(librosa\.[\w.]+|torchaudio\.[\w.]+|np\.fft\.\w+|np\.random\.default_rng|nn\.[A-Z]\w+"
    r"|torch\.optim\.\w+|torch\.(?:softmax|log_softmax|topk|load)|go\.Scatter3d|PCA|roc_curve"
    r"|sf\.read|widgets\.interactive)\("
)


def number(path: Path) -> int:
    return int(path.name[:2])


def markdown(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def read(path: Path):
    return nbformat.read(path, as_version=4)


@pytest.mark.parametrize("path", SOLUTIONS + STUDENTS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_exercises_are_numbered_n_m_consecutively(path: Path) -> None:
    found = [(int(n), int(m)) for text in markdown(read(path)) for n, m in EXERCISE.findall(text)]
    assert found, "no '### Exercise N.M — title' heading"
    assert found == [(number(path), m) for m in range(1, len(found) + 1)], found
    assert not any(
        "**Exercise.**" in t or re.search(r"^### Exercise \d+ ", t, re.M)
        for t in markdown(read(path))
    ), "an exercise outside the N.M numbering"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_every_exercise_cell_comes_under_an_exercise_heading(path: Path) -> None:
    last = None
    for cell in read(path).cells:
        if cell.cell_type == "markdown":
            for line in cell.source.split("\n"):
                if line.startswith(("## ", "### ")):
                    last = line
        elif "# BEGIN SOLUTION" in cell.source:
            assert last and last.startswith("### Exercise"), f"{cell.source[:60]!r} under {last!r}"


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_think_questions_have_answers_revealed_in_the_student_copy(path: Path) -> None:
    solution = "\n".join(markdown(read(path)))
    student = "\n".join(markdown(read(ROOT / "notebooks" / path.name)))
    thinks = [(int(n), int(m)) for n, m in THINK.findall(solution)]
    assert len(thinks) >= 2, "fewer than 2 Think! questions"
    assert thinks == [(number(path), m) for m in range(1, len(thinks) + 1)]
    assert solution.count("<!-- BEGIN ANSWER -->") == len(thinks)
    assert student.count("<details>\n<summary>Show the answer</summary>") == len(thinks)
    assert "ANSWER -->" not in student
    assert len(THINK.findall(student)) == len(thinks)


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_summary_documentation_links_and_papers(path: Path) -> None:
    nb = read(path)
    texts = markdown(nb)
    assert any(t.startswith("## Summary") for t in texts[-3:]), "no summary at the end"
    reading = next(t for t in texts if t.startswith("## Further reading"))
    assert len(DOCS.findall(reading)) >= 4, "fewer than 4 links to API documentation"
    assert 1 <= len(PAPERS.findall(reading)) <= 4
    linked = set(re.findall(r"\[`([^`]+)`\]\(", reading))
    used = {m for c in nb.cells if c.cell_type == "code" for m in API.findall(c.source)}
    used -= {"nn.Module"}
    missing = {api for api in used if api not in linked and api.rsplit(".", 1)[0] not in linked}
    assert not missing, f"APIs used without a documentation link: {sorted(missing)}"


def routes(path: Path) -> tuple[list[int], list[int]]:
    core, optional = [], []
    for text in markdown(read(path)):
        lines = text.split("\n")
        for i, line in enumerate(lines):
            if match := SECTION.match(line):
                following = next((s for s in lines[i + 1 :] if s.strip()), "")
                route = ROUTE.match(following)
                assert route, f"section {line!r} has no Core/Optional line under it"
                (core if route[1] == "Core" else optional).append(int(match[1]))
    return core, optional


@pytest.mark.parametrize("path", SOLUTIONS, ids=lambda p: p.stem)
def test_route_marks_agree_with_readme(path: Path) -> None:
    core, optional = routes(path)
    assert sorted(core + optional) == list(range(1, len(core) + len(optional) + 1))
    assert core, "no core section"
    title = read(path).cells[0].source
    time = re.search(r"^\*\*Time\*\*: ~(\d+) min; on the 3-hour route ~(\d+) min", title, re.M)
    assert time, "the title cell's **Time** line gives no 3-hour-route time"
    row = next(line for line in README.split("\n") if line.startswith(f"| {path.name[:2]} |"))
    full_cell, route_cell = [c.strip() for c in row.strip("|").split("|")][-2:]
    assert full_cell.startswith(f"{time[1]} min"), (full_cell, time[1])
    assert route_cell.endswith(f"{time[2]} min") or f"· {time[2]} min" in route_cell
    skipped = re.search(r"\(optional: ([\d, ]+)\)", route_cell)
    assert skipped and [int(s) for s in skipped[1].split(",")] == optional, (route_cell, optional)


def test_the_3_hour_route_adds_up_to_3_hours() -> None:
    minutes = []
    for path in SOLUTIONS:
        match = re.search(r"3-hour route ~(\d+) min", read(path).cells[0].source)
        minutes.append(int(match[1]))
    assert sum(minutes) <= 180, minutes
    assert "estimates" in README.split("## In Google Colab")[0]


def all_markdown() -> dict[str, str]:
    return {p.stem: "\n".join(markdown(read(p))) for p in SOLUTIONS}


@pytest.mark.parametrize(
    ("notebook", "wrong"),
    [
        ("02", r"like\s+none"),
        ("04", r"whole training\s+set\s+\(running"),
        ("04", r"shortcut\s+unchanged"),
        ("05", r"true speaker 0\.9 instead of 1"),
        ("07", r"at most 1 impostor in 1000 accepted"),
        ("07", r"varies with things like loudness"),
        ("07", r"README \"Robustness\""),
        ("07", r"applications where\s+impostors are rare"),
        ("03", r"\(one per CPU core, at most 4\)\."),
        ("02", r"long enough for bins 10 Hz"),
    ],
)
def test_corrected_statements_stay_corrected(notebook: str, wrong: str) -> None:
    text = next(t for stem, t in all_markdown().items() if stem.startswith(notebook))
    assert not re.search(wrong, text), wrong


@pytest.mark.parametrize(
    ("notebook", "right"),
    [
        ("02", r"Aliasing"),
        ("02", r"adds bins, not resolution"),
        ("02", r"main lobe"),
        ("04", r"running averages"),
        ("05", r"1 − ε \+ ε/K"),
        ("07", r"P\(impostor \| accept\)"),
        ("03", r"without a GPU, 0"),
        ("03", r"kit's `RECOMMENDED\[\"n_mfcc\"\]` coefficients"),
        ("05", r"`RECOMMENDED`'s number of coefficients"),
    ],
)
def test_corrections_are_there(notebook: str, right: str) -> None:
    text = next(t for stem, t in all_markdown().items() if stem.startswith(notebook))
    assert re.search(right, text), right


def test_aliasing_demo_draws_a_labelled_figure() -> None:
    nb = read(ROOT / "solutions" / "02_time_and_frequency.ipynb")
    demo = next(c.source for c in nb.cells if c.source.startswith("# Aliasing demo"))
    assert "librosa.resample" in demo and "[::2]" in demo
    assert "xlabel=" in demo and "set_ylabel" in demo and "suptitle" in demo
