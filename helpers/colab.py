"""Google Colab bootstrap, called by the setup cell at the top of every notebook.

This module runs *before* the kit's dependencies are installed, so it imports only the standard
library at module level. Outside Colab :func:`setup` does nothing: install ``requirements.txt``
yourself (``make``).
"""

from __future__ import annotations

import codecs
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
"""The kit's checkout (``/content/audio-course`` in Colab)."""

REAL_DATA = REPO_ROOT / "train-dataset"
"""Where ``data_download.py`` puts the real data set (complete once it holds ``.complete``)."""

SYNTHETIC_DATA = REPO_ROOT / "data" / "synthetic"
"""Where the fallback synthetic data set goes."""

KIT_PACKAGES: dict[str, str] = {
    "soundfile": "soundfile",
    "librosa": "librosa",
    "plotly": "plotly",
    "ipywidgets": "ipywidgets",
    "sklearn": "scikit-learn",
    "tqdm": "tqdm",
    "gdown": "gdown",
    "torchcodec": "torchcodec",
}
"""Import name -> pip distribution of what the kit may need beyond Colab's own stack.

torch, torchaudio and numpy are deliberately absent: Colab ships builds matched to its CUDA and
Python, and reinstalling them would break the runtime.
"""

DATA_CHOICES = ("auto", "real", "synthetic", "none")


def is_colab() -> bool:
    """Return whether this code runs inside Google Colab."""
    return "google.colab" in sys.modules


def missing_packages(needed: dict[str, str]) -> list[str]:
    """Return the distributions whose module cannot be imported.

    Parameters
    ----------
    needed : dict[str, str]
        Import name -> pip distribution name, e.g. ``{"sklearn": "scikit-learn"}``.

    Returns
    -------
    list[str]
        The distributions to install, in the order of ``needed``.
    """
    return [dist for module, dist in needed.items() if importlib.util.find_spec(module) is None]


def requirement(dist: str, requirements: Path = REPO_ROOT / "requirements.txt") -> str:
    """Return ``dist`` with its version range from ``requirements.txt`` (``dist`` if not listed)."""
    if requirements.exists():
        for line in requirements.read_text(encoding="utf-8").splitlines():
            spec = line.split("#")[0].strip()
            name = re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]
            if spec and _canonical(name) == _canonical(dist):
                return spec
    return dist


def run(cmd: list[str], cwd: Path | None = None) -> int:
    """Run a command, streaming its output into the notebook; return its exit code.

    A child process writes to the kernel's file descriptors, which Jupyter does not show, so the
    output is read from a pipe and printed. Tests replace this function to run nothing.

    Parameters
    ----------
    cmd : list[str]
        The command and its arguments.
    cwd : Path, optional
        Working directory (default: the current one).

    Returns
    -------
    int
        The exit code.
    """
    print("$", " ".join(cmd), flush=True)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        assert proc.stdout is not None
        while chunk := proc.stdout.read1(4096):
            print(decoder.decode(chunk), end="", flush=True)
    return proc.returncode


def install_packages(needed: dict[str, str] = KIT_PACKAGES) -> list[str]:
    """``pip install -q`` the distributions of ``needed`` that cannot be imported; return them.

    Never installs torch, torchaudio or numpy (they are not in :data:`KIT_PACKAGES`): Colab ships
    its own. Version ranges come from ``requirements.txt``.

    Raises
    ------
    RuntimeError
        If pip fails.
    """
    missing = missing_packages(needed)
    if missing:
        specs = [requirement(dist) for dist in missing]
        if run([sys.executable, "-m", "pip", "install", "-q", *specs]) != 0:
            raise RuntimeError(f"pip could not install {' '.join(specs)} (see above)")
        importlib.invalidate_caches()
    return missing


def install_kit() -> None:
    """``pip install -q --no-deps -e`` the kit, so that ``import helpers`` works in subprocesses."""
    cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "-e", str(REPO_ROOT)]
    if run(cmd) != 0:
        raise RuntimeError("pip could not install the kit itself (see above)")


def get_data(data: str = "auto") -> Path | None:
    """Make sure a data set is on disk; return its folder (``None`` for ``data="none"``).

    Parameters
    ----------
    data : {"auto", "real", "synthetic", "none"}
        ``"auto"``: the real data set, or if its download fails (loud warning) a small synthetic
        one; ``"real"``: the real data set, raising if the download fails; ``"synthetic"``: the
        synthetic one only; ``"none"``: nothing.

    Raises
    ------
    ValueError
        For an unknown ``data``.
    RuntimeError
        If no data set could be made.
    """
    if data not in DATA_CHOICES:
        raise ValueError(f"data must be one of {DATA_CHOICES}, not {data!r}")
    if data == "none":
        return None
    if data != "synthetic":
        if (REAL_DATA / ".complete").exists():
            print(f"Data set ready: {REAL_DATA}")
            return REAL_DATA
        if run([sys.executable, "data_download.py"], cwd=REPO_ROOT) == 0:
            return REAL_DATA
        if data == "real":
            raise RuntimeError("downloading the data set failed (see above); re-run to retry")
        print(_WARNING, flush=True)
    if not (SYNTHETIC_DATA / ".complete").exists():
        # helpers.course knows the synthetic corpus the notebooks expect (24 speakers).
        cmd = [sys.executable, "-m", "helpers.course"]
        if run(cmd, cwd=REPO_ROOT) != 0:
            raise RuntimeError("could not make the synthetic data set either (see above)")
    return SYNTHETIC_DATA


def setup(data: str = "auto") -> None:
    """Prepare a Colab runtime for the course; do nothing elsewhere.

    1. ``pip install -q`` the packages of :data:`KIT_PACKAGES` that are missing. torch,
       torchaudio and numpy are never installed: Colab ships its own, matched to its GPU stack.
    2. ``pip install -q --no-deps -e`` the kit, so ``import helpers`` works in subprocesses too.
    3. Get the data with :func:`get_data`.

    Parameters
    ----------
    data : {"auto", "real", "synthetic", "none"}
        Which data set to get, see :func:`get_data`.
    """
    if data not in DATA_CHOICES:
        raise ValueError(f"data must be one of {DATA_CHOICES}, not {data!r}")
    if not is_colab():
        print("Not running in Colab: nothing to set up.")
        return
    installed = install_packages()
    print(f"Installed {', '.join(installed)}." if installed else "All packages present.")
    install_kit()
    get_data(data)


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_WARNING = f"""
{"!" * 78}
WARNING: downloading the real data set failed (see above).
Falling back to a SMALL SYNTHETIC data set: every notebook runs, but the results say
nothing about real speakers. Re-run the setup cell to try the download again.
{"!" * 78}"""
