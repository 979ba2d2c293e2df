"""Speech recognition: helpers without a model, and what the real model calls speech."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.asr import Recognition, WhisperAsr, trim_repetition
from assistant.audio.files import read_audio_file
from assistant.runtime import Runtime

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"


@pytest.mark.parametrize(
    ("text", "trimmed"),
    [
        ("What time is it? What time", "What time is it?"),
        (
            "What is the capital of France? What is the capital of France? What is",
            "What is the capital of France?",
        ),
        ("Tell me a joke Tell me a joke Tell", "Tell me a joke"),
        ("What time is it?", "What time is it?"),
        ("set a timer for five minutes", "set a timer for five minutes"),
        (
            "play the beatles and then play the rolling stones",
            "play the beatles and then play the rolling stones",
        ),
        ("no no", "no no"),
    ],
)
def test_short_window_repetition_is_trimmed(text: str, trimmed: str) -> None:
    assert trim_repetition(text) == trimmed


@pytest.mark.parametrize("beam_size", [1, 3, 5])
@pytest.mark.parametrize("name", ["silence.wav", "noise.wav"])
async def test_silence_and_noise_are_not_speech_whatever_the_beam(
    runtime: Runtime, name: str, beam_size: int
) -> None:
    """Beam search finds "Thank you." in silence; it must still be judged no speech."""
    assert runtime.asr is not None
    asr = WhisperAsr(runtime.asr.model_dir, dataclasses.replace(runtime.config.asr, beam_size=beam_size))
    asr.load()
    try:
        heard = await asr.transcribe(read_audio_file(DATA / name))
    finally:
        asr.close()
    assert heard == Recognition("", speech=False)


async def test_a_spoken_command_is_speech_with_words(runtime: Runtime) -> None:
    assert runtime.asr is not None
    heard = await runtime.asr.transcribe(read_audio_file(SAMPLES / "what_time_is_it.wav"))
    assert heard.speech and "time" in heard.text.lower()
