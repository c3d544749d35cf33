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
"""

from __future__ import annotations

import argparse
import inspect
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import butter, fftconvolve, lfilter, sosfilt
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

HARD_CORPUS = {
    "n_speakers": 128,
    "files_per_speaker": 20,
    "chapters_per_speaker": 5,
    "min_seconds": 4.0,
    "max_seconds": 12.0,
    "channels": "sessions",
    "family_size": 4,
    "voice_spread": 1.0,
}
"""Options of the harder corpus (``make_synthetic_corpus(dest, **HARD_CORPUS)``, or
``python -m helpers.synthetic DEST --hard``): 128 speakers in families of 4 close voices, 20 files of
4–12 s (LibriSpeech's are mostly 10–16 s) in 5 sessions each, every session through its own room,
device and noise (``channels="sessions"``); 2,560 files, 5.7 h. Validated by chapter, 3 sessions per
speaker are left for training: few enough that a model without augmentation learns the sessions."""

CHANNELS = ("mic", "sessions")
"""Kinds of ``channels``: one microphone colouring per chapter, or a whole session per chapter (device,
room, noise, and the speaker's pitch and rate of the day)."""

SESSIONS_FILE = "sessions.tsv"
"""Written into a corpus with ``channels="sessions"``: one row per speaker and chapter, its device,
RT60 (s, 0 for no room), SNR (dB) and noise kind, so that errors can be traced to the recording."""

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


def _resonator(freq: float, bandwidth: float, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
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
    voice: Voice, seconds: float, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Random syllables said by ``voice`` for ``seconds`` seconds, before any microphone or noise.

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
    pos = int(rng.uniform(0.05, 0.2) * sample_rate)  # leading silence
    while pos < n:
        # Consonant: a band of noise (fricative) or a short burst (plosive).
        c_len = int(rng.uniform(0.03, 0.09) * sample_rate)
        centre = rng.uniform(2500, 6000) * voice.tract
        b, a = _resonator(min(centre, 0.45 * sample_rate), 1500, sample_rate)
        burst = lfilter(b, a, rng.normal(0, 0.3, c_len)) * rng.uniform(0.2, 1.0)
        out[pos : pos + c_len] += burst[: max(0, n - pos)]
        pos += c_len
        # Vowel: the voiced source through this speaker's formants for a random vowel.
        v_len = int(rng.uniform(0.6, 1.4) / voice.rate * sample_rate)
        vowel = rng.integers(len(VOWELS))
        segment = voiced[pos : pos + v_len]
        for k, (formant, bw) in enumerate(
            zip(VOWELS[vowel] * voice.tract * voice.accent[vowel], FORMANT_BANDWIDTHS)
        ):
            b, a = _resonator(min(formant, 0.45 * sample_rate), bw, sample_rate)
            segment, zi[k] = lfilter(b, a, segment, zi=zi[k])
        ramp = np.minimum(
            1.0, np.minimum(np.arange(len(segment)), np.arange(len(segment))[::-1]) / 160
        )
        out[pos : pos + v_len] += segment * ramp
        pos += v_len
        if rng.random() < 0.3:  # end of a word: a short pause
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

    Parameters
    ----------
    voice : Voice
        The speaker.
    seconds : float
        Length of the clip (s).
    rng : numpy.random.Generator
        Source of randomness (syllables, intonation, noise).
    channel : (float, float)
        Microphone colouring of the recording: one-pole low-pass and pre-emphasis coefficients.
    snr_db : float
        Signal-to-noise ratio of the background noise (dB).
    sample_rate : int
        Output sample rate (Hz).

    Returns
    -------
    numpy.ndarray
        Waveform, shape ``(round(seconds * sample_rate),)``, float32 in [-1, 1].
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


# --------------------------------------------------------------------------------------------------
# Recording sessions of the harder corpus (``channels="sessions"``)

SESSION_DEVICES = ("headset", "telephone", "laptop", "lowpass")
"""Microphones of the harder corpus: a close headset (mild colouring), a telephone line (300–3400 Hz,
8-bit µ-law), a laptop microphone (no bass, a presence peak, soft clipping) and a muffled low-pass one."""

NOISE_KINDS = ("pink", "hum", "babble")
"""Background noises of the harder corpus: pink noise, 50-Hz mains hum with harmonics, babble-like
noise (speech-shaped, its loudness fluctuating at a syllable rate)."""


@dataclass(frozen=True)
class Session:
    """One recording session (a LibriSpeech *chapter*) of the harder corpus: room, device, noise, day.

    Every file of a session shares its room impulse response and device filter (both fixed by
    ``seed``); the noise itself differs from file to file.
    """

    device: str  # one of SESSION_DEVICES
    rt60: float  # reverberation time of the room (s): 0 for a close microphone without a room
    snr_db: float  # speech-to-noise power ratio before the device (dB)
    noise: str  # one of NOISE_KINDS
    f0_drift: float  # the speaker's pitch that day, as a factor of their usual pitch
    rate_drift: float  # their speaking rate that day, as a factor
    seed: int  # fixes the room's impulse response and the device's exact filter


def draw_session(rng: np.random.Generator) -> Session:
    """A random session: any device, a small reverberant room (RT60 0.2–0.6 s) 60 % of the time, noise
    at 8–25 dB SNR, and the speaker's pitch (±3 %) and rate (±8 %) of the day."""
    return Session(
        device=str(rng.choice(SESSION_DEVICES)),
        rt60=float(rng.uniform(0.2, 0.6)) if rng.random() < 0.6 else 0.0,
        snr_db=float(rng.uniform(8.0, 25.0)),
        noise=str(rng.choice(NOISE_KINDS)),
        f0_drift=float(np.exp(rng.normal(0, 0.03))),
        rate_drift=float(np.exp(rng.normal(0, 0.08))),
        seed=int(rng.integers(2**31)),
    )


def room_response(
    rt60: float, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """A room impulse response: the direct sound, a few early reflections, then a diffuse tail.

    The tail is noise whose energy falls by 60 dB in ``rt60`` seconds, low-passed so that high
    frequencies die out first, as walls and air absorb them faster.

    Returns
    -------
    numpy.ndarray
        ``(round(rt60 * sample_rate),)``, direct sound at sample 0 with amplitude 1.
    """
    n = max(1, round(rt60 * sample_rate))
    t = np.arange(n) / sample_rate
    tail = rng.normal(0, 1, n) * 10 ** (-3 * t / rt60)  # -60 dB of energy at t = rt60
    tail = lfilter([0.6], [1, -0.4], tail) * 0.3
    for delay in rng.uniform(0.003, 0.03, size=6):  # early reflections (s)
        tail[min(n - 1, round(delay * sample_rate))] += rng.uniform(-0.7, 0.7)
    tail[0] = 1.0
    return tail


def _noise(kind: str, n: int, rng: np.random.Generator, sample_rate: int) -> np.ndarray:
    """``n`` samples of background noise of ``kind`` (one of ``NOISE_KINDS``), unit RMS."""
    if kind == "hum":
        t = np.arange(n) / sample_rate
        noise = sum(np.sin(2 * np.pi * 50 * k * t + rng.uniform(0, 6.3)) / k for k in range(1, 8))
        noise = noise + 0.3 * lfilter([1], [1, -0.95], rng.normal(0, 1, n))
    elif kind == "babble":  # speech-shaped noise, its loudness fluctuating at a syllable rate
        b, a = _resonator(rng.uniform(400, 900), 600, sample_rate)
        noise = lfilter(b, a, rng.normal(0, 1, n))
        noise *= 1 + 0.8 * np.sin(2 * np.pi * rng.uniform(3, 6) * np.arange(n) / sample_rate)
    else:
        noise = lfilter([1], [1, -0.95], rng.normal(0, 1, n))
    return noise / (np.sqrt(np.mean(noise**2)) + 1e-9)


def _mu_law_8bit(x: np.ndarray, mu: float = 255.0) -> np.ndarray:
    """Quantise ``x`` in [-1, 1] to 256 µ-law levels and back, as a telephone line does."""
    y = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    y = np.round(y * 127) / 127
    return np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu


def _device(
    audio: np.ndarray, device: str, rng: np.random.Generator, sample_rate: int
) -> np.ndarray:
    """``audio`` through microphone ``device`` (one of ``SESSION_DEVICES``), unit RMS."""
    nyquist = sample_rate / 2
    if device == "telephone":
        audio = sosfilt(butter(4, [300 / nyquist, 3400 / nyquist], "band", output="sos"), audio)
    elif device == "lowpass":
        audio = sosfilt(butter(6, rng.uniform(2500, 4500) / nyquist, output="sos"), audio)
    elif device == "laptop":
        audio = sosfilt(butter(2, rng.uniform(150, 300) / nyquist, "high", output="sos"), audio)
        peak = butter(
            2, np.array([0.8, 1.25]) * rng.uniform(2000, 5000) / nyquist, "band", output="sos"
        )
        audio = audio + rng.uniform(1.0, 3.0) * sosfilt(peak, audio)  # +6 to +12 dB presence peak
        audio = sosfilt(butter(4, rng.uniform(5500, 7000) / nyquist, output="sos"), audio)
    else:  # headset: the default corpus's mild colouring
        lowpass, emphasis = rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.9)
        audio = lfilter([1, -emphasis], [1], lfilter([1 - lowpass], [1, -lowpass], audio))
    audio = audio / (np.sqrt(np.mean(audio**2)) + 1e-9)
    if device == "laptop":  # its preamplifier saturates on loud peaks
        level = rng.uniform(1.5, 3.0)
        audio = np.tanh(audio / level) * level
    return audio


def record(
    speech: np.ndarray, session: Session, rng: np.random.Generator, sample_rate: int = SAMPLE_RATE
) -> np.ndarray:
    """Record ``speech`` in ``session``: room reverberation, background noise, then the device.

    Parameters
    ----------
    speech : numpy.ndarray
        Dry speech ``(samples,)`` (from ``speak``).
    session : Session
        Where and how it is recorded.
    rng : numpy.random.Generator
        Draws this file's noise and level.
    sample_rate : int
        Of ``speech`` (Hz).

    Returns
    -------
    numpy.ndarray
        ``(samples,)`` float32 in [-1, 1].
    """
    setup = np.random.default_rng(session.seed)  # the same room and device for the whole session
    room = room_response(session.rt60, setup, sample_rate) if session.rt60 > 0 else np.ones(1)
    wet = fftconvolve(speech, room)[: len(speech)]
    wet /= np.sqrt(np.mean(wet**2)) + 1e-9
    noisy = wet + 10 ** (-session.snr_db / 20) * _noise(session.noise, len(wet), rng, sample_rate)
    out = _device(noisy, session.device, setup, sample_rate) * rng.uniform(0.05, 0.2)
    out = np.clip(out, -1, 1)
    if session.device == "telephone":
        out = _mu_law_8bit(out)
    return out.astype(np.float32)


def _write_sessions(path: Path, sessions: list[tuple[int, int, Session]]) -> None:
    """Write ``sessions.tsv``: which device, room and noise recorded each (speaker, chapter)."""
    if not sessions:
        return
    rows = [
        f"{sp}\t{ch}\t{x.device}\t{x.rt60:.3f}\t{x.snr_db:.1f}\t{x.noise}\n"
        for sp, ch, x in sessions
    ]
    path.write_text("speaker\tchapter\tdevice\trt60_s\tsnr_db\tnoise\n" + "".join(rows))


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
    channels: str = "mic",
    family_size: int = 3,
    voice_spread: float = 1.0,
) -> Path:
    """Write a deterministic synthetic speaker corpus to ``dest`` and return its path.

    Parameters
    ----------
    dest : path
        Folder to create. If it already holds a complete corpus (marker file ``.complete``) it is kept
        as is. The corpus is written into a temporary sibling folder and renamed into place, so an
        interrupted run leaves nothing that looks whole.
    n_speakers, files_per_speaker : int
        Corpus size. Speakers get distinct integer ids that are not ``0..n-1``.
    min_seconds, max_seconds : float
        Clip durations are uniform in this range (s). One clip of the corpus is always shorter than
        3 s, so code that assumes every clip holds a full 3-s crop fails early.
    seed : int
        Same seed, same bytes.
    layout : {"flat", "librispeech"}
        ``<speaker>/<speaker>-<chapter>-<utt>.flac`` or ``<speaker>/<chapter>/<same name>.flac``.
    chapters_per_speaker : int
        Recording sessions per speaker; each has its own microphone colouring and noise level.
    sample_rate : int
        Sample rate of the files (Hz).
    progress : bool
        Show a progress bar.
    channels : {"mic", "sessions"}
        ``"mic"``: each session a mild microphone colouring and pink noise at 15–35 dB SNR (the
        default corpus). ``"sessions"``: each session a device of ``SESSION_DEVICES``, often a
        reverberant room, a noise of ``NOISE_KINDS`` at 8–25 dB SNR and the speaker's voice of the
        day (see ``draw_session``), strong enough that a model must recognise the voice through
        the recording.
    family_size : int
        Close-sounding voices per family (see ``make_voices``).
    voice_spread : float
        How much the voices of a family differ (1.0 default; smaller is closer).

    ``HARD_CORPUS`` holds the options of the harder corpus used to choose the recommended model:
    ``make_synthetic_corpus(dest, **HARD_CORPUS)``. The defaults never change, so that the default
    corpus stays the same bytes.

    Returns
    -------
    pathlib.Path
        ``dest``.
    """
    dest = Path(dest)
    if layout not in ("flat", "librispeech"):
        raise ValueError(f"layout must be 'flat' or 'librispeech', not {layout!r}")
    if n_speakers < 2 or files_per_speaker < 1 or not 0 < min_seconds <= max_seconds:
        raise ValueError(
            "need n_speakers >= 2, files_per_speaker >= 1, 0 < min_seconds <= max_seconds"
        )
    if channels not in CHANNELS:
        raise ValueError(f"channels must be 'mic' or 'sessions', not {channels!r}")
    if family_size < 1 or voice_spread < 0:
        raise ValueError("need family_size >= 1 and voice_spread >= 0")
    if (dest / MARKER).exists():
        return dest

    rng = np.random.default_rng(seed)
    voices = make_voices(n_speakers, rng, family_size, voice_spread)
    ids = sorted(rng.choice(np.arange(10, 9000), size=n_speakers, replace=False).tolist())
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{dest.name}.partial-", dir=dest.parent))
    sessions: list[tuple[int, int, Session]] = []
    try:
        bar = tqdm(
            total=n_speakers * files_per_speaker, desc="synthetic corpus", disable=not progress
        )
        for s, (speaker, voice) in enumerate(zip(ids, voices)):
            chapters = [
                (int(c), (rng.uniform(0.0, 0.6), rng.uniform(0.0, 0.9)), rng.uniform(15, 35))
                if channels == "mic"
                else (int(c), draw_session(rng), 0.0)
                for c in rng.choice(np.arange(100, 9999), size=chapters_per_speaker, replace=False)
            ]
            sessions += [(speaker, c, x) for c, x, _ in chapters if isinstance(x, Session)]
            for u in range(files_per_speaker):
                chapter, channel, snr = chapters[u % chapters_per_speaker]
                seconds = rng.uniform(min_seconds, max_seconds)
                if s == 0 and u == 0:
                    seconds = min(seconds, 2.5)  # the corpus's short clip
                if isinstance(channel, Session):
                    today = replace(
                        voice, f0=voice.f0 * channel.f0_drift, rate=voice.rate * channel.rate_drift
                    )
                    audio = record(
                        speak(today, seconds, rng, sample_rate), channel, rng, sample_rate
                    )
                else:
                    audio = synthesize_utterance(voice, seconds, rng, channel, snr, sample_rate)
                name = f"{speaker}-{chapter}-{u:04d}.flac"
                folder = tmp / str(speaker) / (str(chapter) if layout == "librispeech" else "")
                folder.mkdir(parents=True, exist_ok=True)
                sf.write(folder / name, audio, sample_rate, subtype="PCM_16", format="FLAC")
                bar.update()
        bar.close()
        _write_sessions(tmp / SESSIONS_FILE, sessions)
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
    (
        "--channels",
        "channels",
        str,
        "mic: one microphone per chapter; sessions: room, device, noise",
    ),
    ("--family-size", "family_size", int, "voices per family of close voices"),
    ("--voice-spread", "voice_spread", float, "spread of a family's voices, < 1 closer"),
]


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point: ``python -m helpers.synthetic DEST [options]``.

    ``--hard`` starts from ``HARD_CORPUS`` instead of the defaults; options given explicitly win.
    """
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dest", type=Path)
    parser.add_argument("--hard", action="store_true", help="the harder corpus (HARD_CORPUS)")
    defaults = inspect.signature(make_synthetic_corpus).parameters
    for flag, name, kind, what in CLI_OPTIONS:
        hard = f"; --hard: {HARD_CORPUS[name]}" if name in HARD_CORPUS else ""
        parser.add_argument(
            flag,
            dest=name,
            type=kind,
            choices=CHANNELS if name == "channels" else None,
            help=f"{what} (default {defaults[name].default}{hard})",
        )
    parser.add_argument("--layout", choices=["flat", "librispeech"], default="flat")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    given = {name: getattr(args, name) for _, name, _, _ in CLI_OPTIONS}
    options = dict(HARD_CORPUS) if args.hard else {}
    options.update({k: v for k, v in given.items() if v is not None})
    path = make_synthetic_corpus(args.dest, seed=args.seed, layout=args.layout, **options)
    print(f"synthetic corpus ready: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
