"""The kit's widget and plotly code under Colab's preinstalled ipywidgets 7.7.1 and plotly 5.24.1.

Those two are installed (``pip install --target``, no dependencies, cached in ``build/``) into an
overlay put first on ``sys.path`` of a subprocess, which builds 02's explorer (``interactive`` with
three dropdowns, redrawn when one changes) and 06's figure (``use_plotly_renderer``,
``plot_embeddings_3d``). Skipped with the reason when pip cannot fetch them.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PINS = ["ipywidgets==7.7.1", "plotly==5.24.1", "ipython_genutils==0.2.0", "tenacity"]
OVERLAY = ROOT / "build" / "overlay-ipywidgets-7.7.1-plotly-5.24.1"

SCRIPT = r"""
import sys
sys.path.insert(0, sys.argv[1])
import matplotlib
matplotlib.use("Agg")
import ipywidgets as widgets, plotly, numpy as np, matplotlib.pyplot as plt
assert (widgets.__version__, plotly.__version__) == ("7.7.1", "5.24.1"), (widgets.__version__, plotly.__version__)
calls = []
def draw_spectrogram(n_fft=400, hop_length=160, window="hann"):
    fig, ax = plt.subplots(); ax.set(title=f"n_fft={n_fft}", xlabel="time (s)", ylabel="frequency (Hz)")
    plt.close(fig); calls.append((n_fft, hop_length, window))
explorer = widgets.interactive(
    draw_spectrogram,
    n_fft=widgets.Dropdown(options=[128, 256, 400, 512, 1024, 2048], value=400, description="n_fft"),
    hop_length=widgets.Dropdown(options=[40, 80, 160, 320], value=160, description="hop_length"),
    window=widgets.Dropdown(options=["hann", "hamming", "boxcar"], value="hann", description="window"),
)
explorer.children[0].value = 2048
assert calls[-1] == (2048, 160, "hann"), calls
from helpers import plots
import plotly.io as pio
assert plots.use_plotly_renderer() == "plotly_mimetype"
figure = plots.plot_embeddings_3d(np.random.default_rng(0).normal(size=(9, 3)), [0, 1, 2] * 3)
bundle = pio.renderers["plotly_mimetype"].to_mimebundle(figure.to_dict())
assert list(bundle) == ["application/vnd.plotly.v1+json"] and len(figure.data) == 3
print("ok", widgets.__version__, plotly.__version__)
"""


def overlay() -> Path:
    marker = OVERLAY / ".complete"
    if not marker.exists():
        command = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target"]
        run = subprocess.run(
            [*command, str(OVERLAY), *PINS], capture_output=True, text=True, timeout=300
        )
        if run.returncode != 0:
            pytest.skip(f"pip could not install {' '.join(PINS)}: {run.stderr[-500:]}")
        marker.write_text("\n".join(PINS))
    return OVERLAY


def test_explorer_and_3d_figure_with_colabs_ipywidgets_and_plotly() -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("PLOTLY_RENDERER", None)
    run = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(overlay())],
        capture_output=True, text=True, timeout=120, env=env, cwd=ROOT,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert run.stdout.strip().endswith("ok 7.7.1 5.24.1")
