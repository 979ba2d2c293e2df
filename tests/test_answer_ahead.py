"""Answering ahead (llm.answer_ahead): the model starts on the transcript of a pause."""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import AsyncGenerator
from pathlib import Path

from assistant.audio.files import read_audio_file
from assistant.audio.sinks import MemorySink
from assistant.audio.sources import BufferSource
from assistant.llm.decision import AnswerText, LlmEvent, ToolRequest
from assistant.llm.prompt import Prompt
from assistant.llm.tools import ToolSet
from assistant.metrics import Metrics
from assistant.runtime import Runtime
from assistant.session import Session, TurnResult
from tests.test_llm_turns import with_model

SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"
DATA = Path(__file__).parent / "data"
END_SILENCE_MS = 4000


def _patient(runtime: Runtime, **llm: object) -> Runtime:
    """The runtime with other llm settings, counters of its own, and no hurry: a long end silence
    (a loaded machine may take a while to transcribe the pause; this is about what happens, not
    how fast) and no filler phrase."""
    config = dataclasses.replace(
        runtime.config,
        llm=dataclasses.replace(runtime.config.llm, **llm),
        endpoint=dataclasses.replace(runtime.config.endpoint, silence_ms=END_SILENCE_MS),
        budgets=dataclasses.replace(runtime.config.budgets, llm_filler=False),
    )
    return dataclasses.replace(runtime, config=config, metrics=Metrics())


async def _spoken_turn(runtime: Runtime, pcm: bytes) -> TurnResult:
    session = Session(runtime, MemorySink())
    speech = [
        s
        async for s in session.utterances(
            BufferSource(pcm, realtime=True, trailing_silence_s=END_SILENCE_MS / 1000 + 0.5)
        )
    ]
    assert len(speech) == 1
    return await session.handle_speech(speech[0])


async def test_a_question_is_answered_ahead_with_the_same_answer(runtime: Runtime) -> None:
    """The real model, started on the pause, says exactly what it says when asked after the end."""
    pcm = read_audio_file(SAMPLES / "capital_of_france.wav")
    ahead = _patient(runtime, answer_ahead=True)
    after = _patient(runtime, answer_ahead=False)
    early = await _spoken_turn(ahead, pcm)
    late = await _spoken_turn(after, pcm)
    assert early.route == late.route == "llm"
    assert early.answered_ahead and not late.answered_ahead
    assert early.to_json()["answered_ahead"] is True and "answered_ahead" not in late.to_json()
    assert ahead.metrics.answers_ahead["started"] == ahead.metrics.answers_ahead["used"] == 1
    assert not after.metrics.answers_ahead
    assert early.reply and early.reply == late.reply
    assert early.degraded == late.degraded == []


class PromptDependentModel:
    """A backend whose decision depends on what was asked: a timer for a half-said request (two
    words), an answer for the whole question; it records every prompt."""

    name = "prompt-dependent"

    def __init__(self) -> None:
        self.prompts: list[str] = []

    def decide(
        self, prompt: Prompt, tools: ToolSet, allowed: tuple[str, ...] | None = None
    ) -> AsyncGenerator[LlmEvent, None]:
        self.prompts.append(prompt.user)
        return self._stream(prompt.user)

    async def _stream(self, said: str) -> AsyncGenerator[LlmEvent, None]:
        await asyncio.sleep(0.01)
        if len(said.split()) > 2:
            yield AnswerText("Shakespeare.")
        else:
            yield ToolRequest("timers__start", {"duration_s": "five minutes"})


async def test_going_on_after_a_pause_drops_what_was_started_and_runs_none_of_it(runtime: Runtime) -> None:
    """Started on "who wrote", dropped when "the play Hamlet" follows: the timer the model asked
    for on the half-said request is never started; the whole question is answered."""
    model = PromptDependentModel()
    rt = with_model(_patient(runtime), model)
    pause = bytes(16000 * 2 * 5 // 2)  # 2.5 s: a pause, shorter than the end silence
    pcm = (
        read_audio_file(DATA / "who_wrote_espeak.wav")
        + pause
        + read_audio_file(DATA / "the_play_hamlet_espeak.wav")
    )
    timers_before = len(rt.jobs.find(skill="timers"))
    result = await _spoken_turn(rt, pcm)
    counts = rt.metrics.answers_ahead
    assert len(result.transcript.split()) > 2 and "hamlet" in result.transcript.lower(), result.transcript
    assert result.reply == "Shakespeare." and result.skill is None and result.answered_ahead
    assert any(len(p.split()) <= 2 for p in model.prompts), model.prompts  # started on the pause
    assert counts["used"] == 1 and counts["dropped"] >= 1
    assert counts["started"] == counts["used"] + counts["dropped"]
    assert len(rt.jobs.find(skill="timers")) == timers_before
