"""Publishing the kit: one repository URL, the folded setup form, licences, the CI workflow."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
TOOL = ROOT / "tools" / "build_student_notebooks.py"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
REPOSITORY = PYPROJECT["project"]["urls"]["Repository"]
SLUG = REPOSITORY.removeprefix("https://github.com/")
NOTEBOOKS = sorted((ROOT / "solutions").glob("*.ipynb")) + sorted(
    (ROOT / "notebooks").glob("*.ipynb")
)


def published_text(root: Path) -> dict[str, str]:
    """The files that carry the repository URL: every notebook and the README."""
    paths = [*root.glob("solutions/*.ipynb"), *root.glob("notebooks/*.ipynb"), root / "README.md"]
    return {p.relative_to(root).as_posix(): p.read_text(encoding="utf-8") for p in paths}


def test_one_edit_of_repository_moves_every_link(tmp_path: Path) -> None:
    for name in ("solutions", "notebooks"):
        shutil.copytree(ROOT / name, tmp_path / name)
    for name in ("README.md", "pyproject.toml"):
        shutil.copy(ROOT / name, tmp_path / name)
    before = published_text(tmp_path)
    assert all(SLUG in text for text in before.values())
    pyproject = tmp_path / "pyproject.toml"
    new = "https://github.com/a-teacher/speaker-id-2027"
    pyproject.write_text(pyproject.read_text().replace(f'"{REPOSITORY}"', f'"{new}"'))

    result = subprocess.run(
        [sys.executable, str(TOOL), "--root", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr

    after = published_text(tmp_path)
    for name, text in after.items():
        assert SLUG not in text, f"{name} still names {SLUG}"
        assert text.count("a-teacher/speaker-id-2027") == before[name].count(SLUG), name
    readme = after["README.md"]
    assert "https://github.com/a-teacher/speaker-id-2027/actions/workflows/ci.yml" in readme
    assert (
        "https://colab.research.google.com/github/a-teacher/speaker-id-2027/blob/main/"
        "notebooks/01_loading_audio.ipynb" in readme
    )
    clone = re.findall(r'URL = "([^"]+)"', after["notebooks/05_training.ipynb"].replace('\\"', '"'))
    assert clone == [new]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_setup_cell_is_a_folded_colab_form(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    setup = [c for c in nb.cells if "course-setup" in c.metadata.get("tags", [])]
    assert len(setup) == 1 and nb.cells.index(setup[0]) == 2
    cell = setup[0]
    assert cell.metadata.get("cellView") == "form"
    lines = cell.source.split("\n")
    assert lines[0] == "# @title Setup"
    fields = [line.split("=")[0].strip() for line in lines if "# @param" in line]
    assert fields == ["data", "drive", "mirror"]
    assert 'os.environ["AUDIO_COURSE_DATA_URL"] = mirror.strip()' in cell.source


def test_workflow_runs_ci_on_push_and_pull_request_with_a_pip_cache() -> None:
    import yaml

    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True
    assert {"push", "pull_request"} <= set(triggers)
    (job,) = workflow["jobs"].values()
    matrix = {row["job"]: row["python"] for row in job["strategy"]["matrix"]["include"]}
    assert matrix == {"test": "3.11", "colab": "3.13"}
    assert job["timeout-minutes"] <= 20
    assert job["container"] == "python:${{ matrix.python }}-bookworm"
    runs = [step["run"] for step in job["steps"] if "run" in step]
    assert runs == ["bash .ci/run ${{ matrix.job }}"]
    caches = [
        s["with"]["path"] for s in job["steps"] if s.get("uses", "").startswith("actions/cache")
    ]
    assert "~/.cache/pip" in caches and "~/.cache/audio-course/colab-venv" in caches
    badge = f"(https://github.com/{SLUG}/actions/workflows/ci.yml/badge.svg)"
    assert badge in (ROOT / "README.md").read_text()


def test_ci_script_has_both_jobs() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert subprocess.run(["bash", "-n", str(ROOT / ".ci" / "run")]).returncode == 0
    assert "make test" in script and "pip install -q -r requirements-colab.txt" in script
    assert '>"$site/audio-course.pth"' in script and "--nbval-lax --nbval-current-env" in script
    usage = subprocess.run(["bash", str(ROOT / ".ci" / "run"), "nonsense"], capture_output=True)
    assert usage.returncode == 2 and b"usage: bash .ci/run [all|test|colab]" in usage.stderr


@pytest.mark.parametrize("job", ["test", "all"])
@pytest.mark.skipif(
    not all(shutil.which(c) for c in ("ffmpeg", "chromium")),
    reason="needs ffmpeg and chromium, else .ci/run installs them",
)
def test_ci_script_fails_when_make_test_fails(tmp_path: Path, job: str) -> None:
    """A failing `make test` must fail `.ci/run` in every job, `all` included (no `set -e` gap)."""
    for name, code in (("npm", 0), ("make", 3), ("apt-get", 0)):
        (tmp_path / name).write_text(f"#!/bin/sh\necho stub {name}\nexit {code}\n")
        (tmp_path / name).chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", "HOME": str(tmp_path), "COLAB_VENV": str(tmp_path)}
    run = subprocess.run(["bash", ".ci/run", job], cwd=ROOT, env=env, capture_output=True)
    assert run.returncode == 3, run.stdout.decode()[-500:]
    assert b"Colab-stack" not in run.stdout


def test_ci_script_skips_a_python313_that_does_not_run(tmp_path: Path) -> None:
    """A pyenv shim for python3.13 is on PATH even where 3.13 is not selected (CI failed, rc 127)."""
    (tmp_path / "bin").mkdir()
    shim = tmp_path / "bin" / "python3.13"
    shim.write_text("#!/bin/sh\necho 'pyenv: python3.13: command not found' >&2\nexit 127\n")
    shim.chmod(0o755)
    (tmp_path / "bin" / "python3").write_text("#!/bin/sh\nexit 1\n")  # not 3.13
    (tmp_path / "bin" / "python3").chmod(0o755)
    real = tmp_path / "root" / "versions" / "3.13.9" / "bin" / "python"
    real.parent.mkdir(parents=True)
    real.write_text('#!/bin/sh\n[ "$1" = -c ] && exit 0\n')  # a Python 3.13 for the version probe
    real.chmod(0o755)
    pyenv = tmp_path / "bin" / "pyenv"
    pyenv.write_text(f"#!/bin/sh\necho {tmp_path / 'root'}\n")
    pyenv.chmod(0o755)
    script = (ROOT / ".ci" / "run").read_text()
    function = script[script.index("python313() {") : script.index("\nrun_colab() {")]
    env = {"PATH": f"{tmp_path / 'bin'}:/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run(
        ["bash", "-c", f"{function}\npython313"], env=env, capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stdout.strip() == str(real), run.stderr
