"""The Colab setup cell's :func:`setup`: install what is missing (never :data:`PROTECTED`), put the
kit on the path, mount Drive if asked, fetch the data tier. Standard library only at import."""

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

DRIVE_MOUNT = REPO_ROOT.parent / "drive"  # /content/drive: where Google Drive is mounted
TIERS = ("small", "full", "synthetic")  # as helpers.download.TIERS (which needs tqdm)
PROTECTED = ("torch", "torchaudio", "numpy", "ipywidgets", "plotly")  # never installed/upgraded
KIT_PACKAGES = {"sklearn": "scikit-learn"} | {  # import name -> pip distribution, beyond PROTECTED
    name: name
    for name in ("soundfile", "librosa", "matplotlib", "tqdm", "gdown", "torchcodec", "cloudpickle")
}
PTH_NAME = "audio-course.pth"  # in site-packages: puts the kit on every process's path
_WARNING = f"""{"!" * 78}
WARNING: downloading the data failed (see above). Falling back to a SMALL SYNTHETIC data set:
the results say nothing about real speakers. Running the setup cell again does NOT retry a
source that failed in this runtime; the note at the end says how to.
{"!" * 78}"""


def env_flag(name: str) -> bool | None:
    """An on/off environment variable: ``None`` if unset or empty, off for 0/false/no/off."""
    value = os.environ.get(name, "").strip()
    return value.lower() not in ("0", "false", "no", "off") if value else None


def missing_packages(needed: dict[str, str]) -> list[str]:
    """The distributions of ``needed`` (import name -> distribution) whose module is absent."""
    return [dist for module, dist in needed.items() if importlib.util.find_spec(module) is None]


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement(dist: str, requirements: Path = REPO_ROOT / "requirements.txt") -> str:
    """``dist`` with its version range from ``requirements.txt`` (``dist`` if not listed)."""
    lines = requirements.read_text(encoding="utf-8").splitlines() if requirements.exists() else []
    for spec in (line.split("#")[0].strip() for line in lines):
        if spec and _canonical(re.split(r"[\s<>=!~;\[]", spec, maxsplit=1)[0]) == _canonical(dist):
            return spec
    return dist


def pinned_versions(dists: tuple[str, ...] = PROTECTED) -> dict[str, str]:
    """Distribution -> installed version, for those of ``dists`` that are installed."""
    versions = {}
    for dist in dists:
        try:
            versions[dist] = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            pass
    return versions


def run(cmd: list[str], cwd: Path | None = None) -> int:
    """Run ``cmd``, its output streamed into the notebook (Jupyter hides a child's); exit code."""
    print("$", " ".join(cmd), flush=True)
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    with subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        while chunk := proc.stdout.read1(4096):
            print(decoder.decode(chunk), end="", flush=True)
    return proc.returncode


def install_packages(needed: dict[str, str] = KIT_PACKAGES) -> list[str]:
    """``pip install`` (``requirements.txt``'s ranges) the missing ``needed``, :data:`PROTECTED`
    pinned by a constraints file; returns them, ``RuntimeError`` if pip fails."""
    protected = {_canonical(d) for d in PROTECTED}
    missing = [d for d in missing_packages(needed) if _canonical(d) not in protected]
    if not missing:
        return []
    specs = [requirement(dist) for dist in missing]
    with tempfile.NamedTemporaryFile("w", suffix="-constraints.txt", delete=False) as fh:
        fh.write("".join(f"{dist}=={version}\n" for dist, version in pinned_versions().items()))
    try:
        code = run([sys.executable, "-m", "pip", "install", "-q", "-c", fh.name, *specs])
    finally:
        os.unlink(fh.name)
    if code != 0:
        what = f"pip could not install {' '.join(specs)} (see above) without changing Colab's"
        what += f" {', '.join(PROTECTED)}. Run this cell again; if it fails again, report it."
        raise RuntimeError(what)
    importlib.invalidate_caches()
    return missing


