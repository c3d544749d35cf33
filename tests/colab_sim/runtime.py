"""The simulated Colab course (repository, data server, Drive) and its fresh runtimes."""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import nbformat
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from nbformat import NotebookNode

from . import tiers
from .server import ArchiveServer, Request

FAKE_PACKAGES = Path(__file__).resolve().parent / "fake"
"""The folder holding the fake ``google.colab`` package."""

SETUP_TAG = "course-setup"
COLAB_CONTENT = "/content"

KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TERM", "SHELL", "USER", "LOGNAME", "TZ")
"""The only variables a runtime inherits from the test process (then its own are added)."""


def repository_url(worktree: Path) -> str:
    """The ``[project.urls] Repository`` of ``worktree/pyproject.toml`` (what the setup clones)."""
    project = tomllib.loads((worktree / "pyproject.toml").read_text(encoding="utf-8"))
    return project["project"]["urls"]["Repository"]


def git(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> str:
    """Run ``git`` with a private configuration (never the user's); return its standard output."""
    base = {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull, "HOME": os.devnull}
    merged = {**os.environ, **base, **(env or {})}
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=merged, check=True, capture_output=True, text=True
    )
    return done.stdout


def make_bare_repository(worktree: Path, dest: Path) -> Path:
    """Commit the working tree as it is (tracked and untracked, minus ignored) into a bare repo.

    The simulation then clones exactly the code under test, uncommitted changes included.

    Returns
    -------
    Path
        ``dest/audio-course.git``.
    """
    names = git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=worktree)
    source = dest / "source"
    for name in filter(None, names.split("\0")):
        path = worktree / name
        if path.is_file():  # a deleted tracked file is listed too
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, source / name)
    who = {
        "GIT_AUTHOR_NAME": "sim",
        "GIT_AUTHOR_EMAIL": "sim@localhost",
        "GIT_COMMITTER_NAME": "sim",
        "GIT_COMMITTER_EMAIL": "sim@localhost",
    }
    git("init", "-q", "-b", "main", cwd=source)
    git("add", "-A", cwd=source)
    git("commit", "-q", "-m", "working tree under test", cwd=source, env=who)
    bare = dest / "audio-course.git"
    git("clone", "-q", "--bare", str(source), str(bare))
    shutil.rmtree(source)
    return bare


@dataclass
class Run:
    """What one notebook run in a runtime did.

    Attributes
    ----------
    notebook : NotebookNode
        The executed notebook (cells after a failing one are not run).
    error : CellExecutionError or None
        The error that stopped the run.
    failed_cell : int or None
        Index of the cell that raised.
    requests : list of Request
        What the data server answered during the run.
    setup_seconds : float
        Wall time of the setup cell, from the kernel's own timestamps (s).
    """

    notebook: NotebookNode
    error: CellExecutionError | None
    failed_cell: int | None
    requests: list[Request]
    setup_seconds: float

    @property
    def archive_requests(self) -> list[Request]:
        """The requests for an archive (``.tar.gz``)."""
        return [r for r in self.requests if r.path.split("?")[0].endswith(".tar.gz")]

    @property
    def bytes_fetched(self) -> int:
        """Bytes the server sent during the run."""
        return sum(r.sent for r in self.requests)

    def text(self, index: int) -> str:
        """The text a cell printed: its streams, plain-text results and error."""
        parts = []
        for output in self.notebook.cells[index].get("outputs", []):
            if output.output_type == "stream":
                parts.append(output.text)
            elif output.output_type == "error":
                parts.append(f"{output.ename}: {output.evalue}\n")
            elif "text/plain" in output.get("data", {}):
                parts.append(output.data["text/plain"] + "\n")
        return "".join(parts)

    @property
    def all_text(self) -> str:
        """The text every cell printed, in order."""
        return "".join(self.text(i) for i in range(len(self.notebook.cells)))


@dataclass
class Course:
    """Everything the runtimes share: the repository, the data server and the student's Drive.

    Build with :meth:`create`; use as a context manager (it runs the data server).
    """

    root: Path
    worktree: Path
    bare: Path
    drive: Path
    server: ArchiveServer
    repo_url: str
    runtimes: int = field(default=0)

    @classmethod
    def create(cls, root: Path, worktree: Path) -> Course:
        """Make the bare repository, the tiny archives and an empty Drive under ``root``."""
        root.mkdir(parents=True, exist_ok=True)
        bare = make_bare_repository(worktree, root)
        served = root / "served"
        tiers.build_small(served)
        tiers.build_full(served)
        drive = root / "drive"
        (drive / "MyDrive").mkdir(parents=True)
        return cls(root, worktree, bare, drive, ArchiveServer(served), repository_url(worktree))

    def __enter__(self) -> Course:
        self.server.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.server.__exit__(*exc)

    def forget_drive(self) -> None:
        """Empty the student's Drive (as a student who never mounted it, or a new student)."""
        shutil.rmtree(self.drive)
        (self.drive / "MyDrive").mkdir(parents=True)

    def runtime(self, **env: str) -> Runtime:
        """A fresh runtime; ``env`` adds environment variables (e.g. ``AUDIO_COURSE_DRIVE="1"``).

        ``AUDIO_COURSE_DATA_SHA256`` is set to the checksum of the tier's tiny archive (the tier of
        ``AUDIO_COURSE_DATA_KIND``, default ``small``): the mirror's copy is checked against it
        instead of the real archive's checksum.
        """
        self.runtimes += 1
        tier = env.get("AUDIO_COURSE_DATA_KIND", "small")
        if tier in tiers.ARCHIVE_NAMES:
            archive = self.server.folder / tiers.ARCHIVE_NAMES[tier]
            env = {"AUDIO_COURSE_DATA_SHA256": _sha256(archive), **env}
        return Runtime(self, self.root / f"runtime-{self.runtimes}", env)


