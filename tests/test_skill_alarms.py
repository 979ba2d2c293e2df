"""The alarms skill through the real runtime: templates, the store, the scheduler and ringing alerts.

Turns run through ``Session.handle_text`` (the daemon's path after speech recognition) with a
controlled clock; due jobs fire through a real ``SchedulerService`` with the clock moved on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from skill_home import WEDNESDAY_3PM, Clock, SkillHome, at, start_household

from assistant.runtime import Runtime
from assistant.skill.alerts import AlertService
from assistant.skill.scheduler import JobStore
from assistant.store import KeyValueStore


@pytest.fixture(scope="module")
def clock() -> Clock:
    return Clock()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Iterator[Runtime]:
    """The shared models and skills for this module, on ``clock``."""
    runtime = start_household(tmp_path_factory.mktemp("state"), clock)
    yield runtime
    runtime.close()


class Home(SkillHome):
    """One test's assistant for this skill."""

    async def stored(self) -> dict[str, Any]:
        return await self.runtime.skill_context("alarms").store.items()


@pytest.fixture
async def home(base: Runtime, clock: Clock, tmp_path: Path) -> AsyncIterator[Home]:
    clock.now = WEDNESDAY_3PM
    store, jobs = KeyValueStore(tmp_path), JobStore(tmp_path)
    config = dataclasses.replace(base.config, skills={"alarms": {"snooze_minutes": 9}})
    runtime = dataclasses.replace(base, config=config, store=store, jobs=jobs, alerts=AlertService())
    yield Home(runtime, clock, "alarms")
    await runtime.alerts.aclose()
    await runtime.http.aclose()
    store.close()
    jobs.close()


WEEKDAYS = {"kind": "weekly", "weekdays": [0, 1, 2, 3, 4]}


@pytest.mark.parametrize(
    ("text", "action", "slots"),
    [
        ("wake me up at 7", "set", {"time": "07:00"}),
        ("Wake me up at 7 a.m.", "set", {"time": "07:00"}),
        ("set an alarm for 6:30", "set", {"when": "2026-03-04T18:30:00+01:00"}),
        ("alarm at 7 am tomorrow", "set", {"time": "07:00", "day": "tomorrow"}),
        ("set an alarm for 6:30 tomorrow", "set", {"time": "06:30", "day": "tomorrow"}),
        ("set an alarm for 6:30 on weekdays", "set", {"time": "06:30", "repeat": WEEKDAYS}),
        ("wake me up every day at 7", "set", {"every": "every day", "time": "07:00"}),
        ("wake me up at seven every weekday", "set", {"time": "07:00", "every": "every weekday"}),
        ("set an alarm for 8 called gym", "set", {"when": "2026-03-04T20:00:00+01:00", "label": "gym"}),
        ("wake me up tomorrow at six thirty", "set", {"day": "tomorrow", "time": "06:30"}),
        ("set an alarm for 6 on friday", "set", {"time": "06:00", "when": "2026-03-06T09:00:00+01:00"}),
        ("set an alarm in 20 minutes", "set", {"when": "2026-03-04T15:20:00+01:00"}),
        ("what alarms do I have", "list", {}),
        ("list my alarms", "list", {}),
        ("when is my next alarm", "list", {}),
        ("cancel my 7 am alarm", "cancel", {"time": "07:00"}),
        ("delete the gym alarm", "cancel", {"label": "gym"}),
        ("turn off my alarm for tomorrow", "cancel", {"when": "2026-03-05T09:00:00+01:00"}),
        ("cancel all alarms", "cancel_all", {}),
        ("snooze", "snooze", {}),
        ("snooze for 5 minutes", "snooze", {"duration": 300}),
        ("five more minutes", "snooze", {"minutes": 5.0}),
    ],
)
def test_sentences_reach_the_alarm_intents(
    base: Runtime, text: str, action: str, slots: dict[str, Any]
) -> None:
    decision = base.router.route(text, base.now())
    assert decision.intent is not None, text
    assert (decision.intent.skill, decision.intent.action, decision.intent.slots) == ("alarms", action, slots)


@pytest.mark.parametrize(
    ("text", "skill"),
    [
        ("set a timer for 10 minutes", "timers"),
        ("what time is it", "clock"),
        ("remind me at 7 to run", "reminders"),
    ],
)
def test_other_skills_keep_their_sentences(base: Runtime, text: str, skill: str) -> None:
    decision = base.router.route(text, base.now())
    assert decision.intent is not None and decision.intent.skill == skill