def link_kit(repo: Path = REPO_ROOT) -> Path | None:
    """Put ``repo`` on every process's path: a ``.pth`` (returned), else ``$PYTHONPATH``."""
    for folder in site.getsitepackages():
        try:
            (pth := Path(folder) / PTH_NAME).write_text(f"{repo}\n", encoding="utf-8")
            return pth
        except OSError:
            continue
    paths = [str(repo), *filter(None, os.environ.get("PYTHONPATH", "").split(os.pathsep))]
    os.environ["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(paths))
    return None


def mount_drive(mountpoint: Path | None = None) -> Path:
    """Mount Google Drive; make and return ``MyDrive/audio-course/`` ($AUDIO_COURSE_DRIVE_DIR)."""
    from google.colab import drive  # Colab's own package

    mountpoint = Path(mountpoint or DRIVE_MOUNT)
    drive.mount(str(mountpoint))
    folder = mountpoint / "MyDrive" / "audio-course"
    for sub in ("archives", "checkpoints"):
        (folder / sub).mkdir(parents=True, exist_ok=True)
    os.environ["AUDIO_COURSE_DRIVE_DIR"] = str(folder)
    return folder


def get_data(tier: str, archive_dir: Path | None = None) -> Path:
    """Fetch ``tier`` (else, loudly, the synthetic one); set ``$AUDIO_COURSE_DATA{,_KIND}``."""
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
    """The line telling the student to switch to a GPU runtime, or ``None`` on a GPU."""
    import torch  # Colab's; imported here only (the module itself stays standard library)

    text = "No GPU in this runtime: training will take about 10x longer. Runtime → Change runtime"
    text += " type → T4 GPU, then run the notebook again from the top."
    return None if torch.cuda.is_available() else text


def _listing(folder: Path | None) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder and folder.is_dir() else set()


def setup(data: str = "small", drive: bool = False, gpu: bool = False) -> Path | None:
    """Prepare a Colab runtime; return the data folder (``None`` outside Colab). ``data``: the
    tier (``$AUDIO_COURSE_DATA_KIND`` wins), ``drive``: keep archives and checkpoints on Drive
    (``$AUDIO_COURSE_DRIVE`` wins), ``gpu``: say so if there is none."""
    started = time.monotonic()
    data = os.environ.get("AUDIO_COURSE_DATA_KIND") or data
    if data not in TIERS:
        raise ValueError(f"data must be one of {', '.join(TIERS)}, not {data!r}")
    if "google.colab" not in sys.modules:
        print("Not running in Colab: nothing to set up.")
        return None
    installed = install_packages()
    print(f"Installed {', '.join(installed)}." if installed else "All packages present.")
    if absent := [d for d in PROTECTED if d not in pinned_versions()]:
        print(f"Warning: {', '.join(absent)} missing: pip install them (the kit never does).")
    link_kit()
    use_drive = env_flag("AUDIO_COURSE_DRIVE")
    drive_dir = mount_drive() if (drive if use_drive is None else use_drive) else None
    archives = drive_dir / "archives" if drive_dir else None
    before, folder = _listing(archives), get_data(data, archives)
    if os.environ.get("AUDIO_COURSE_DATA_KIND") == "synthetic":
        where = "none (the synthetic voices are generated here)"
    elif drive_dir is None:
        where = "not kept (tick `drive` to keep the data and checkpoints on Google Drive)"
    elif _listing(archives) - before:
        where = f"downloaded once, kept in {archives}"
    else:
        where = f"from {archives}, nothing downloaded"
    from .download import fallback_notice  # needs tqdm: installed by now

    tier, seconds = os.environ.get("AUDIO_COURSE_DATA_KIND", "?"), time.monotonic() - started
    print(f"Ready in {seconds:.1f} s: data tier {tier!r} in {folder}\n  archive: {where}")
    if drive_dir is not None:
        print(f"  checkpoints: {drive_dir / 'checkpoints'}")
    if notice := fallback_notice():
        print(notice)
    if gpu and (line := gpu_line()):
        print(line)
    return folder
