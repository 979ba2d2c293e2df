"""Speaking unprompted: announcements queued for the speaker, and alerts that ring until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Speaker = Callable[[str, str | None], Awaitable[None]]


@dataclass(frozen=True)
class Announcement:
    """One thing to say, with an optional sound before it."""

    text: str
    sound: str | None = None
    key: str | None = None
    """The ringing alert it belongs to, if any (so stopping it drops what is queued)."""


class AlertService:
    """Queues announcements for whoever speaks them, and rings alerts on a schedule."""

    def __init__(self, maxsize: int = 16) -> None:
        self.queue: asyncio.Queue[Announcement] = asyncio.Queue(maxsize=maxsize)
        self.dropped = 0
        self.announced = 0
        self.cut = 0
        """Announcements cut off by a barge-in (the session that spoke them counts them)."""
        self._rings: dict[str, asyncio.Task[None]] = {}
        self.hushes = 0
        """Barge-ins (the wake word) that hushed the announcements."""
        self._waits: set[asyncio.Event] = set()
        """Set by hush(): ringing alerts then wait a full interval again, the speaker its hold."""
        self._quiet_until = float("-inf")
        """Loop time until which no announcement starts (a person has the floor)."""

    async def announce(self, text: str, *, sound: str | None = None) -> None:
        """Say ``text`` (after ``sound``) as soon as the assistant is free."""
        self._enqueue(Announcement(text, sound))

    def _enqueue(self, item: Announcement) -> None:
        log.info("announce: %s", item.text, extra={"announcement": item.text, "sound": item.sound})
        try:
            self.queue.put_nowait(item)
        except asyncio.QueueFull:
            self.dropped += 1
            log.warning("announcement queue full; dropped %r", item.text)

    async def ring(
        self, key: str, text: str, *, sound: str = "alarm", every_s: float = 10, limit: int = 6
    ) -> None:
        """Play ``sound`` and say ``text`` every ``every_s`` s until stopped, at most ``limit`` times."""
        await self.stop(key)
        self._rings[key] = asyncio.create_task(
            self._ring(key, text, sound, every_s, limit), name=f"ring:{key}"
        )

    async def _ring(self, key: str, text: str, sound: str, every_s: float, limit: int) -> None:
        try:
            for _ in range(max(1, limit)):
                self._enqueue(Announcement(text, sound, key))
                await self._interval(every_s)
        finally:
            if self._rings.get(key) is asyncio.current_task():
                del self._rings[key]

    async def _interval(self, every_s: float) -> None:
        """Wait ``every_s`` seconds, counted again from each hush() meanwhile."""
        hushed = asyncio.Event()
        self._waits.add(hushed)
        try:
            while True:
                try:
                    async with asyncio.timeout(every_s):
                        await hushed.wait()
                except TimeoutError:
                    return
                hushed.clear()
        finally:
            self._waits.discard(hushed)

    async def stop(self, key: str | None = None) -> list[str]:
        """Stop one ringing alert, or all; what they had queued is dropped too."""
        keys = [key] if key is not None else list(self._rings)
        stopped = []
        for k in keys:
            task = self._rings.pop(k, None)
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
                stopped.append(k)
        if stopped:
            self._drop_queued(set(stopped))
        return stopped

    def hush(self, hold_s: float = 0.0) -> None:
        """Barge-in (the wake word): drop the repeats that ringing alerts have queued, start their
        intervals again, and start no announcement for ``hold_s``, so the command said now is
        heard. Ringing alerts still ring, and "stop" or "snooze" still finds them ringing;
        announcements of anything else stay queued and are said after the hold."""
        self.hushes += 1
        self._quiet_until = max(self._quiet_until, asyncio.get_running_loop().time() + hold_s)
        for hushed in self._waits:
            hushed.set()
        if self._rings:
            self._drop_queued(set(self._rings))

    async def _quiet(self) -> None:
        """Wait out the hold of the latest hush()."""
        loop = asyncio.get_running_loop()
        hushed = asyncio.Event()
        self._waits.add(hushed)
        try:
            while (wait := self._quiet_until - loop.time()) > 0:
                hushed.clear()
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(wait):
                        await hushed.wait()
        finally:
            self._waits.discard(hushed)

    def _drop_queued(self, keys: set[str]) -> None:
        kept = []
        while not self.queue.empty():
            item = self.queue.get_nowait()
            if item.key not in keys:
                kept.append(item)
        for item in kept:
            self.queue.put_nowait(item)

    def ringing(self) -> list[str]:
        """Keys of the alerts ringing now."""
        return sorted(self._rings)

    async def speak_forever(self, speaker: Speaker) -> None:
        """Hand every announcement to ``speaker``, one at a time, until cancelled."""
        while True:
            item = await self.queue.get()
            hushes = self.hushes
            await self._quiet()
            if self.hushes != hushes and item.key in self._rings:
                continue  # its ring was hushed while it waited: the next repeat comes in its time
            try:
                await speaker(item.text, item.sound)
                self.announced += 1
            except Exception:
                log.exception("could not speak announcement %r", item.text)

    async def aclose(self) -> None:
        """Stop every ringing alert."""
        await self.stop()
