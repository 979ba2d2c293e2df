"""Whole turns through the real models: spoken input synthesized by piper and espeak-ng."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import wave
from pathlib import Path

import pytest

from assistant.audio.files import read_audio_file
from assistant.audio.sinks import MemorySink
from assistant.audio.sources import BufferSource
from assistant.bench.stats import word_error_rate
from assistant.cli.turns_cmd import process_audio
from assistant.config import EndpointConfig, ReplyConfig
from assistant.runtime import Runtime
from assistant.session import Session
from assistant.understand.intents import normalize_text as normalize
from hearkend_skills.clock import spoken_time

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"


def expected_rows() -> list[dict[str, str]]:
    with open(SAMPLES / "expected.tsv", encoding="utf-8") as f:
        return list(csv.DictReader(f, delimiter="\t"))


def possible_times() -> set[str]:
    """The current time as the clock would say it, allowing for a minute passing mid-test."""
    now = dt.datetime.now().astimezone()
    return {spoken_time(t.hour, t.minute) for t in (now, now + dt.timedelta(minutes=1))}


async def test_spoken_time_question_is_answered_by_the_clock_without_the_llm(
    runtime: Runtime, tmp_path: Path
) -> None:
    assert runtime.llm is not None
    before = runtime.llm.requests
    out = tmp_path / "reply.wav"
    pcm = read_audio_file(SAMPLES / "what_time_is_it.wav")
    result = await process_audio(runtime, pcm, str(out), realtime=True)
    assert normalize(result.transcript) == "what time is it"
    assert (result.route, result.skill, result.action) == ("skill", "clock", "time")
    assert any(t in result.reply for t in possible_times()), result.reply
    assert runtime.llm.requests == before
    for stage in ("endpoint", "asr", "understand", "tts_first_audio", "voice_to_voice"):
        assert result.timings_ms[stage] >= 0, stage
    assert "llm_first_token" not in result.timings_ms
    # Paced input: the endpointer waited for real silence after the last word (at least the
    # early end's pause, as this is a complete command).
    assert result.timings_ms["endpoint"] >= runtime.config.endpoint.complete_command_ms - 30
    assert result.timings_ms["voice_to_voice"] >= result.timings_ms["endpoint"] + result.timings_ms["asr"]
    with wave.open(str(out)) as reply:
        assert reply.getnchannels() == 1 and reply.getsampwidth() == 2
        assert reply.getnframes() / reply.getframerate() > 0.5


@pytest.mark.parametrize("row", [r for r in expected_rows() if r["skill"]], ids=lambda r: r["file"])
async def test_every_spoken_skill_sample_reaches_its_skill(runtime: Runtime, row: dict[str, str]) -> None:
    pcm = read_audio_file(SAMPLES / row["file"])
    result = await process_audio(runtime, pcm, None, realtime=False)
    # tiny.en may mis-hear a word ("call mom at" → "call moment"); the command must still land.
    assert word_error_rate([(row["transcript"], result.transcript)]) <= 0.25, result.transcript
    assert result.route == "skill" and result.skill == row["skill"]
    assert result.action and result.reply


async def test_open_spoken_question_is_answered_by_the_llm(runtime: Runtime) -> None:
    assert runtime.llm is not None
    before = runtime.llm.requests
    pcm = read_audio_file(SAMPLES / "capital_of_france.wav")
    sink = MemorySink()
    session = Session(runtime, sink)
    speech = [s async for s in session.utterances(_source(pcm))]
    assert len(speech) == 1
    result = await session.handle_speech(speech[0])
    assert "capital of france" in normalize(result.transcript)
    assert result.route == "llm" and result.skill is None
    assert runtime.llm.requests == before + 1
    assert len(result.reply.split()) >= 2
    assert result.timings_ms["llm_first_token"] > 0
    # Everything said was synthesized and handed to the sink, piece by piece.
    assert [p.text for p in sink.pieces] and " ".join(p.text for p in sink.pieces) == result.reply


@pytest.mark.parametrize("name", ["silence.wav", "noise.wav"])
async def test_silence_or_noise_makes_no_turn(runtime: Runtime, name: str) -> None:
    assert runtime.llm is not None
    before = runtime.llm.requests
    result = await process_audio(runtime, read_audio_file(DATA / name), None, realtime=False)
    assert (result.route, result.transcript, result.reply) == ("none", "", "")
    assert runtime.llm.requests == before


async def test_too_long_utterance_is_cut_and_still_processed(runtime: Runtime) -> None:
    short = dataclasses.replace(runtime.config, endpoint=EndpointConfig(max_utterance_s=1.0))
    rt = dataclasses.replace(runtime, config=short)
    pcm = read_audio_file(SAMPLES / "capital_of_france.wav")  # 1.7 s of speech
    session = Session(rt, MemorySink())
    speech = [s async for s in session.utterances(_source(pcm))]
    assert speech[0].truncated
    assert len(speech[0].pcm) <= 16000 * 2 * 1.0
    result = await session.handle_speech(speech[0])
    assert result.truncated and result.to_json()["truncated"] is True
    assert result.transcript


async def test_nothing_recognised_says_so_or_stays_silent_by_config(runtime: Runtime) -> None:
    sink = MemorySink()
    result = await Session(runtime, sink).handle_text("")
    assert result.route == "none"
    assert result.reply == runtime.config.reply.not_heard
    assert sink.pieces
    quiet = dataclasses.replace(
        runtime, config=dataclasses.replace(runtime.config, reply=ReplyConfig(not_heard=""))
    )
    silent_sink = MemorySink()
    result = await Session(quiet, silent_sink).handle_text("")
    assert result.reply == "" and silent_sink.pieces == []


def _source(pcm: bytes, *, realtime: bool = False) -> BufferSource:
    return BufferSource(pcm, realtime=realtime, trailing_silence_s=1.0)


@pytest.mark.parametrize("row", expected_rows(), ids=lambda r: r["file"])
async def test_partial_transcription_and_early_end_never_change_the_skill(
    runtime: Runtime, row: dict[str, str]
) -> None:
    """The speculative path must reach the same skill and words as waiting for the full silence."""
    pcm = read_audio_file(SAMPLES / row["file"])
    plain_endpoint = dataclasses.replace(runtime.config.endpoint, partial_after_ms=0)
    plain = dataclasses.replace(runtime, config=dataclasses.replace(runtime.config, endpoint=plain_endpoint))
    results = []
    for rt in (runtime, plain):
        session = Session(rt, MemorySink())
        speech = [s async for s in session.utterances(_source(pcm, realtime=True))]
        assert len(speech) == 1
        results.append((speech[0], await session.handle_speech(speech[0])))
    (fast_speech, fast), (slow_speech, slow) = results
    assert fast_speech.heard is not None  # the speculative transcript was used
    assert slow_speech.heard is None
    assert (fast.route, fast.skill, fast.action) == (slow.route, slow.skill, slow.action)
    assert normalize(fast.transcript) == normalize(slow.transcript)
