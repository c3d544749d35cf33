"""Google Colab bootstrap: what the setup cell at the top of every notebook calls.

In Colab every notebook runs in its own fresh runtime: nothing on ``/content`` survives to the next
notebook. So the setup cell, in every notebook, clones the kit into ``/content/audio-course`` and
calls :func:`setup`, which

1. installs only what the runtime lacks, and never torch, torchaudio, numpy, ipywidgets or plotly
   (:data:`PROTECTED`): Colab's own builds stay, and a pip constraints file pins them so that no
   dependency of a missing package can upgrade them;
2. makes the kit importable in every process (a ``.pth`` file in site-packages);
3. with ``drive=True`` (or ``AUDIO_COURSE_DRIVE=1``) mounts Google Drive and keeps, under
   ``/content/drive/MyDrive/audio-course/`` (:data:`DRIVE_DIR`), the downloaded archives and the
   checkpoints, so that the next runtime (another notebook, another day) downloads nothing;
4. gets the data tier the notebook asks for (``small``, ``full`` or ``synthetic``, or
   ``AUDIO_COURSE_DATA_KIND``) with :func:`helpers.download.fetch_tier`, and tells
   :func:`helpers.course.find_dataset` where it is (``AUDIO_COURSE_DATA_KIND``, ``AUDIO_COURSE_DATA``);
5. says where everything is and how long getting ready took, and in the training notebooks whether
   the runtime has a GPU (if not: *Runtime → Change runtime type → T4 GPU*).

Only the standard library (and :mod:`helpers.paths`) is imported at module level: this runs before
anything is installed. Outside Colab :func:`setup` does nothing (install ``requirements.txt``
yourself, ``make``).
"""

from __future__ import annotations

import codecs
import importlib.metadata
import importlib.util
import os
import re
import site
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .paths import REPO_ROOT

CONTENT_DIR = REPO_ROOT.parent
"""Colab's working folder, ``/content``: the setup cell clones the kit into ``/content/audio-course``."""

DRIVE_MOUNT = CONTENT_DIR / "drive"
"""Where Google Drive is mounted (``/content/drive``); the student's files are in ``MyDrive``."""

DRIVE_DIR = DRIVE_MOUNT / "MyDrive" / "audio-course"
"""The kit's folder on the student's Drive: ``archives/`` (downloaded data) and ``checkpoints/``."""

TIERS = ("small", "full", "synthetic")
"""The data tiers, as :data:`helpers.download.TIERS` (not imported: it needs tqdm)."""

PROTECTED = ("torch", "torchaudio", "numpy", "ipywidgets", "plotly")
"""Distributions the setup never installs nor upgrades: Colab ships builds matched to its runtime."""

KIT_PACKAGES: dict[str, str] = {
    "soundfile": "soundfile",
    "librosa": "librosa",
    "matplotlib": "matplotlib",
    "sklearn": "scikit-learn",
    "tqdm": "tqdm",
    "gdown": "gdown",
    "torchcodec": "torchcodec",
}
"""Import name -> pip distribution of what the kit needs beyond :data:`PROTECTED`.

Colab has all of them; a runtime that lacks one gets it from pip, with ``requirements.txt``'s range.
"""

PTH_NAME = "audio-course.pth"
"""The file in site-packages that puts the kit on every Python process's path."""


def is_colab() -> bool:
    """Return whether this code runs inside Google Colab."""
    return "google.colab" in sys.modules


def env_flag(name: str) -> bool | None:
    """Read an on/off environment variable: ``None`` if unset or empty, else whether it is on.

    ``"0"``, ``"false"``, ``"no"`` and ``"off"`` (any case) are off; anything else is on.
    """
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    return value.lower() not in ("0", "false", "no", "off")


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


