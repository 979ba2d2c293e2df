"""A test household for skills with scheduled events: a settable clock, turns, a real scheduler.

Shared by the alarms and reminders tests (timers has its own, older harness).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import zoneinfo
from pathlib import Path

from assistant.audio.sinks import MemorySink
from assistant.config import Config
from assistant.runtime import Runtime, start_runtime
from assistant.session import Session, TurnResult
from assistant.skill.alerts import Announcement
from assistant.skill.api import Job
from assistant.skill.scheduler import SchedulerService

ZONE = zoneinfo.ZoneInfo("Europe/Berlin")
WEDNESDAY_3PM = dt.datetime(2026, 3, 4, 15, 0, tzinfo=ZONE)


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """A wall-clock time in ZONE."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=ZONE)


class Clock:
    """A settable clock: what ``runtime.now`` (and so the intent matcher) reads."""

    def __init__(self) -> None:
        self.now = WEDNESDAY_3PM

    def __call__(self) -> dt.datetime:
        return self.now

    def set(self, year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> None:
        """Move to a wall-clock time in ZONE."""
        self.now = at(year, month, day, hour, minute, second)


def start_household(state_dir: Path, clock: Clock) -> Runtime:
    """The real runtime (piper, built-in skills) without ASR or LLM, on the settable clock."""
    runtime = asyncio.run(start_runtime(Config(), state_dir=state_dir, need_asr=False, need_llm=False))
    return dataclasses.replace(runtime, now=clock)


@dataclasses.dataclass
class SkillHome:
    """One test's assistant: fresh store, jobs and alerts on the shared models and skills."""

    runtime: Runtime
    clock: Clock
    skill: str

    async def say(self, text: str) -> TurnResult:
        """One turn from text, as after speech recognition."""
        result = await Session(self.runtime, MemorySink()).handle_text(text)
        assert result.error is None, result.error
        return result

    async def fire(self, count: int = 1) -> int:
        """Run a scheduler, started at the current (fake) time, until ``count`` jobs fired."""

        async def dispatch(job: Job) -> None:
            handler = self.runtime.skills.skills[job.skill].events[job.event]
            reply = await handler(self.runtime.skill_context(job.skill), job)
            if reply is not None and reply.text:
                await self.runtime.alerts.announce(reply.text, sound=reply.sound)

        service = SchedulerService(self.runtime.jobs, dispatch, self.clock)
        task = asyncio.create_task(service.run())
        try:
            if count:
                async with asyncio.timeout(5):
                    while service.fired < count:  # noqa: ASYNC110 - the service offers only a count
                        await asyncio.sleep(0.01)
            # Long enough for a ringing alert's first ring, or for a first look at the jobs.
            await asyncio.sleep(0.05 if count else 0.2)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        return service.fired

    def said(self) -> list[Announcement]:
        """Everything queued to be said unprompted since the last call."""
        queue = self.runtime.alerts.queue
        out = []
        while not queue.empty():
            out.append(queue.get_nowait())
        return out

    def jobs(self) -> list[Job]:
        """This skill's scheduled jobs, soonest first."""
        return self.runtime.jobs.find(self.skill)

    def due(self) -> list[dt.datetime]:
        """When this skill's jobs are due."""
        return [job.due for job in self.jobs()]
