"""What every self-check promises, tested across all of them.

* Every check accepts the reference answer and rejects at least three plausible wrong answers, each
  with a message that names the mistake (``Wrong.match``) and where to look, and says how to get
  more help. The cases live next to each notebook's tests (``RIGHT`` and ``WRONG`` of
  ``test_checks_<notebook>.py``); this module counts them.
* No message or hint contains a line of a solution: the code lines of every ``# BEGIN SOLUTION``
  region of ``solutions/*.ipynb`` are normalised and searched for in every string of
  ``helpers/checks`` (read by ``ast``) and in every message the wrong answers trigger.
* ``checks.hint(name)`` gives each check's hints one at a time; the names follow the naming rule.
"""

from __future__ import annotations

import ast
import functools
import importlib
import importlib.util
import json
import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from helpers import checks
from helpers.checks import ExerciseError
from helpers.checks.core import HINTS

REPO = Path(__file__).resolve().parent.parent
NOTEBOOK_TESTS = [
    "test_checks_loading_audio",
    "test_checks_time_and_frequency",
    "test_checks_dataset",
    "test_checks_models",
    "test_checks_training",
    "test_checks_embeddings",
    "test_checks_verification",
]
MIN_WRONG = 3


@dataclass(frozen=True)
class Case:
    """A call of ``checks.<check>(*args())``: right (``match`` is None) or wrong, and why."""

    check: str
    label: str
    args: Callable[[], tuple]
    match: str | None = None

    def __str__(self) -> str:
        return f"{self.check}-{self.label}"


def right(check: str, label: str, args: Callable[[], tuple]) -> Case:
    """A reference (or other correct) answer that ``check`` must accept."""
    return Case(check, label, args)


def wrong(check: str, label: str, args: Callable[[], tuple], match: str) -> Case:
    """A plausible wrong answer that ``check`` must reject with a message matching ``match``."""
    return Case(check, label, args, match)


def accepts(case: Case, capsys: pytest.CaptureFixture[str]) -> str:
    """Run a right case: the check prints one line starting with ✓ and raises nothing."""
    getattr(checks, case.check)(*case.args())
    out = capsys.readouterr().out
    assert out.startswith("✓ "), out
    return out


def rejects(case: Case) -> str:
    """Run a wrong case: ExerciseError naming the mistake, how to get help, no solution line."""
    with pytest.raises(ExerciseError) as error:
        getattr(checks, case.check)(*case.args())
    message = str(error.value)
    assert re.search(case.match or "", message, flags=re.DOTALL), message
    assert f"More help: checks.hint({case.check!r})" in message, message
    leaked = solution_lines_in(message)
    assert not leaked, f"the message pastes solution lines {leaked}:\n{message}"
    return message


# --------------------------------------------------------------------------------------------------
# Solution lines


def _find_regions() -> Callable:
    name = "build_student_notebooks"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
        assert spec and spec.loader
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    module = sys.modules[name]
    return module.find_regions


ASSIGNMENT = re.compile(r"^[\w.\[\], ]+\s*[-+*/]?=(?!=)\s*")


def normalise(line: str) -> str:
    """A solution line as it could appear in a message: no comment, keyword or assignment target,
    no whitespace or backticks (so ``x = a / b`` and ``a/b`` match)."""
    line = line.split("  # ")[0].strip()
    line = re.sub(r"^(return|yield|raise|assert)\s+", "", line)
    line = ASSIGNMENT.sub("", line)
    return re.sub(r"[\s`]", "", line)


@functools.cache
def solution_lines() -> frozenset[str]:
    """Every normalised code line (≥ 15 characters) of every solution region of solutions/."""
    find_regions, lines = _find_regions(), set()
    for path in sorted((REPO / "solutions").glob("*.ipynb")):
        for cell in json.loads(path.read_text())["cells"]:
            if cell["cell_type"] != "code":
                continue
            source = "".join(cell["source"])
            code = source.split("\n")
            for region in find_regions(source):
                for line in code[region.start + 1 : region.end]:
                    normalised = normalise(line)
                    if len(normalised) >= 15:
                        lines.add(normalised)
    return frozenset(lines)


def solution_lines_in(text: str) -> list[str]:
    squeezed = re.sub(r"[\s`]", "", text)
    return sorted(line for line in solution_lines() if line in squeezed)


