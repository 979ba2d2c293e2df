"""A short conversation memory, so that follow-ups ("and in Paris?") have something to follow."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from assistant.llm.prompt import Exchange


class Conversation:
    """The last few exchanges of one session, forgotten once older than the window."""

    def __init__(
        self, window_s: float, max_exchanges: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.window_s = window_s
        self.max_exchanges = max_exchanges
        self._clock = clock
        self._exchanges: deque[tuple[float, Exchange]] = deque(maxlen=max(1, max_exchanges))

    def add(self, exchange: Exchange) -> None:
        """Remember a finished exchange (the oldest is dropped past the bound)."""
        if self.max_exchanges > 0 and self.window_s > 0:
            self._exchanges.append((self._clock(), exchange))

    def recent(self) -> tuple[Exchange, ...]:
        """The exchanges still within the window, oldest first."""
        cutoff = self._clock() - self.window_s
        while self._exchanges and self._exchanges[0][0] < cutoff:
            self._exchanges.popleft()
        return tuple(exchange for _, exchange in self._exchanges)

    def clear(self) -> None:
        """Forget everything (a new conversation)."""
        self._exchanges.clear()
