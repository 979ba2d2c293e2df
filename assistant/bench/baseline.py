"""The baseline: the plain sequential pipeline, for comparison with ours on the same models.

Fixed 800 ms end silence, faster-whisper with its default settings on the whole utterance, the
whole LLM answer, then the whole synthesis, then playback.
"""

from __future__ import annotations

import contextlib
import dataclasses

from assistant.audio.sinks import Sink
from assistant.audio.sources import BufferSource
from assistant.llm.prompt import build_messages
from assistant.runtime import Runtime
from assistant.session import Session, TurnResult
from assistant.trace import Trace

END_SILENCE_MS = 800
DEFAULT_WHISPER: dict[str, object] = {}
"""faster-whisper's own defaults: beam 5, temperature fallback, timestamps, 30 s window."""


async def baseline_turn(runtime: Runtime, source: BufferSource, sink: Sink) -> TurnResult:
    """One turn the sequential way; timed with the same trace marks as ours."""
    # A fixed end silence and nothing speculative: no partial transcripts, no early end.
    endpoint = dataclasses.replace(runtime.config.endpoint, silence_ms=END_SILENCE_MS, partial_after_ms=0)
    config = dataclasses.replace(runtime.config, endpoint=endpoint)
    always = dataclasses.replace(config.wake, mode="always")  # one utterance, the command
    session = Session(dataclasses.replace(runtime, config=config), sink, name="baseline", wake=always)
    async with contextlib.aclosing(session.utterances(source)) as utterances:
        speech = await anext(utterances, None)
    if speech is None:
        return TurnResult("", "none")
    trace = Trace()
    trace.mark("speech_start", speech.t_speech_start)
    trace.mark("last_voiced", speech.t_last_voiced)
    trace.mark("endpoint", speech.t_endpoint)
    assert runtime.asr is not None
    heard = await runtime.asr.transcribe(speech.pcm, options=DEFAULT_WHISPER)
    trace.mark("asr_final")
    decision = runtime.router.route(heard.text)
    trace.mark("route")
    result = TurnResult(heard.text, decision.route)
    if decision.route == "skill":
        assert decision.intent is not None and decision.spec is not None
        result.skill, result.action = decision.intent.skill, decision.intent.action
        result.slots = dict(decision.intent.slots)
        reply = await decision.spec.handler(
            runtime.skill_context(decision.intent.skill), dict(decision.intent.slots)
        )
        text = reply.text
    elif decision.route == "llm":
        assert runtime.llm is not None
        text = await runtime.llm.complete(build_messages(runtime.config.llm.system_prompt, heard.text))
        # Sequential: the first token is of no use until the whole answer is there.
        trace.mark("llm_first_token")
    else:
        text = ""
    trace.mark("first_reply_text")
    if text.strip():
        # No phrase cache: the baseline is the plain pipeline, synthesizing every reply.
        audio = await runtime.tts.synthesize(text.strip(), cache=False)
        trace.mark("first_audio_out", await sink.play(audio))
        await sink.drain()
    result.reply = text.strip()
    trace.mark("done")
    result.trace = trace
    result.timings_ms = trace.durations_ms()
    result.budget_exceeded = list(trace.over_budget(runtime.config.budgets))
    return result
