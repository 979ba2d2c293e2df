"""Declaring skills: intents with sentence templates and typed slots, handlers, and their context.

A skill declares each intent once. From that one declaration the core builds the fast template
matcher (hassil), the slot normalization, the JSON schema the slots are validated against, and
the tool the language model may call.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol, runtime_checkable

if TYPE_CHECKING:
    import aiohttp

SlotKind = Literal["text", "duration", "instant", "time", "number", "volume", "choice", "repeat"]


@dataclass(frozen=True)
class Slot:
    """A typed value in an intent's sentences, written ``{name}`` in the templates.

    Values arrive in handlers normalized: ``duration`` as whole seconds, ``instant`` as an ISO 8601
    string with time zone, ``time`` as "HH:MM", ``number`` as a float, ``volume`` as an integer
    0–100, ``choice`` as one of ``values``, ``repeat`` as {"kind": "daily"|"weekly", "weekdays":
    [0–6]}, and ``text`` as spoken.
    """

    kind: SlotKind
    description: str = ""
    """What the value means, for the language model and for listings."""
    required: bool = True
    """False when the intent also works without this slot (it must then be optional in sentences)."""
    values: tuple[str, ...] = ()
    """Allowed values of a ``choice`` slot, as spoken."""
    minimum: float | None = None
    """Smallest allowed ``number``."""
    maximum: float | None = None
    """Largest allowed ``number``."""
    pattern: str | None = None
    """A regular expression a ``text`` value must contain a match of (JSON Schema ``pattern``;
    anchor it with ``^``/``$``). The matcher sees lower-cased words, so a reading whose value
    fails it is no match: use it to keep words that cannot be this slot (``^(?!a game)``) out."""


@dataclass(frozen=True)
class Reply:
    """What a handler answers."""

    text: str
    """Words to speak."""
    sound: str | None = None
    """A sound to play before the words: a bundled name ("chime", "alarm") or a file path."""
    follow_up: bool = False
    """True when the reply asks a question and the assistant should listen again without the wake word."""


@dataclass(frozen=True)
class Job:
    """A scheduled event of a skill, persisted until it has been handled."""

    id: str
    """Unique id; a skill may choose it (e.g. "timer:tea") to find or replace the job later."""
    skill: str
    event: str
    """Which of the skill's event handlers runs when it is due."""
    due: dt.datetime
    """When it is due, time-zone aware."""
    data: Mapping[str, Any]
    """What the skill stored with it (anything JSON can hold)."""
    missed: bool = False
    """True when it fell due while the daemon was not running."""


@dataclass(frozen=True)
class Held:
    """Something a skill keeps that no job waits for now (a paused timer), listed beside the
    scheduled jobs by ``assistant timers`` and the control socket's ``jobs``."""

    id: str
    """Unique within the skill (a paused timer keeps the id its job had)."""
    text: str
    """What it is, as a listing names it ("pasta")."""
    left_s: float | None = None
    """The time it will still have to run when it goes on."""
    state: str = "paused"
    """Why nothing is scheduled for it."""


@runtime_checkable
class SkillStore(Protocol):
    """A skill's own persistent key → JSON value store (survives restarts and kills)."""

    async def get(self, key: str, default: Any = None) -> Any:
        """The stored value, or ``default``."""
        ...

    async def put(self, key: str, value: Any) -> None:
        """Store ``value`` durably, replacing what was there."""
        ...

    async def delete(self, key: str) -> bool:
        """Remove a key; True when it existed."""
        ...

    async def items(self) -> dict[str, Any]:
        """Every key and value of this skill."""
        ...


@runtime_checkable
class SkillScheduler(Protocol):
    """Future events of one skill that survive restarts; due ones run the skill's event handler."""

    async def schedule(
        self,
        due: dt.datetime,
        event: str,
        data: Mapping[str, Any] | None = None,
        *,
        job_id: str | None = None,
    ) -> Job:
        """Schedule ``event`` at ``due`` (replacing the job with the same id, if any)."""
        ...

    async def cancel(self, job_id: str) -> bool:
        """Remove a scheduled job; True when it existed."""
        ...

    async def get(self, job_id: str) -> Job | None:
        """One scheduled job of this skill."""
        ...

    async def jobs(self, event: str | None = None) -> list[Job]:
        """This skill's scheduled jobs, soonest first, optionally of one event."""
        ...


@runtime_checkable
class Alerts(Protocol):
    """Speaking without being asked: one-off announcements and alerts that ring until stopped."""

    async def announce(self, text: str, *, sound: str | None = None) -> None:
        """Say ``text`` (after ``sound``) as soon as the assistant is not speaking."""
        ...

    async def ring(
        self, key: str, text: str, *, sound: str = "alarm", every_s: float = 10, limit: int = 6
    ) -> None:
        """Play ``sound`` and say ``text`` every ``every_s`` seconds until stopped or ``limit`` times."""
        ...

    async def stop(self, key: str | None = None) -> list[str]:
        """Stop one ringing alert, or all of them; returns the keys stopped."""
        ...

    def ringing(self) -> list[str]:
        """Keys of the alerts ringing now."""
        ...


