"""A synthetic speaker corpus, so that the whole course runs (and is tested) without the real data.

Each speaker is a source-filter voice: a glottal pulse train (pitch, voice quality, breathiness)
through the formants F1–F4 of random vowels, scaled by the speaker's vocal-tract length and accent,
after a consonant noise burst, with intonation and pauses; each chapter has its own microphone and
background noise. Speakers come in families of close voices. Files follow the real layout,
``<root>/<speaker id>/<speaker>-<chapter>-<utt>.flac`` (16 kHz mono, 16-bit; "librispeech" layout
nests the chapter), speaker ids are not 0..n-1, and the same seed gives the same bytes::

    python -m helpers.synthetic DEST [--speakers 8] [--files 8] [--min-seconds 2] [--max-seconds 6]

``tools/corpora.py`` makes the experiment corpora of ``docs/model.md`` with ``recorder=``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import lfilter
from tqdm.auto import tqdm

SAMPLE_RATE = 16_000  # Hz, as the real corpus

# Average adult formant frequencies F1..F4 (Hz) of a few vowels (Peterson & Barney, rounded).
VOWELS = np.array(
    [
        [730, 1090, 2440, 3400],  # a (father)
        [270, 2290, 3010, 3700],  # i (beet)
        [300, 870, 2240, 3300],  # u (boot)
        [530, 1840, 2480, 3500],  # e (bet)
        [570, 840, 2410, 3300],  # o (bought)
        [660, 1720, 2410, 3400],  # ae (bat)
        [520, 1190, 2390, 3400],  # uh (but)
    ],
    dtype=np.float64,
)
FORMANT_BANDWIDTHS = np.array([80.0, 100.0, 140.0, 200.0])  # Hz

MARKER = ".complete"  # written last into a finished corpus: its presence means it is whole


@dataclass(frozen=True)
class Voice:
    """The fixed traits of one synthetic speaker."""

    f0: float  # mean pitch (Hz)
    f0_range: float  # depth of intonation (fraction of f0)
    tract: float  # formant scale: 1.0 average, < 1 longer vocal tract (lower formants)
    accent: np.ndarray  # (n_vowels, 4) multiplicative formant offsets, the speaker's accent
    open_quotient: float  # open fraction of a glottal period: smooth (0.7) or pressed (0.4)
    breath: float  # breathiness: noise-to-buzz ratio of the source
    rate: float  # speaking rate (syllables per second)


def make_voices(
    n_speakers: int, rng: np.random.Generator, family_size: int = 3, spread: float = 1.0
) -> list[Voice]:
    """``n_speakers`` voices in families of ``family_size`` sharing pitch, tract and voice quality;
    members differ by pitch 6 %, tract 3 %, accent 5 % times ``spread`` (same sex and age)."""
    voices = []
    for start in range(0, n_speakers, family_size):
        f0 = float(np.exp(rng.uniform(np.log(85), np.log(240))))
        tract = float(rng.uniform(0.85, 1.18))
        oq = float(rng.uniform(0.45, 0.7))
        for _ in range(min(family_size, n_speakers - start)):
            voices.append(
                Voice(
                    f0=f0 * float(np.exp(rng.normal(0, 0.06 * spread))),
                    f0_range=float(rng.uniform(0.08, 0.22)),
                    tract=tract * float(np.exp(rng.normal(0, 0.03 * spread))),
                    accent=np.exp(rng.normal(0, 0.05 * spread, size=VOWELS.shape)),
                    open_quotient=float(np.clip(oq + rng.normal(0, 0.05 * spread), 0.35, 0.8)),
                    breath=float(rng.uniform(0.02, 0.25)),
                    rate=float(rng.uniform(3.0, 5.5)),
                )
            )
    return voices


def resonator(freq: float, bandwidth: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Coefficients ``(b, a)`` of a unit-gain-at-DC two-pole resonance at ``freq`` Hz."""
    r = np.exp(-np.pi * bandwidth / sample_rate)
    theta = 2 * np.pi * freq / sample_rate
    a = np.array([1.0, -2 * r * np.cos(theta), r * r])
    return np.array([a.sum()]), a


