"""A session: one place where someone speaks and listens; it runs turns through the stages."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterable, Awaitable, Coroutine
from dataclasses import dataclass, field
from typing import Any

from assistant import paths
from assistant.asr import Recognition
from assistant.audio.sinks import Sink
from assistant.config import WakeConfig
from assistant.frames import AudioChunk, Intent, SpeechEnded, WakeDetected
from assistant.listen.endpoint import Endpointer, EndpointSettings
from assistant.listen.vad import Vad
from assistant.listen.wake import WakeWordDetector
from assistant.listening import Listener
from assistant.llm.answerer import AnswerLost, LlmUnavailable
from assistant.llm.decision import DecisionError, LlmEvent, ToolRequest
from assistant.llm.memory import Conversation
from assistant.llm.prefetch import Prefetch
from assistant.llm.prompt import Exchange, Prompt
from assistant.llm.tools import SEPARATOR, ToolCallError
from assistant.models import resolve_model
from assistant.runtime import Runtime
from assistant.skill.api import IntentSpec, Reply
from assistant.speak.chunker import SentenceChunker, split_pieces
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
    degraded: list[str] = field(default_factory=list)
    """What did not go the plain way, in order: "filler", "llm_cancelled", "skills_only",
    "cached", "remote_down", "tool_rejected", "llm_unavailable", "capped", "interrupted" (a
    barge-in cut the answer off)."""
    truncated: bool = False
    error: str | None = None
    tool_call: ToolRequest | None = None
    """The tool the model chose, as it asked for it (``skill``/``action``/``slots`` say what ran)."""
    follow_up: bool = False
    """The reply asked something (a skill's Reply(follow_up=True)): listen for the answer."""
    answered_ahead: bool = False
    """The model's decision was started on the transcript of a pause (llm.answer_ahead)."""
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
            "degraded": self.degraded,
        }
        if self.tool_call is not None:
            out["tool_call"] = {"name": self.tool_call.name, "arguments": self.tool_call.arguments}
        if self.truncated:
            out["truncated"] = True
        if self.answered_ahead:
            out["answered_ahead"] = True
        if self.error:
            out["error"] = self.error
        return out


class _Aside(str):
    """A piece said to fill a silence, not part of the answer: it sets no trace marks, so the
    stage timings (and their budgets) still measure the answer itself."""


