"""The recipe study of docs/model.md: each ingredient on/off × each corpus of tools/corpora.py × seeds.

Every run is ``python -m helpers.cli.train`` on one thread (``OMP_NUM_THREADS=1``) with the time budget
``--max-minutes 4``, two runs at a time; each JSON result is appended to ``RESULTS`` (one line per run,
with the command, the date and the load average), and ``--table`` prints the markdown table::

    python tools/corpora.py short /tmp/corpora/short-s1 --seed 1     # corpora first
    python tools/recipe_study.py /tmp/corpora --seeds 1 --out study.jsonl
    python tools/recipe_study.py /tmp/corpora --seeds 2 3 --configs recommended baseline --out fresh.jsonl
    python tools/recipe_study.py --table study.jsonl fresh.jsonl
"""

import argparse
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pandas as pd

SPLITS = {  # how each corpus is validated: held-out files, words (chapters) or sessions and voices
    "default": [],
    "short": ["--split-by", "chapter"],
    "close": ["--split-by", "chapter", "--holdout-speakers", "24"],
    "telephone": ["--split-by", "chapter", "--holdout-speakers", "12"],
}
CONFIGS = {  # the recommended recipe, then one ingredient changed at a time, then the baseline
    "recommended": [],
    "AAM head": ["--head", "aam"],
    "no waveform augmentation": ["--augment", "none"],
    "SpecAugment": ["--spec-augment"],
    "80 MFCCs": ["--n-mfcc", "80"],
    "no utterance statistics": ["--no-utterance-stats"],
    "EQ augmentation too": ["--augment", "reverb,noise,eq"],
    "augmentation p 0.25": ["--augment-p", "0.25"],
    "mel bands to 8 kHz": ["--f-max", "8000"],
    "multi-layer aggregation": ["--aggregate"],
    "baseline": ["--model", "baseline"],
}


def run(corpus: Path, kind: str, config: str, seed: int, out: Path, minutes: float) -> dict:
    """One training run; its JSON result with the run's command, date and load average."""
    folder = out.parent / "runs" / f"{kind}-{config.replace(' ', '_')}-seed{seed}"
    command = [sys.executable, "-m", "helpers.cli.train", "--data", str(corpus)]
    command += ["--seed", str(seed), *SPLITS[kind], *CONFIGS.get(config, config.split())]
    command += ["--max-minutes", str(minutes), "--out", str(folder), "--json", "--quiet"]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
    load = os.getloadavg()[0]
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        return {"corpus": kind, "config": config, "seed": seed, "error": done.stderr[-2000:]}
    result = json.loads(done.stdout.strip().splitlines()[-1])
    date = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    return {"corpus": kind, "config": config, "seed": seed, **result, "date": date,
            "load_before": round(load, 1), "command": " ".join(command[1:])}  # fmt: skip


def table(paths: list[Path]) -> str:
    """Markdown: utterance accuracy / EER (epochs reached) per config × corpus, seeds side by side."""
    rows = [json.loads(line) for path in paths for line in path.read_text().splitlines()]
    cells = {}
    for r in rows:
        if "error" in r:
            continue
        cell = f"{r['val_utterance_accuracy']:.1%}" + (f" / {r['eer']:.1%}" if "eer" in r else "")
        cell += f" ({r['epochs']})" if r["model"] != "baseline" else ""
        cells[(r["config"], f"{r['corpus']} s{r['seed']}")] = cell
    frame = pd.Series(cells).unstack().fillna("")
    lines = [
        "| config | " + " | ".join(frame.columns) + " |",
        "|---" * (len(frame.columns) + 1) + "|",
    ]
    lines += [f"| {name} | " + " | ".join(row) + " |" for name, row in frame.iterrows()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpora", type=Path, nargs="?", help="folder of KIND-sSEED corpora")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1])
    parser.add_argument("--kinds", nargs="+", default=list(SPLITS))
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), help="names, or CLI flags")
    parser.add_argument("--minutes", type=float, default=4.0)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("study.jsonl"))
    parser.add_argument("--table", type=Path, nargs="+", help="print the table of these results")
    args = parser.parse_args(argv)
    if args.table:
        print(table(args.table))
        return 0
    jobs = [(c, k, s) for c in args.configs for s in args.seeds for k in args.kinds]
    args.out.parent.mkdir(parents=True, exist_ok=True)

    def one(job: tuple[str, str, int]) -> None:
        config, kind, seed = job
        result = run(args.corpora / f"{kind}-s{seed}", kind, config, seed, args.out, args.minutes)
        with args.out.open("a") as f:
            f.write(json.dumps(result) + "\n")
        print(json.dumps({k: result.get(k) for k in ("corpus", "config", "seed",
              "val_utterance_accuracy", "eer", "epochs", "error")}), flush=True)  # fmt: skip

    with ThreadPoolExecutor(args.jobs) as pool:
        list(pool.map(one, jobs))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
