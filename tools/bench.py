"""How fast do files become feature tensors? The original practical's pipeline against the kit's.

Three pipelines cut 3-s crops from the *same* files, in the same run, in one process:

* **practical** — the original practical's ``AudioDataset``, reproduced faithfully (without its debug
  ``print``): ``torchaudio.load`` decodes the *whole* file, a random 3-s window is cut, and a *new*
  ``torchaudio.transforms.Spectrogram()`` (or ``MFCC``) is built for every item;
* **streaming** — the kit's ``SpeakerDataset`` with the feature module and no cache: ``soundfile``
  decodes only the 3-s window, and one feature module (log, per-utterance normalisation) serves every
  item;
* **cached** — the same ``SpeakerDataset`` reading crops from a ``FeatureCache`` (built first, its
  build time reported apart), timed on later passes: a slice of a memory-mapped array, no decoding, no
  FFT.

Each pipeline is warmed up with one untimed pass over all the clips (which also brings the files into
the operating system's cache, for all three alike), then timed in several repeats; within a repeat the
clips go in chunks and the pipelines take turns on each chunk, so a burst of load from another program
slows all three alike. The headline is the median over the repeats; ``best_*`` in the JSON add up each
chunk's fastest repeat, the least disturbed estimate on a busy machine. Torch runs on one thread by
default (``--threads``), as in one DataLoader worker.

Command line::

    python tools/bench.py DATA_DIR [--feature spectrogram] [--clips 300] [--workers 0] [--json]
                                     [--seed 0] [--repeats 5] [--threads 1] [--cache-dir DIR]

With ``--json`` the last line printed is a JSON object: ``seed_clips_per_s`` (practical),
``clips_per_s`` (streaming), ``cached_clips_per_s``, ``ratio`` and ``cached_ratio`` (each against the
practical), ``feature``, ``clips``, ``n_files``, ``mean_seconds`` and more.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torchaudio
from torch.utils.data import DataLoader, Dataset

from helpers.cache import FeatureCache
from helpers.corpus import Utterance, load_manifest, speaker_to_index
from helpers.dataset import SpeakerDataset
from helpers.features import FEATURE_KINDS, AudioFeature, make_feature

PIPELINES = ("practical", "streaming", "cached")
"""The pipelines timed, in the order of the table."""

DESCRIPTIONS = {
    "practical": "practical: torchaudio.load (whole file) + new {transform} per item",
    "streaming": "kit streaming: SpeakerDataset, soundfile 3-s window, one {feature} module",
    "cached": "kit cached: SpeakerDataset + FeatureCache (memory-mapped), 2nd+ pass",
}


class PracticalDataset(Dataset):
    """The original practical's ``AudioDataset`` as written (minus its debug ``print``): items
    ``(features (bins, frames) or (bins,), int label)``. ``spectrogram`` is ``Spectrogram()`` with
    its defaults (``(201, 241)`` for 3 s); the practical gave no MFCC code, so ``mfcc`` is
    torchaudio's ``MFCC`` with the kit's sizes (40 coefficients, 80 mel bands)."""

    def __init__(
        self, paths: Sequence[str | os.PathLike], speakers: Sequence[str], kind: str
    ) -> None:
        self.file_paths = [os.fspath(p) for p in paths]
        self.speakers = list(speakers)
        self.kind = kind

    def __len__(self) -> int:
        return len(self.file_paths)

    def transform(self, sample_rate: int) -> torch.nn.Module:
        """A new feature transform, built for every item as in the practical."""
        if self.kind.startswith("mfcc"):
            return torchaudio.transforms.MFCC(
                sample_rate=sample_rate, n_mfcc=40, melkwargs={"n_mels": 80}
            )
        return torchaudio.transforms.Spectrogram()

    def __getitem__(self, idx: int) -> tuple[torch.Tensor, int | str]:
        file_path = self.file_paths[idx]
        waveform, sr = torchaudio.load(file_path)
        waveform = waveform.squeeze()

        # Extract 3 seconds of our audio
        if int(len(waveform) - 3 * sr) <= 0:  # case: audio < 3 sec
            zeros_tensor = torch.zeros(3 * sr - len(waveform))
            w_sample = torch.cat([waveform, zeros_tensor])
        else:  # case: audio > 3 sec
            rd_idx = torch.randint(0, int(len(waveform) - 3 * sr), (1,)).item()
            w_sample = waveform[rd_idx : rd_idx + 3 * sr]

        speaker = self.speakers[idx]
        id_label = int(speaker) if speaker.isdigit() else speaker

        features = self.transform(sr)(w_sample)
        if self.kind.endswith("_pooled"):
            features = features.mean(dim=-1)
        return features, id_label


class _Runner:
    """Runs passes of one pipeline over chunks of clip indices: in process or through a DataLoader."""

    def __init__(self, dataset: Dataset, workers: int) -> None:
        self.dataset = dataset
        self.workers = workers
        self.loaders: dict[tuple[int, ...], DataLoader] = {}

    def __call__(self, indices: Sequence[int]) -> float:
        """Seconds to produce the items ``indices`` (a warm-up pass must come first with workers)."""
        if self.workers == 0:
            start = time.perf_counter()
            for i in indices:
                self.dataset[i]
            return time.perf_counter() - start
        key = tuple(indices)
        if key not in self.loaders:
            self.loaders[key] = DataLoader(
                self.dataset,
                batch_size=None,
                sampler=list(indices),
                num_workers=self.workers,
                persistent_workers=True,
            )
        start = time.perf_counter()
        for _ in self.loaders[key]:
            pass
        return time.perf_counter() - start


def choose_clips(
    utterances: Sequence[Utterance], clips: int, seed: int
) -> tuple[list[Utterance], int]:
    """``clips`` utterances drawn with a fixed seed (cycling through a smaller corpus), and how
    many distinct files they come from."""
    order = np.random.default_rng(seed).permutation(len(utterances))
    chosen = [utterances[order[i % len(order)]] for i in range(clips)]
    return chosen, len({u.path for u in chosen})


def run_benchmark(
    root: str | os.PathLike,
    feature: str = "spectrogram",
    clips: int = 300,
    workers: int = 0,
    seed: int = 0,
    repeats: int = 5,
    threads: int | None = 1,
    cache_dir: str | os.PathLike | None = None,
    chunk: int = 25,
    log: Callable[[str], None] = print,
) -> dict:
    """Time the three pipelines on the same ``clips`` 3-s crops of ``root`` (see the module
    docstring): ``workers`` DataLoader workers (0: in this process), ``repeats`` timed passes
    (median reported), ``threads`` torch threads (restored after; ``None``: as is), the cache in
    ``cache_dir`` (default a temporary folder), pipelines taking turns every ``chunk`` clips.
    Returns rates, ratios, per-clip ms, cache build time and size, memory and the setup."""
    if feature not in FEATURE_KINDS:
        raise ValueError(f"unknown feature {feature!r}; choose one of {', '.join(FEATURE_KINDS)}")
    if clips < 1 or repeats < 1:
        raise ValueError("need clips >= 1 and repeats >= 1")
    previous_threads = torch.get_num_threads()
    if threads is not None:
        torch.set_num_threads(threads)
    try:
        return _run(root, feature, clips, workers, seed, repeats, cache_dir, chunk, log)
    finally:
        torch.set_num_threads(previous_threads)


def _current_rss_mb() -> float | None:
    """Resident memory of this process now (MB), on Linux; ``None`` elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    return peak / 1024 / (1024 if sys.platform == "darwin" else 1)


