#!/usr/bin/env python3
"""Execute the solution notebooks headless into ``build/`` (executed ``.ipynb`` + HTML) and summarise.

``make run`` calls this. Each notebook runs in its own kernel, in ``solutions/``, with matplotlib's
inline backend (figures are kept in the outputs); its ``headline(...)`` value is collected for the summary table::

    notebook                   seconds  status  headline
    01_loading_audio.ipynb         4.1  ok      duration (s) = 14.2
    ...

Usage::

    python tools/run_notebooks.py [--quick] [--out build] [--no-html] [NAME_FILTER ...]

Exit status 1 if any notebook fails (its error is printed and its partial output still saved).

The HTML pages work offline: plotly figures (sent as ``application/vnd.plotly.v1+json``, which
nbconvert does not draw) get an HTML form, and plotly.js is embedded once per page, in its first
figure (:func:`export_html`).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

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


def run_notebook(path: Path, out: Path, html: bool, timeout: int) -> tuple[float, str, str]:
    """Execute ``path`` into ``out``; return ``(seconds, status, headline)``."""
    headline_file = (out / "headlines" / f"{path.stem}.json").resolve()
    headline_file.unlink(missing_ok=True)
    os.environ["AUDIO_COURSE_HEADLINE"] = str(headline_file)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    start = time.perf_counter()
    status = "ok"
    try:
        client.execute()
    except CellExecutionError as error:
        status = "FAILED"
        print(f"\n{path.name} failed:\n{str(error)[-3000:]}", file=sys.stderr)
    seconds = time.perf_counter() - start
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
    parser.add_argument("--timeout", type=int, default=3600, help="per cell (s)")
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
        rows.append((path.name, *run_notebook(path, args.out, args.html, args.timeout)))

    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>7}  {'status':<6}  headline")
    for name, seconds, status, headline in rows:
        print(f"{name:<{width}}  {seconds:7.1f}  {status:<6}  {headline}")
    total = sum(r[1] for r in rows)
    print(f"{'total':<{width}}  {total:7.1f}  outputs in {args.out}")
    return 1 if any(r[2] != "ok" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
