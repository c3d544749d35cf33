"""requirements.txt admits what Colab preinstalls (its setup cell never reinstalls those) and current versions."""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]

COLAB = {  # Google Colab's preinstalled versions (late 2026), see the developers' guide
    "torch": "2.11.0",
    "torchaudio": "2.11.0",
    "torchcodec": "0.11.0",
    "numpy": "2.1.0",
    "librosa": "0.11.0",
    "plotly": "5.24.1",
    "ipywidgets": "7.7.1",
    "gdown": "5.2.2",
}


def requirements() -> dict[str, Requirement]:
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    parsed = [Requirement(line.split("#")[0]) for line in lines if line.split("#")[0].strip()]
    return {r.name.lower(): r for r in parsed}


@pytest.mark.parametrize(("name", "version"), sorted(COLAB.items()))
def test_colabs_preinstalled_version_is_admitted(name: str, version: str) -> None:
    requirement = requirements()[name]
    assert requirement.specifier.contains(Version(version)), (
        f"{requirement} refuses Colab's {version}"
    )


@pytest.mark.parametrize("name", sorted(COLAB))
def test_the_installed_version_is_admitted(name: str) -> None:
    installed = Version(importlib.metadata.version(name).split("+")[0])
    requirement = requirements()[name]
    assert requirement.specifier.contains(installed), f"{requirement} refuses installed {installed}"


def test_every_line_is_a_range_not_a_pin() -> None:
    for requirement in requirements().values():
        assert not any(s.operator == "==" for s in requirement.specifier), requirement
