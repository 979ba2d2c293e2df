"""Waiting longer when the words so far stop mid-sentence (endpoint.unfinished_extra_ms)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from assistant.audio.files import read_audio_file
from assistant.audio.sinks import MemorySink
from assistant.audio.sources import BufferSource
from assistant.frames import FRAME_MS, SpeechEnded
from assistant.listen.endpoint import Endpointer, EndpointSettings
from assistant.listen.unfinished import sounds_unfinished
from assistant.runtime import Runtime
from assistant.session import Session

DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(
    "text",
    ["Set a timer for", "Remind me to.", "What's the weather in", "Play something by the", "um", "and, uh"],
)
def test_words_that_stop_mid_sentence_sound_unfinished(text: str) -> None:
    assert sounds_unfinished(text)


@pytest.mark.parametrize(
    "text",
    [
        "Set a timer for five minutes.",
        "Turn it on",
        "Where are you from?",
        "Cancel that.",
        "Do you know what day it is?",
        "",
    ],
)
def test_whole_sentences_do_not(text: str) -> None:
    assert not sounds_unfinished(text)


def test_waiting_longer_holds_the_end_until_the_speech_goes_on() -> None:
    ep = Endpointer(EndpointSettings(pre_roll_ms=90, start_speech_ms=90, silence_ms=300))
    t = 0.0

    def feed(voiced: bool, count: int) -> list[object]:
        nonlocal t
        events = []
        for _ in range(count):
            t += FRAME_MS / 1000
            event = ep.feed(bytes(960), voiced, t)
            if event is not None:
                events.append(event)
        return events

    feed(True, 10)
    ep.wait_longer(600)
    assert feed(False, 29) == []  # 870 ms of silence: 300 + 600 not reached
    feed(True, 5)  # they went on: the extra wait is over
    ended = feed(False, 10)
    assert len(ended) == 1 and isinstance(ended[0], SpeechEnded)


async def _utterances(runtime: Runtime, extra_ms: int, pcm: bytes) -> list[str]:
    endpoint = dataclasses.replace(runtime.config.endpoint, silence_ms=1000, unfinished_extra_ms=extra_ms)
    rt = dataclasses.replace(runtime, config=dataclasses.replace(runtime.config, endpoint=endpoint))
    session = Session(rt, MemorySink())
    source = BufferSource(pcm, realtime=True, trailing_silence_s=extra_ms / 1000 + 1.5)
    asr = rt.asr
    assert asr is not None
    heard = []
    async for speech in session.utterances(source):
        heard.append(speech.heard if speech.heard is not None else (await asr.transcribe(speech.pcm)).text)
    return heard


async def test_a_pause_after_for_does_not_cut_the_command_in_two(runtime: Runtime) -> None:
    """ "Set a timer for … five minutes": one command when the pause's words are heard as
    unfinished; two pieces when that is turned off (the pause is longer than the end silence)."""
    pause = bytes(16000 * 2 * 3 // 2)  # 1.5 s: past the 1 s end silence
    pcm = (
        read_audio_file(DATA / "set_a_timer_for_espeak.wav")
        + pause
        + read_audio_file(DATA / "five_minutes_espeak.wav")
    )
    held = await _utterances(runtime, 1500, pcm)
    cut = await _utterances(runtime, 0, pcm)
    assert len(held) == 1, held
    assert "five" in held[0].lower() or "5" in held[0], held
    assert len(cut) == 2, cut
