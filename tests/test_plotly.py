"""Plotly figures drawn where the notebooks are opened: the renderer, the template, the HTML export.

The real-browser half (JupyterLab drawing 06's scatter offline, the exported page) is
tests/test_browser.py.
"""

from __future__ import annotations

import importlib.util
import json
import re
import sys
import types
from pathlib import Path

import nbformat
import numpy as np
import plotly.graph_objects as go
import plotly.io as pio
import pytest
from plotly.offline import get_plotlyjs

from helpers import plots

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("run_notebooks", ROOT / "tools" / "run_notebooks.py")
run_notebooks = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(run_notebooks)

PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"
PLOTLYJS_BANNER = get_plotlyjs()[:60]  # "/**\n* plotly.js vX.Y.Z\n* Copyright ..."


@pytest.fixture(autouse=True)
def _plotly_defaults(monkeypatch: pytest.MonkeyPatch):
    """Each test starts outside Colab, without $PLOTLY_RENDERER, and restores plotly's defaults."""
    renderer, template = pio.renderers.default, pio.templates.default
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    monkeypatch.delenv("PLOTLY_RENDERER", raising=False)
    yield
    pio.renderers.default, pio.templates.default = renderer, template


def fake_colab(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``google.colab`` importable and imported, as in a Colab kernel."""
    google = types.ModuleType("google")
    colab = types.ModuleType("google.colab")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)


def scatter(n_speakers: int = 3) -> go.Figure:
    rng = np.random.default_rng(0)
    figure = go.Figure()
    for k in range(n_speakers):
        xyz = rng.normal(size=(3, 10))
        figure.add_trace(go.Scatter3d(x=xyz[0], y=xyz[1], z=xyz[2], mode="markers", name=f"s{k}"))
    return figure


def test_outside_colab_the_renderer_is_plotlys_mimetype_output() -> None:
    assert plots.plotly_renderer() == "plotly_mimetype"
    assert plots.use_plotly_renderer() == "plotly_mimetype"
    assert pio.renderers.default == "plotly_mimetype"


def test_in_colab_the_renderer_is_colabs(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_colab(monkeypatch)
    assert plots.use_plotly_renderer() == "colab"
    assert pio.renderers.default == "colab"


def test_an_explicit_plotly_renderer_is_respected(monkeypatch: pytest.MonkeyPatch) -> None:
    fake_colab(monkeypatch)
    monkeypatch.setenv("PLOTLY_RENDERER", "png")
    assert plots.use_plotly_renderer() == "png"


def test_the_mimetype_output_carries_the_figure_and_no_cdn_script() -> None:
    name = plots.use_plotly_renderer()
    figure = scatter()
    bundle = pio.renderers[name].to_mimebundle(figure.to_dict())
    assert set(bundle) == {PLOTLY_MIMETYPE}  # the front end draws it with its own plotly.js
    assert len(bundle[PLOTLY_MIMETYPE]["data"]) == 3
    assert "cdn.plot.ly" not in json.dumps(bundle) and "<script" not in json.dumps(bundle)


def test_figures_built_after_it_take_the_course_template_once() -> None:
    plots.use_plotly_renderer()
    plots.use_plotly_renderer()  # idempotent: the template is added once
    assert pio.templates.default.split("+").count(plots.PLOTLY_TEMPLATE) == 1
    layout = scatter().layout.template.layout
    assert layout.margin.b <= 20 and layout.margin.t >= 40  # room for the title, none wasted
    eye = layout.scene.camera.eye
    assert np.hypot(eye.x, eye.y) > np.hypot(1.25, 1.25)  # further than plotly's default camera


def test_plot_embeddings_3d_sets_the_renderer_and_one_trace_per_speaker() -> None:
    pio.renderers.default = "notebook_connected"
    points = np.random.default_rng(1).normal(size=(12, 3))
    figure = plots.plot_embeddings_3d(points, np.repeat([0, 1, 2], 4), names=["a", "b", "c"])
    assert pio.renderers.default == "plotly_mimetype"
    assert [trace.name for trace in figure.data] == ["a", "b", "c"]
    assert figure.layout.height == 600


def executed_notebook(n_figures: int) -> nbformat.NotebookNode:
    """A notebook as nbclient leaves it: ``n_figures`` plotly outputs and a text output."""
    nb = nbformat.v4.new_notebook()
    for k in range(n_figures):
        cell = nbformat.v4.new_code_cell(f"figure_{k}.show()")
        bundle = json.loads(pio.to_json(scatter(k + 2)))
        cell.outputs = [nbformat.v4.new_output("display_data", data={PLOTLY_MIMETYPE: bundle})]
        nb.cells.append(cell)
    text = nbformat.v4.new_code_cell("print('done')")
    text.outputs = [nbformat.v4.new_output("stream", name="stdout", text="done\n")]
    nb.cells.append(text)
    return nb


def test_the_html_export_embeds_plotlyjs_once_and_draws_every_figure() -> None:
    nb = executed_notebook(3)
    html = run_notebooks.export_html(nb)
    assert html.count(PLOTLYJS_BANNER) == 1
    assert html.count("Plotly.newPlot(") == 3
    assert html.index(PLOTLYJS_BANNER) < html.index("Plotly.newPlot(")  # defined before use
    assert not re.search(r"<script[^>]*src=[^>]*plot\.ly", html)  # no plotly.js from a CDN
    assert all("text/html" not in o.data for c in nb.cells[:3] for o in c.outputs)  # a copy


def test_the_html_export_of_a_notebook_without_figures_has_no_plotlyjs() -> None:
    html = run_notebooks.export_html(executed_notebook(0))
    assert PLOTLYJS_BANNER not in html and "done" in html


def test_figures_that_already_have_html_are_left_alone() -> None:
    nb = executed_notebook(1)
    nb.cells[0].outputs[0].data["text/html"] = "<div>the notebook renderer's own</div>"
    html = run_notebooks.export_html(nb)
    assert PLOTLYJS_BANNER not in html and "the notebook renderer's own" in html
