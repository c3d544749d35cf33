"""tools/bench.py runs end to end on the tiny corpus and reports its numbers (no speed claims here)."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

BENCH = Path(__file__).resolve().parent.parent / "tools" / "bench.py"
_spec = importlib.util.spec_from_file_location("bench", BENCH)
bench = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(bench)

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.mark.parametrize("feature", ["spectrogram", "mfcc_pooled"])
def test_bench_json(corpus_copy: Path, capsys: pytest.CaptureFixture[str], feature: str) -> None:
    torch.set_num_threads(2)  # the bench runs on 1 thread, then gives the 2 back (one_thread
    threads = torch.get_num_threads()  # restores the original after the test)
    argv = [str(corpus_copy), "--clips", "20", "--json", "--feature", feature, "--repeats", "2"]
    assert bench.main(argv) == 0
    assert torch.get_num_threads() == threads  # the run's one-thread setting is undone
    out = capsys.readouterr().out.strip().splitlines()
    result = json.loads(out[-1])
    keys = ("seed_clips_per_s", "clips_per_s", "cached_clips_per_s", "ratio", "cached_ratio")
    for key in (*keys, "best_ratio", "best_cached_ratio"):
        assert isinstance(result[key], float) and result[key] > 0, key
    assert result["feature"] == feature
    assert result["clips"] == 20 and result["n_files"] == 20
    assert 2.0 <= result["mean_seconds"] <= 4.0
    assert result["cache_build_seconds"] > 0 and result["cache_mb"] > 0
    assert result["ratio"] == pytest.approx(
        result["clips_per_s"] / result["seed_clips_per_s"], rel=0.01
    )
    table = "\n".join(out[:-1])
    assert "| practical" in table and "| kit streaming" in table and "| kit cached" in table
    assert "torch.set_num_threads(1)" in table
    assert not (corpus_copy / ".cache").exists()  # the cache went to a temporary folder


def test_practical_dataset_reproduces_the_original(corpus: Path) -> None:
    paths = sorted(corpus.glob("*/*.flac"))
    dataset = bench.PracticalDataset(paths, [p.parent.name for p in paths], "spectrogram")
    for i in range(len(paths)):
        features, label = dataset[i]
        assert features.shape == (201, 241)  # Spectrogram() defaults: hop 200, no log
        assert label == int(paths[i].parent.name)
    mfcc = bench.PracticalDataset(paths[:1], ["x"], "mfcc_pooled")[0]
    assert mfcc[0].shape == (40,) and mfcc[1] == "x"


def test_choose_clips_is_seeded(corpus: Path) -> None:
    from helpers.corpus import Utterance

    utterances = [Utterance(f"{i}.flac", "1", None, 16_000, 16_000) for i in range(10)]
    a, n = bench.choose_clips(utterances, 25, seed=0)
    assert len(a) == 25 and n == 10  # cycles through a small corpus
    assert a == bench.choose_clips(utterances, 25, seed=0)[0]
    assert a != bench.choose_clips(utterances, 25, seed=1)[0]


def test_runs_as_a_script() -> None:
    result = subprocess.run(
        [sys.executable, str(BENCH), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0 and "--clips" in result.stdout


def test_bench_augment_times_the_room_against_fftconvolve(
    capsys: pytest.CaptureFixture[str],
) -> None:
    torch.set_num_threads(2)  # the room is timed on --threads 1, then the 2 are given back
    assert bench.main(["--augment", "--repeats", "1"]) == 0
    assert torch.get_num_threads() == 2
    rows = capsys.readouterr().out.strip().splitlines()
    assert rows[0].startswith("| 16 clips | fftconvolve (ms) | RandomReverb (ms) | ratio |")
    assert [r.split("|")[1].strip() for r in rows[2:]] == ["2 s", "3 s"]
    assert all(float(r.split("|")[4].strip().rstrip("×")) > 0 for r in rows[2:])
    with pytest.raises(SystemExit):
        bench.main([])  # neither a corpus nor --augment
