"""The phrase cache: synthesized audio of short, repeated replies, kept within a byte bound."""

from __future__ import annotations

from collections import OrderedDict
from typing import NamedTuple

from assistant.metrics import CacheCounters

MAX_CACHED_CHARS = 60
"""Longest reply piece worth caching: short pieces ("Paused.", "Timer set for 5 minutes.") repeat,
long ones (LLM sentences) almost never do and would only push the short ones out."""


class PhraseKey(NamedTuple):
    """What decides the audio: the same text in another voice or pace is another entry."""

    voice: str
    length_scale: float
    text: str


class _Entry(NamedTuple):
    pcm: bytes
    pinned: bool


class PhraseCache:
    """Least-recently-used audio by phrase, bounded by total bytes; pinned entries are never evicted.

    Used only from the event loop's thread (lookups are a dict access, cheap enough for the loop).
    """

    def __init__(self, max_bytes: int, counters: CacheCounters | None = None) -> None:
        self.max_bytes = max_bytes
        self.counters = counters if counters is not None else CacheCounters()
        self._entries: OrderedDict[PhraseKey, _Entry] = OrderedDict()
        self._bytes = 0
        self._update_gauges()

    @property
    def hits(self) -> int:
        """Lookups answered from the cache."""
        return self.counters.hits

    @property
    def misses(self) -> int:
        """Lookups that found nothing."""
        return self.counters.misses

    @property
    def size_bytes(self) -> int:
        """Bytes of audio held now."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def get(self, key: PhraseKey) -> bytes | None:
        """The cached audio for ``key`` (now the most recently used), or None; counts a hit or miss."""
        entry = self._entries.get(key)
        if entry is None:
            self.counters.misses += 1
            return None
        self._entries.move_to_end(key)
        self.counters.hits += 1
        return entry.pcm

    def put(self, key: PhraseKey, pcm: bytes, *, pinned: bool = False) -> bool:
        """Keep ``pcm`` for ``key``, evicting the least recently used; False when it does not fit."""
        if len(pcm) > self.max_bytes:
            return False
        old = self._entries.pop(key, None)
        if old is not None:
            self._bytes -= len(old.pcm)
            pinned = pinned or old.pinned
        self._entries[key] = _Entry(pcm, pinned)
        self._bytes += len(pcm)
        self._evict()
        self._update_gauges()
        return key in self._entries

    def forget_learned(self) -> None:
        """Drop every phrase cached along the way; the pinned ones (warmed at start) stay."""
        for key in [k for k, e in self._entries.items() if not e.pinned]:
            self._bytes -= len(self._entries.pop(key).pcm)
        self._update_gauges()

    def _evict(self) -> None:
        if self._bytes <= self.max_bytes:
            return
        # Oldest first; pinned phrases (filler, failure lines) stay so they never cost synthesis.
        for key in [k for k, e in self._entries.items() if not e.pinned]:
            if self._bytes <= self.max_bytes:
                break
            entry = self._entries.pop(key)
            self._bytes -= len(entry.pcm)
            self.counters.evictions += 1

    def _update_gauges(self) -> None:
        self.counters.entries = len(self._entries)
        self.counters.bytes = self._bytes
