"""The public test context for plugin authors runs a real skill's handlers and events."""

from __future__ import annotations

import datetime as dt

import pytest

from assistant.skill.testing import make_context
from hearkend_skills.timers import skill as timers

NOW = dt.datetime(2026, 11, 27, 10, 0, tzinfo=dt.UTC)


async def test_handlers_and_events_run_on_the_in_memory_context() -> None:
    ctx = make_context(timers, now=lambda: NOW)
    start = next(i for i in timers.intents if i.name == "start")
    reply = await start.handler(ctx, {"duration_s": 300, "name": "tea"})
    assert "5 minutes" in reply.text
    [job] = await ctx.scheduler.jobs()
    assert job.due == NOW + dt.timedelta(minutes=5)
    await timers.events[job.event](ctx, job)
    [key] = ctx.alerts.ringing()
    assert "tea" in key and "tea" in ctx.alerts.rings[key]


def test_http_is_refused_unless_given() -> None:
    ctx = make_context(timers)
    with pytest.raises(RuntimeError, match="no HTTP client"):
        _ = ctx.http
