"""Per-turn traces: monotonic timestamps, the stage durations derived from them, and budgets."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from assistant.config import BudgetsConfig

MARKS = (
    "speech_start",
    "last_voiced",
    "endpoint",
    "asr_final",
    "route",
    "llm_first_token",
    "first_reply_text",
    "first_audio_out",
    "done",
)

# stage name → (from mark, to mark); the names match the budgets' keys without "_ms".
STAGES: dict[str, tuple[str, str]] = {
    "endpoint": ("last_voiced", "endpoint"),
    "asr": ("endpoint", "asr_final"),
    "understand": ("asr_final", "route"),
    "llm_first_token": ("route", "llm_first_token"),
    "tts_first_audio": ("first_reply_text", "first_audio_out"),
    "voice_to_voice": ("last_voiced", "first_audio_out"),
}


@dataclass
class Trace:
    """The timestamps of one turn; a mark is set once, the first time it happens."""

    marks: dict[str, float] = field(default_factory=dict)

    def mark(self, name: str, t: float | None = None) -> None:
        """Record when ``name`` happened (now unless ``t`` is given); later calls are ignored."""
        if name not in MARKS:
            raise ValueError(f"unknown trace mark {name!r}")
        self.marks.setdefault(name, time.monotonic() if t is None else t)

    def durations_ms(self) -> dict[str, float]:
        """Stage durations in milliseconds, for the stages whose two marks are both set."""
        out: dict[str, float] = {}
        for stage, (start, end) in STAGES.items():
            if start in self.marks and end in self.marks:
                out[stage] = round((self.marks[end] - self.marks[start]) * 1000, 1)
        return out

    def over_budget(self, budgets: BudgetsConfig) -> dict[str, float]:
        """Stages that took longer than their budget, with how many milliseconds over."""
        over: dict[str, float] = {}
        for stage, took in self.durations_ms().items():
            limit = getattr(budgets, f"{stage}_ms")
            if took > limit:
                over[stage] = round(took - limit, 1)
        return over