def _run(
    root: str | os.PathLike,
    feature: str,
    clips: int,
    workers: int,
    seed: int,
    repeats: int,
    cache_dir: str | os.PathLike | None,
    chunk: int,
    log: Callable[[str], None],
) -> dict:
    """``run_benchmark`` once the thread count is set: clips, datasets, cache, timing, summary."""
    root = Path(root)
    rss_start = _current_rss_mb()
    manifest = load_manifest(root, progress=False)
    labels = speaker_to_index(manifest.utterances)
    chosen, n_files = choose_clips(manifest.utterances, clips, seed)
    distinct = list({u.path: u for u in chosen}.values())
    mean_seconds = float(np.mean([u.seconds for u in distinct]))
    log(f"{len(chosen)} clips from {n_files} files (mean {mean_seconds:.1f} s) of {root}")

    module = make_feature(feature)
    datasets: dict[str, Dataset] = {
        "practical": PracticalDataset(
            [root / u.path for u in chosen], [u.speaker for u in chosen], feature
        ),
        "streaming": SpeakerDataset(chosen, labels, root, feature=module, train=True, seed=seed),
    }
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        folder = Path(cache_dir) if cache_dir is not None else Path(tmp)
        cache, build_seconds = _build_cache(root, distinct, module, folder, log)
        cache_mb = cache.path.stat().st_size / 1e6
        datasets["cached"] = SpeakerDataset(
            chosen, labels, root, feature=module, train=True, seed=seed, cache=cache
        )
        chunk_times = _time_pipelines(datasets, workers, chunk, repeats, seed)

    result = {
        "feature": feature,
        "clips": len(chosen),
        "n_files": n_files,
        "mean_seconds": round(mean_seconds, 3),
        "seed": seed,
        "workers": workers,
        "threads": torch.get_num_threads(),
        "repeats": repeats,
        **_summarise(chunk_times, len(chosen)),
        "cache_build_seconds": round(build_seconds, 3),
        "cache_mb": round(cache_mb, 1),
    }
    saving_ms = result["ms_per_clip"] - result["cached_ms_per_clip"]
    result["cache_break_even_clips"] = (
        round(build_seconds * 1e3 / saving_ms) if saving_ms > 0 else None
    )
    result["rss_start_mb"] = None if rss_start is None else round(rss_start, 1)
    result["max_rss_mb"] = round(_peak_rss_mb(), 1)
    result["corpus_mb"] = round(sum((root / u.path).stat().st_size for u in distinct) / 1e6, 1)
    return result


