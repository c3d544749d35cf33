"""A synthetic speaker corpus, so that the whole course runs (and is tested) without the real data.

Each speaker is a *source-filter* voice, the textbook model of speech production:

* **source** — the vocal folds open and close ``f0`` times a second (the pitch, 80–260 Hz), giving a
  buzz rich in harmonics; a speaker has a pitch range, a voice quality (how smooth the pulse is) and
  some breathiness (noise mixed into the buzz);
* **filter** — the vocal tract shapes that buzz with resonances, the *formants* F1–F4. Which vowel is
  said sets the formant pattern; who says it scales it (a longer vocal tract means lower formants) and
  adds a personal accent (small per-vowel offsets).

An utterance is a random sequence of syllables (a fricative or plosive noise burst, then a vowel) with a
falling, wandering intonation, pauses between words, recorded in a *chapter* whose microphone colours the
sound, plus background noise. Speakers come in families of close-sounding voices, so that telling them
apart takes a real model, not a pitch histogram.

The files follow the real dataset's layout, ``<root>/<speaker id>/<speaker>-<chapter>-<utt>.flac``
(16 kHz mono, 16-bit), or LibriSpeech's nested ``<root>/<speaker>/<chapter>/...`` with
``layout="librispeech"``. Speaker ids are integers that are *not* 0..n-1, like the real ones.
The same seed always gives the same bytes.

Command line::

    python -m helpers.synthetic DEST [--speakers 8] [--files 8] [--min-seconds 2] [--max-seconds 6]

The experiment corpora of ``docs/model.md`` (sessions through rooms and devices, telephone lines, short
words, close voices) are made by ``tools/corpora.py`` through ``make_synthetic_corpus(recorder=...)``.
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

SAMPLE_RATE = 16_000
"""Sample rate of the synthetic corpus (Hz), the same as the real one."""

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

MARKER = ".complete"
"""File written last into a finished corpus; its presence means the corpus is whole."""


@dataclass(frozen=True)
class Voice:
    """The fixed traits of one synthetic speaker."""

    f0: float  # mean pitch (Hz)
    f0_range: float  # depth of intonation (fraction of f0)
    tract: float  # formant scale: 1.0 average, < 1 longer vocal tract (lower formants)
    accent: np.ndarray  # (n_vowels, 4) multiplicative formant offsets, the speaker's accent
    open_quotient: (
        float  # fraction of a glottal period the folds are open: smooth (0.7) or pressed (0.4)
    )
    breath: float  # breathiness: noise-to-buzz ratio of the source
    rate: float  # speaking rate (syllables per second)


def make_voices(
    n_speakers: int, rng: np.random.Generator, family_size: int = 3, spread: float = 1.0
) -> list[Voice]:
    """Draw ``n_speakers`` voices in families of ``family_size`` close-sounding ones.

    A family shares a centre (pitch, vocal-tract length, voice quality); its members differ from it
    by a few percent, roughly the difference between two real speakers of the same sex and age.
    ``spread`` scales those differences (pitch 6 %, tract length 3 %, accent 5 % at 1.0): below 1,
    closer voices, harder to tell apart.
    """
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
    """Random syllables said by ``voice`` for ``seconds`` seconds, before any microphone or noise.

    ``text``, if given, draws which vowels, consonants and pauses are said (``rng`` the rest): two
    voices given equally seeded ``text`` generators read the same text.

    Returns
    -------
    numpy.ndarray
        Waveform, shape ``(round(seconds * sample_rate),)``, float64, arbitrary scale.
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
        for k, (formant, bw) in enumerate(
            zip(VOWELS[vowel] * voice.tract * voice.accent[vowel], FORMANT_BANDWIDTHS)
        ):
            b, a = resonator(min(formant, 0.45 * sample_rate), bw, sample_rate)
            segment, zi[k] = lfilter(b, a, segment, zi=zi[k])
        ramp = np.minimum(
            1.0, np.minimum(np.arange(len(segment)), np.arange(len(segment))[::-1]) / 160
        )
        out[pos : pos + v_len] += segment * ramp
        pos += v_len
        if text.random() < 0.3:  # end of a word: a short pause
            pos += int(rng.uniform(0.05, 0.3) * sample_rate)
    return out


def synthesize_utterance(
    voice: Voice,
    seconds: float,
    rng: np.random.Generator,
    channel: tuple[float, float] = (0.0, 0.0),
    snr_db: float = 25.0,
    sample_rate: int = SAMPLE_RATE,
) -> np.ndarray:
    """Speak random syllables with ``voice`` for ``seconds`` seconds, through a mild microphone.

    ``channel``: the recording's one-pole low-pass and pre-emphasis coefficients; ``snr_db``: of the
    pinkish background noise; ``rng`` draws syllables, intonation and noise. Returns a float32
    waveform in [-1, 1], ``(round(seconds * sample_rate),)``.
    """
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


Recorder = Callable[[Voice, float, np.random.Generator, int, int], tuple[np.ndarray, int]]
"""``recorder(voice, seconds, rng, speaker, chapter) -> (audio, sample_rate)``: how one file of speaker
number ``speaker`` in its chapter number ``chapter`` (both from 0) is spoken and recorded."""


def make_synthetic_corpus(
    dest: str | os.PathLike,
    n_speakers: int = 8,
    files_per_speaker: int = 8,
    min_seconds: float = 2.0,
    max_seconds: float = 6.0,
    seed: int = 0,
    layout: str = "flat",
    chapters_per_speaker: int = 2,
    sample_rate: int = SAMPLE_RATE,
    progress: bool = True,
    family_size: int = 3,
    voice_spread: float = 1.0,
    recorder: Recorder | None = None,
) -> Path:
    """Write a deterministic synthetic speaker corpus to ``dest`` and return its path.

    ``dest`` is kept as is if it holds a complete corpus (marker file ``.complete``); the corpus is
    written into a temporary sibling folder and renamed into place, so an interrupted run leaves
    nothing that looks whole. Speakers get distinct integer ids that are not ``0..n-1``; durations are
    uniform in ``[min_seconds, max_seconds]``, and one clip is always shorter than 3 s. Same seed, same
    bytes. ``layout``: ``"flat"`` (``<speaker>/<speaker>-<chapter>-<utt>.flac``) or
    ``"librispeech"`` (``<speaker>/<chapter>/<same name>.flac``). Each chapter (recording session) has
    its own microphone colouring and pink noise at 15–35 dB SNR. ``family_size``, ``voice_spread``:
    see ``make_voices``. ``recorder`` speaks and records each file instead (experiment corpora,
    ``tools/corpora.py``), possibly at another rate. The defaults never change, so that the default
    corpus stays the same bytes.
    """
    dest = Path(dest)
    if layout not in ("flat", "librispeech"):
        raise ValueError(f"layout must be 'flat' or 'librispeech', not {layout!r}")
    if n_speakers < 2 or files_per_speaker < 1 or not 0 < min_seconds <= max_seconds:
        raise ValueError(
            "need n_speakers >= 2, files_per_speaker >= 1, 0 < min_seconds <= max_seconds"
        )
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
    for flag, name, kind, what in CLI_OPTIONS:
        parser.add_argument(flag, dest=name, type=kind, help=f"{what} (default: the function's)")
    parser.add_argument("--layout", choices=["flat", "librispeech"], default="flat")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    options = {name: getattr(args, name) for _, name, _, _ in CLI_OPTIONS}
    options = {k: v for k, v in options.items() if v is not None}
    path = make_synthetic_corpus(args.dest, seed=args.seed, layout=args.layout, **options)
    print(f"synthetic corpus ready: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