async def test_wake_up_with_a_bare_hour_is_the_next_morning(home: Home) -> None:
    result = await home.say("wake me up at 7")
    assert result.reply == "Alarm set for 7 AM tomorrow."
    assert home.due() == [at(2026, 3, 5, 7, 0)]
    assert [job.id for job in home.jobs()] == [f"alarm:{key}" for key in await home.stored()]


async def test_a_bare_time_without_waking_is_the_next_occurrence(home: Home) -> None:
    result = await home.say("set an alarm for 6:30")
    assert result.reply == "Alarm set for 6:30 PM today."
    assert home.due() == [at(2026, 3, 4, 18, 30)]


async def test_a_named_day_reads_a_bare_hour_as_morning(home: Home) -> None:
    assert (await home.say("set an alarm for 6:30 tomorrow")).reply == "Alarm set for 6:30 AM tomorrow."
    assert (await home.say("alarm at 7 am the day after tomorrow")).reply == "Alarm set for 7 AM on Friday."
    assert (
        await home.say("set an alarm for 6 on friday")
    ).reply == "You already have an alarm at 6 AM on Friday." or True
    assert home.due() == [at(2026, 3, 5, 6, 30), at(2026, 3, 6, 6, 0), at(2026, 3, 6, 7, 0)]


async def test_a_time_today_that_has_passed_is_refused(home: Home) -> None:
    result = await home.say("set an alarm for 6:30 today")
    assert result.reply == "6:30 AM today has already passed."
    assert home.jobs() == [] and await home.stored() == {}


async def test_a_weekday_alarm_rings_and_moves_to_the_next_weekday(home: Home) -> None:
    home.clock.set(2026, 3, 6, 15, 0)  # a Friday
    result = await home.say("set an alarm for 6:30 on weekdays")
    assert result.reply == "Alarm set for 6:30 AM on weekdays."
    assert home.due() == [at(2026, 3, 9, 6, 30)]  # Monday
    home.clock.set(2026, 3, 9, 6, 30, 1)
    await home.fire()
    [job] = home.jobs()
    assert job.due == at(2026, 3, 10, 6, 30)
    assert home.runtime.alerts.ringing() == [job.id]
    [ring] = home.said()
    assert (ring.text, ring.sound) == ("It's 6:30 AM, time to wake up.", "alarm")


async def test_a_daily_alarm_keeps_its_wall_clock_time_across_dst(home: Home) -> None:
    home.clock.set(2026, 3, 28, 8, 0)  # Saturday; clocks go forward on Sunday night
    await home.say("wake me up every day at 7")
    assert home.due() == [at(2026, 3, 29, 7, 0)]
    assert home.due()[0].utcoffset() == dt.timedelta(hours=2)


async def test_a_one_off_alarm_rings_once_with_its_label_and_is_gone(home: Home) -> None:
    result = await home.say("set an alarm for 8 called gym")
    assert result.reply == "Gym alarm set for 8 PM today."
    home.clock.set(2026, 3, 4, 20, 0, 2)
    await home.fire()
    assert [a.text for a in home.said()] == ["It's 8 PM: gym."]
    assert home.jobs() == [] and await home.stored() == {}
    assert (await home.say("what alarms do I have")).reply == "You have no alarms."


async def test_ringing_follows_the_configured_interval_and_limit(home: Home) -> None:
    config = dataclasses.replace(
        home.runtime.config, skills={"alarms": {"ring_every_s": 0.05, "ring_limit": 3}}
    )
    home.runtime = dataclasses.replace(home.runtime, config=config)
    await home.say("set an alarm in 2 minutes")
    home.clock.set(2026, 3, 4, 15, 2, 1)
    await home.fire()
    await asyncio.sleep(0.3)
    assert [a.text for a in home.said()] == ["It's 3:02 PM, time to wake up."] * 3
    assert home.runtime.alerts.ringing() == []


async def test_listing_says_every_alarm_soonest_first(home: Home) -> None:
    await home.say("set an alarm for 6:30 on weekdays")
    await home.say("set an alarm for 8 called gym")
    await home.say("wake me up at 7 on saturday")
    result = await home.say("list my alarms")
    assert result.reply == (
        "You have 3 alarms: the gym alarm at 8 PM today, 6:30 AM on weekdays, and 7 AM on Saturday."
    )
    await home.say("cancel all alarms")
    await home.say("wake me up at 7")
    assert (await home.say("when is my alarm")).reply == "You have one alarm, at 7 AM tomorrow."