def _glottal_source(f0: np.ndarray, open_quotient: float, sample_rate: int) -> np.ndarray:
    """Differentiated Rosenberg pulse train following the pitch track ``f0`` (Hz per sample)."""
    phase = np.cumsum(f0 / sample_rate) % 1.0
    t = np.clip(phase / open_quotient, 0.0, 1.0)
    pulse = np.where(phase < open_quotient, 0.5 * (1 - np.cos(np.pi * t)) * (1 - t) * 4, 0.0)
    return np.diff(pulse, prepend=0.0) * 20.0


def speak(
    voice: Voice,
    seconds: float,
    rng: np.random.Generator,
    sample_rate: int = SAMPLE_RATE,
    text: np.random.Generator | None = None,
) -> np.ndarray:
    """Random syllables by ``voice``: ``(round(seconds * sample_rate),)`` float64, no microphone.

    ``text`` (default ``rng``) draws vowels, consonants and pauses: equal seeds, the same text.
    """
    n = round(seconds * sample_rate)
    # Intonation: declining line + slow random wander + per-period jitter.
    time = np.arange(n) / sample_rate
    wander = np.interp(time, np.linspace(0, seconds, 8), rng.normal(0, 1, 8))
    contour = 1 + voice.f0_range * (0.6 * wander - 0.5 * time / max(seconds, 1e-3))
    f0 = voice.f0 * contour * (1 + rng.normal(0, 0.01, n))
    voiced = _glottal_source(f0, voice.open_quotient, sample_rate)
    voiced += voice.breath * rng.normal(0, 1, n)

    out = np.zeros(n)
    zi = np.zeros((4, 2))  # filter states carried across syllables: no clicks at boundaries
    text = rng if text is None else text
    pos = int(rng.uniform(0.05, 0.2) * sample_rate)  # leading silence
    while pos < n:
        # Consonant: a band of noise (fricative) or a short burst (plosive).
        c_len = int(rng.uniform(0.03, 0.09) * sample_rate)
        centre = text.uniform(2500, 6000) * voice.tract
        b, a = resonator(min(centre, 0.45 * sample_rate), 1500, sample_rate)
        burst = lfilter(b, a, rng.normal(0, 0.3, c_len)) * rng.uniform(0.2, 1.0)
        out[pos : pos + c_len] += burst[: max(0, n - pos)]
        pos += c_len
        # Vowel: the voiced source through this speaker's formants for a random vowel.
        v_len = int(rng.uniform(0.6, 1.4) / voice.rate * sample_rate)
        vowel = text.integers(len(VOWELS))
        segment = voiced[pos : pos + v_len]
        formants = VOWELS[vowel] * voice.tract * voice.accent[vowel]  # (4,) Hz
        for k, (formant, bw) in enumerate(zip(formants, FORMANT_BANDWIDTHS)):
            b, a = resonator(min(formant, 0.45 * sample_rate), bw, sample_rate)
            segment, zi[k] = lfilter(b, a, segment, zi=zi[k])
        i = np.arange(len(segment))
        ramp = np.minimum(1.0, np.minimum(i, i[::-1]) / 160)  # 10-ms fades
        out[pos : pos + v_len] += segment * ramp
        pos += v_len
        if text.random() < 0.3:  # end of a word: a short pause
            pos += int(rng.uniform(0.05, 0.3) * sample_rate)
    return out


