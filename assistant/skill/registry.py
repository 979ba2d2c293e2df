"""Finding skills: every package registered under the ``hearkend.skills`` entry-point group."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import get_args

from assistant.skill.api import Skill, SlotKind

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
    kinds = set(get_args(SlotKind))
    for spec in skill.intents:
        if isinstance(spec.sentences, str) or not all(isinstance(x, str) for x in spec.sentences):
            raise ValueError(f"intent {skill.name}.{spec.name}: sentences must be a list of strings")
        for slot_name, slot in spec.slots.items():
            if not slot_name.isidentifier():
                raise ValueError(
                    f"intent {skill.name}.{spec.name}: slot name {slot_name!r} is not an identifier"
                )
            if slot.kind not in kinds:
                raise ValueError(
                    f"intent {skill.name}.{spec.name}: slot {slot_name!r} has unknown kind {slot.kind!r}; "
                    f"use one of {', '.join(sorted(kinds))}"
                )
            if slot.pattern is not None:
                if slot.kind != "text":
                    raise ValueError(
                        f"intent {skill.name}.{spec.name}: slot {slot_name!r} has a pattern, "
                        "which only a text slot may have"
                    )
                try:
                    re.compile(slot.pattern)
                except re.error as exc:
                    raise ValueError(
                        f"intent {skill.name}.{spec.name}: slot {slot_name!r} pattern is invalid: {exc}"
                    ) from None
            if slot.kind == "choice" and not slot.values:
                raise ValueError(
                    f"intent {skill.name}.{spec.name}: choice slot {slot_name!r} lists no values"
                )
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