class Runtime:
    """A fresh simulated Colab runtime: its own ``/content``, ``HOME``, ``/tmp``, Python, kernel.

    Parameters
    ----------
    course : Course
        The shared repository, data server and Drive.
    folder : Path
        Where the runtime lives (created).
    env : dict[str, str]
        Extra environment variables for the kernel.
    """

    def __init__(self, course: Course, folder: Path, env: dict[str, str]) -> None:
        self.course, self.folder = course, folder
        self.content, self.home, self.tmp = folder / "content", folder / "home", folder / "tmp"
        for path in (self.content, self.home, self.tmp):
            path.mkdir(parents=True)
        self.python = self._make_python(folder / "python")
        self.kernels = self._make_kernelspec(folder / "kernels")
        self._configure_home()
        self.env = self._environment(env)

    @property
    def repo(self) -> Path:
        """Where the setup cell clones the kit (``/content/audio-course`` in Colab)."""
        return self.content / "audio-course"

    def _make_python(self, venv: Path) -> Path:
        """A venv that sees the shared site-packages through a ``.pth`` (read-only for pip)."""
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
        purelib = Path(
            sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)})
        )
        shared = sysconfig.get_path("purelib")
        (purelib / "zz-colab-sim.pth").write_text(f"{FAKE_PACKAGES}\n{shared}\n")
        return venv / "bin" / "python"

    def _make_kernelspec(self, folder: Path) -> Path:
        spec = {
            "argv": [str(self.python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
            "display_name": "Python 3",
            "language": "python",
        }
        (folder / "python3").mkdir(parents=True)
        (folder / "python3" / "kernel.json").write_text(json.dumps(spec))
        return folder

    def _configure_home(self) -> None:
        """Colab imports ``google.colab`` at kernel start; git clones the kit from the bare repo."""
        startup = self.home / ".ipython" / "profile_default" / "startup"
        startup.mkdir(parents=True)
        (startup / "00-google-colab.py").write_text("import google.colab  # as Colab's kernel\n")
        gitconfig = self.home / ".gitconfig"
        git(
            "config",
            "--file",
            str(gitconfig),
            f"url.file://{self.course.bare}.insteadOf",
            self.course.repo_url,
        )

    def _environment(self, extra: dict[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k in KEPT_ENV}
        env.update(
            PATH=f"{self.python.parent}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
            HOME=str(self.home),
            TMPDIR=str(self.tmp),
            IPYTHONDIR=str(self.home / ".ipython"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            MPLCONFIGDIR=str(self.home / ".config" / "matplotlib"),
            GIT_CONFIG_NOSYSTEM="1",
            COLAB_SIM_DRIVE=str(self.course.drive),
            AUDIO_COURSE_DATA_URL=self.course.server.url,
            AUDIO_COURSE_QUICK="1",
            MPLBACKEND="Agg",
            PYTHONWARNINGS="ignore::DeprecationWarning",
        )
        env.update(extra)
        return env

    def prepare(self, nb: NotebookNode, cells: int | None = None) -> NotebookNode:
        """A copy of ``nb`` (its first ``cells`` cells) with ``/content`` pointing at this runtime."""
        copied = copy.deepcopy(nb)
        if cells is not None:
            copied.cells = copied.cells[:cells]
        for cell in copied.cells:
            if SETUP_TAG in cell.get("metadata", {}).get("tags", []):
                cell.source = cell.source.replace(f'"{COLAB_CONTENT}/', f'"{self.content}/')
        return copied

    def run(self, notebook: Path, cells: int | None = None, timeout: int = 300) -> Run:
        """Execute ``notebook`` (or its first ``cells`` cells) in this runtime's fresh kernel.

        Stops at the first cell that raises, as a student running all cells would.
        """
        nb = self.prepare(nbformat.read(notebook, as_version=4), cells)
        km = KernelManager(
            transport="ipc",  # Unix sockets in the runtime's folder, not TCP ports
            ip=str(self.folder / "kernel"),
            kernel_name="python3",
            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(self.kernels)]),
        )
        client = NotebookClient(
            nb, km=km, timeout=timeout, resources={"metadata": {"path": str(self.content)}}
        )
        mark = self.course.server.snapshot()
        error = None
        try:
            client.execute(env=self.env)
        except CellExecutionError as caught:
            error = caught
        finally:  # nbclient leaves a kernel it did not create running
            if km.has_kernel:
                km.shutdown_kernel(now=True)
        failed = next(
            (
                i
                for i, c in enumerate(nb.cells)
                if any(o.output_type == "error" for o in c.get("outputs", []))
            ),
            None,
        )
        return Run(nb, error, failed, self.course.server.since(mark), _setup_seconds(nb))


def setup_index(nb: NotebookNode) -> int:
    """Index of the setup cell of ``nb``."""
    for index, cell in enumerate(nb.cells):
        if SETUP_TAG in cell.get("metadata", {}).get("tags", []):
            return index
    raise ValueError("the notebook has no setup cell (tag course-setup)")


def _setup_seconds(nb: NotebookNode) -> float:
    try:
        timing = nb.cells[setup_index(nb)].metadata["execution"]
    except (ValueError, KeyError):
        return float("nan")
    start = timing.get("iopub.execute_input") or timing["shell.execute_reply.started"]
    end = timing["shell.execute_reply"]
    return (_time(end) - _time(start)).total_seconds()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))
