"""Answering ahead: the model starts on the transcript of a pause, before the utterance has ended.

When someone pauses after a question, the speech so far is recognised at once (speculatively).
If that transcript is not a skill command, the language model starts deciding on it while the
endpointer still waits to be sure they have finished. If they have, the turn takes the decision
in progress, with whatever the model has produced already; if they go on talking, the decision
is cancelled. Nothing it produces is acted on or said before the turn takes it: a tool the model
asks for runs only then, after the same checks as always.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator
from typing import cast

from assistant.llm.decision import LlmEvent
from assistant.llm.prompt import Prompt

log = logging.getLogger(__name__)

MAX_EVENTS = 512
"""Events held for the turn to take; the model waits when this many are unread (llm.max_tokens
bounds a decision anyway: one event per generated piece)."""

_DONE = object()


class Prefetch:
    """One decision started ahead of its turn; ``take()`` hands its events to the turn."""

    def __init__(self, prompt: Prompt, events: AsyncGenerator[LlmEvent, None], notes: list[str]) -> None:
        self.prompt = prompt
        self.notes = notes
        """Degrade steps the answerer takes ("cached", "remote_down"), for the turn's result."""
        self._queue: asyncio.Queue[object] = asyncio.Queue(MAX_EVENTS)
        # Owned here: cancel() or the consumer of take() ends it and waits for it.
        self._task = asyncio.create_task(self._run(events), name="llm-prefetch")
        self.taken = False

    async def _run(self, events: AsyncGenerator[LlmEvent, None]) -> None:
        try:
            async with contextlib.aclosing(events):
                async for event in events:
                    await self._queue.put(event)
        except Exception as exc:
            # Handed to the turn, which reports it as if it had asked itself.
            await self._queue.put(exc)
            return
        await self._queue.put(_DONE)

    def take(self) -> AsyncGenerator[LlmEvent, None]:
        """The decision's events, those produced already first; closing them stops the model."""
        self.taken = True
        return self._events()

    async def _events(self) -> AsyncGenerator[LlmEvent, None]:
        try:
            while True:
                item = await self._queue.get()
                if item is _DONE:
                    return
                if isinstance(item, Exception):
                    raise item
                yield cast(LlmEvent, item)
        finally:
            await self.cancel()

    async def cancel(self) -> None:
        """Stop the model (between tokens) and wait until it has stopped."""
        task = self._task
        if task.done():
            return
        task.cancel()
        await asyncio.wait({task})

    def discard(self) -> None:
        """Cancel without waiting (from a callback); the task ends on its own shortly."""
        if not self._task.done():
            self._task.cancel()
            self._task.add_done_callback(_log_failure)


def _log_failure(task: asyncio.Task[None]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.warning("an answer started ahead failed while being dropped: %r", task.exception())
