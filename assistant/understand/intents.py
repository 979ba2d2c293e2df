"""The fast path: hassil templates from every skill's declarations, matched in microseconds."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from hassil import Intents, recognize_best

from assistant.frames import Intent
from assistant.skill.api import IntentSpec, Skill

_SEPARATOR = "."


@dataclass(frozen=True)
class Match:
    """A template match: the intent and its raw slot values."""

    intent: Intent
    spec: IntentSpec


def normalize(text: str) -> str:
    """Lower-case, drop punctuation that ASR adds, collapse spaces."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s':-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


class IntentMatcher:
    """Matches text against the sentence templates of all loaded skills."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        self._specs: dict[str, tuple[str, IntentSpec]] = {}
        intents: dict[str, Any] = {}
        lists: dict[str, Any] = {}
        for skill in skills:
            for spec in skill.intents:
                key = f"{skill.name}{_SEPARATOR}{spec.name}"
                self._specs[key] = (skill.name, spec)
                intents[key] = {"data": [{"sentences": list(spec.sentences)}]}
                lists.update(spec.lists)
        self._intents = Intents.from_dict({"language": "en", "intents": intents, "lists": lists})

    def match(self, text: str) -> Match | None:
        """The best matching intent for ``text``, or None when no template covers it."""
        cleaned = normalize(text)
        if not cleaned:
            return None
        result = recognize_best(cleaned, self._intents)
        if result is None:
            return None
        skill_name, spec = self._specs[result.intent.name]
        slots = {name: entity.value for name, entity in result.entities.items()}
        return Match(Intent(skill=skill_name, action=spec.name, slots=slots), spec)