def message_strings() -> list[tuple[str, str]]:
    """``(where, text)`` of every string literal in helpers/checks (docstrings excepted)."""
    strings = []
    for path in sorted((REPO / "helpers/checks").glob("*.py")):
        tree = ast.parse(path.read_text())
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.FunctionDef | ast.ClassDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
            and isinstance(node.body[0].value, ast.Constant)
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.JoinedStr):
                text = "".join(
                    v.value if isinstance(v, ast.Constant) else "{}" for v in node.values
                )
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                if id(node) in docstrings:
                    continue
                text = node.value
            else:
                continue
            strings.append((f"{path.name}:{node.lineno}", text))
    return strings


def test_solution_lines_are_found() -> None:
    lines = solution_lines()
    assert len(lines) > 60
    assert normalise("    frequencies = np.fft.rfftfreq(len(signal), d=1 / sample_rate)") in lines
    assert normalise("return features.mean(axis=-1)") in lines
    assert normalise("return torch.log_softmax(model(crops), dim=1).mean(dim=0)") in lines
    # the leak detector itself: a message quoting one of them is caught
    assert solution_lines_in("Hint: use `np.fft.rfftfreq(len(signal), d=1/sample_rate)`.")


def test_no_message_or_hint_contains_a_solution_line() -> None:
    leaks = [(where, line) for where, text in message_strings() for line in solution_lines_in(text)]
    leaks += [
        (f"hint {name} {level}", line)
        for name, hints in HINTS.items()
        for level, text in enumerate(hints, 1)
        for line in solution_lines_in(text)
    ]
    assert not leaks, leaks


# --------------------------------------------------------------------------------------------------
# Every check: hints, cases, names


def all_cases() -> list[Case]:
    return [case for name in NOTEBOOK_TESTS for case in importlib.import_module(name).CASES]


def test_every_check_is_exported_and_has_three_tiers_of_hints() -> None:
    exported = {name for name in checks.__all__ if name not in ("ExerciseError", "hint")}
    assert exported == set(HINTS)
    modules = [
        "loading_audio",
        "time_and_frequency",
        "dataset",
        "models",
        "training",
        "embeddings",
        "verification",
    ]
    from_modules = {
        name
        for module in modules
        for name in importlib.import_module(f"helpers.checks.{module}").__all__
    }
    assert from_modules == exported
    for name, hints in HINTS.items():
        assert len(hints) >= 3, name
        assert len(set(hints)) == len(hints), name
        assert all(len(text) > 40 for text in hints), name


def test_every_check_rejects_at_least_three_wrong_answers_and_accepts_the_reference() -> None:
    cases = all_cases()
    wrong_counts = {name: 0 for name in HINTS}
    right_counts = {name: 0 for name in HINTS}
    for case in cases:
        counts = right_counts if case.match is None else wrong_counts
        counts[case.check] += 1
    assert not [n for n, c in wrong_counts.items() if c < MIN_WRONG], wrong_counts
    assert all(right_counts.values()), right_counts
    labels = [str(case) for case in cases]
    assert len(labels) == len(set(labels)), "two cases share a label"


def test_hint_gives_the_next_hint_each_call(capsys: pytest.CaptureFixture[str]) -> None:
    checks.core._hints_shown.pop("stft_db", None)
    shown = []
    for _ in range(4):
        checks.hint("stft_db")
        shown.append(capsys.readouterr().out)
    hints = HINTS["stft_db"]
    for level, out in enumerate(shown[:3], 1):
        assert out.startswith(f"Hint {level} of {len(hints)} for stft_db: {hints[level - 1]}")
    assert hints[-1] in shown[3] and "last one" in shown[3]
    checks.hint("stft_db", level=2)
    assert hints[1] in capsys.readouterr().out


def test_hint_rejects_unknown_names_and_levels() -> None:
    with pytest.raises(ValueError, match="Did you mean 'stft_db'"):
        checks.hint("stft_bd")
    with pytest.raises(ValueError, match="no hint 9"):
        checks.hint("stft_db", level=9)


def public_names_of_helpers() -> dict[str, str]:
    """Name → module of every public top-level def, class or constant of helpers (not checks)."""
    names = {}
    for path in sorted((REPO / "helpers").rglob("*.py")):
        if "checks" in path.relative_to(REPO).parts:
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.FunctionDef | ast.ClassDef):
                targets = [node.name]
            elif isinstance(node, ast.Assign):
                targets = [t.id for t in node.targets if isinstance(t, ast.Name)]
            elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
                targets = [node.target.id]
            else:
                continue
            for name in targets:
                if not name.startswith("_"):
                    names[name] = str(path.relative_to(REPO))
    return names


