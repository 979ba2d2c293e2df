"""Counters of what turns did: plain numbers, read by whatever exports them (status, /metrics)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class CacheCounters:
    """What a cache has done since start; the cache updates these as it works."""

    hits: int = 0
    """Lookups answered from the cache."""
    misses: int = 0
    """Lookups that had to do the work."""
    evictions: int = 0
    """Entries dropped to stay within the byte bound."""
    entries: int = 0
    """Entries held now."""
    bytes: int = 0
    """Bytes held now."""

    def snapshot(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return {
            "hits": self.hits,
            "misses": self.misses,
            "evictions": self.evictions,
            "entries": self.entries,
            "bytes": self.bytes,
        }


@dataclass
class PromptCounters:
    """How much of its prompts the local model evaluated, and how much state it reused."""

    requests: int = 0
    """Generations whose prompt was measured."""
    evaluated: int = 0
    """Prompt tokens evaluated, summed."""
    reused: int = 0
    """Prompt tokens whose state was already there (the cached system prompt and tools), summed."""
    last_evaluated: int = 0
    """Prompt tokens the latest generation evaluated."""
    last_reused: int = 0
    """Prompt tokens the latest generation reused."""

    def count(self, evaluated: int, prompt_tokens: int) -> None:
        """Record one generation's prompt: ``evaluated`` of its ``prompt_tokens`` were new."""
        self.requests += 1
        self.last_evaluated = evaluated
        self.last_reused = max(0, prompt_tokens - evaluated)
        self.evaluated += evaluated
        self.reused += self.last_reused

    def snapshot(self) -> dict[str, int]:
        """The counters as a plain dict."""
        return {
            "requests": self.requests,
            "evaluated": self.evaluated,
            "reused": self.reused,
            "last_evaluated": self.last_evaluated,
            "last_reused": self.last_reused,
        }


@dataclass
class Metrics:
    """Counters shared by every session of one runtime; only the event loop's thread changes them."""

    turns: Counter[str] = field(default_factory=Counter)
    """Finished turns by route (skill, llm, none)."""
    over_budget: Counter[str] = field(default_factory=Counter)
    """Turns over each stage's budget, by stage."""
    degraded: Counter[str] = field(default_factory=Counter)
    """Turns in which each degrade action ran (filler, llm_cancelled, skills_only)."""
    failures: int = 0
    """Turns that failed with an error."""
    skills_only_switches: int = 0
    """Times the LLM was switched off for being slow."""
    barge_ins: int = 0
    """Answers cut off by the wake word (barge-in)."""
    tts_cache: CacheCounters = field(default_factory=CacheCounters)
    """The TTS phrase cache's own counters (it updates them)."""
    response_cache: CacheCounters = field(default_factory=CacheCounters)
    """The LLM response cache's own counters (it updates them)."""
    llm_prompt: PromptCounters = field(default_factory=PromptCounters)
    """Prompt tokens the local model evaluated and reused (it updates them)."""
    answers_ahead: Counter[str] = field(default_factory=Counter)
    """Decisions started on the transcript of a pause (llm.answer_ahead): started, used (the turn
    took it), dropped (the person went on, or the turn turned out different)."""

    def count_turn(
        self, route: str, over_budget: Iterable[str], degraded: Iterable[str], *, failed: bool
    ) -> None:
        """Count one finished turn."""
        self.turns[route] += 1
        for stage in over_budget:
            self.over_budget[stage] += 1
        for action in degraded:
            self.degraded[action] += 1
        if failed:
            self.failures += 1

    def snapshot(self) -> dict[str, Any]:
        """Every counter as plain JSON-ready data (a copy: later turns do not change it)."""
        return {
            "turns": dict(self.turns),
            "over_budget": dict(self.over_budget),
            "degraded": dict(self.degraded),
            "failures": self.failures,
            "skills_only_switches": self.skills_only_switches,
            "barge_ins": self.barge_ins,
            "tts_cache": self.tts_cache.snapshot(),
            "response_cache": self.response_cache.snapshot(),
            "llm_prompt": self.llm_prompt.snapshot(),
            "answers_ahead": dict(self.answers_ahead),
        }
