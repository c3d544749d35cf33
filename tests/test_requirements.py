"""The kit's dependencies: requirements.txt and pyproject.toml agree, admit Colab's builds, install.

requirements.txt is what ``make`` installs; pyproject.toml declares the same ranges, the runtime
ones as ``dependencies`` and the tools of the notebooks and tests as the ``test`` extra;
requirements-colab.txt pins Colab's own stack, which ``.ci/run`` runs the notebooks on.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
TEST_SECTION = "# notebooks and tests"
RUNTIME = {Requirement(d).name.lower() for d in PROJECT["dependencies"]}


def read(path: Path) -> list[str]:
    """The requirement lines of a requirements file, comments and blank lines dropped."""
    lines = [line.split("#")[0].strip() for line in path.read_text().splitlines()]
    return [line for line in lines if line]


def requirements() -> dict[str, Requirement]:
    parsed = [Requirement(line) for line in read(ROOT / "requirements.txt")]
    return {r.name.lower(): r for r in parsed}


def colab_pins() -> dict[str, Version]:
    """requirements-colab.txt's exact pins: distribution -> Colab's version."""
    pins = {}
    for line in read(ROOT / "requirements-colab.txt"):
        requirement = Requirement(line)
        (spec,) = requirement.specifier if len(requirement.specifier) == 1 else (None,)
        if spec is not None and spec.operator == "==":
            pins[requirement.name.lower()] = Version(spec.version)
    return pins


COLAB_STACK = (  # what Colab's runtime of August 2026 ships (Python 3.13)
    "torch==2.11.0 torchaudio==2.11.0 torchcodec==0.11.0 numpy==2.1.3 librosa==0.11.0 "
    "plotly==5.24.1 ipywidgets==7.7.1 matplotlib==3.10.0 scikit-learn==1.6.1 pandas==2.2.3 "
    "gdown==5.2.2 ipython==7.34.0 ipykernel==6.17.1 notebook==6.5.7"
).split()


def test_the_colab_pins_file_is_colabs_stack() -> None:
    pins = colab_pins()
    assert {f"{name}=={version}" for name, version in pins.items()} >= set(COLAB_STACK)
    assert set(pins) - {s.split("==")[0] for s in COLAB_STACK} <= {"nbval", "pytest"}
    assert "requirements-colab.txt" in (ROOT / ".ci" / "run").read_text()
    assert "requirements-colab.txt" in (ROOT / "README.md").read_text()


def test_colab_pins_leave_no_runtime_dependency_out() -> None:
    names = {Requirement(line).name.lower() for line in read(ROOT / "requirements-colab.txt")}
    assert names >= RUNTIME


@pytest.mark.parametrize(
    ("name", "version"), sorted((n, v) for n, v in colab_pins().items() if n in RUNTIME)
)
def test_colabs_preinstalled_version_is_admitted(name: str, version: Version) -> None:
    requirement = requirements()[name]
    assert requirement.specifier.contains(version), f"{requirement} refuses Colab's {version}"


@pytest.mark.parametrize("name", sorted(PROJECT["dependencies"]))
def test_the_installed_version_is_admitted(name: str) -> None:
    requirement = Requirement(name)
    installed = Version(importlib.metadata.version(requirement.name).split("+")[0])
    assert requirement.specifier.contains(installed), f"{requirement} refuses installed {installed}"


def test_every_line_is_a_range_not_a_pin() -> None:
    for requirement in requirements().values():
        assert not any(s.operator == "==" for s in requirement.specifier), requirement


def test_requirements_txt_and_pyproject_agree() -> None:
    text = (ROOT / "requirements.txt").read_text()
    runtime, _, tools = text.partition(TEST_SECTION)
    assert tools, f"requirements.txt has no {TEST_SECTION!r} section"
    tools = tools.split("\n", 1)[1]
    assert read_text_lines(runtime) == PROJECT["dependencies"]
    assert read_text_lines(tools) == PROJECT["optional-dependencies"]["test"]


def read_text_lines(text: str) -> list[str]:
    lines = [line.split("#")[0].strip() for line in text.splitlines()]
    return [line for line in lines if line]


def test_license_metadata() -> None:
    assert PROJECT["license"] == "MIT"
    assert PROJECT["license-files"] == ["LICENSE", "LICENSE-CONTENT"]
    assert (ROOT / "LICENSE").read_text().startswith("MIT License\n")
    content = (ROOT / "LICENSE-CONTENT").read_text()
    assert "Creative Commons Attribution 4.0 International Public License" in content


def test_pip_install_into_a_fresh_venv(tmp_path: Path) -> None:
    """``pip install .`` of a copy of the kit, in a new venv, then ``import helpers.course``.

    Offline and quick: ``--no-deps --no-build-isolation``; the new venv sees this venv's packages
    (torch, setuptools, ...) through a path file, but not its editable install of the kit.
    """
    source = tmp_path / "src"
    shutil.copytree(
        ROOT / "helpers", source / "helpers", ignore=shutil.ignore_patterns("__pycache__")
    )
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-CONTENT"):
        shutil.copy(ROOT / name, source / name)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = next(p for p in sys.path if p.endswith("site-packages"))
    Path(site, "outer.pth").write_text(ours + "\n")
    env = {**os.environ, "PIP_NO_INDEX": "1", "PYTHONPATH": ""}
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", "--no-build-isolation", str(source)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    probe = (
        "import importlib.metadata as m, json, helpers.course as c; print(c.__file__); "
        "print(m.metadata('audio-course')['License-Expression']); "
        "print(json.dumps(m.requires('audio-course')))"
    )
    out = subprocess.run(
        [python, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env=env
    )
    assert out.returncode == 0, out.stderr
    where, licence, requires = out.stdout.splitlines()
    requires = sorted(str(Requirement(r)) for r in json.loads(requires))
    assert Path(where).is_relative_to(site) and licence == "MIT"
    declared = sorted(PROJECT["dependencies"]) + [
        f'{t}; extra == "test"' for t in PROJECT["optional-dependencies"]["test"]
    ]
    assert requires == sorted(str(Requirement(r)) for r in declared)


def test_numba_compiles_outside_the_venv_in_each_test_process() -> None:
    """conftest gives each test process its own numba cache: librosa's compiled functions land
    there, not in the venv, which two xdist workers would corrupt (numba/numba#10128)."""
    import librosa
    import numba
    import numpy as np

    folder = Path(os.environ["NUMBA_CACHE_DIR"])
    assert Path(numba.config.CACHE_DIR) == folder and not folder.is_relative_to(sys.prefix)
    librosa.util.localmin(np.array([[3.0, 1.0, 2.0, 0.5, 4.0]]), axis=-1)  # a cached GUFunc
    assert any(folder.rglob("*localmin*.nbi"))
