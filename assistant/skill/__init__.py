"""The public skill plugin API: everything a skill may import from the assistant."""

from __future__ import annotations

from assistant.skill.api import (
    Alerts,
    IntentSpec,
    Job,
    MusicOutput,
    Reply,
    Skill,
    SkillContext,
    SkillScheduler,
    SkillStore,
    Slot,
)
from assistant.understand.slots import format_duration, parse_duration, parse_number

__all__ = [
    "Alerts",
    "IntentSpec",
    "Job",
    "MusicOutput",
    "Reply",
    "Skill",
    "SkillContext",
    "SkillScheduler",
    "SkillStore",
    "Slot",
    "format_duration",
    "parse_duration",
    "parse_number",
]