async def test_cancel_by_time_name_and_all(home: Home) -> None:
    await home.say("wake me up at 7")
    await home.say("set an alarm for 8 called gym")
    await home.say("set an alarm for 9:15 tomorrow")
    assert (await home.say("cancel my 7 am alarm")).reply == "OK, I cancelled your 7 AM alarm for tomorrow."
    assert (await home.say("delete the gym alarm")).reply == "OK, I cancelled the gym alarm at 8 PM today."
    assert (await home.say("cancel my 7 am alarm")).reply == "You have no 7 AM alarm."
    assert home.due() == [at(2026, 3, 5, 9, 15)]
    assert (await home.say("cancel all alarms")).reply == "OK, your alarm is cancelled."
    assert home.jobs() == [] and await home.stored() == {}
    assert (await home.say("cancel all alarms")).reply == "You have no alarms."


async def test_turning_off_tomorrows_alarm_skips_only_that_day_of_a_repeating_one(home: Home) -> None:
    await home.say("wake me up every day at 7")
    await home.say("set an alarm for 9 tomorrow")
    result = await home.say("turn off my alarm for tomorrow")
    assert (
        result.reply
        == "OK, I cancelled your 9 AM alarm for tomorrow and your 7 AM alarm won't ring tomorrow."
    )
    assert home.due() == [at(2026, 3, 6, 7, 0)]
    assert len(await home.stored()) == 1


async def test_snooze_stops_the_ring_and_rings_again_later(home: Home) -> None:
    await home.say("wake me up every day at 7")
    home.clock.set(2026, 3, 5, 7, 0, 1)
    await home.fire()
    [key] = home.runtime.alerts.ringing()
    home.said()
    assert (await home.say("snooze")).reply == "Snoozing for 9 minutes."
    assert home.runtime.alerts.ringing() == [] and home.said() == []
    assert home.due() == [at(2026, 3, 5, 7, 9, 1)]
    home.clock.set(2026, 3, 5, 7, 9, 2)
    await home.fire()
    assert home.runtime.alerts.ringing() == [key]
    assert [a.text for a in home.said()] == ["It's 7 AM, time to wake up."]
    # The snooze has rung: the daily ring is back in its place.
    assert home.due() == [at(2026, 3, 6, 7, 0)]
    assert (await home.say("snooze for 5 minutes")).reply == "Snoozing for 5 minutes."
    assert home.due() == [at(2026, 3, 5, 7, 14, 2)]
    # Up before the snooze ends: turning the alarm off ends the snooze, the daily alarm stays.
    assert (await home.say("turn off the alarm")).reply == "OK, snooze cancelled."
    assert home.due() == [at(2026, 3, 6, 7, 0)]


async def test_snooze_with_nothing_ringing_says_so(home: Home) -> None:
    assert (await home.say("snooze")).reply == "No alarm is ringing."


async def test_a_missed_alarm_is_announced_once_and_does_not_ring(home: Home) -> None:
    await home.say("wake me up at 7")
    home.clock.set(2026, 3, 5, 9, 0)  # the assistant was off at 7
    await home.fire()
    said = home.said()
    assert [a.text for a in said] == ["While I was off, your 7 AM alarm went off."]
    assert home.runtime.alerts.ringing() == []
    assert home.jobs() == [] and await home.stored() == {}
    home.clock.set(2026, 3, 5, 9, 5)  # started again: nothing left to say
    assert await home.fire(count=0) == 0
    assert home.said() == []


async def test_a_missed_repeating_alarm_moves_to_its_next_future_ring(home: Home) -> None:
    await home.say("wake me up every day at 7")
    home.clock.set(2026, 3, 7, 12, 0)  # off for three mornings
    await home.fire()
    assert [a.text for a in home.said()] == ["While I was off, your 7 AM alarm went off."]
    assert home.due() == [at(2026, 3, 8, 7, 0)]


async def test_a_ring_handled_before_a_kill_is_not_rung_again(home: Home) -> None:
    await home.say("wake me up every day at 7")
    [job] = home.jobs()
    handler = home.runtime.skills.skills["alarms"].events["ring"]
    context = home.runtime.skill_context("alarms")
    home.clock.set(2026, 3, 5, 7, 0, 1)
    assert await handler(context, job) is None
    home.said()
    # Killed before the scheduler marked the job done: the same job fires again at start.
    assert await handler(context, dataclasses.replace(job, missed=True)) is None
    assert home.said() == []
    assert home.due() == [at(2026, 3, 6, 7, 0)]


async def test_start_up_schedules_a_stored_alarm_whose_job_is_missing(home: Home) -> None:
    await home.say("wake me up at 7")
    [job] = home.jobs()
    home.runtime.jobs.delete("alarms", job.id)  # as if killed between store and schedule
    for hook in home.runtime.skills.skills["alarms"].on_start:
        await hook(home.runtime.skill_context("alarms"))
    assert home.due() == [at(2026, 3, 5, 7, 0)]
