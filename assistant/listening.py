"""Listening for utterances: VAD and endpointer, plus speculative recognition at every pause.

When the person pauses, the speech so far is transcribed at once on the ASR worker. If the
pause lasts long enough and that transcript is already a complete command, the turn ends there,
well before the ordinary end-of-speech silence; otherwise the listener keeps waiting. Either
way a transcript of exactly the final audio is handed on, so nothing is recognised twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Callable

from assistant.asr import Recognition, WhisperAsr
from assistant.frames import AudioChunk, SpeechEnded, SpeechStarted
from assistant.listen.endpoint import Endpointer
from assistant.listen.vad import Vad

log = logging.getLogger(__name__)

_END = object()


@dataclasses.dataclass
class _Speculation:
    """One speculative recognition of the utterance so far."""

    task: asyncio.Future[Recognition]
    """Recognition of the utterance up to the pause; stale once a voiced frame follows."""


class Listener:
    """Turns audio chunks into utterances, ending early on a complete command."""

    def __init__(
        self,
        vad: Vad,
        endpointer: Endpointer,
        asr: WhisperAsr | None,
        is_complete: Callable[[str], bool],
        *,
        partial_after_ms: int,
        complete_command_ms: int,
    ) -> None:
        self.vad = vad
        self.endpointer = endpointer
        self.asr = asr
        self.is_complete = is_complete
        self.partial_after_ms = partial_after_ms
        self.complete_command_ms = complete_command_ms
        self.last_frame_t = time.monotonic()
        """When the last audio frame arrived (the daemon's watchdog checks it)."""
        self.early_ends = 0
        """Utterances ended early on a complete command (shown by the bench and status)."""
        self._speculation: _Speculation | None = None

    async def utterances(self, source: AsyncIterable[AudioChunk]) -> AsyncGenerator[SpeechEnded, None]:
        """Yield each utterance heard in ``source``; the end of the source ends one in progress."""
        chunks = aiter(source)
        pending: asyncio.Future[object] | None = None
        last_t = time.monotonic()
        try:
            while True:
                if pending is None:
                    pending = asyncio.ensure_future(_next(chunks))
                spec = self._speculation
                waiting: set[asyncio.Future[object]] = {pending}
                if spec is not None and not spec.task.done():
                    # Whichever comes first: the next chunk, or the transcript of the pause.
                    waiting.add(spec.task)  # type: ignore[arg-type]
                await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
                if pending.done():
                    item = pending.result()
                    pending = None
                    if item is _END:
                        break
                    assert isinstance(item, AudioChunk)
                    last_t = item.t
                    ended = self._feed(item)
                    if ended is not None:
                        yield await self._with_transcript(ended)
                        continue
                early = self._early_end()
                if early is not None:
                    yield early
            tail = self.endpointer.end_now(last_t)
            if tail is not None:
                yield await self._with_transcript(tail)
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                    await pending
            await self._drop_speculation()

    def _feed(self, chunk: AudioChunk) -> SpeechEnded | None:
        self.last_frame_t = time.monotonic()
        voiced = self.vad.is_speech(chunk.pcm)
        event = self.endpointer.feed(chunk.pcm, voiced, chunk.t)
        if isinstance(event, SpeechStarted):
            self._forget_speculation()
            return None
        if isinstance(event, SpeechEnded):
            if event.truncated:
                log.warning(
                    "utterance reached the maximum length (%.1f s) and was cut",
                    self.endpointer.settings.max_utterance_s,
                )
            return event
        if not self.endpointer.in_speech:
            return None
        spec = self._speculation
        if voiced:
            if spec is not None:
                self._forget_speculation()  # they kept talking: that transcript is out of date
        elif (
            spec is None
            and self.asr is not None
            and self.partial_after_ms > 0
            and self.endpointer.silent_ms >= self.partial_after_ms
        ):
            audio = self.endpointer.snapshot()
            self._speculation = _Speculation(asyncio.ensure_future(self.asr.transcribe(audio)))
        return None

    def _early_end(self) -> SpeechEnded | None:
        spec = self._speculation
        if spec is None or not spec.task.done() or spec.task.cancelled():
            return None
        if self.endpointer.silent_ms < self.complete_command_ms:
            return None
        if spec.task.exception() is not None:
            return None
        heard = spec.task.result()
        if not heard.speech or not self._complete(heard.text):
            return None
        now = time.monotonic()
        ended = self.endpointer.end_now(now)
        self._speculation = None
        if ended is None:
            return None
        self.early_ends += 1
        return dataclasses.replace(ended, heard=heard.text, t_heard=now)

    def _complete(self, text: str) -> bool:
        try:
            return self.is_complete(text)
        except Exception:
            # Understanding failed: the turn will fail visibly later; listening goes on.
            log.exception("could not judge whether %r is a complete command", text)
            return False

    async def _with_transcript(self, ended: SpeechEnded) -> SpeechEnded:
        """Attach the speculative transcript when it covers exactly this utterance's words."""
        spec, self._speculation = self._speculation, None
        if spec is None:
            return ended
        try:
            heard = await spec.task
        except asyncio.CancelledError:
            current = asyncio.current_task()
            if current is not None and current.cancelling():
                raise  # we are being cancelled, not just the speculation
            return ended
        except Exception:
            log.exception("speculative recognition failed; recognising again")
            return ended
        if not heard.speech:
            return ended
        return dataclasses.replace(ended, heard=heard.text, t_heard=time.monotonic())

    def _forget_speculation(self) -> None:
        spec, self._speculation = self._speculation, None
        if spec is not None:
            spec.task.cancel()
            # The worker may still finish it; nobody waits for the result.
            spec.task.add_done_callback(_ignore_result)

    async def _drop_speculation(self) -> None:
        spec, self._speculation = self._speculation, None
        if spec is not None:
            spec.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await spec.task


async def _next(chunks: AsyncIterator[AudioChunk]) -> object:
    return await anext(chunks, _END)


def _ignore_result(task: asyncio.Future[Recognition]) -> None:
    if not task.cancelled():
        task.exception()