def _build_cache(
    root: Path,
    utterances: Sequence[Utterance],
    feature: AudioFeature,
    folder: Path,
    log: Callable[[str], None],
) -> tuple[FeatureCache, float]:
    """The ``FeatureCache`` of ``utterances`` in ``folder``, and the seconds it took to build."""
    start = time.perf_counter()
    cache = FeatureCache(root, utterances, feature=feature, cache_dir=folder, progress=False)
    seconds = time.perf_counter() - start
    log(f"FeatureCache built in {seconds:.2f} s ({cache.path.stat().st_size / 1e6:.0f} MB)")
    return cache, seconds


def _time_pipelines(
    datasets: dict[str, Dataset], workers: int, chunk: int, repeats: int, seed: int
) -> dict[str, list[list[float]]]:
    """Seconds of each pipeline on each chunk of the clips in each repeat: ``[name][repeat][chunk]``.

    One untimed warm-up pass of every pipeline comes first (imports, allocator, the operating
    system's file cache). In each repeat the kit's datasets move to a new epoch (new random crops,
    as in training) and the pipelines take turns on every chunk, each chunk starting with another
    pipeline. With DataLoader workers a repeat is one chunk.
    """
    runners = {name: _Runner(datasets[name], workers) for name in PIPELINES}
    indices = list(range(len(datasets["practical"])))
    step = chunk if workers == 0 else len(indices)
    chunks = [indices[i : i + step] for i in range(0, len(indices), step)]
    times = {name: [[0.0] * len(chunks) for _ in range(repeats)] for name in PIPELINES}
    # The practical's crops come from torch's global generator: seed it, and give the caller's
    # generator state back afterwards.
    with torch.random.fork_rng(), torch.no_grad():
        torch.manual_seed(seed)
        for name in PIPELINES:
            for part in chunks:
                runners[name](part)
        for r in range(repeats):
            datasets["streaming"].set_epoch(r + 1)
            datasets["cached"].set_epoch(r + 1)
            for c, part in enumerate(chunks):
                shift = (r + c) % len(PIPELINES)
                for name in PIPELINES[shift:] + PIPELINES[:shift]:
                    times[name][r][c] = runners[name](part)
    runners.clear()  # stops the DataLoader workers before the cache folder goes
    return times


def _summarise(chunk_times: dict[str, list[list[float]]], clips: int) -> dict:
    """Rates, ratios and per-clip times from ``_time_pipelines``'s seconds, for ``clips`` clips.

    The headline is the median pass; ``best_*`` add up each chunk's fastest repeat (what timeit's
    "best of" reports), the least disturbed estimate on a busy machine; ``spread`` is (slowest -
    fastest pass) / median, the noise of each pipeline.
    """
    passes = {name: [sum(row) for row in chunk_times[name]] for name in PIPELINES}
    median = {name: statistics.median(passes[name]) for name in PIPELINES}
    best = {name: sum(map(min, zip(*chunk_times[name]))) for name in PIPELINES}
    return {
        "seed_clips_per_s": round(clips / median["practical"], 2),
        "clips_per_s": round(clips / median["streaming"], 2),
        "cached_clips_per_s": round(clips / median["cached"], 2),
        "ratio": round(median["practical"] / median["streaming"], 3),
        "cached_ratio": round(median["practical"] / median["cached"], 3),
        "seed_ms_per_clip": round(1e3 * median["practical"] / clips, 4),
        "ms_per_clip": round(1e3 * median["streaming"] / clips, 4),
        "cached_ms_per_clip": round(1e3 * median["cached"] / clips, 4),
        "best_ratio": round(best["practical"] / best["streaming"], 3),
        "best_cached_ratio": round(best["practical"] / best["cached"], 3),
        "best_ms_per_clip": {name: round(1e3 * best[name] / clips, 4) for name in PIPELINES},
        "spread": {
            name: round((max(passes[name]) - min(passes[name])) / median[name], 3)
            for name in PIPELINES
        },
    }


