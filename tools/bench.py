"""How fast do files become feature tensors? The original practical's pipeline against the kit's.

The same 3-s crops of the same files, in one run: **practical** (its ``AudioDataset``: whole-file
``torchaudio.load``, a new transform per item), **streaming** (``SpeakerDataset``: ``soundfile``
decodes the window, one feature module), **cached** (``SpeakerDataset`` on a ``FeatureCache``, built
first, timed apart). After a warm-up pass the pipelines take turns on chunks of the clips in each of
``--repeats`` passes; the headline is the median pass, ``best_*`` add up each chunk's fastest repeat.
``python tools/bench.py --augment`` times the training room augmentation instead (no corpus).

Usage: ``python tools/bench.py DATA_DIR [--feature F] [--clips 300] [--workers 0] [--seed 0]
[--repeats 5] [--threads 1] [--cache-dir DIR] [--json]`` (``--json``: the last line is the result:
``seed_clips_per_s``, ``clips_per_s``, ``cached_clips_per_s``, ``ratio``, ``cached_ratio``, ...).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import resource
import statistics
import sys
import tempfile
import time
import timeit
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import numpy as np
import torch
import torchaudio
import torchaudio.functional as AF
from torch.utils.data import DataLoader, Dataset
from torchaudio.transforms import MFCC, Spectrogram

from helpers.audio import SAMPLE_RATE
from helpers.augment import RandomReverb, decaying_noise_rir
from helpers.cache import FeatureCache
from helpers.corpus import Utterance, load_manifest, speaker_to_index
from helpers.dataset import SpeakerDataset
from helpers.features import FEATURE_KINDS, make_feature

MFCC_SIZES = {"n_mfcc": 40, "melkwargs": {"n_mels": 80}}  # the kit's (the practical gave none)
CHUNK = 25  # clips per turn of the pipelines
PIPELINES = {  # name: (prefix of its JSON keys, its row in the table)
    "practical": ("seed_", "practical: torchaudio.load (whole file) + new {transform} per item"),
    "streaming": ("", "kit streaming: SpeakerDataset, soundfile 3-s window, one {feature} module"),
    "cached": ("cached_", "kit cached: SpeakerDataset + FeatureCache (memory-mapped), 2nd+ pass"),
}
log = partial(print, file=sys.stderr, flush=True)


class PracticalDataset(Dataset):
    """The practical's ``AudioDataset`` as written (minus its debug ``print``): items ``(features
    (bins, frames) or (bins,), label)``; ``Spectrogram()`` defaults (``(201, 241)`` for 3 s), or,
    as the practical gave no MFCC code, torchaudio's ``MFCC`` with the kit's 40 coefficients, 80 mels."""

    def __init__(self, paths: Sequence[os.PathLike], speakers: Sequence[str], kind: str) -> None:
        self.file_paths = [os.fspath(p) for p in paths]
        self.speakers = list(speakers)
        self.kind = kind

    def __len__(self) -> int:
        return len(self.file_paths)

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

        mfcc = self.kind.startswith("mfcc")  # a new transform per item, as in the practical
        spec_features_extraction = MFCC(sr, **MFCC_SIZES) if mfcc else Spectrogram()
        features = spec_features_extraction(w_sample)
        if self.kind.endswith("_pooled"):
            features = features.mean(dim=-1)
        return features, id_label


def choose_clips(utterances: Sequence[Utterance], clips: int, seed: int) -> tuple[list, int]:
    """``clips`` utterances drawn with ``seed`` (cycling through a small corpus); distinct files."""
    order = np.random.default_rng(seed).permutation(len(utterances))
    chosen = [utterances[order[i % len(order)]] for i in range(clips)]
    return chosen, len({u.path for u in chosen})


def time_pipelines(datasets: dict[str, Dataset], workers: int, repeats: int, seed: int) -> dict:
    """Seconds of each pipeline on each chunk in each repeat, ``[name][repeat][chunk]``: a warm-up
    pass first, then a new epoch (new crops) per repeat, the pipelines taking turns on each chunk
    (with DataLoader workers, one persistent loader per pipeline and one chunk per repeat)."""
    indices = list(range(len(datasets["practical"])))
    step = CHUNK if workers == 0 else len(indices)
    chunks = [indices[i : i + step] for i in range(0, len(indices), step)]
    loader = dict(batch_size=None, sampler=indices, num_workers=workers, persistent_workers=True)
    loaders = {n: DataLoader(d, **loader) for n, d in datasets.items() if workers}

    def run(name: str, chunk: list[int]) -> float:
        start = time.perf_counter()
        for _ in loaders[name] if workers else map(datasets[name].__getitem__, chunk):
            pass
        return time.perf_counter() - start

    names = list(PIPELINES)
    times = {name: [[0.0] * len(chunks) for _ in range(repeats)] for name in PIPELINES}
    with torch.random.fork_rng(), torch.no_grad():  # the practical's crops: torch's generator
        torch.manual_seed(seed)
        for name, part in itertools.product(names, chunks):
            run(name, part)
        for r in range(repeats):
            datasets["streaming"].set_epoch(r + 1)
            datasets["cached"].set_epoch(r + 1)
            for c, part in enumerate(chunks):
                shift = (r + c) % len(names)
                for name in names[shift:] + names[:shift]:
                    times[name][r][c] = run(name, part)
    loaders.clear()  # stops the DataLoader workers before the cache folder goes
    return times


def rss_mb() -> float | None:
    """Resident memory of this process now (MB), on Linux; ``None`` elsewhere."""
    statm = Path("/proc/self/statm")
    pages = int(statm.read_text().split()[1]) if statm.exists() else None
    return None if pages is None else pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def run_benchmark(args: argparse.Namespace) -> dict:
    """Time the three pipelines as ``args`` say, on ``main``'s threads; returns the JSON's fields."""
    feature, workers, seed, repeats = args.feature, args.workers, args.seed, args.repeats
    root, rss_start = args.data_dir, rss_mb()
    manifest = load_manifest(root, progress=False)
    labels = speaker_to_index(manifest.utterances)
    chosen, n_files = choose_clips(manifest.utterances, args.clips, seed)
    distinct = list({u.path: u for u in chosen}.values())
    mean_seconds = float(np.mean([u.seconds for u in distinct]))
    log(f"{len(chosen)} clips from {n_files} files (mean {mean_seconds:.1f} s) of {root}")
    module = make_feature(feature)
    kit = {"feature": module, "train": True, "seed": seed}
    paths, speakers = [root / u.path for u in chosen], [u.speaker for u in chosen]
    datasets = {"practical": PracticalDataset(paths, speakers, feature)}
    datasets["streaming"] = SpeakerDataset(chosen, labels, root, **kit)
    with tempfile.TemporaryDirectory(prefix="bench-cache-") as tmp:
        start = time.perf_counter()
        folder = args.cache_dir or tmp
        cache = FeatureCache(root, distinct, module, cache_dir=folder, progress=False)
        build_seconds, cache_mb = time.perf_counter() - start, cache.path.stat().st_size / 1e6
        log(f"FeatureCache built in {build_seconds:.2f} s ({cache_mb:.0f} MB)")
        datasets["cached"] = SpeakerDataset(chosen, labels, root, cache=cache, **kit)
        times = time_pipelines(datasets, workers, repeats, seed)
    threads = torch.get_num_threads()
    passes = {name: [sum(row) for row in times[name]] for name in PIPELINES}
    median = {name: statistics.median(passes[name]) for name in PIPELINES}
    best = {name: sum(map(min, zip(*times[name]))) for name in PIPELINES}
    n = len(chosen)
    result = dict(feature=feature, clips=n, n_files=n_files, mean_seconds=round(mean_seconds, 3))
    result |= dict(seed=seed, workers=workers, threads=threads, repeats=repeats)
    for name, (key, _) in PIPELINES.items():
        result[f"{key}clips_per_s"] = round(n / median[name], 2)
        result[f"{key}ms_per_clip"] = round(1e3 * median[name] / n, 4)
        result[f"{key}ratio"] = round(median["practical"] / median[name], 3)
        result[f"best_{key}ratio"] = round(best["practical"] / best[name], 3)
    result["best_ms_per_clip"] = {name: round(1e3 * best[name] / n, 4) for name in PIPELINES}
    result["spread"] = {  # the noise of each pipeline: (slowest - fastest pass) / median
        name: round((max(passes[name]) - min(passes[name])) / median[name], 3) for name in PIPELINES
    }
    saving_ms = result["ms_per_clip"] - result["cached_ms_per_clip"]
    result["cache_build_seconds"], result["cache_mb"] = round(build_seconds, 3), round(cache_mb, 1)
    even = round(build_seconds * 1e3 / saving_ms) if saving_ms > 0 else None
    result["cache_break_even_clips"] = even
    result["rss_start_mb"] = None if rss_start is None else round(rss_start, 1)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # kB on Linux, bytes on macOS
    result["max_rss_mb"] = round(peak / 1024 / (1024 if sys.platform == "darwin" else 1), 1)
    result["corpus_mb"] = round(sum((root / u.path).stat().st_size for u in distinct) / 1e6, 1)
    return result


def format_table(result: dict) -> str:
    """The benchmark's result as a Markdown table with a few lines of context."""
    kind, workers, threads = result["feature"], result["workers"], result["threads"]
    transform = "MFCC" if kind.startswith("mfcc") else "Spectrogram()"
    names = {n: row.format(transform=transform, feature=kind) for n, (_, row) in PIPELINES.items()}
    width = max(len(n) for n in names.values())
    setup = (
        f"one process, torch.set_num_threads({threads}), num_workers=0; warm-up pass, then median "
        f"of {result['repeats']} interleaved passes"
        if workers == 0
        else f"{workers} DataLoader workers (one item per fetch), torch.set_num_threads({threads}) "
        f"in the main process; warm-up pass, then median of {result['repeats']} alternating passes"
    )
    lines = [
        f"feature {kind!r}: {result['clips']} clips of 3 s from {result['n_files']} files "
        f"(mean {result['mean_seconds']:.1f} s), seed {result['seed']}",
        setup,
        "",
        f"| {'pipeline':<{width}} | clips/s | ms/clip | vs practical |",
        f"|{'-' * (width + 2)}|--------:|--------:|-------------:|",
    ]
    for name, (k, _) in PIPELINES.items():
        per_s, ms, ratio = (result[k + w] for w in ("clips_per_s", "ms_per_clip", "ratio"))
        lines.append(f"| {names[name]:<{width}} | {per_s:7.0f} | {ms:7.3f} | {ratio:11.2f}× |")
    break_even, rss = result["cache_break_even_clips"], result["rss_start_mb"]
    resident = (
        "" if rss is None else f"{rss:.0f} MB resident before the run (torch and its libraries), "
    )
    lines += [
        "",
        f"cache build (one pass over {result['n_files']} files): "
        f"{result['cache_build_seconds']:.2f} s, {result['cache_mb']:.0f} MB on disk"
        + (f"; repaid after ~{break_even} clips" if break_even is not None else ""),
        "noise (spread of the passes / median): "
        + ", ".join(f"{n} {result['spread'][n]:.0%}" for n in PIPELINES)
        + f"; least-disturbed (best chunk of each repeat) ratios: streaming "
        f"{result['best_ratio']:.2f}×, cached {result['best_cached_ratio']:.2f}×",
        f"memory: {resident}peak {result['max_rss_mb']:.0f} MB, for {result['corpus_mb']:.0f} MB of audio files "
        "(nothing preloads the corpus; the cache is memory-mapped)",
    ]
    return "\n".join(lines)