def synthesize_utterance(
    voice: Voice, seconds: float, rng: np.random.Generator,
    channel: tuple[float, float] = (0.0, 0.0), snr_db: float = 25.0, sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:  # fmt: skip
    """``speak`` through ``channel`` (one-pole low-pass, pre-emphasis), pinkish noise at ``snr_db``:
    ``(round(seconds * sample_rate),)`` float32 in [-1, 1]."""
    out = speak(voice, seconds, rng, sample_rate)
    n = len(out)
    lowpass, emphasis = channel
    out = lfilter([1 - lowpass], [1, -lowpass], out)
    out = lfilter([1, -emphasis], [1], out)
    out /= np.sqrt(np.mean(out**2)) + 1e-9
    noise = lfilter([1], [1, -0.9], rng.normal(0, 1, n))  # pinkish background
    noise *= 10 ** (-snr_db / 20) / (np.sqrt(np.mean(noise**2)) + 1e-9)
    out = (out + noise) * rng.uniform(0.05, 0.2)
    return np.clip(out, -1, 1).astype(np.float32)


# recorder(voice, seconds, rng, speaker, chapter) -> (audio, sample_rate); numbers count from 0
Recorder = Callable[[Voice, float, np.random.Generator, int, int], tuple[np.ndarray, int]]


def make_synthetic_corpus(
    dest: str | os.PathLike, n_speakers: int = 8, files_per_speaker: int = 8,
    min_seconds: float = 2.0, max_seconds: float = 6.0, seed: int = 0, layout: str = "flat",
    chapters_per_speaker: int = 2, sample_rate: int = SAMPLE_RATE, progress: bool = True,
    family_size: int = 3, voice_spread: float = 1.0, recorder: Recorder | None = None,
) -> Path:  # fmt: skip
    """Write a seeded corpus to ``dest`` (kept if it has ``MARKER``) through a temporary sibling.

    Durations uniform in ``[min_seconds, max_seconds]`` (s), one under 3 s; each chapter has its
    microphone and 15–35 dB SNR; ``recorder`` records each file instead (``tools/corpora.py``). The
    defaults never change, so the default corpus stays the same bytes.
    """
    dest = Path(dest)
    if layout not in ("flat", "librispeech"):
        raise ValueError(f"layout must be 'flat' or 'librispeech', not {layout!r}")
    if n_speakers < 2 or files_per_speaker < 1 or not 0 < min_seconds <= max_seconds:
        raise ValueError("need n_speakers >= 2, files_per_speaker >= 1, 0 < min_seconds <= max")
    if family_size < 1 or voice_spread < 0:
        raise ValueError("need family_size >= 1 and voice_spread >= 0")
    if (dest / MARKER).exists():
        return dest

    rng = np.random.default_rng(seed)
    voices = make_voices(n_speakers, rng, family_size, voice_spread)
    ids = sorted(rng.choice(np.arange(10, 9000), size=n_speakers, replace=False).tolist())
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    try:
        bar = tqdm(
            total=n_speakers * files_per_speaker, desc="synthetic corpus", disable=not progress
        )
        for s, (speaker, voice) in enumerate(zip(ids, voices)):
            chapters = [
                (int(c), (rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.9)), rng.uniform(15, 35))
                for c in rng.choice(np.arange(100, 9999), size=chapters_per_speaker, replace=False)
            ]
            for u in range(files_per_speaker):
                chapter, channel, snr = chapters[u % chapters_per_speaker]
                seconds = rng.uniform(min_seconds, max_seconds)
                if s == 0 and u == 0:
                    seconds = min(seconds, 2.5)  # the corpus's short clip
                if recorder is not None:
                    audio, rate = recorder(voice, seconds, rng, s, u % chapters_per_speaker)
                else:
                    audio = synthesize_utterance(voice, seconds, rng, channel, snr, sample_rate)
                    rate = sample_rate
                name = f"{speaker}-{chapter}-{u:04d}.flac"
                folder = tmp / str(speaker) / (str(chapter) if layout == "librispeech" else "")
                folder.mkdir(parents=True, exist_ok=True)
                sf.write(folder / name, audio, rate, subtype="PCM_16", format="FLAC")
                bar.update()
        bar.close()
        n_files = n_speakers * files_per_speaker
        (tmp / MARKER).write_text(f"synthetic seed={seed} speakers={n_speakers} files={n_files}\n")
        if dest.exists():  # an earlier, incomplete corpus: replace it
            shutil.rmtree(dest)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


CLI_OPTIONS = [  # flag, option of make_synthetic_corpus, type, meaning
    ("--speakers", "n_speakers", int, "speakers"),
    ("--files", "files_per_speaker", int, "files per speaker"),
    ("--min-seconds", "min_seconds", float, "shortest file (s)"),
    ("--max-seconds", "max_seconds", float, "longest file (s)"),
    ("--chapters", "chapters_per_speaker", int, "chapters (recording sessions) per speaker"),
]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m helpers.synthetic DEST [options]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    for flag, name, kind, what in CLI_OPTIONS:  # absent options: the function's defaults
        parser.add_argument(flag, dest=name, type=kind, help=what, default=argparse.SUPPRESS)
    parser.add_argument("--layout", choices=["flat", "librispeech"], default="flat")
    parser.add_argument("--seed", type=int, default=0)
    path = make_synthetic_corpus(**vars(parser.parse_args(argv)))
    print(f"synthetic corpus ready: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
