"""From a skill's typed slots: the hassil lists, the normalizers and the JSON schema."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from typing import Any

from assistant.skill.api import Slot
from assistant.understand import slots as parse

Normalizer = Callable[[str, dt.datetime], Any]


def _instant(text: str, now: dt.datetime) -> str | None:
    value = parse.parse_instant(text, now)
    return None if value is None else value.isoformat(timespec="seconds")


def _time(text: str, now: dt.datetime) -> str | None:
    value = parse.parse_time_of_day(text)
    return None if value is None else f"{value[0]:02d}:{value[1]:02d}"


def _repeat(text: str, now: dt.datetime) -> dict[str, Any] | None:
    value = parse.parse_repeat(text)
    return None if value is None else {"kind": value.kind, "weekdays": list(value.weekdays)}


def _text(text: str, now: dt.datetime) -> str | None:
    cleaned = text.strip(" .,!?")
    return cleaned or None


NORMALIZERS: dict[str, Normalizer] = {
    "text": _text,
    "duration": lambda text, now: parse.parse_duration(text),
    "instant": _instant,
    "time": _time,
    "number": lambda text, now: parse.parse_number(text),
    "volume": lambda text, now: parse.parse_volume(text),
    "repeat": _repeat,
}


def normalize(slot: Slot, raw: Any, now: dt.datetime) -> Any:
    """The slot's value in its normalized form, or None when the words are not such a value."""
    if slot.kind == "choice":
        spoken = str(raw).strip().lower()
        for value in slot.values:
            if value.lower() == spoken:
                return value
        return None
    return NORMALIZERS[slot.kind](str(raw), now)


def hassil_list(slot: Slot) -> dict[str, Any]:
    """The hassil list a slot matches: its values for a choice, otherwise any words."""
    if slot.kind == "choice":
        return {"values": list(slot.values)}
    return {"wildcard": True}


def json_schema(slot: Slot) -> dict[str, Any]:
    """The JSON schema of one normalized slot value."""
    schema: dict[str, Any]
    if slot.kind == "duration":
        schema = {"type": "integer", "minimum": 0, "description": "duration in seconds"}
    elif slot.kind == "instant":
        schema = {"type": "string", "format": "date-time", "description": "ISO 8601 date and time with zone"}
    elif slot.kind == "time":
        schema = {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d$",
            "description": "time of day HH:MM",
        }
    elif slot.kind == "number":
        schema = {"type": "number"}
        if slot.minimum is not None:
            schema["minimum"] = slot.minimum
        if slot.maximum is not None:
            schema["maximum"] = slot.maximum
    elif slot.kind == "volume":
        schema = {"type": "integer", "minimum": 0, "maximum": 100, "description": "volume 0-100"}
    elif slot.kind == "choice":
        schema = {"type": "string", "enum": list(slot.values)}
    elif slot.kind == "repeat":
        schema = {
            "type": "object",
            "properties": {
                "kind": {"enum": ["daily", "weekly"]},
                "weekdays": {"type": "array", "items": {"type": "integer", "minimum": 0, "maximum": 6}},
            },
            "required": ["kind", "weekdays"],
            "additionalProperties": False,
        }
    else:
        schema = {"type": "string", "minLength": 1}
        if slot.pattern is not None:
            schema["pattern"] = slot.pattern
    if slot.description:
        described = schema.get("description")
        schema["description"] = f"{slot.description} ({described})" if described else slot.description
    return schema


def parameters_schema(slots: Mapping[str, Slot]) -> dict[str, Any]:
    """The JSON schema (type object) of an intent's normalized slots."""
    return {
        "type": "object",
        "properties": {name: json_schema(slot) for name, slot in slots.items()},
        "required": [name for name, slot in slots.items() if slot.required],
        "additionalProperties": False,
    }
