"""A session: one place where someone speaks and listens; it runs turns through the stages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from assistant.asr import Recognition
from assistant.audio.sinks import Sink
from assistant.frames import AudioChunk, SpeechEnded
from assistant.listen.endpoint import Endpointer, EndpointSettings
from assistant.listen.vad import Vad
from assistant.listening import Listener
from assistant.llm.prompt import build_messages
from assistant.runtime import Runtime
from assistant.skill.api import Reply
from assistant.speak.chunker import SentenceChunker
from assistant.speak.sounds import load_sound
from assistant.trace import Trace
from assistant.understand.control import is_stop_phrase
from assistant.understand.intents import normalize_text
from assistant.understand.router import Decision

log = logging.getLogger(__name__)
turn_log = logging.getLogger("assistant.turn")

_SPEAK_QUEUE = 4  # reply pieces waiting for synthesis; the producer waits when it is full


@dataclass
class TurnResult:
    """What happened in one turn, in the shape of the ``--json`` contract."""

    transcript: str
    route: str
    skill: str | None = None
    action: str | None = None
    slots: dict[str, Any] = field(default_factory=dict)
    reply: str = ""
    timings_ms: dict[str, float] = field(default_factory=dict)
    budget_exceeded: list[str] = field(default_factory=list)
    truncated: bool = False
    error: str | None = None
    trace: Trace | None = field(default=None, repr=False)
    """The turn's raw timestamps (not part of the JSON contract; the bench plots them)."""

    def to_json(self) -> dict[str, Any]:
        """The stable JSON object printed by ``process --json`` and ``ask --json``."""
        out: dict[str, Any] = {
            "transcript": self.transcript,
            "route": self.route,
            "skill": self.skill,
            "action": self.action,
            "slots": self.slots,
            "reply": self.reply,
            "timings_ms": self.timings_ms,
            "budget_exceeded": self.budget_exceeded,
        }
        if self.truncated:
            out["truncated"] = True
        if self.error:
            out["error"] = self.error
        return out


