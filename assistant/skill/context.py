"""The core's implementations behind a handler's context: store, music stand-in, HTTP clients."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

import aiohttp

from assistant.store import KeyValueStore

log = logging.getLogger(__name__)


class SkillKeyValues:
    """One skill's namespace of the state database (``ctx.store``)."""

    def __init__(self, store: KeyValueStore, skill: str) -> None:
        self._store = store
        self._ns = f"skill:{skill}"

    async def get(self, key: str, default: Any = None) -> Any:
        """The stored value, or ``default``."""
        return await asyncio.to_thread(self._store.get, self._ns, key, default)

    async def put(self, key: str, value: Any) -> None:
        """Store ``value`` durably, replacing what was there."""
        await asyncio.to_thread(self._store.put, self._ns, key, value)

    async def delete(self, key: str) -> bool:
        """Remove a key; True when it existed."""
        return await asyncio.to_thread(self._store.delete, self._ns, key)

    async def items(self) -> dict[str, Any]:
        """Every key and value of this skill."""
        return await asyncio.to_thread(self._store.items, self._ns)


class DetachedMusic:
    """The music channel of a one-shot command: it keeps the state a skill sets, plays nothing.

    Music plays only where an output lives on (``assistant run``); ``ask`` and ``process`` answer
    and exit.
    """

    def __init__(self) -> None:
        self.on_end: Callable[[Any], object] | None = None
        self._volume = 50
        self._state = "stopped"

    async def play(self, chunks: Any, *, sample_rate: int | None = None) -> int:
        """Remember that music was asked for; close the source unread."""
        close = getattr(chunks, "close", None)
        if callable(close):
            close()
        self._state = "playing"
        log.info("music plays only in the running daemon (assistant run); not played here")
        return 0

    def pause(self) -> None:
        """Pause (state only)."""
        if self._state == "playing":
            self._state = "paused"

    def resume(self) -> None:
        """Resume (state only)."""
        if self._state == "paused":
            self._state = "playing"

    async def stop(self) -> None:
        """Stop (state only)."""
        self._state = "stopped"

    def set_volume(self, volume: int) -> None:
        """Set the volume, 0–100."""
        self._volume = min(100, max(0, int(volume)))

    @property
    def volume(self) -> int:
        """The volume, 0–100."""
        return self._volume

    @property
    def is_playing(self) -> bool:
        """True after play until pause or stop."""
        return self._state == "playing"

    @property
    def is_paused(self) -> bool:
        """True while paused."""
        return self._state == "paused"


class HttpClients:
    """One aiohttp session per event loop, created on first use, closed together."""

    def __init__(self, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._sessions: dict[asyncio.AbstractEventLoop, aiohttp.ClientSession] = {}

    def get(self) -> aiohttp.ClientSession:
        """The session for the running loop."""
        loop = asyncio.get_running_loop()
        session = self._sessions.get(loop)
        if session is None or session.closed:
            session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self.timeout_s),
                headers={"User-Agent": "hearkend"},
            )
            self._sessions[loop] = session
        return session

    async def aclose(self) -> None:
        """Close the running loop's session (others belong to loops already gone)."""
        loop = asyncio.get_running_loop()
        session = self._sessions.pop(loop, None)
        if session is not None:
            await session.close()
        self._sessions.clear()
