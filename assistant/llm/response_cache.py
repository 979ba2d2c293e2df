"""Answers to repeated questions, kept for a while so the model is not asked twice."""

from __future__ import annotations

import re
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from assistant.llm.decision import ToolRequest
from assistant.metrics import CacheCounters
from assistant.understand.intents import normalize_text

_CONTRACTIONS = [
    (re.compile(r"\b(what|who|where|when|how|that|there|it|he|she)'s\b"), r"\1 is"),
    (re.compile(r"\bcan't\b"), "can not"),
    (re.compile(r"\bwon't\b"), "will not"),
    (re.compile(r"n't\b"), " not"),
    (re.compile(r"'re\b"), " are"),
    (re.compile(r"'m\b"), " am"),
    (re.compile(r"'ll\b"), " will"),
]


@dataclass(frozen=True)
class CachedDecision:
    """What the model decided last time: an answer's text, or a tool call to run again."""

    answer: str = ""
    tool: ToolRequest | None = None


class ResponseCache:
    """Normalized request → decision, bounded in entries, each valid for ``ttl_s`` seconds."""

    def __init__(
        self,
        max_entries: int,
        ttl_s: float,
        counters: CacheCounters | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.ttl_s = ttl_s
        self.counters = counters or CacheCounters()
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, CachedDecision]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        """False when configured off (no entries or no lifetime)."""
        return self.max_entries > 0 and self.ttl_s > 0

    @staticmethod
    def key(text: str) -> str:
        """The form requests are compared in: case, punctuation, fillers and contractions do not
        matter ("What's…?" and "what is …" are one question)."""
        words = normalize_text(text)
        for pattern, full in _CONTRACTIONS:
            words = pattern.sub(full, words)
        return words

    def get(self, text: str) -> CachedDecision | None:
        """The decision stored for this request while it is fresh; counts a hit or a miss."""
        if not self.enabled:
            return None
        key = self.key(text)
        found = self._entries.get(key)
        if found is not None and self._clock() - found[0] > self.ttl_s:
            del self._entries[key]
            found = None
        if found is None:
            self.counters.misses += 1
            self._update_size()
            return None
        self._entries.move_to_end(key)
        self.counters.hits += 1
        return found[1]

    def put(self, text: str, decision: CachedDecision) -> None:
        """Store a decision, dropping the least recently used past the bound."""
        if not self.enabled or not self.key(text):
            return
        self._entries[self.key(text)] = (self._clock(), decision)
        self._entries.move_to_end(self.key(text))
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
            self.counters.evictions += 1
        self._update_size()

    def clear(self) -> None:
        """Forget every answer (something changed that answers may depend on)."""
        self._entries.clear()
        self._update_size()

    def _update_size(self) -> None:
        self.counters.entries = len(self._entries)
        self.counters.bytes = sum(
            len(k) + len(d.answer) + (len(str(d.tool)) if d.tool else 0)
            for k, (_, d) in self._entries.items()
        )
