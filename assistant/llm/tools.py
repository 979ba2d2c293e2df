"""Skill intents as language-model tools: their schemas, the answer-or-tool grammar, validation.

Every intent a skill declares becomes one tool, named ``skill__intent``. The model fills a
tool's arguments in spoken form ("twenty minutes", "tomorrow at 7"), which small models manage
far better than seconds or ISO timestamps; the core then turns them into slot values with the
same normalizers the templates use and validates them with the intent's JSON schema. So a tool
call can never hand a handler anything a spoken command could not.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema

from assistant.frames import Intent
from assistant.skill.api import IntentSpec, Skill, Slot
from assistant.understand.slot_types import normalize, parameters_schema

log = logging.getLogger(__name__)

SEPARATOR = "__"
# No maxLength in these schemas: llama.cpp spells a bound of N characters out as N nested grammar
# rules, which slows every sampled token many times over; llm.max_tokens bounds the output instead.

_SPOKEN_HINTS: dict[str, str] = {
    "duration": "a spoken duration, e.g. 'ten minutes'",
    "instant": "a spoken date and time, e.g. 'tomorrow at 7 am' or 'in an hour'",
    "time": "a time of day, e.g. '7:30 am'",
    "repeat": "spoken repeating days, e.g. 'every weekday'",
    "text": "words",
}


_KIND_WORDS = {"instant": "date/time", "time": "time of day", "repeat": "repeating days"}
_MAX_LISTED_CHOICES = 12
"""A choice with more spoken variants than this is offered as plain words: listing them all would
swamp a small model's context and its grammar, and the normalizer still accepts only the real ones."""


# Words too common to say which skill a request is for (function words and all-purpose verbs).
_GENERIC_WORDS = frozenset(
    """a about again all along am an and another any anything are as ask at back be before both
    but by called can change check continue could current currently day did do does doing done
    don't dont down each every for from get give go goes going gonna got hey have how how's hows
    i i'd i'm in is it it's just know last let like little look make many me mind more much my
    name named need new next not now of off ok okay on one onto or our out over please put re
    right s set should show so some something start still stop switch take tell that the there
    this through till time to too turn un until up want we were what what's whats when which who
    will with would yet you your""".split()  # noqa: SIM905 (reads better as prose)
)


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z']+", text.lower()) if w not in _GENERIC_WORDS and len(w) > 2}


def _related(said: str, keyword: str) -> bool:
    """The same word, or one a longer form of the other ("rain" and "raining", "timer" and
    "timers"); not mere shared letters ("story" is not "stormy")."""
    if said == keyword:
        return True
    short, long = sorted((said, keyword), key=len)
    return len(short) >= 4 and long.startswith(short)


class ToolCallError(ValueError):
    """The model asked for a tool that does not exist, or gave arguments that do not fit it."""


@dataclass(frozen=True)
class Tool:
    """One skill intent offered to the model."""

    name: str
    """``skill__intent``: unique across skills."""
    skill: str
    spec: IntentSpec
    arguments_schema: dict[str, Any]
    """What the model may write as arguments (spoken forms)."""
    validator: jsonschema.protocols.Validator = field(repr=False, compare=False)
    """Checks the normalized slots against the intent's own schema."""

    @property
    def description(self) -> str:
        """The intent's one-line description."""
        return self.spec.description

    def signature(self) -> str:
        """A compact one-line declaration for the prompt: ``name(arg: kind, opt?: kind): description``."""
        params = ", ".join(
            f"{name}{'' if slot.required else '?'}: {_KIND_WORDS.get(slot.kind, slot.kind)}"
            for name, slot in self.spec.slots.items()
        )
        return f"{self.name}({params}): {self.description}"

    def openai(self) -> dict[str, Any]:
        """The tool in OpenAI chat-completions form (remote backends)."""
        return {
            "type": "function",
            "function": {
                "name": self.name,
                "description": self.description,
                "parameters": self.arguments_schema,
            },
        }


def _argument_schema(slot: Slot) -> dict[str, Any]:
    """What the model writes for one slot: a bounded string in spoken form, or a choice/number."""
    if slot.kind == "choice" and len(slot.values) <= _MAX_LISTED_CHOICES:
        schema: dict[str, Any] = {"type": "string", "enum": list(slot.values)}
    elif slot.kind in ("number", "volume"):
        schema = {"type": "number"}
    else:
        hint = _SPOKEN_HINTS.get(slot.kind, "words")
        described = f"{slot.description} ({hint})" if slot.description else hint
        return {"type": "string", "minLength": 1, "description": described}
    if slot.description:
        schema["description"] = slot.description
    return schema


