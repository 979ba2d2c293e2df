"""Helpers for testing a skill without the assistant running: a context with in-memory parts.

from assistant.skill.testing import make_context
ctx = make_context(skill, config={"sides": 6})
reply = await my_handler(ctx, {"sides": 6})
assert ctx.alerts.said == []
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from assistant.skill.api import Job, Skill, SkillContext
from assistant.skill.context import DetachedMusic


class MemoryStore:
    """``ctx.store`` kept in a dict."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}

    async def get(self, key: str, default: Any = None) -> Any:
        """The stored value, or ``default``."""
        return self.data.get(key, default)

    async def put(self, key: str, value: Any) -> None:
        """Store ``value``."""
        self.data[key] = value

    async def delete(self, key: str) -> bool:
        """Remove a key; True when it existed."""
        return self.data.pop(key, None) is not None

    async def items(self) -> dict[str, Any]:
        """Every key and value."""
        return dict(self.data)


class MemoryScheduler:
    """``ctx.scheduler`` kept in a dict; tests fire jobs by calling the skill's event handler."""

    def __init__(self, skill: str) -> None:
        self.skill = skill
        self.scheduled: dict[str, Job] = {}

    async def schedule(
        self,
        due: dt.datetime,
        event: str,
        data: Mapping[str, Any] | None = None,
        *,
        job_id: str | None = None,
    ) -> Job:
        """Remember the job."""
        job = Job(job_id or uuid.uuid4().hex[:12], self.skill, event, due, dict(data or {}))
        self.scheduled[job.id] = job
        return job

    async def cancel(self, job_id: str) -> bool:
        """Forget the job; True when it existed."""
        return self.scheduled.pop(job_id, None) is not None

    async def get(self, job_id: str) -> Job | None:
        """One job."""
        return self.scheduled.get(job_id)

    async def jobs(self, event: str | None = None) -> list[Job]:
        """Jobs soonest first."""
        found = [j for j in self.scheduled.values() if event is None or j.event == event]
        return sorted(found, key=lambda j: j.due)


class RecordingAlerts:
    """``ctx.alerts`` that records what would have been said."""

    def __init__(self) -> None:
        self.said: list[str] = []
        self.rings: dict[str, str] = {}

    async def announce(self, text: str, *, sound: str | None = None) -> None:
        """Record an announcement."""
        self.said.append(text)

    async def ring(
        self, key: str, text: str, *, sound: str = "alarm", every_s: float = 10, limit: int = 6
    ) -> None:
        """Record a ringing alert."""
        self.rings[key] = text

    async def stop(self, key: str | None = None) -> list[str]:
        """Stop one or all recorded rings."""
        keys = [key] if key is not None and key in self.rings else (list(self.rings) if key is None else [])
        for k in keys:
            del self.rings[k]
        return keys

    def ringing(self) -> list[str]:
        """Keys ringing now."""
        return sorted(self.rings)


def _no_network() -> Any:
    raise RuntimeError("no HTTP client in this test context: pass http_factory=... to make_context")


def make_context(
    skill: Skill,
    config: Mapping[str, Any] | None = None,
    *,
    now: Callable[[], dt.datetime] | None = None,
    http_factory: Callable[[], Any] | None = None,
) -> SkillContext:
    """A handler context with in-memory store, scheduler, alerts and music, for unit tests."""
    return SkillContext(
        skill=skill.name,
        config=dict(config or {}),
        now=now or (lambda: dt.datetime.now(dt.UTC)),
        log=logging.getLogger(f"skill.{skill.name}"),
        store=MemoryStore(),
        scheduler=MemoryScheduler(skill.name),
        alerts=RecordingAlerts(),
        http_factory=http_factory or _no_network,
        music=DetachedMusic(),
    )
