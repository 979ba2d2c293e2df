"""The router: a template match goes straight to its skill; anything else goes to the LLM."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Literal

from assistant.frames import Intent
from assistant.skill.api import IntentSpec
from assistant.understand.intents import IntentMatcher

Route = Literal["skill", "llm", "none"]


@dataclass(frozen=True)
class Decision:
    """Where a transcript goes."""

    route: Route
    intent: Intent | None = None
    spec: IntentSpec | None = None


class Router:
    """Chooses between the fast skill path and the language model."""

    def __init__(self, matcher: IntentMatcher, llm_available: bool = True) -> None:
        self.matcher = matcher
        self.llm_available = llm_available

    def route(self, text: str, now: dt.datetime | None = None) -> Decision:
        """Decide where ``text`` goes: a skill when a template matches, else the LLM.

        ``now`` anchors relative times in slots (default: the local time).
        """
        if not text.strip():
            return Decision("none")
        match = self.matcher.match(text, now)
        if match is not None:
            return Decision("skill", match.intent, match.spec)
        return Decision("llm" if self.llm_available else "none")
