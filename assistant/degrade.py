"""Skills-only mode: the LLM switched off for a while after too many slow answers in a row."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from assistant.config import BudgetsConfig

log = logging.getLogger(__name__)


@dataclass
class SkillsOnlySwitch:
    """Counts consecutive slow LLM turns and turns the LLM off for ``budgets.skills_only_s``.

    Shared by every session of a runtime: a slow model is slow for all of them.
    """

    slow_streak: int = 0
    """Consecutive LLM turns over the first-token budget so far."""
    until: float | None = None
    """Monotonic time skills-only mode ends; None while the LLM is in use."""

    def active(self, now: float | None = None) -> bool:
        """Whether unmatched text must get the skills-only reply instead of the LLM; ends by itself."""
        if self.until is None:
            return False
        if (time.monotonic() if now is None else now) < self.until:
            return True
        self.until = None
        log.info("skills-only period over; the LLM answers again")
        return False

    def record(self, slow: bool, budgets: BudgetsConfig, now: float | None = None) -> bool:
        """Count one answered LLM turn; True when it switched skills-only mode on."""
        if not slow:
            self.slow_streak = 0
            return False
        self.slow_streak += 1
        if budgets.skills_only_after == 0 or self.slow_streak < budgets.skills_only_after:
            return False
        self.slow_streak = 0
        self.until = (time.monotonic() if now is None else now) + budgets.skills_only_s
        log.warning(
            "%d LLM answers in a row over the %d ms first-token budget: skills only for %.0f s",
            budgets.skills_only_after,
            budgets.llm_first_token_ms,
            budgets.skills_only_s,
        )
        return True