class Session:
    """Listens on a source, runs each utterance as a turn, and speaks replies into a sink."""

    def __init__(
        self, runtime: Runtime, sink: Sink, name: str = "local", *, wake: WakeConfig | None = None
    ) -> None:
        self.runtime = runtime
        self.sink = sink
        self.name = name
        self._speaking = asyncio.Lock()
        self._answering: asyncio.Task[None] | None = None
        """The running turn's answer (LLM, skill, speech): what a barge-in cancels."""
        self._announcing: asyncio.Task[None] | None = None
        """The announcement being said (say): a barge-in cuts it off, with its pieces to come."""
        self._ahead: Prefetch | None = None
        """The model's decision started on the transcript of a pause (llm.answer_ahead)."""
        cfg = runtime.config
        self.conversation = Conversation(cfg.llm.memory_s, cfg.llm.memory_turns)
        """Recent exchanges the model sees, so follow-ups work."""
        self.wake = cfg.wake if wake is None else wake
        """Wake word, listening mode and follow-up settings (config, unless the caller chose)."""
        # Loaded now, so that a wrong name fails at start and not at the first wake word.
        self._chime = load_sound(self.wake.chime) if self.wake.chime else None
        detector = None
        if self.wake.mode == "wake":
            detector = WakeWordDetector(
                resolve_model(self.wake.model, "wake", paths.data_dir()),
                probability_cutoff=self.wake.probability_cutoff,
                refractory_s=self.wake.refractory_s,
            )
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
            unfinished_extra_ms=cfg.endpoint.unfinished_extra_ms,
            mode=self.wake.mode,
            detector=detector,
            no_speech_timeout_s=self.wake.no_speech_timeout_s,
            on_wake=self._woken,
            on_pause=self._paused,
        )
        self.listener.on_interjection = self._interjected
        self.listener.music_playing = lambda: runtime.music.is_playing
        self.listener.overheard_vad = Vad(cfg.vad.aggressiveness)

    async def _woken(self, wake: WakeDetected) -> None:
        """The wake word was heard: cut off what this session is saying (barge-in), then chime
        (the command may already be coming)."""
        if await self.interrupt(f"wake word {wake.phrase!r}"):
            self.runtime.metrics.barge_ins += 1
        if self._chime is not None:
            await self.sink.play(self._chime)

    async def _interjected(self, text: str) -> None:
        """Words said over this session's speech or music: a stop phrase cuts the answer off like
        the wake word (and silences a ringing alert), or else stops what sounds (an alert, else
        the music); anything else is dropped."""
        if not is_stop_phrase(normalize_text(text)):
            log.info("heard %r over the reply: not a stop phrase, ignored", text)
            return
        if await self.interrupt(f"stop phrase {text!r}"):
            self.runtime.metrics.barge_ins += 1
            await self.runtime.alerts.stop()
        elif await self._stop_what_sounds():  # no answer was cut: a ringing alert, else music
            log.info("stop phrase %r: stopped what was sounding", text)

    def _paused(self, text: str | None) -> None:
        """The person paused: start the model on what they said so far if it is a question for
        it (``llm.answer_ahead``); None: they went on, so that start is dropped."""
        self._drop_ahead()
        runtime = self.runtime
        answerer = runtime.answerer
        if text is None or not runtime.config.llm.answer_ahead or answerer is None:
            return
        if self.answering or self._speaking.locked() or runtime.skills_only.active():
            return  # the model is busy with (or the speaker still owed to) an earlier turn
        text = text.strip()
        if runtime.router.route(text, runtime.now()).route != "llm":
            return
        prompt = Prompt(runtime.config.llm.system_prompt, text, self.conversation.recent())
        notes: list[str] = []
        self._ahead = Prefetch(prompt, answerer.decide(prompt, notes), notes)
        runtime.metrics.answers_ahead["started"] += 1
        log.debug("answering ahead: %r", text)

    def _drop_ahead(self) -> None:
        ahead, self._ahead = self._ahead, None
        if ahead is not None:
            ahead.discard()
            self.runtime.metrics.answers_ahead["dropped"] += 1

    @property
    def answering(self) -> bool:
        """True while a turn's answer is being produced or spoken."""
        return self._answering is not None and not self._answering.done()

    async def interrupt(self, reason: str) -> bool:
        """Barge-in: silence this session's speech now, cut off the announcement being said (the
        rest of it too), hush alerts while the command is said (ringing ones ring on until
        "stop") and cancel the answer in progress (the LLM stops, nothing more is said, nothing is
        remembered); True if an answer was cut."""
        self._drop_ahead()
        # First: once the announcement has ended, the alert speaker takes the next one queued,
        # which must not be a repeat of the ring being cut, nor be said over the command.
        self.runtime.alerts.hush(self.wake.no_speech_timeout_s)
        announcing = self._announcing
        if announcing is not None and not announcing.done():
            log.info("interrupted (%s): the announcement being said is cut off", reason)
            # Ended before the speaker is silenced, so none of its pieces is queued after that.
            announcing.cancel()
            await asyncio.wait({announcing})
            self.runtime.alerts.cut += 1
        await self.sink.stop()
        task = self._answering
        if task is None or task.done():
            return False
        log.info("interrupted (%s): the answer in progress is cancelled", reason)
        task.cancel()
        return True

    async def _interruptible(self, answer: Coroutine[Any, Any, None]) -> bool:
        """Run a turn's answer so that interrupt() can cancel it; False when it was interrupted."""
        task = asyncio.create_task(answer, name=f"answer-{self.name}")  # owned: awaited here
        self._answering = task
        try:
            await task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if not task.cancelled() or (current is not None and current.cancelling()):
                raise  # the turn itself is being cancelled (shutdown), not just its answer
            return False
        finally:
            self._answering = None
        return True

    async def push_to_talk(self, seconds: float | None = None) -> None:
        """Listen for one command without the wake word (a button, the control socket); chimes."""
        self.listener.open_window(self.wake.no_speech_timeout_s if seconds is None else seconds, asked=True)
        if self._chime is not None:
            await self.sink.play(self._chime)

    def _follow_up(self, result: TurnResult) -> None:
        """After a spoken reply has played, listen for a while without the wake word."""
        how = self.wake.follow_up
        if not result.reply or how == "never":
            return
        if how == "questions" and not (result.follow_up or result.reply.rstrip().endswith("?")):
            return
        self.listener.open_window(self.wake.follow_up_s)

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
        wake = self.listener.last_wake
        if wake is not None and wake.t > speech.t_endpoint:
            # The wake word came after this utterance ended, while it was being recognised or
            # waited for its turn: the person has something else to say, and that comes next.
            log.info("wake word heard after %r ended: that command is dropped", heard.text)
            result = TurnResult(heard.text, "none", truncated=speech.truncated, degraded=["interrupted"])
            return self._finish(result, trace)
        result = await self.handle_text(heard.text, trace)
        result.truncated = speech.truncated
        self._follow_up(result)
        return result

    async def handle_text(self, text: str, trace: Trace | None = None) -> TurnResult:
        """Run one turn from text (typed, or recognised from speech)."""
        trace = trace or Trace()
        text = text.strip()
        ahead, self._ahead = self._ahead, None
        try:
            return await self._handle_text(text, trace, ahead)
        finally:
            if ahead is not None and not ahead.taken:
                await ahead.cancel()
                self.runtime.metrics.answers_ahead["dropped"] += 1

    async def _handle_text(self, text: str, trace: Trace, ahead: Prefetch | None) -> TurnResult:
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
                answered = await self._interruptible(self._answer(decision, text, result, trace, ahead))
        except Exception as exc:
            log.exception("turn failed")
            return await self._fail(result, trace, exc)
        if not answered:
            # Cut off: what was said so far is unknown, so the exchange is not remembered.
            result.degraded.append("interrupted")
            return self._finish(result, trace)
        self._remember(result)
        return self._finish(result, trace)

    def _remember(self, result: TurnResult) -> None:
        """Keep the exchange for follow-ups: what was asked, what ran, what was said."""
        if result.route == "none" or not result.reply or "tool_rejected" in result.degraded:
            return
        tool = result.tool_call
        if tool is None and result.skill is not None and result.action is not None:
            tool = ToolRequest(f"{result.skill}{SEPARATOR}{result.action}", dict(result.slots))
        self.conversation.add(Exchange(result.transcript, result.reply, tool))

    async def _answer(
        self, decision: Decision, text: str, result: TurnResult, trace: Trace, ahead: Prefetch | None = None
    ) -> None:
        if ahead is not None and decision.route != "llm":
            await ahead.cancel()  # its CPU time is the answer's now
        if decision.route == "none":
            # Heard something but no words: say so (or stay silent when configured empty).
            result.reply = await self._speak(_pieces_of(self.runtime.config.reply.not_heard), trace)
        elif decision.route == "skill":
            result.reply = await self._speak(self._skill_reply(decision, trace, result), trace)
        elif self.runtime.skills_only.active():
            # The LLM has been too slow lately: answer at once instead of making people wait.
            result.degraded.append("skills_only")
            result.reply = await self._speak(_pieces_of(self.runtime.config.reply.skills_only), trace)
        else:
            cap_s = self.runtime.config.llm.max_spoken_s
            reply = self._llm_reply(text, trace, result, ahead)
            result.reply = await self._speak(reply, trace, cap_s, result)

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
        """Speak unprompted (an announcement): the sound first, then the words; a barge-in
        (interrupt) cuts it off and it returns early."""
        async with self._speaking:
            task = asyncio.create_task(self._announce(text, sound), name=f"say-{self.name}")  # owned
            self._announcing = task
            try:
                await task
            except asyncio.CancelledError:
                current = asyncio.current_task()
                if not task.cancelled() or (current is not None and current.cancelling()):
                    raise  # say() itself is being cancelled (shutdown), not just its words
            finally:
                self._announcing = None

    async def _announce(self, text: str, sound: str | None) -> None:
        if sound:
            await self.sink.play(load_sound(sound))
        await self._speak(_pieces_of(text), Trace())

    async def _skill_reply(
        self, decision: Decision, trace: Trace, result: TurnResult
    ) -> AsyncGenerator[str, None]:
        assert decision.intent is not None and decision.spec is not None
        reply = await self._run_skill(decision.spec, decision.intent)
        result.follow_up = reply.follow_up
        if reply.sound:
            trace.mark("first_audio_out", await self.sink.play(load_sound(reply.sound)))
        async for piece in _pieces_of(reply.text):
            yield piece

    async def _run_skill(self, spec: IntentSpec, intent: Intent) -> Reply:
        """Run a skill's handler within budgets.skill_timeout_ms; its side effects void cached answers."""
        context = self.runtime.skill_context(intent.skill)
        timeout_s = self.runtime.config.budgets.skill_timeout_ms / 1000
        # The handler runs as its own task with its own timeout, so that one that changes things
        # is never cut in the middle by a barge-in or shutdown: it finishes (within its timeout),
        # then the cancellation goes on. Nothing is left half-written.
        task = asyncio.ensure_future(_within(timeout_s, spec.handler(context, dict(intent.slots))))
        try:
            if spec.side_effects:
                try:
                    reply = await asyncio.shield(task)
                except asyncio.CancelledError:
                    await asyncio.wait({task})
                    raise
            else:
                reply = await task
        except TimeoutError:
            log.error(
                "skill %s.%s took longer than %.1f s; cancelled", intent.skill, intent.action, timeout_s
            )
            reply = Reply(self.runtime.config.reply.skill_timeout)
        finally:
            answerer = self.runtime.answerer
            if spec.side_effects and answerer is not None:
                # Something changed in the world: an answer cached before may now be wrong.
                answerer.cache.clear()
        return reply

    async def _llm_reply(
        self, text: str, trace: Trace, result: TurnResult, ahead: Prefetch | None = None
    ) -> AsyncGenerator[str, None]:
        """The model's answer in pieces, or the reply of the tool it chose; acting on budgets:
        a filler when it is slow to start, a cut (generation stopped, reply.too_slow said) past
        budgets.llm_hard_limit_ms."""
        answerer = self.runtime.answerer
        assert answerer is not None
        config = self.runtime.config
        budgets = config.budgets
        start = trace.marks.get("route", time.monotonic())
        filler_at = start + budgets.llm_first_token_ms / 1000
        filler = [_Aside(p) for p in split_pieces(config.reply.filler)] if budgets.llm_filler else []
        # Only time spent waiting on the model counts against the hard limit, not time the
        # answer waits for the speaker (a long answer read out live is not a slow model).
        allowance = budgets.llm_hard_limit_ms / 1000
        chunker = SentenceChunker()
        prompt = Prompt(config.llm.system_prompt, text, self.conversation.recent())
        if ahead is not None and ahead.prompt == prompt:
            # Started while the endpointer was still confirming the end: its first words may
            # be there already.
            stream = ahead.take()
            result.answered_ahead = True
            self.runtime.metrics.answers_ahead["used"] += 1
            result.degraded.extend(ahead.notes)
        else:
            if ahead is not None:
                await ahead.cancel()  # another request came in between: the model is needed here
            stream = answerer.decide(prompt, result.degraded)
        pending: asyncio.Future[LlmEvent | None] | None = None
        answered = False  # a piece of the answer (not the filler) has been handed on
        cut = False
        request: ToolRequest | None = None
        failure: str | None = None
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(anext(stream, None))
                waited_from = time.monotonic()
                filler_due = bool(filler) and not answered and filler_at - waited_from < allowance
                timeout = max(0.0, filler_at - waited_from) if filler_due else allowance
                done, _ = await asyncio.wait({pending}, timeout=timeout)
                allowance -= time.monotonic() - waited_from
                if not done:
                    if not filler_due:
                        cut = True
                        break
                    # Generation goes on behind the filler; its audio comes from the phrase cache.
                    result.degraded.append("filler")
                    for aside in filler:
                        yield aside
                    filler = []
                    continue
                finished, pending = pending, None
                try:
                    event = finished.result()  # other errors from the model end the turn as a failure
                except LlmUnavailable as exc:
                    log.warning("no language model can answer: %s", exc)
                    result.degraded.append("llm_unavailable")
                    failure = config.reply.llm_unavailable
                    break
                except AnswerLost as exc:
                    log.warning("the remote model failed mid-answer: %s", exc)
                    failure = config.reply.llm_lost
                    break
                except DecisionError as exc:
                    log.warning("the model's decision could not be read: %s", exc)
                    result.degraded.append("tool_rejected")
                    failure = config.reply.tool_error
                    break
                if event is None:
                    break
                trace.mark("llm_first_token")
                if isinstance(event, ToolRequest):
                    request = event
                    continue
                for piece in chunker.push(event.text):
                    answered = True
                    yield piece
            if cut:
                log.warning(
                    "LLM answer cut off after waiting %d ms on the model (budgets.llm_hard_limit_ms)",
                    budgets.llm_hard_limit_ms,
                )
                # Stop the model before speaking so its thread is free for the next turn.
                assert pending is not None
                await _cancel_and_wait(pending)
                pending = None
                await stream.aclose()
                result.degraded.append("llm_cancelled")
                for piece in split_pieces(config.reply.too_slow):
                    yield piece
                return
        finally:
            if pending is not None:
                await _cancel_and_wait(pending)
            await stream.aclose()
        for piece in chunker.flush():
            yield piece
        if failure is not None:
            for piece in split_pieces(failure):
                yield piece
            return
        if request is not None:
            async for piece in self._tool_reply(request, prompt, result):
                yield piece

    async def _tool_reply(
        self, request: ToolRequest, prompt: Prompt, result: TurnResult
    ) -> AsyncGenerator[str, None]:
        """Check the model's tool call like a spoken command's slots, run it, say its reply."""
        answerer = self.runtime.answerer
        assert answerer is not None
        config = self.runtime.config
        try:
            intent, tool = answerer.tools.resolve(request.name, request.arguments, self.runtime.now())
        except ToolCallError as exc:
            # Nothing ran: an unknown tool or bad arguments never reach a handler.
            log.warning("rejected the model's tool call %s %s: %s", request.name, request.arguments, exc)
            result.degraded.append("tool_rejected")
            for piece in split_pieces(config.reply.tool_error):
                yield piece
            return
        result.skill, result.action, result.slots = intent.skill, intent.action, dict(intent.slots)
        result.tool_call = request
        reply = await self._run_skill(tool.spec, intent)
        result.follow_up = reply.follow_up
        text = reply.text
        if config.llm.phrase_tool_results and text:
            text = await self._phrase(prompt, request, text) or text
        if reply.sound:
            await self.sink.play(load_sound(reply.sound))
        for piece in split_pieces(text):
            yield piece

    async def _phrase(self, prompt: Prompt, request: ToolRequest, outcome: str) -> str:
        """Ask the model to say a tool's outcome in its own words (llm.phrase_tool_results)."""
        answerer = self.runtime.answerer
        assert answerer is not None
        history = (*prompt.history, Exchange(prompt.user, outcome, request))
        ask = Prompt(prompt.system, f"The tool said: {outcome} Tell me that in one short sentence.", history)
        words: list[str] = []
        try:
            async with contextlib.aclosing(answerer.decide(ask, [])) as events:
                async for event in events:
                    if not isinstance(event, ToolRequest):
                        words.append(event.text)
        except Exception:
            log.exception("phrasing the tool's result failed; saying the skill's reply")
            return ""
        return "".join(words).strip()

    async def _speak(
        self,
        pieces: AsyncGenerator[str, None],
        trace: Trace,
        cap_s: float | None = None,
        result: TurnResult | None = None,
    ) -> str:
        """Synthesize and play pieces as they come, while later ones are still being produced;
        past ``cap_s`` seconds of audio the rest is neither synthesized nor said."""
        queue: asyncio.Queue[str | None] = asyncio.Queue(maxsize=_SPEAK_QUEUE)
        spoken: list[str] = []
        capped = False

        async def produce() -> None:
            # aclosing: when speaking fails or is capped, the producer (an LLM stream) must stop
            # now, not whenever the garbage collector finalizes it.
            async with contextlib.aclosing(pieces):
                async for piece in pieces:
                    if capped:
                        break
                    if not isinstance(piece, _Aside):
                        trace.mark("first_reply_text")
                    await queue.put(piece)
            # Not in a finally: after a failure the task group cancels the consumer, and waiting
            # for room in a full queue nobody reads any more would hang the turn.
            await queue.put(None)

        async def consume() -> None:
            nonlocal capped
            tts = self.runtime.tts
            said_s = 0.0
            while (piece := await queue.get()) is not None:
                if capped:
                    continue  # drain what was queued so the producer can finish
                audio = await tts.synthesize(piece)
                started = await self.sink.play(audio)
                if not isinstance(piece, _Aside):
                    trace.mark("first_audio_out", started)
                spoken.append(piece)
                said_s += audio.duration_s
                if cap_s is not None and said_s >= cap_s:
                    capped = True
                    log.info("answer capped after %.1f s of speech (llm.max_spoken_s)", said_s)
                    if result is not None:
                        result.degraded.append("capped")

        async with asyncio.TaskGroup() as group:
            group.create_task(produce())
            group.create_task(consume())
        await self.sink.drain()
        return " ".join(spoken)

    async def _fail(self, result: TurnResult, trace: Trace, exc: BaseException) -> TurnResult:
        # Stages run in task groups; name the failure itself, not the group around it.
        while isinstance(exc, BaseExceptionGroup) and len(exc.exceptions) == 1:
            exc = exc.exceptions[0]
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
        budgets = self.runtime.config.budgets
        over = trace.over_budget(budgets)
        result.budget_exceeded = list(over)
        metrics = self.runtime.metrics
        metrics.count_turn(result.route, over, result.degraded, failed=result.error is not None)
        if result.route == "llm" and result.error is None and "skills_only" not in result.degraded:
            # An answer cut off before its first token was slower than the first-token budget
            # too, though the trace has no first-token time to compare.
            cut_early = (
                "llm_cancelled" in result.degraded
                and "llm_first_token" not in result.timings_ms
                and budgets.llm_hard_limit_ms >= budgets.llm_first_token_ms
            )
            slow = "llm_first_token" in over or cut_early
            if self.runtime.skills_only.record(slow, budgets):
                metrics.skills_only_switches += 1
        _log_turn(self.name, result, over)
        return result