class Session:
    """Listens on a source, runs each utterance as a turn, and speaks replies into a sink."""

    def __init__(self, runtime: Runtime, sink: Sink, name: str = "local") -> None:
        self.runtime = runtime
        self.sink = sink
        self.name = name
        self._speaking = asyncio.Lock()
        cfg = runtime.config
        endpointer = Endpointer(
            EndpointSettings(
                pre_roll_ms=cfg.endpoint.pre_roll_ms,
                start_speech_ms=cfg.endpoint.start_speech_ms,
                silence_ms=cfg.endpoint.silence_ms,
                max_utterance_s=cfg.endpoint.max_utterance_s,
            )
        )
        self.listener = Listener(
            Vad(cfg.vad.aggressiveness),
            endpointer,
            runtime.asr,
            lambda text: runtime.router.route(text, runtime.now()).route == "skill",
            partial_after_ms=cfg.endpoint.partial_after_ms,
            complete_command_ms=cfg.endpoint.complete_command_ms,
        )

    async def utterances(self, source: AsyncIterable[AudioChunk]) -> AsyncGenerator[SpeechEnded, None]:
        """Cut the source's audio into utterances (VAD, endpointer, early end on complete commands)."""
        async with contextlib.aclosing(self.listener.utterances(source)) as utterances:
            async for speech in utterances:
                yield speech

    async def handle_speech(self, speech: SpeechEnded) -> TurnResult:
        """Run one spoken turn: recognise, route, answer and speak."""
        trace = Trace()
        trace.mark("speech_start", speech.t_speech_start)
        trace.mark("last_voiced", speech.t_last_voiced)
        trace.mark("endpoint", speech.t_endpoint)
        if speech.heard is not None:
            # Recognised while listening (speculatively, on exactly this audio).
            heard = Recognition(speech.heard, speech=True)
            trace.mark("asr_final", max(speech.t_endpoint, speech.t_heard or speech.t_endpoint))
        else:
            asr = self.runtime.asr
            if asr is None:
                raise RuntimeError("this session's runtime was started without speech recognition")
            try:
                heard = await asr.transcribe(speech.pcm)
            except Exception as exc:
                log.exception("speech recognition failed")
                return await self._fail(TurnResult("", "none", truncated=speech.truncated), trace, exc)
            trace.mark("asr_final")
        if not heard.speech:
            # Noise that got past the VAD: no turn, nothing said, nothing sent anywhere.
            log.info("no speech in %.1f s of voiced audio; ignored", len(speech.pcm) / 32000)
            return TurnResult("", "none", truncated=speech.truncated)
        result = await self.handle_text(heard.text, trace)
        result.truncated = speech.truncated
        return result

    async def handle_text(self, text: str, trace: Trace | None = None) -> TurnResult:
        """Run one turn from text (typed, or recognised from speech)."""
        trace = trace or Trace()
        text = text.strip()
        if is_stop_phrase(normalize_text(text)) and await self._stop_what_sounds():
            trace.mark("route")
            return self._finish(TurnResult(text, "skill", "system", "stop"), trace)
        try:
            decision = self.runtime.router.route(text, self.runtime.now())
        except Exception as exc:
            log.exception("understanding %r failed", text)
            return await self._fail(TurnResult(text, "none"), trace, exc)
        trace.mark("route")
        result = TurnResult(text, decision.route)
        if decision.intent is not None:
            result.skill = decision.intent.skill
            result.action = decision.intent.action
            result.slots = dict(decision.intent.slots)
        try:
            async with self._speaking:
                await self._answer(decision, text, result, trace)
        except Exception as exc:
            log.exception("turn failed")
            return await self._fail(result, trace, exc)
        return self._finish(result, trace)

    async def _answer(self, decision: Decision, text: str, result: TurnResult, trace: Trace) -> None:
        if decision.route == "none":
            # Heard something but no words: say so (or stay silent when configured empty).
            result.reply = await self._speak(_pieces_of(self.runtime.config.reply.not_heard), trace)
        elif decision.route == "skill":
            result.reply = await self._speak(self._skill_reply(decision, trace), trace)
        else:
            result.reply = await self._speak(self._llm_reply(text, trace), trace)

    async def _stop_what_sounds(self) -> bool:
        """Stop ringing alerts, else music; True when something was stopped."""
        if await self.runtime.alerts.stop():
            return True
        music = self.runtime.music
        if music.is_playing or music.is_paused:
            await music.stop()
            return True
        return False

    async def say(self, text: str, sound: str | None = None) -> None:
        """Speak unprompted (an announcement): the sound first, then the words."""
        async with self._speaking:
            if sound:
                await self.sink.play(load_sound(sound))
            await self._speak(_pieces_of(text), Trace())

    async def _skill_reply(self, decision: Decision, trace: Trace) -> AsyncIterator[str]:
        assert decision.intent is not None and decision.spec is not None
        context = self.runtime.skill_context(decision.intent.skill)
        timeout_s = self.runtime.config.budgets.skill_timeout_ms / 1000
        try:
            async with asyncio.timeout(timeout_s):
                reply = await decision.spec.handler(context, dict(decision.intent.slots))
        except TimeoutError:
            log.error(
                "skill %s.%s took longer than %.1f s; cancelled",
                decision.intent.skill,
                decision.intent.action,
                timeout_s,
            )
            reply = Reply(self.runtime.config.reply.skill_timeout)
        if reply.sound:
            trace.mark("first_audio_out", await self.sink.play(load_sound(reply.sound)))
        async for piece in _pieces_of(reply.text):
            yield piece

    async def _llm_reply(self, text: str, trace: Trace) -> AsyncIterator[str]:
        llm = self.runtime.llm
        assert llm is not None
        messages = build_messages(self.runtime.config.llm.system_prompt, text)
        chunker = SentenceChunker()
        stream = llm.stream(messages)
        try:
            async for token in stream:
                trace.mark("llm_first_token")
                for piece in chunker.push(token):
                    yield piece
        finally:
            await stream.aclose()
        for piece in chunker.flush():
            yield piece

    async def _speak(self, pieces: AsyncIterator[str], trace: Trace) -> str:
        """Synthesize and play pieces as they come, while later ones are still being produced."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=_SPEAK_QUEUE)
        spoken: list[str] = []

        async def produce() -> None:
            try:
                async for piece in pieces:
                    trace.mark("first_reply_text")
                    await queue.put(piece)
            finally:
                await queue.put(None)

        async def consume() -> None:
            tts = self.runtime.tts
            while (piece := await queue.get()) is not None:
                audio = await tts.synthesize(piece)
                started = await self.sink.play(audio)
                trace.mark("first_audio_out", started)
                spoken.append(piece)

        async with asyncio.TaskGroup() as group:
            group.create_task(produce())
            group.create_task(consume())
        await self.sink.drain()
        return " ".join(spoken)

    async def _fail(self, result: TurnResult, trace: Trace, exc: BaseException) -> TurnResult:
        result.error = f"{type(exc).__name__}: {exc}"
        try:
            result.reply = await self._speak(_pieces_of(self.runtime.config.reply.failure), trace)
        except Exception:
            log.exception("could not speak the failure reply")
        return self._finish(result, trace)

    def _finish(self, result: TurnResult, trace: Trace) -> TurnResult:
        trace.mark("done")
        result.trace = trace
        result.timings_ms = trace.durations_ms()
        over = trace.over_budget(self.runtime.config.budgets)
        result.budget_exceeded = list(over)
        _log_turn(self.name, result, over)
        return result


async def _pieces_of(text: str) -> AsyncIterator[str]:
    chunker = SentenceChunker()
    for piece in chunker.push(text):
        yield piece
    for piece in chunker.flush():
        yield piece


def _log_turn(session: str, result: TurnResult, over: dict[str, float]) -> None:
    timings = " ".join(f"{k}={v:.0f}ms" for k, v in result.timings_ms.items())
    target = f" {result.skill}.{result.action}" if result.skill else ""
    turn_log.info(
        "turn session=%s route=%s%s %s transcript=%r",
        session,
        result.route,
        target,
        timings,
        result.transcript,
        extra={"turn": result.to_json(), "session": session},
    )
    for stage, by in over.items():
        took = result.timings_ms[stage]
        turn_log.warning("turn over budget: %s took %.0f ms, %.0f ms over its budget", stage, took, by)
