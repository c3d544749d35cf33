#!/usr/bin/env python3
"""Execute the solution notebooks headless into ``build/`` (executed ``.ipynb`` + HTML) and summarise.

``make run`` calls this. Each notebook runs in its own kernel, in ``solutions/``, with matplotlib's
inline backend (figures are kept in the outputs); its ``headline(...)`` value is collected for the summary table::

    notebook                   seconds  status  headline
    01_loading_audio.ipynb         4.1  ok      duration (s) = 14.2
    ...

Usage::

    python tools/run_notebooks.py [--quick] [--out build] [--no-html] [--timeout S]
                                  [--train-timeout S] [NAME_FILTER ...]

Exit status 1 if any notebook fails or a cell runs past its timeout (the error, or the notebook and
cell that timed out, is printed, and the partial output still saved). A cell that trains or embeds
(it calls a function whose name contains ``fit``, ``train`` or ``embed``) may run ``--train-timeout``
seconds (default 3,600: the notebooks' training budgets are at most 10 minutes per model); any other
cell ``--timeout`` seconds (default 600).

No widget frontend: the runner does not stand in for ipywidgets' ``Output`` widget, so what a widget
draws (02's ``n_fft``/``hop_length`` explorer: its default figure) lands in the cell's outputs. (nbclient's
stand-in sent each captured output back to the kernel on the shell channel while it waited on that
channel for the cell's reply; on a busy machine the reply was then missed until the cell's timeout ran
out: 3 of 10 runs of the explorer cell here, none of 10 without the stand-in.)

The HTML pages work offline: plotly figures (sent as ``application/vnd.plotly.v1+json``, which
nbconvert does not draw) get an HTML form, and plotly.js is embedded once per page, in its first
figure (:func:`export_html`).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import re
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
PLOTLY_MIMETYPE = "application/vnd.plotly.v1+json"


def with_plotly_html(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A copy of ``nb`` in which each plotly figure output also has a ``text/html`` form.

    The first figure's HTML carries plotly.js itself (about 4.8 MB), the others call the
    ``Plotly`` it defines: the page draws every figure offline, with the library in it once.
    Outputs that already have HTML (e.g. from plotly's ``notebook`` renderer) are left as they are.
    """
    import plotly.io as pio

    nb = copy.deepcopy(nb)
    first = True
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if PLOTLY_MIMETYPE in data and "text/html" not in data:
                figure = dict(data[PLOTLY_MIMETYPE])
                data["text/html"] = pio.to_html(
                    figure, include_plotlyjs=first, full_html=False, validate=False
                )
                first = False
    return nb


def export_html(nb: nbformat.NotebookNode) -> str:
    """The executed notebook ``nb`` as one HTML page (nbconvert's lab template), plotly included."""
    from nbconvert import HTMLExporter

    body, _ = HTMLExporter().from_notebook_node(with_plotly_html(nb))
    return body


LONG_CELL = re.compile(r"\b\w*(?:fit|train|embed)\w*\s*\(")
"""A cell that calls a function whose name contains fit, train or embed gets the long timeout."""


def cell_timeout(source: str, timeout: int, train_timeout: int) -> int:
    """Seconds that a cell with this ``source`` may run."""
    return train_timeout if LONG_CELL.search(source) else timeout


def execute(nb: nbformat.NotebookNode, folder: Path, timeout: int, train_timeout: int) -> str:
    """Execute ``nb`` in place, in ``folder``, headless; return ``"ok"`` or what went wrong."""
    client = NotebookClient(
        nb,
        timeout_func=lambda cell: cell_timeout(cell.source, timeout, train_timeout),
        kernel_name="python3",
        resources={"metadata": {"path": str(folder)}},
    )
    client.comm_open_handlers = {}  # no widget frontend (see the module's docstring)
    running: dict[str, int] = {}
    client.on_cell_start = lambda cell, cell_index: running.update(index=cell_index)
    try:
        client.execute()
    except CellExecutionError as error:
        return f"failed:\n{str(error)[-3000:]}"
    except CellTimeoutError:
        index = running["index"]
        limit = cell_timeout(nb.cells[index].source, timeout, train_timeout)
        first = nb.cells[index].source.strip().split("\n")[0]
        return f"timed out: cell {index} ({first!r}) ran past its {limit} s"
    except DeadKernelError:
        return f"failed: the kernel died in cell {running.get('index')}"
    return "ok"


def run_notebook(
    path: Path, out: Path, html: bool, timeout: int, train_timeout: int = 3600
) -> tuple[float, str, str]:
    """Execute ``path`` into ``out``; return ``(seconds, status, headline)``."""
    headline_file = (out / "headlines" / f"{path.stem}.json").resolve()
    headline_file.unlink(missing_ok=True)
    os.environ["AUDIO_COURSE_HEADLINE"] = str(headline_file)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    outcome = execute(nb, path.parent, timeout, train_timeout)
    seconds = time.perf_counter() - start
    status = "ok" if outcome == "ok" else outcome.split(":")[0].upper()
    if outcome != "ok":
        print(f"\n{path.name} {outcome}", file=sys.stderr)
    nbformat.write(nb, out / path.name)
    if html:
        (out / f"{path.stem}.html").write_text(export_html(nb), encoding="utf-8")
    headline = ""
    if headline_file.exists():
        value = json.loads(headline_file.read_text())
        shown = value["value"]
        shown = f"{shown:.4g}" if isinstance(shown, float) else shown
        headline = f"{value['name']} = {shown}"
    return seconds, status, headline


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("filters", nargs="*", help="run only notebooks whose name contains one")
    parser.add_argument("--quick", action="store_true", help="AUDIO_COURSE_QUICK=1: tiny data")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--no-html", dest="html", action="store_false")
    parser.add_argument("--timeout", type=int, default=600, help="per cell (s)")
    parser.add_argument(
        "--train-timeout", type=int, default=3600, help="per cell that trains or embeds (s)"
    )
    args = parser.parse_args(argv)
    # Figures go into the executed notebooks and the HTML: the inline backend, explicitly (with
    # MPLBACKEND=Agg, as in `make test`, plt.show() would draw nothing).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    if args.quick:
        os.environ["AUDIO_COURSE_QUICK"] = "1"
    notebooks = sorted((ROOT / "solutions").glob("*.ipynb"))
    if args.filters:
        notebooks = [p for p in notebooks if any(f in p.name for f in args.filters)]
    if not notebooks:
        print("no solution notebooks to run", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "headlines").mkdir(exist_ok=True)
    rows = []
    for path in notebooks:
        print(f"running {path.name} ...", flush=True)
        rows.append(
            (path.name, *run_notebook(path, args.out, args.html, args.timeout, args.train_timeout))
        )

    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>7}  {'status':<9}  headline")
    for name, seconds, status, headline in rows:
        print(f"{name:<{width}}  {seconds:7.1f}  {status:<9}  {headline}")
    total = sum(r[1] for r in rows)
    print(f"{'total':<{width}}  {total:7.1f}  outputs in {args.out}")
    return 1 if any(r[2] != "ok" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
