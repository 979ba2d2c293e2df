"""The fast path: hassil templates from every skill's declarations, with typed, validated slots."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import jsonschema
from hassil import Intents, recognize_all

from assistant.frames import Intent
from assistant.skill.api import IntentSpec, Skill
from assistant.timezone import local_now
from assistant.understand.slot_types import hassil_list, normalize, parameters_schema

log = logging.getLogger(__name__)

_SLOT_REF = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Match:
    """A template match: the intent, its normalized slots and the declaration it came from."""

    intent: Intent
    spec: IntentSpec


@dataclass(frozen=True)
class _Entry:
    skill: str
    spec: IntentSpec
    validator: jsonschema.protocols.Validator


def normalize_text(text: str) -> str:
    """Lower-case, drop punctuation that ASR adds, collapse spaces."""
    text = text.lower().replace("’", "'")
    text = re.sub(r"[^\w\s':-]", " ", text)
    return re.sub(r"\s+", " ", text).strip()


# Hesitations carry no meaning anywhere in a command; recognizers write them out now and then.
_HESITATION = re.compile(r"(?<![\w'])(?:u+m+|u+h+|u+h+m+|e+r+m+|h+m+|m+h*m+)(?![\w'])")
# Openers and courtesies around a command: "hey, so, could you please ... thanks".
_OPENER = re.compile(
    r"^(?:(?:hey|hi|hello|ok|okay|so|well|oh|alright|all right|right|excuse me|sorry|and|now)\s+)+"
)
_ASKING = re.compile(r"^(?:(?:can|could|would|will) you\s+)?(?:please\s+|kindly\s+|just\s+)*")
_CLOSER = re.compile(r"(?:\s+(?:please|thanks|thank you|now please))+$")


def without_hesitations(text: str) -> str:
    """``text`` (normalized) without hesitation words: "set a um timer" → "set a timer"."""
    return re.sub(r"\s+", " ", _HESITATION.sub(" ", text)).strip()


def without_courtesies(text: str) -> str:
    """The command inside ``text`` (normalized): "hey could you please pause it thanks" → "pause it"."""
    core = _OPENER.sub("", text)
    core = _ASKING.sub("", core)
    core = _CLOSER.sub("", core)
    return core.strip() or text


def list_name(skill: str, intent: str, slot: str) -> str:
    """The hassil list behind one intent's slot; namespaced so skills never collide."""
    return f"{skill}__{intent}__{slot}"


def _whole_words(part: str, text: str) -> bool:
    """True when ``part`` occurs in ``text`` starting and ending at word boundaries."""
    part = part.strip()
    return bool(part) and re.search(rf"(?<![\w']){re.escape(part)}(?![\w'])", text) is not None


class IntentMatcher:
    """Matches text against the sentence templates of all loaded skills."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        self._entries: dict[str, _Entry] = {}
        intents: dict[str, Any] = {}
        lists: dict[str, Any] = {}
        for skill in skills:
            for spec in skill.intents:
                key = f"{skill.name}.{spec.name}"
                schema = parameters_schema(spec.slots)
                self._entries[key] = _Entry(skill.name, spec, jsonschema.Draft202012Validator(schema))
                sentences = [self._namespaced(skill.name, spec, s) for s in spec.sentences]
                intents[key] = {"data": [{"sentences": sentences}]}
                for slot_name, slot in spec.slots.items():
                    lists[list_name(skill.name, spec.name, slot_name)] = hassil_list(slot)
        self._intents = Intents.from_dict({"language": "en", "intents": intents, "lists": lists})
        self._parse_all()

    def _parse_all(self) -> None:
        """hassil parses templates lazily, at the first match; parse now so a bad template fails
        here, naming its intent, instead of on someone's first words."""
        for name, intent in self._intents.intents.items():
            for data in intent.data:
                try:
                    data.sentences  # noqa: B018 - the property parses on first access
                except Exception as exc:
                    raise ValueError(f"intent {name}: {exc}") from None
        try:
            list(recognize_all("hello", self._intents))
        except Exception as exc:
            raise ValueError(f"templates cannot be matched: {exc}") from None

    @staticmethod
    def _namespaced(skill: str, spec: IntentSpec, sentence: str) -> str:
        def rename(match: re.Match[str]) -> str:
            slot = match.group(1)
            if slot not in spec.slots:
                raise ValueError(
                    f"intent {skill}.{spec.name}: sentence uses {{{slot}}}, which is not a declared slot"
                )
            return f"{{{list_name(skill, spec.name, slot)}:{slot}}}"

        return _SLOT_REF.sub(rename, sentence)

    def match(self, text: str, now: dt.datetime | None = None) -> Match | None:
        """The best intent for ``text`` whose slots all normalize and validate, or None.

        ``now`` anchors relative times ("in 20 minutes", "at 7"); default: the local time.
        """
        cleaned = without_hesitations(normalize_text(text))
        if not cleaned:
            return None
        now = now or local_now()
        found = self._best(cleaned, now)
        if found is None:
            # Templates list the common courtesies; a sentence wrapped in others gets a second try
            # without them, so that "hey, could you pause the music, thanks" is "pause the music".
            core = without_courtesies(cleaned)
            if core != cleaned:
                found = self._best(core, now)
        return found

    def _best(self, cleaned: str, now: dt.datetime) -> Match | None:
        """The best reading of normalized text (see ``match``)."""
        best: tuple[int, Match] | None = None
        for result in recognize_all(cleaned, self._intents):
            entry = self._entries[result.intent.name]
            slots: dict[str, Any] = {}
            captured = 0
            for name, entity in result.entities.items():
                raw = entity.text if entity.is_wildcard else entity.value
                if entity.is_wildcard and not _whole_words(str(raw), cleaned):
                    break  # a slot that starts or ends inside a word ("5 min|ute timer")
                try:
                    value = normalize(entry.spec.slots[name], raw, now)
                except Exception:
                    log.exception("%s: normalizing slot %s=%r failed", result.intent.name, name, raw)
                    value = None
                if value is None:
                    break
                slots[name] = value
                captured += len(str(raw))
            else:
                errors = list(entry.validator.iter_errors(slots))
                if errors:
                    log.debug("%s: slots %s rejected: %s", result.intent.name, slots, errors[0].message)
                    continue
                # Prefer the reading that explains most of the sentence with template words.
                if best is None or captured < best[0]:
                    match = Match(Intent(entry.skill, entry.spec.name, slots), entry.spec)
                    best = (captured, match)
                    if captured == 0:
                        break
        return None if best is None else best[1]
