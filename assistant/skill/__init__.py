"""The public skill plugin API: everything a skill may import from the assistant."""

from __future__ import annotations

from assistant.skill.api import IntentSpec, Reply, Skill, SkillContext

__all__ = ["IntentSpec", "Reply", "Skill", "SkillContext"]