def augment_table(repeats: int) -> str:
    """``RandomReverb`` on 16 clips (p = 1: RIR, convolution, power) against the convolution alone
    by ``AF.fftconvolve`` (what the kit used before), median ms of ``repeats``."""
    lines = ["| 16 clips | fftconvolve (ms) | RandomReverb (ms) | ratio |", "|---|--:|--:|--:|"]
    for seconds in (2, 3):
        x, reverb = torch.randn(16, seconds * SAMPLE_RATE), RandomReverb(p=1.0).train()
        length = round(reverb.rt60[1] * SAMPLE_RATE)  # the length of the room's impulse responses
        rt60 = torch.full((16,), reverb.rt60[1])  # the longest room
        rir = decaying_noise_rir(rt60, length, torch.Generator().manual_seed(0))
        ms = [1e3 * statistics.median(timeit.repeat(f, number=1, repeat=repeats + 1)[1:])
              for f in (partial(AF.fftconvolve, x, rir), partial(reverb, x))]  # fmt: skip
        lines.append(f"| {seconds} s | {ms[0]:.1f} | {ms[1]:.1f} | {ms[0] / ms[1]:.1f}× |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python tools/bench.py DATA_DIR [options]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add("data_dir", type=Path, nargs="?", help="corpus folder: DATA_DIR/<speaker>/...")
    add("--augment", action="store_true", help="time the room augmentation instead")
    add("--feature", choices=FEATURE_KINDS, default="spectrogram")
    add("--clips", type=int, default=300, help="3-s crops per pass (default 300)")
    add("--workers", type=int, default=0, help="DataLoader workers (default 0)")
    add("--seed", type=int, default=0, help="which files and crops (default 0)")
    add("--repeats", type=int, default=5, help="timed passes (default 5)")
    add("--threads", type=int, default=1, help="torch threads (default 1; 0: torch's default)")
    add("--cache-dir", type=Path, default=None, help="default: a temporary folder")
    add("--json", action="store_true", help="end with one line of JSON")
    args = parser.parse_args(argv)
    if args.clips < 1 or args.repeats < 1:
        parser.error("need --clips >= 1 and --repeats >= 1")
    if args.data_dir is None and not args.augment:
        parser.error("give DATA_DIR, or --augment")
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(args.threads or previous_threads)
    try:  # either mode on --threads threads, given back afterwards
        if args.augment:
            print(augment_table(args.repeats))
            return 0
        result = run_benchmark(args)
    finally:
        torch.set_num_threads(previous_threads)
    print(format_table(result))
    if args.json:
        print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