def pinned_versions(dists: tuple[str, ...] = PROTECTED) -> dict[str, str]:
    """Return the installed version of each of ``dists`` that is installed.

    Returns
    -------
    dict[str, str]
        Distribution -> version, e.g. ``{"torch": "2.11.0+cu128", "plotly": "5.24.1"}``.
    """
    versions = {}
    for dist in dists:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


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

    The distributions of :data:`PROTECTED` are never installed, even when listed in ``needed``,
    and pip runs with a constraints file that pins each installed one to its current version, so
    that no dependency of what is installed upgrades Colab's torch, numpy, ipywidgets or plotly.
    Version ranges come from ``requirements.txt``.

    Raises
    ------
    RuntimeError
        If pip fails (for instance because a package needs a newer numpy than Colab's).
    """
    protected = {_canonical(d) for d in PROTECTED}
    missing = [d for d in missing_packages(needed) if _canonical(d) not in protected]
    if not missing:
        return []
    specs = [requirement(dist) for dist in missing]
    pins = "".join(f"{dist}=={version}\n" for dist, version in pinned_versions().items())
    with tempfile.NamedTemporaryFile("w", suffix="-constraints.txt", delete=False) as fh:
        fh.write(pins)
    try:
        code = run([sys.executable, "-m", "pip", "install", "-q", "-c", fh.name, *specs])
    finally:
        os.unlink(fh.name)
    if code != 0:
        raise RuntimeError(
            f"pip could not install {' '.join(specs)} (see above) without changing Colab's "
            f"{', '.join(PROTECTED)}. Run this cell again; if it fails again, report it."
        )
    importlib.invalidate_caches()
    return missing


def link_kit(repo: Path = REPO_ROOT) -> Path | None:
    """Put ``repo`` on the path of every Python process of this runtime; return the ``.pth`` file.

    A ``.pth`` file in site-packages (what ``pip install -e`` does, without the seconds it takes)
    makes ``import helpers`` work in subprocesses (``python -m helpers.cli.train``, loader workers)
    and after a kernel restart. Returns ``None`` if no site-packages folder is writable; then only
    ``PYTHONPATH`` is set, which subprocesses inherit.
    """
    for folder in site.getsitepackages():
        pth = Path(folder) / PTH_NAME
        try:
            pth.write_text(f"{repo}\n", encoding="utf-8")
        except OSError:
            continue
        return pth
    paths = [str(repo), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return None


def mount_drive(mountpoint: Path | None = None) -> Path:
    """Mount Google Drive (Colab asks the student's permission); return the kit's folder on it.

    Creates ``MyDrive/audio-course/{archives,checkpoints}`` and sets ``AUDIO_COURSE_DRIVE_DIR``,
    which :func:`helpers.checkpoints.checkpoint_dir` reads to keep checkpoints there.

    Parameters
    ----------
    mountpoint : Path, optional
        Where to mount it (default :data:`DRIVE_MOUNT`, ``/content/drive``).

    Returns
    -------
    Path
        ``<mountpoint>/MyDrive/audio-course``.
    """
    from google.colab import drive  # Colab's own package

    mountpoint = Path(mountpoint or DRIVE_MOUNT)
    drive.mount(str(mountpoint))
    folder = mountpoint / "MyDrive" / "audio-course"
    for sub in ("archives", "checkpoints"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    os.environ["AUDIO_COURSE_DRIVE_DIR"] = str(folder)
    return folder


def get_data(tier: str, archive_dir: Path | None = None) -> Path:
    """Make sure data tier ``tier`` is on this runtime's disk; return its folder.

    Calls :func:`helpers.download.fetch_tier`; with ``archive_dir`` (a folder on Drive) an archive
    already kept there is unpacked without any network request, and a new download is kept there.
    If a real tier cannot be downloaded, the synthetic one is made instead, with a loud warning.

    Parameters
    ----------
    tier : {"small", "full", "synthetic"}
        The data tier.
    archive_dir : Path, optional
        Where downloaded archives are kept.

    Returns
    -------
    Path
        The complete data folder; ``AUDIO_COURSE_DATA_KIND`` and ``AUDIO_COURSE_DATA`` now say it.
    """
    from .download import FALLBACK_ENV, DownloadError, fetch_tier  # needs tqdm: installed by now

    os.environ.pop(FALLBACK_ENV, None)
    try:
        folder = fetch_tier(tier, archive_dir=archive_dir)
    except DownloadError as error:
        if tier == "synthetic":
            raise
        print(f"{error}\n{_WARNING}", flush=True)
        os.environ[FALLBACK_ENV] = f"{tier}: {error.kind}"
        tier, folder = "synthetic", fetch_tier("synthetic")
    os.environ["AUDIO_COURSE_DATA_KIND"] = tier
    os.environ["AUDIO_COURSE_DATA"] = str(folder)
    return Path(folder)


def gpu_line() -> str | None:
    """Return the line telling the student to switch to a GPU runtime, or ``None`` if on a GPU."""
    import torch  # Colab's; imported here only (the module itself stays standard library)

    if torch.cuda.is_available():
        return None
    return (
        "No GPU in this runtime: training will take about 10x longer. Runtime → Change runtime "
        "type → T4 GPU, then run the notebook again from the top."
    )


def setup(data: str = "small", drive: bool = False, gpu: bool = False) -> Path | None:
    """Prepare a Colab runtime for a notebook; do nothing elsewhere.

    Parameters
    ----------
    data : {"small", "full", "synthetic"}
        The data tier (the setup cell's form field); ``AUDIO_COURSE_DATA_KIND`` overrides it.
    drive : bool
        Mount Google Drive and keep archives and checkpoints there (the form's check box);
        ``AUDIO_COURSE_DRIVE=1`` / ``0`` overrides it.
    gpu : bool
        This notebook trains: say so if the runtime has no GPU.

    Returns
    -------
    Path or None
        The data folder, or ``None`` outside Colab.

    Raises
    ------
    ValueError
        For an unknown tier.
    """
    started = time.monotonic()
    data = os.environ.get("AUDIO_COURSE_DATA_KIND") or data
    if data not in TIERS:
        raise ValueError(f"data must be one of {', '.join(TIERS)}, not {data!r}")
    if not is_colab():
        print("Not running in Colab: nothing to set up.")
        return None
    installed = install_packages()
    print(f"Installed {', '.join(installed)}." if installed else "All packages present.")
    if absent := [d for d in PROTECTED if d not in pinned_versions()]:
        print(
            f"Warning: {', '.join(absent)} missing; the kit never installs them: pip install them."
        )
    link_kit()
    use_drive = env_flag("AUDIO_COURSE_DRIVE")
    drive_dir = mount_drive() if (drive if use_drive is None else use_drive) else None
    archives = drive_dir / "archives" if drive_dir else None
    before = _listing(archives)
    folder = get_data(data, archives)
    print(_summary(folder, drive_dir, _listing(archives) - before, time.monotonic() - started))
    if gpu and (line := gpu_line()):
        print(line)
    return folder


def _listing(folder: Path | None) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder and folder.is_dir() else set()


def _summary(folder: Path, drive_dir: Path | None, new_archives: set[str], seconds: float) -> str:
    tier = os.environ.get("AUDIO_COURSE_DATA_KIND", "?")
    if tier == "synthetic":
        where = "none (the synthetic voices are generated here)"
    elif drive_dir is None:
        where = "not kept (tick `drive` to keep the data and checkpoints on Google Drive)"
    elif new_archives:
        where = f"downloaded once, kept in {drive_dir / 'archives'}"
    else:
        where = f"from {drive_dir / 'archives'}, nothing downloaded"
    from .download import fallback_notice

    lines = [f"Ready in {seconds:.1f} s: data tier {tier!r} in {folder}", f"  archive: {where}"]
    if drive_dir is not None:
        lines.append(f"  checkpoints: {drive_dir / 'checkpoints'}")
    return "\n".join([*lines, *filter(None, [fallback_notice()])])


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


_WARNING = f"""
{"!" * 78}
WARNING: downloading the data failed (see above).
Falling back to a SMALL SYNTHETIC data set: every notebook runs, but the results say
nothing about real speakers. Running the setup cell again does NOT retry a source that
failed in this runtime (it would fail the same way); the note at the end says how to.
{"!" * 78}"""
