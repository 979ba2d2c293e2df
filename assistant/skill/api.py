"""Declaring skills: intents with sentence templates, a parameter schema and an async handler."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Reply:
    """What a handler answers."""

    text: str
    """Words to speak."""
    follow_up: bool = False
    """True when the reply asks a question and the assistant should listen again."""


@dataclass(frozen=True)
class SkillContext:
    """What a handler may use besides its slots."""

    config: Mapping[str, Any]
    """This skill's section of the config file (``skills.<name>``)."""
    now: Callable[[], dt.datetime]
    """The current time, time-zone aware; injectable so tests control the clock."""
    log: logging.Logger
    """A logger named after the skill."""


Handler = Callable[[SkillContext, dict[str, Any]], Awaitable[Reply]]


@dataclass(frozen=True)
class IntentSpec:
    """One thing a skill can do, declared once: sentences, parameters and the handler."""

    name: str
    """Intent name, unique within the skill."""
    description: str
    """One line saying what it does (shown in listings and to the language model)."""
    sentences: tuple[str, ...]
    """Templates in hassil syntax: ``(what's|what is) the time [now]``, ``{city}``."""
    handler: Handler
    """Async function run with validated slots."""
    parameters: Mapping[str, Any] = field(default_factory=dict)
    """JSON schema (type object) of the slots."""
    lists: Mapping[str, Any] = field(default_factory=dict)
    """hassil slot lists used by the sentences, e.g. ``{"city": {"wildcard": True}}``."""


class Skill:
    """A named group of intents; a plugin exposes one instance through its entry point."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        self.intents: list[IntentSpec] = []

    def intent(
        self,
        name: str,
        *,
        description: str,
        sentences: list[str],
        parameters: Mapping[str, Any] | None = None,
        lists: Mapping[str, Any] | None = None,
    ) -> Callable[[Handler], Handler]:
        """Decorator that declares the decorated async function as the handler of an intent."""

        def register(handler: Handler) -> Handler:
            self.intents.append(
                IntentSpec(
                    name=name,
                    description=description,
                    sentences=tuple(sentences),
                    handler=handler,
                    parameters=dict(parameters or {"type": "object", "properties": {}}),
                    lists=dict(lists or {}),
                )
            )
            return handler

        return register
