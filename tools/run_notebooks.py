#!/usr/bin/env python3
"""Execute the solution notebooks headless into ``build/`` (executed ``.ipynb`` + HTML) and summarise.

``make run``: each notebook in its own kernel, in ``solutions/``, inline figures; a table of seconds,
status and ``headline(...)``. Exit 1 if a notebook fails or a cell runs past its timeout (printed with
the notebook and cell; the partial output is saved): ``--train-timeout`` for a cell that calls a
``*fit*``/``*train*``/``*embed*`` function, ``--timeout`` for the others. nbclient's stand-in for
ipywidgets' ``Output`` widget is off: it sent outputs to the kernel on the shell channel while
waiting there for the cell's reply, which a busy machine then missed until the timeout (3 of 10 runs
of 02's explorer; none of 10 without it). HTML pages embed plotly.js once and work offline.

Usage: ``python tools/run_notebooks.py [--quick] [--out build] [--no-html] [--timeout 600]
[--train-timeout 3600] [NAME_FILTER ...]``
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
PLOTLY_HTML = {"full_html": False, "validate": False}  # a <div> with its script
LONG_CELL = re.compile(r"\b\w*(?:fit|train|embed)\w*\s*\(")  # these get the long timeout


def export_html(nb: nbformat.NotebookNode) -> str:
    """The executed ``nb`` (unchanged) as one HTML page; plotly.js goes in the first plotly figure."""
    import plotly.io as pio
    from nbconvert import HTMLExporter

    nb, first = copy.deepcopy(nb), True
    for output in (o for cell in nb.cells for o in cell.get("outputs", [])):
        data = output.get("data", {})
        if PLOTLY_MIMETYPE in data and "text/html" not in data:
            figure = dict(data[PLOTLY_MIMETYPE])
            data["text/html"] = pio.to_html(figure, include_plotlyjs=first, **PLOTLY_HTML)
            first = False
    return HTMLExporter().from_notebook_node(nb)[0]


def cell_timeout(source: str, timeout: int, train_timeout: int) -> int:
    """Seconds that a cell with this ``source`` may run."""
    return train_timeout if LONG_CELL.search(source) else timeout


def execute(nb: nbformat.NotebookNode, folder: Path, timeout: int, train_timeout: int) -> str:
    """Execute ``nb`` in place, in ``folder``, headless; return ``"ok"`` or what went wrong."""
    client = NotebookClient(
        nb, kernel_name="python3", resources={"metadata": {"path": str(folder)}}
    )
    client.timeout_func = lambda cell: cell_timeout(cell.source, timeout, train_timeout)
    client.comm_open_handlers = {}  # no widget frontend (see the module's docstring)
    running: dict[str, int] = {}
    client.on_cell_start = lambda cell, cell_index: running.update(index=cell_index)
    try:
        client.execute()
    except CellExecutionError as error:
        return f"failed:\n{str(error)[-3000:]}"
    except CellTimeoutError:
        source = nb.cells[running["index"]].source
        limit, first = cell_timeout(source, timeout, train_timeout), source.strip().split("\n")[0]
        return f"timed out: cell {running['index']} ({first!r}) ran past its {limit} s"
    except DeadKernelError:
        return f"failed: the kernel died in cell {running.get('index')}"
    return "ok"


def run_notebook(path: Path, out: Path, html: bool, timeout: int, train_timeout: int = 3600):
    """Execute ``path`` into ``out``; return ``(seconds, status, headline)``."""
    headline_file = (out / "headlines" / f"{path.stem}.json").resolve()
    headline_file.unlink(missing_ok=True)
    os.environ["AUDIO_COURSE_HEADLINE"] = str(headline_file)
    nb = nbformat.read(path, as_version=4)
    start = time.perf_counter()
    outcome = execute(nb, path.parent, timeout, train_timeout)
    seconds = time.perf_counter() - start
    if outcome != "ok":
        print(f"\n{path.name} {outcome}", file=sys.stderr)
    nbformat.write(nb, out / path.name)
    if html:
        (out / f"{path.stem}.html").write_text(export_html(nb), encoding="utf-8")
    headline = ""
    if headline_file.exists():
        value = json.loads(headline_file.read_text())
        shown = f"{value['value']:.4g}" if isinstance(value["value"], float) else value["value"]
        headline = f"{value['name']} = {shown}"
    return seconds, "ok" if outcome == "ok" else outcome.split(":")[0].upper(), headline


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("filters", nargs="*", help="run only notebooks whose name contains one")
    parser.add_argument("--quick", action="store_true", help="AUDIO_COURSE_QUICK=1: tiny data")
    parser.add_argument("--out", type=Path, default=ROOT / "build")
    parser.add_argument("--no-html", dest="html", action="store_false")
    parser.add_argument("--timeout", type=int, default=600, help="per cell (s)")
    parser.add_argument("--train-timeout", type=int, default=3600, help="per training cell (s)")
    args = parser.parse_args(argv)
    # Figures go into the outputs: the inline backend, explicitly (MPLBACKEND=Agg would draw none).
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    if args.quick:
        os.environ["AUDIO_COURSE_QUICK"] = "1"
    notebooks = sorted((ROOT / "solutions").glob("*.ipynb"))
    notebooks = [p for p in notebooks if not args.filters or any(f in p.name for f in args.filters)]
    if not notebooks:
        print("no solution notebooks to run", file=sys.stderr)
        return 1
    (args.out / "headlines").mkdir(parents=True, exist_ok=True)
    rows = []
    for path in notebooks:
        print(f"running {path.name} ...", flush=True)
        run = run_notebook(path, args.out, args.html, args.timeout, args.train_timeout)
        rows.append((path.name, *run))
    width = max(len(r[0]) for r in rows)
    print(f"\n{'notebook':<{width}}  {'seconds':>7}  {'status':<9}  headline")
    for name, seconds, status, headline in rows:
        print(f"{name:<{width}}  {seconds:7.1f}  {status:<9}  {headline}")
    print(f"{'total':<{width}}  {sum(r[1] for r in rows):7.1f}  outputs in {args.out}")
    return 1 if any(r[2] != "ok" for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
