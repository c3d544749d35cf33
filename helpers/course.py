"""Course-wide settings every notebook starts with: where the data is, the seed, the device, quick mode.

One switch, the environment variable ``AUDIO_COURSE_QUICK=1``, makes every notebook run in seconds on
the tiny synthetic corpus with short training; CI sets it. Without it, a notebook uses the real dataset
if it has been downloaded, and otherwise generates the synthetic one and says so loudly.
"""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
"""The kit's folder (the one holding ``notebooks/`` and ``solutions/``)."""

REAL_DATA = REPO_ROOT / "train-dataset"
"""Where ``python data_download.py`` puts the real dataset."""

SYNTHETIC_DATA = REPO_ROOT / "data" / "synthetic"
"""Where the synthetic corpus is generated when the real one is absent (24 speakers × 12 files)."""

SYNTHETIC_TINY = REPO_ROOT / "data" / "synthetic-tiny"
"""The tiny synthetic corpus of quick mode (8 speakers × 8 files of 2–6 s)."""

QUICK = os.environ.get("AUDIO_COURSE_QUICK", "") not in ("", "0")
"""True under ``AUDIO_COURSE_QUICK=1``: tiny synthetic data, short training (CI and smoke tests)."""

SEED = 0
"""The seed of the course: split, crops, initialisation and batches all follow from it."""


def quick(full: int | float, fast: int | float) -> int | float:
    """``fast`` in quick mode, else ``full``: ``epochs = quick(20, 2)``."""
    return fast if QUICK else full


def find_dataset(prefer: str | None = None, verbose: bool = True) -> Path:
    """The corpus folder the notebooks use.

    Order: ``$AUDIO_COURSE_DATA`` if set; the real dataset (``train-dataset/``) when it is complete and
    quick mode is off; else a synthetic corpus, generated on first use: ``data/synthetic/`` (24
    speakers × 12 files of 2–8 s), or ``data/synthetic-tiny/`` (8 × 8 of 2–6 s) in quick mode.

    Parameters
    ----------
    prefer : {"real", "synthetic"} or None
        Force a choice (``DATA=real make run`` passes ``"real"``); ``"real"`` fails when it is absent.
    verbose : bool
        Print which corpus is used and why.
    """
    prefer = prefer or os.environ.get("AUDIO_COURSE_DATA_KIND") or None
    if os.environ.get("AUDIO_COURSE_DATA"):
        path = Path(os.environ["AUDIO_COURSE_DATA"]).expanduser()
        if verbose:
            print(f"Dataset: {path} (from $AUDIO_COURSE_DATA)")
        return path
    real_ok = (REAL_DATA / ".complete").exists()
    if prefer == "real" and not real_ok:
        raise FileNotFoundError(
            f"The real dataset is not in {REAL_DATA}. Run `python data_download.py` first."
        )
    if real_ok and prefer != "synthetic" and not QUICK:
        if verbose:
            print(f"Dataset: the real one, {REAL_DATA}")
        return REAL_DATA
    from .synthetic import make_synthetic_corpus

    if QUICK:
        path = make_synthetic_corpus(SYNTHETIC_TINY, progress=verbose)
    else:
        path = make_synthetic_corpus(
            SYNTHETIC_DATA, n_speakers=24, files_per_speaker=12, max_seconds=8.0, progress=verbose
        )
    if verbose:
        reason = "quick mode" if QUICK else "the real dataset is not downloaded"
        print(
            "*" * 78 + f"\n* Dataset: SYNTHETIC voices in {path} ({reason}).\n"
            "* Results here say nothing about real speech. For the real data, run\n"
            "*     python data_download.py\n" + "*" * 78
        )
    return path


def seed_everything(seed: int = SEED) -> None:
    """Seed Python, numpy and torch (CPU and CUDA) so a run can be repeated exactly."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


def get_device() -> torch.device:
    """The GPU if there is one (Colab: Runtime → Change runtime type → T4 GPU), else the CPU."""
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def headline(name: str, value: float | int | str) -> None:
    """Print a notebook's headline result and, under ``make run``, record it for the summary table.

    ``make run`` sets ``AUDIO_COURSE_HEADLINE`` to a JSON file path per notebook; the value is written
    there so the run can list every notebook's result.
    """
    shown = f"{value:.4g}" if isinstance(value, float) else str(value)
    print(f"Headline: {name} = {shown}")
    target = os.environ.get("AUDIO_COURSE_HEADLINE")
    if target:
        import json

        Path(target).parent.mkdir(parents=True, exist_ok=True)
        Path(target).write_text(json.dumps({"name": name, "value": value}))


if __name__ == "__main__":  # `python -m helpers.course`: make sure a dataset exists, say which
    find_dataset()
