"""Experiment corpora of docs/model.md, made with the kit's generator (``helpers.synthetic``).

Each kind stresses what the default corpus does not; every file of a chapter (a recording session)
shares its room, device and noise, and ``--split-by chapter`` validates on sessions never trained on:

===========  ==================================================================================
kind         what it is
===========  ==================================================================================
default      the course's synthetic corpus (``helpers.course``): 24 speakers × 12 files of 2–8 s
short        single "words": 6 unrelated voices × 500 clips of 0.3–0.9 s, 10 words (chapters)
             said 50 times by every speaker, the odd words at 8 kHz, one microphone per speaker
close        104 voices in families of 4 that differ by ~6 % in pitch and ~3 % in vocal-tract
             length, reading the same texts, 3 sessions each through random rooms, devices
             (headset, telephone, laptop, low-pass) and noise at 8–25 dB; 12 files of 2–5 s
telephone    48 voices (families of 3), 3 sessions each, every one through a telephone line
             (300–3,400 Hz, 8-bit µ-law), with rooms and noise; 9 files of 2–4 s
hard         the 128-speaker harder corpus once used to choose the recipe (formerly
             ``helpers.synthetic.HARD_CORPUS``): families of 4, 20 files of 4–12 s, 5 sessions
===========  ==================================================================================

Command line::

    python tools/corpora.py KIND DEST [--seed 0]
"""

import argparse
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.signal import butter, fftconvolve, lfilter, resample_poly, sosfilt

from helpers.synthetic import SAMPLE_RATE, Voice, make_synthetic_corpus, resonator, speak

# --------------------------------------------------------------------------------------------------
# Recording sessions: a room, background noise and a device per (speaker, chapter)

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
    """Room impulse response ``(round(rt60 * sample_rate),)``: direct sound (1 at sample 0), early
    reflections, then a low-passed tail falling 60 dB in ``rt60`` seconds."""
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
        b, a = resonator(rng.uniform(400, 900), 600, sample_rate)
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
    """Record dry ``speech`` ``(samples,)`` at ``sample_rate`` Hz in ``session`` (room, noise drawn
    from ``rng``, then the device): ``(samples,)`` float32 in [-1, 1]."""
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


SESSIONS_FILE = "sessions.tsv"
"""Written into a sessions corpus: one row per session (speaker and chapter; speaker in ``short``),
its device, RT60 (s, 0 for no room), SNR (dB) and noise kind, to trace errors to the recording."""

CORPORA = {
    "default": {"n_speakers": 24, "files_per_speaker": 12, "max_seconds": 8.0},
    "short": {"n_speakers": 6, "files_per_speaker": 500, "chapters_per_speaker": 10,
              "min_seconds": 0.3, "max_seconds": 0.9, "family_size": 1, "devices": ("headset",)},
    "close": {"n_speakers": 104, "files_per_speaker": 12, "chapters_per_speaker": 3,
              "min_seconds": 2.0, "max_seconds": 5.0, "family_size": 4, "voice_spread": 1.0},
    "telephone": {"n_speakers": 48, "files_per_speaker": 9, "chapters_per_speaker": 3,
                  "min_seconds": 2.0, "max_seconds": 4.0, "devices": ("telephone",)},
    "hard": {"n_speakers": 128, "files_per_speaker": 20, "chapters_per_speaker": 5,
             "min_seconds": 4.0, "max_seconds": 12.0, "family_size": 4},
}  # fmt: skip
"""Options of ``make_synthetic_corpus`` for each kind (the recorder comes from ``make_corpus``)."""


class SessionRecorder:
    """``helpers.synthetic.Recorder``: each (speaker, chapter) one ``Session``, drawn once.

    ``devices`` limits the devices drawn; ``same_texts`` makes file ``j`` of chapter ``k`` the same
    text for every speaker; ``words`` makes every file of chapter ``k`` one word (short clips, the
    odd words at 8 kHz, no room, a headset).
    """

    def __init__(self, seed: int, devices=SESSION_DEVICES, same_texts=False, words=False) -> None:
        self.seed, self.devices, self.same_texts, self.words = seed, devices, same_texts, words
        self.sessions: dict[tuple[int, int], Session] = {}
        self.files: dict[tuple[int, int], int] = {}

    def __call__(self, voice: Voice, seconds: float, rng, speaker: int, chapter: int):
        key = (speaker, 0 if self.words else chapter)  # words: one microphone and day per speaker
        if key not in self.sessions:
            setup = np.random.default_rng([self.seed, *key, 1])
            session = draw_session(setup)
            session = replace(session, device=str(setup.choice(self.devices)))
            if self.words:
                session = replace(session, rt60=0.0, snr_db=float(setup.uniform(15, 35)))
            self.sessions[key] = session
        session, j = self.sessions[key], self.files.get(key, 0)
        self.files[key] = j + 1
        text = None
        if self.words or self.same_texts:
            text = np.random.default_rng([self.seed, chapter, 0 if self.words else j, 2])
        today = replace(voice, f0=voice.f0 * session.f0_drift, rate=voice.rate * session.rate_drift)
        audio = record(speak(today, seconds, rng, SAMPLE_RATE, text), session, rng)
        if self.words and chapter % 2:
            return resample_poly(audio, 1, 2).astype(np.float32), SAMPLE_RATE // 2
        return audio, SAMPLE_RATE


def make_corpus(kind: str, dest: str | Path, seed: int = 0, progress: bool = True) -> Path:
    """Write corpus ``kind`` (a key of ``CORPORA``) of ``seed`` to ``dest``; kept if complete."""
    options = dict(CORPORA[kind], seed=seed, progress=progress)
    if kind == "default":
        return make_synthetic_corpus(dest, **options)
    devices = options.pop("devices", SESSION_DEVICES)
    recorder = SessionRecorder(seed, devices, same_texts=kind == "close", words=kind == "short")
    path = make_synthetic_corpus(dest, recorder=recorder, **options)
    if recorder.sessions:
        write_sessions(path, recorder.sessions)
    return path


def write_sessions(root: Path, sessions: dict[tuple[int, int], Session]) -> None:
    """``root/sessions.tsv``: the device, room and noise that recorded each (speaker, chapter)."""
    speakers = sorted((p for p in root.iterdir() if p.is_dir()), key=lambda p: int(p.name))
    rows = []
    for (s, k), x in sorted(sessions.items()):
        chapter = next(speakers[s].rglob(f"*-{k:04d}.flac")).stem.split("-")[1]  # file k: chapter k
        rows.append(
            f"{speakers[s].name}\t{chapter}\t{x.device}\t{x.rt60:.3f}\t{x.snr_db:.1f}\t{x.noise}\n"
        )
    (root / SESSIONS_FILE).write_text(
        "speaker\tchapter\tdevice\trt60_s\tsnr_db\tnoise\n" + "".join(rows)
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("kind", choices=list(CORPORA))
    parser.add_argument("dest", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    print(f"corpus ready: {make_corpus(args.kind, args.dest, args.seed)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