def test_no_check_is_named_like_a_library_function() -> None:
    library = public_names_of_helpers()
    assert "equal_error_rate" in library and "count_parameters" in library
    clashes = {name: library[name] for name in HINTS if name in library}
    assert not clashes, clashes


def test_checks_import_no_private_name_of_another_module() -> None:
    for path in sorted((REPO / "helpers/checks").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom):
                private = [a.name for a in node.names if a.name.startswith("_")]
                assert not private, f"{path.name} imports {private} from {node.module}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
                if node.attr.startswith("_") and not node.attr.startswith("__"):
                    assert node.value.id in ("self", "cls"), (
                        f"{path.name}: {node.value.id}.{node.attr}"
                    )


# --------------------------------------------------------------------------------------------------
# The engine: verdict, the shared probes


def test_verdict_raises_the_first_row_seen_with_its_fields_filled(capsys) -> None:
    from helpers.checks.core import Mistake, Observed, verdict

    rows = [
        Mistake(lambda o: o.got == 0, "never"),
        Mistake(lambda o: o.got > o.expected, "{got} is more than {expected}"),
        Mistake(lambda o: True, "not reached"),
    ]
    with pytest.raises(ExerciseError, match=r"^3 is more than 2$"):
        verdict(Observed(got=3, expected=2), rows)
    verdict(Observed(got=2, expected=2), rows[:2], ok="fine")
    verdict(Observed(got=2, expected=2), rows[:2])
    assert capsys.readouterr().out == "✓ fine\n"


def test_exercise_adds_more_help_and_registers_hints() -> None:
    from helpers.checks.core import exercise

    @exercise("first hint, the most general one of all", "second", "third")
    def example_check() -> None:
        raise ExerciseError("wrong")

    try:
        with pytest.raises(
            ExerciseError, match=re.escape("wrong\nMore help: checks.hint('example_check')")
        ):
            example_check()
        assert HINTS["example_check"][0].startswith("first hint")
    finally:
        HINTS.pop("example_check")


def test_shared_probes() -> None:
    import numpy as np

    from helpers.checks import core

    assert core.returns_pair([1, 2], "f()", "(a, b)") == (1, 2)
    with pytest.raises(ExerciseError, match=r"f\(\) returned int; expected a pair \(a, b\)"):
        core.returns_pair(3, "f()", "(a, b)")

    def scaled(x, factor):
        return x * factor

    def constant(x, factor):
        return x * 2

    core.uses_argument(scaled, (np.ones(3), 2), 1, 3, what="scaled(x, 2)")
    with pytest.raises(
        ExerciseError, match="argument 'factor' changes \\(2 → 3\\): that argument is ignored"
    ):
        core.uses_argument(constant, (np.ones(3), 2), 1, 3, what="constant(x, 2)")

    def seeded(seed):
        return np.random.default_rng(seed).normal(size=3)

    assert core.same(core.repeatable(seeded, 0, what="seeded(0)"), seeded(0))
    with pytest.raises(ExerciseError, match="not reproducible"):
        core.repeatable(lambda seed: np.random.default_rng().normal(size=3), 0, what="g(0)")

    with pytest.raises(ExerciseError, match=r"drew from numpy's global np\.random"):
        with core.leaves_global_rngs("h()"):
            np.random.rand()
    with pytest.raises(KeyError), core.leaves_global_rngs("h()"):  # the block's own error passes
        raise KeyError("x")
    with core.leaves_global_rngs("h()"):
        np.random.default_rng(0).random()


def test_watching_keeps_behaviour_records_calls_and_restores(tmp_path) -> None:
    import numpy as np
    import soundfile as sf

    from helpers.checks import core

    original = sf.SoundFile.read
    sf.write(tmp_path / "a.flac", np.zeros(16_000), 16_000)
    with core.watching(sf.SoundFile, "read") as read, core.watching(np, "mean") as mean:
        data, _ = sf.read(tmp_path / "a.flac", frames=100)
        assert np.mean([1.0, 3.0]) == 2.0
    assert len(data) == 100 and read.call_count == 1 and mean.call_count == 1
    assert isinstance(read.call_args.args[0], sf.SoundFile)  # a method is called with self
    assert sf.SoundFile.read is original
    with core.record_decodes() as decodes:
        sf.read(tmp_path / "a.flac", start=100, frames=50)
    assert [(d.start, d.frames, d.total) for d in decodes] == [(100, 50, 16_000)]
