"""The public skill plugin API: everything a skill may import from the assistant."""

from __future__ import annotations

from assistant.skill.api import (
    Alerts,
    Held,
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
from assistant.skill.phrasing import (
    next_wall_time,
    spoken_clock,
    spoken_day,
    spoken_list,
    spoken_weekdays,
    wall_time,
    wall_zone,
)
from assistant.understand.slots import format_duration, parse_duration, parse_number

__all__ = [
    "Alerts",
    "Held",
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
    "next_wall_time",
    "parse_duration",
    "parse_number",
    "spoken_clock",
    "spoken_day",
    "spoken_list",
    "spoken_weekdays",
    "wall_time",
    "wall_zone",
]