def format_table(result: dict) -> str:
    """The benchmark's result as a Markdown table with a few lines of context."""
    kind = result["feature"]
    transform = "MFCC" if kind.startswith("mfcc") else "Spectrogram()"
    rows = {
        "practical": (result["seed_clips_per_s"], result["seed_ms_per_clip"], 1.0),
        "streaming": (result["clips_per_s"], result["ms_per_clip"], result["ratio"]),
        "cached": (
            result["cached_clips_per_s"],
            result["cached_ms_per_clip"],
            result["cached_ratio"],
        ),
    }
    names = {
        name: DESCRIPTIONS[name].format(transform=transform, feature=kind) for name in PIPELINES
    }
    width = max(len(n) for n in names.values())
    threads = result["threads"]
    lines = [
        f"feature {kind!r}: {result['clips']} clips of 3 s from {result['n_files']} files "
        f"(mean {result['mean_seconds']:.1f} s), seed {result['seed']}",
        (
            f"one process, torch.set_num_threads({threads}), num_workers=0"
            if result["workers"] == 0
            else f"{result['workers']} DataLoader workers (one item per fetch), "
            f"torch.set_num_threads({threads}) in the main process"
        )
        + f"; warm-up pass, then median of {result['repeats']} "
        + ("interleaved passes" if result["workers"] == 0 else "alternating passes"),
        "",
        f"| {'pipeline':<{width}} | clips/s | ms/clip | vs practical |",
        f"|{'-' * (width + 2)}|--------:|--------:|-------------:|",
    ]
    for name in PIPELINES:
        per_s, ms, ratio = rows[name]
        lines.append(f"| {names[name]:<{width}} | {per_s:7.0f} | {ms:7.3f} | {ratio:11.2f}× |")
    break_even = result["cache_break_even_clips"]
    lines += [
        "",
        f"cache build (one pass over {result['n_files']} files): "
        f"{result['cache_build_seconds']:.2f} s, {result['cache_mb']:.0f} MB on disk"
        + (f"; repaid after ~{break_even} clips" if break_even is not None else ""),
        "noise (spread of the passes / median): "
        + ", ".join(f"{n} {result['spread'][n]:.0%}" for n in PIPELINES)
        + f"; least-disturbed (best chunk of each repeat) ratios: streaming "
        f"{result['best_ratio']:.2f}×, cached {result['best_cached_ratio']:.2f}×",
        "memory: "
        + (
            f"{result['rss_start_mb']:.0f} MB resident before the run (torch and its libraries), "
            if result["rss_start_mb"] is not None
            else ""
        )
        + f"peak {result['max_rss_mb']:.0f} MB, for {result['corpus_mb']:.0f} MB of audio files "
        "(nothing preloads the corpus; the cache is memory-mapped)",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python tools/bench.py DATA_DIR [options]``."""
    parser = argparse.ArgumentParser(
        description="Time the practical's data pipeline against the kit's streaming and cached ones."
    )
    parser.add_argument("data_dir", type=Path, help="corpus folder: DATA_DIR/<speaker>/...")
    parser.add_argument("--feature", choices=FEATURE_KINDS, default="spectrogram")
    parser.add_argument("--clips", type=int, default=300, help="3-s crops per pass (default 300)")
    parser.add_argument("--workers", type=int, default=0, help="DataLoader workers (default 0)")
    parser.add_argument("--seed", type=int, default=0, help="which files and crops (default 0)")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes (default 5)")
    parser.add_argument(
        "--threads", type=int, default=1, help="torch threads (default 1; 0 leaves torch's default)"
    )
    parser.add_argument("--cache-dir", type=Path, default=None, help="default: a temporary folder")
    parser.add_argument("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args(argv)

    result = run_benchmark(
        args.data_dir,
        feature=args.feature,
        clips=args.clips,
        workers=args.workers,
        seed=args.seed,
        repeats=args.repeats,
        threads=args.threads or None,
        cache_dir=args.cache_dir,
        log=lambda line: print(line, file=sys.stderr, flush=True),
    )
    print(format_table(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