def _arguments_schema(spec: IntentSpec) -> dict[str, Any]:
    return {
        "type": "object",
        "properties": {name: _argument_schema(slot) for name, slot in spec.slots.items()},
        "required": [name for name, slot in spec.slots.items() if slot.required],
        "additionalProperties": False,
    }


class ToolSet:
    """The tools built from the loaded skills, and the schema of the model's one decision."""

    def __init__(self, skills: Iterable[Skill]) -> None:
        self.tools: dict[str, Tool] = {}
        for skill in skills:
            for spec in skill.intents:
                name = f"{skill.name}{SEPARATOR}{spec.name}"
                self.tools[name] = Tool(
                    name=name,
                    skill=skill.name,
                    spec=spec,
                    arguments_schema=_arguments_schema(spec),
                    validator=jsonschema.Draft202012Validator(
                        parameters_schema(spec.slots), format_checker=jsonschema.FormatChecker()
                    ),
                )

        # Each skill's telling words, from its own sentence templates (slot names left out).
        self._keywords: dict[str, set[str]] = {}
        for tool in self.tools.values():
            words = self._keywords.setdefault(tool.skill, set())
            for sentence in tool.spec.sentences:
                words |= _words(re.sub(r"\{[^}]*\}", " ", sentence))

    def __len__(self) -> int:
        return len(self.tools)

    def candidates(self, text: str) -> tuple[str, ...]:
        """Tools of the skills whose template words the request shares, in declaration order.

        A small model calls tools on a whim ("what is the capital of France" → a reminder);
        offering only tools whose skill the words point at keeps its choice to plausible ones,
        and a request sharing no such word can only be answered in words.
        """
        said = _words(text)
        skills = {
            skill
            for skill, words in self._keywords.items()
            if any(_related(w, k) for w in said for k in words)
        }
        return tuple(name for name, tool in self.tools.items() if tool.skill in skills)

    def decision_schema(self, allowed: tuple[str, ...] | None = None) -> dict[str, Any]:
        """JSON schema of the model's output: ``{"answer": text}`` or ``{"tool": name, "args": {…}}``
        for one of the ``allowed`` tools (default: all)."""
        choices: list[dict[str, Any]] = [
            {
                "type": "object",
                "properties": {"answer": {"type": "string", "minLength": 1}},
                "required": ["answer"],
                "additionalProperties": False,
            }
        ]
        for tool in self.tools.values():
            if allowed is not None and tool.name not in allowed:
                continue
            choices.append(
                {
                    "type": "object",
                    "properties": {"tool": {"const": tool.name}, "args": tool.arguments_schema},
                    "required": ["tool", "args"],
                    "additionalProperties": False,
                }
            )
        return {"oneOf": choices} if len(choices) > 1 else choices[0]

    def catalogue(self) -> str:
        """One line per tool, for the system prompt."""
        return "\n".join(f"- {tool.signature()}" for tool in self.tools.values())

    def resolve(self, name: str, arguments: Mapping[str, Any], now: dt.datetime) -> tuple[Intent, Tool]:
        """Turn a tool call into a validated intent, or raise ToolCallError saying what is wrong."""
        tool = self.tools.get(name)
        if tool is None:
            raise ToolCallError(f"unknown tool {name!r}")
        if not isinstance(arguments, Mapping):
            raise ToolCallError(f"{name}: arguments must be an object, got {type(arguments).__name__}")
        slots: dict[str, Any] = {}
        for arg, raw in arguments.items():
            slot = tool.spec.slots.get(arg)
            if slot is None:
                raise ToolCallError(
                    f"{name}: no argument {arg!r} (it takes {sorted(tool.spec.slots) or 'none'})"
                )
            if raw is None or (isinstance(raw, str) and not raw.strip()):
                continue  # an optional argument left empty is an argument not given
            if isinstance(raw, (dict, list)):
                raise ToolCallError(
                    f"{name}: argument {arg!r} must be words or a number, got {json.dumps(raw)}"
                )
            try:
                value = normalize(slot, raw, now)
            except Exception as exc:
                raise ToolCallError(f"{name}: argument {arg!r}={raw!r} cannot be read ({exc})") from None
            if value is None:
                raise ToolCallError(f"{name}: argument {arg!r}={raw!r} is not a {slot.kind}")
            slots[arg] = value
        errors = sorted(tool.validator.iter_errors(slots), key=lambda e: list(e.path))
        if errors:
            where = "/".join(str(p) for p in errors[0].path)
            raise ToolCallError(f"{name}: {where + ': ' if where else ''}{errors[0].message}")
        return Intent(tool.skill, tool.spec.name, slots), tool
