"""Finding skills: every package registered under the ``hearkend.skills`` entry-point group."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from importlib.metadata import entry_points

from assistant.skill.api import Skill

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "hearkend.skills"


@dataclass
class SkillSet:
    """The loaded skills, and the ones that failed with why."""

    skills: dict[str, Skill] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


def _validate(skill: object, source: str) -> Skill:
    if not isinstance(skill, Skill):
        raise TypeError(f"{source} is a {type(skill).__name__}, not an assistant.skill.Skill")
    if not skill.intents:
        raise ValueError(f"skill {skill.name!r} declares no intents")
    seen: set[str] = set()
    for spec in skill.intents:
        if spec.name in seen:
            raise ValueError(f"skill {skill.name!r} declares intent {spec.name!r} twice")
        seen.add(spec.name)
        if not spec.sentences:
            raise ValueError(f"intent {skill.name}.{spec.name} has no sentences")
    # Compile the skill's templates on their own, so one bad sentence fails only its skill.
    from assistant.understand.intents import IntentMatcher

    try:
        IntentMatcher([skill])
    except Exception as exc:
        raise ValueError(f"skill {skill.name!r} has an invalid sentence template: {exc}") from None
    return skill


def load_skills(enabled: set[str] | None = None) -> SkillSet:
    """Import every registered skill; one that fails is reported and skipped, the rest load."""
    result = SkillSet()
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        if enabled is not None and ep.name not in enabled:
            continue
        try:
            skill = _validate(ep.load(), f"{ep.value}")
        except Exception as exc:
            result.failed[ep.name] = f"{type(exc).__name__}: {exc}"
            log.error("skill %s (%s) skipped: %s", ep.name, ep.value, exc)
            continue
        if skill.name in result.skills:
            result.failed[ep.name] = f"another skill is already named {skill.name!r}"
            continue
        result.skills[skill.name] = skill
    return result
