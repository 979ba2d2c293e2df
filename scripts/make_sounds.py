"""Regenerate the assistant's sounds (assistant/data/sounds): a chime, an alarm pattern and the
short rising blip played when the wake word is heard.

Run: python scripts/make_sounds.py
"""

from __future__ import annotations

import wave
from pathlib import Path

import numpy as np

RATE = 22050
OUT = Path(__file__).resolve().parents[1] / "assistant" / "data" / "sounds"


def tone(freq: float, seconds: float, decay: float) -> np.ndarray:
    """A sine with an exponential fade, starting softly to avoid a click."""
    t = np.arange(int(RATE * seconds)) / RATE
    attack = np.minimum(1.0, t / 0.005)
    return np.sin(2 * np.pi * freq * t) * np.exp(-t * decay) * attack


def write(name: str, samples: np.ndarray) -> None:
    """Save as 16-bit mono WAV at 22050 Hz, peaking at half scale."""
    pcm = (samples / np.max(np.abs(samples)) * 0.5 * 32767).astype(np.int16)
    with wave.open(str(OUT / f"{name}.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(pcm.tobytes())


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    chime = np.concatenate([tone(880, 0.18, 12), tone(1320, 0.35, 8)])
    write("chime", chime)
    beep = np.concatenate([tone(1000, 0.12, 4), np.zeros(int(RATE * 0.08))])
    write("alarm", np.concatenate([beep, beep, beep, np.zeros(int(RATE * 0.3))]))
    # Short, so a command said right after the wake word is not talked over for long.
    write("wake", np.concatenate([tone(1047, 0.06, 25), tone(1568, 0.12, 30)]))