async def _within(seconds: float, handler: Awaitable[Reply]) -> Reply:
    """A skill handler's reply, or TimeoutError past ``seconds``."""
    async with asyncio.timeout(seconds):
        return await handler


async def _pieces_of(text: str) -> AsyncGenerator[str, None]:
    for piece in split_pieces(text):
        yield piece


async def _cancel_and_wait(task: asyncio.Future[Any]) -> None:
    """Cancel ``task`` and wait until it has ended; a cancellation of our own still propagates."""
    task.cancel()
    await asyncio.wait({task})
    if not task.cancelled() and task.exception() is not None:
        # It failed just as it was being cancelled; nothing else will read the error.
        log.warning("LLM stream failed while being cancelled: %r", task.exception())


def _log_turn(session: str, result: TurnResult, over: dict[str, float]) -> None:
    timings = " ".join(f"{k}={v:.0f}ms" for k, v in result.timings_ms.items())
    target = f" {result.skill}.{result.action}" if result.skill else ""
    degraded = f" degraded={','.join(result.degraded)}" if result.degraded else ""
    turn_log.info(
        "turn session=%s route=%s%s %s%s transcript=%r",
        session,
        result.route,
        target,
        timings,
        degraded,
        result.transcript,
        extra={"turn": result.to_json(), "session": session},
    )
    for stage, by in over.items():
        took = result.timings_ms[stage]
        turn_log.warning("turn over budget: %s took %.0f ms, %.0f ms over its budget", stage, took, by)
