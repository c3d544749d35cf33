"""``google.colab.drive`` of the simulation: ``mount`` links a folder shared by every runtime.

Colab's ``drive.mount("/content/drive")`` asks for the student's permission and makes their Google
Drive appear at ``/content/drive/MyDrive``. Here the "Drive" is the folder named by the environment
variable ``COLAB_SIM_DRIVE`` (the harness creates it once and gives it to every runtime), and
mounting makes ``<mountpoint>`` a symbolic link to it, so what one runtime writes under
``<mountpoint>/MyDrive`` the next runtime finds.
"""

from __future__ import annotations

import os
from pathlib import Path

MOUNTS: list[str] = []
"""Every mount point mounted in this runtime, in order (the tests read it)."""


def mount(mountpoint: str, force_remount: bool = False, timeout_ms: int = 120000) -> None:
    """Mount the simulated Drive at ``mountpoint`` (a symbolic link to ``$COLAB_SIM_DRIVE``).

    Parameters
    ----------
    mountpoint : str
        Where Drive appears, e.g. ``"/content/drive"``; ``<mountpoint>/MyDrive`` is the student's.
    force_remount : bool
        Mount again even if already mounted.
    timeout_ms : int
        Accepted for compatibility with Colab; unused.

    Raises
    ------
    ValueError
        If ``mountpoint`` exists and is not an empty folder nor this Drive (Colab refuses too).
    RuntimeError
        If ``$COLAB_SIM_DRIVE`` is not set (the harness always sets it).
    """
    shared = os.environ.get("COLAB_SIM_DRIVE")
    if not shared:
        raise RuntimeError("COLAB_SIM_DRIVE is not set: this fake Drive needs the harness")
    target, point = Path(shared), Path(mountpoint)
    if point.is_symlink() and point.resolve() == target.resolve() and not force_remount:
        print(
            f"Drive already mounted at {mountpoint}; to attempt to forcibly remount, call "
            f'drive.mount("{mountpoint}", force_remount=True).'
        )
        return
    if point.is_symlink():
        point.unlink()
    elif point.exists():
        if not point.is_dir() or any(point.iterdir()):
            raise ValueError("Mountpoint must not already contain files")
        point.rmdir()
    (target / "MyDrive").mkdir(parents=True, exist_ok=True)
    point.parent.mkdir(parents=True, exist_ok=True)
    point.symlink_to(target, target_is_directory=True)
    MOUNTS.append(str(point))
    print(f"Mounted at {mountpoint}")


def flush_and_unmount(timeout_ms: int = 86400000) -> None:
    """Unmount every simulated Drive of this runtime (remove the links)."""
    while MOUNTS:
        Path(MOUNTS.pop()).unlink(missing_ok=True)