@runtime_checkable
class MusicOutput(Protocol):
    """The music channel of the output mixer (the assistant's speech ducks it)."""

    on_end: Callable[[Any], object] | None
    """Called when a source ends by itself (not on stop), e.g. to advance a playlist."""

    async def play(self, chunks: Any, *, sample_rate: int | None = None) -> int:
        """Play mono s16le chunks (an iterator or async iterator), replacing what plays."""
        ...

    def pause(self) -> None:
        """Pause the music."""
        ...

    def resume(self) -> None:
        """Resume paused music."""
        ...

    async def stop(self) -> None:
        """Stop the music."""
        ...

    def set_volume(self, volume: int) -> None:
        """Set the music volume, 0–100."""
        ...

    @property
    def volume(self) -> int:
        """The music volume, 0–100."""
        ...

    @property
    def is_playing(self) -> bool:
        """Music is loaded and not paused."""
        ...

    @property
    def is_paused(self) -> bool:
        """Music is loaded and paused."""
        ...


@dataclass(frozen=True)
class SkillContext:
    """What a handler may use besides its slots."""

    skill: str
    """The skill's name."""
    config: Mapping[str, Any]
    """This skill's section of the config file (``skills.<name>``)."""
    now: Callable[[], dt.datetime]
    """The current time, time-zone aware; injectable so tests control the clock."""
    log: logging.Logger
    """A logger named after the skill."""
    store: SkillStore
    """This skill's persistent key-value store."""
    scheduler: SkillScheduler
    """Future events of this skill, persisted."""
    alerts: Alerts
    """Announcements and ringing alerts."""
    http_factory: Callable[[], aiohttp.ClientSession]
    """Makes (or reuses) the shared HTTP client; use ``http`` instead."""
    music: MusicOutput
    """The music channel of the output mixer."""
    state_dir: Any = None
    """A directory this skill may keep its own files in (under the state directory)."""

    @functools.cached_property
    def http(self) -> aiohttp.ClientSession:
        """A shared HTTP client with the configured timeouts (created on first use)."""
        return self.http_factory()


Handler = Callable[[SkillContext, dict[str, Any]], Awaitable[Reply]]
EventHandler = Callable[[SkillContext, Job], Awaitable[Reply | None]]
StartHandler = Callable[[SkillContext], Awaitable[None]]
HeldLister = Callable[[SkillContext], Awaitable[list[Held]]]


@dataclass(frozen=True)
class IntentSpec:
    """One thing a skill can do, declared once: sentences, typed slots and the handler."""

    name: str
    """Intent name, unique within the skill."""
    description: str
    """One line saying what it does (shown in listings and to the language model)."""
    sentences: tuple[str, ...]
    """Templates in hassil syntax: ``(what's|what is) the time [now]``, ``in {city}``."""
    handler: Handler
    """Async function run with validated, normalized slots."""
    slots: Mapping[str, Slot] = field(default_factory=dict)
    """The slots the sentences use, by name."""
    side_effects: bool = False
    """True when running it changes something (a timer set, music started)."""
    time_sensitive: bool = False
    """True when its answer depends on the moment (so it is never answered from a cache)."""


class Skill:
    """A named group of intents; a plugin exposes one instance through its entry point."""

    def __init__(self, name: str, description: str) -> None:
        self.name = name
        self.description = description
        self.intents: list[IntentSpec] = []
        self.events: dict[str, EventHandler] = {}
        self.on_start: list[StartHandler] = []
        self.holders: list[HeldLister] = []

    def intent(
        self,
        name: str,
        *,
        description: str,
        sentences: list[str],
        slots: Mapping[str, Slot] | None = None,
        side_effects: bool = False,
        time_sensitive: bool = False,
    ) -> Callable[[Handler], Handler]:
        """Decorator declaring the decorated async function as the handler of an intent."""

        if isinstance(sentences, str):
            raise TypeError(f"intent {self.name}.{name}: sentences must be a list of strings, not one string")

        def register(handler: Handler) -> Handler:
            self.intents.append(
                IntentSpec(
                    name=name,
                    description=description,
                    sentences=tuple(sentences),
                    handler=handler,
                    slots=dict(slots or {}),
                    side_effects=side_effects,
                    time_sensitive=time_sensitive,
                )
            )
            return handler

        return register

    def event(self, name: str) -> Callable[[EventHandler], EventHandler]:
        """Decorator declaring the handler of a scheduled event (see ``SkillScheduler``)."""

        def register(handler: EventHandler) -> EventHandler:
            self.events[name] = handler
            return handler

        return register

    def startup(self, handler: StartHandler) -> StartHandler:
        """Decorator for a function run once when the daemon starts (e.g. to index files)."""
        self.on_start.append(handler)
        return handler

    def held(self, handler: HeldLister) -> HeldLister:
        """Decorator for a function listing what the skill keeps unscheduled (paused timers)."""
        self.holders.append(handler)
        return handler
