"""The reminders skill through the real runtime, and through a real daemon killed with SIGKILL.

Turns run through ``Session.handle_text`` (the daemon's path after speech recognition) with a
controlled clock; due jobs fire through a real ``SchedulerService`` with the clock moved on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO, Any

import pytest
from skill_home import WEDNESDAY_3PM, Clock, SkillHome, at, start_household

from assistant.runtime import Runtime
from assistant.skill.alerts import AlertService
from assistant.skill.scheduler import MISSED_AFTER_S, JobStore
from assistant.store import KeyValueStore

DATA = Path(__file__).parent / "data"


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

    async def stored(self) -> list[dict[str, Any]]:
        items = await self.runtime.skill_context("reminders").store.items()
        return sorted(items.values(), key=lambda value: str(value["due"]))


@pytest.fixture
async def home(base: Runtime, clock: Clock, tmp_path: Path) -> AsyncIterator[Home]:
    clock.now = WEDNESDAY_3PM
    store, jobs = KeyValueStore(tmp_path), JobStore(tmp_path)
    runtime = dataclasses.replace(base, store=store, jobs=jobs, alerts=AlertService())
    yield Home(runtime, clock, "reminders")
    await runtime.alerts.aclose()
    await runtime.http.aclose()
    store.close()
    jobs.close()


@pytest.mark.parametrize(
    ("text", "action", "slots"),
    [
        ("remind me to call mom at 5 pm", "add", {"task": "call mom at 5 pm"}),
        (
            "remind me in 20 minutes to check the oven",
            "add",
            {"when": "2026-03-04T15:20:00+01:00", "task": "check the oven"},
        ),
        (
            "Remind me tomorrow at 9 to pay the rent.",
            "add",
            {"when": "2026-03-05T09:00:00+01:00", "task": "pay the rent"},
        ),
        ("remind me on Friday to buy flowers", "add", {"on": "friday", "task": "buy flowers"}),
        (
            "remind me every monday at 10 to water the plants",
            "add",
            {"every": "monday at 10", "task": "water the plants"},
        ),
        (
            "set a reminder for 5 pm to call mom",
            "add",
            {"when": "2026-03-04T17:00:00+01:00", "task": "call mom"},
        ),
        ("what are my reminders", "list", {}),
        ("what do I have to do today", "list", {"scope": "today"}),
        ("cancel the reminder to call mom", "cancel", {"task": "call mom"}),
        ("don't remind me to call mom", "cancel", {"task": "call mom"}),
        ("delete all reminders", "cancel_all", {}),
    ],
)
def test_sentences_reach_the_reminder_intents(
    base: Runtime, text: str, action: str, slots: dict[str, Any]
) -> None:
    decision = base.router.route(text, base.now())
    assert decision.intent is not None, text
    assert (decision.intent.skill, decision.intent.action, decision.intent.slots) == (
        "reminders",
        action,
        slots,
    )


@pytest.mark.parametrize(
    "text",
    [
        "remind me how to make pancakes",
        "remind me what time it is",
        "what do I have to do to renew a passport",
    ],
)
def test_questions_are_left_to_the_language_model(base: Runtime, text: str) -> None:
    assert base.router.route(text, base.now()).route == "none"  # "llm" when one is loaded


@pytest.mark.parametrize(
    ("text", "reply", "due"),
    [
        (
            "remind me to call mom at 5 pm",
            "OK, I'll remind you at 5 PM today: call mom.",
            at(2026, 3, 4, 17, 0),
        ),
        (
            "remind me in 20 minutes to check the oven",
            "OK, I'll remind you in 20 minutes: check the oven.",
            at(2026, 3, 4, 15, 20),
        ),
        (
            "remind me tomorrow at 9 to pay the rent",
            "OK, I'll remind you at 9 AM tomorrow: pay the rent.",
            at(2026, 3, 5, 9, 0),
        ),
        (
            "remind me on Friday to buy flowers",
            "OK, I'll remind you at 9 AM on Friday: buy flowers.",
            at(2026, 3, 6, 9),
        ),
        (
            "could you remind me to stretch in twenty minutes",
            "OK, I'll remind you in 20 minutes: stretch.",
            at(2026, 3, 4, 15, 20),
        ),
        # A task said before its time: the same reading as the time said first.
        (
            "remind me to call my mom tomorrow at 5",
            "OK, I'll remind you at 5 PM tomorrow: call your mom.",
            at(2026, 3, 5, 17, 0),
        ),
        (
            "remind me to turn the lights on at 6",
            "OK, I'll remind you at 6 PM today: turn the lights on.",
            at(2026, 3, 4, 18),
        ),
        (
            "remind me to log in in 5 minutes",
            "OK, I'll remind you in 5 minutes: log in.",
            at(2026, 3, 4, 15, 5),
        ),
        (
            "remind me about the meeting at 4",
            "OK, I'll remind you at 4 PM today: the meeting.",
            at(2026, 3, 4, 16),
        ),
    ],
)
async def test_a_one_off_reminder_is_stored_and_scheduled(
    home: Home, text: str, reply: str, due: dt.datetime
) -> None:
    result = await home.say(text)
    assert (result.skill, result.action, result.reply) == ("reminders", "add", reply)
    assert home.due() == [due]
    [record] = await home.stored()
    assert home.jobs()[0].id == f"reminder:{record['id']}"
    assert record["weekdays"] is None


@pytest.mark.parametrize(
    ("text", "reply", "due", "weekdays"),
    [
        (
            "remind me to take my pills every day at 8",
            "OK, I'll remind you every day at 8 AM: take your pills.",
            at(2026, 3, 5, 8, 0),
            [],
        ),
        (
            "remind me every monday at 10 to water the plants",
            "OK, I'll remind you every Monday at 10 AM: water the plants.",
            at(2026, 3, 9, 10, 0),
            [0],
        ),
        (
            "remind me to walk the dog every day at 5",
            "OK, I'll remind you every day at 5 PM: walk the dog.",
            at(2026, 3, 4, 17, 0),
            [],
        ),
        (
            "remind me every evening at 7 to stretch",
            "OK, I'll remind you every day at 7 PM: stretch.",
            at(2026, 3, 4, 19, 0),
            [],
        ),
        (
            "remind me on weekdays at 6 am to stand up",
            "OK, I'll remind you on weekdays at 6 AM: stand up.",
            at(2026, 3, 5, 6, 0),
            [0, 1, 2, 3, 4],
        ),
    ],
)
async def test_a_repeating_reminder_starts_at_its_next_time(
    home: Home, text: str, reply: str, due: dt.datetime, weekdays: list[int]
) -> None:
    assert (await home.say(text)).reply == reply
    assert home.due() == [due]
    assert (await home.stored())[0]["weekdays"] == weekdays


async def test_a_reminder_in_the_past_is_refused_and_nothing_is_stored(home: Home) -> None:
    assert (await home.say("remind me to call mom at 9 am today")).reply == "That time has already passed."
    assert (await home.say("remind me yesterday to call mom")).reply == "That time has already passed."
    assert home.jobs() == [] and await home.stored() == []


async def test_a_reminder_without_a_time_or_a_task_asks_for_it(home: Home) -> None:
    result = await home.say("remind me to call my mom")
    assert (
        result.reply == "When should I remind you to call your mom? Say, for example, at 5 PM or in an hour."
    )
    assert (await home.say("set a reminder for tomorrow")).reply == "What should I remind you about?"
    assert home.jobs() == []


async def test_a_due_reminder_is_announced_with_a_chime_and_forgotten(home: Home) -> None:
    await home.say("remind me in 20 minutes to check the oven")
    home.clock.set(2026, 3, 4, 15, 20, 1)
    assert await home.fire() == 1
    assert [(a.text, a.sound) for a in home.said()] == [("Reminder: check the oven.", "chime")]
    assert home.jobs() == [] and await home.stored() == []


async def test_a_repeating_reminder_announces_and_schedules_its_next_time(home: Home) -> None:
    await home.say("remind me every monday at 10 to water the plants")
    home.clock.set(2026, 3, 9, 10, 0, 1)
    await home.fire()
    assert [a.text for a in home.said()] == ["Reminder: water the plants."]
    assert home.due() == [at(2026, 3, 16, 10, 0)]
    assert len(await home.stored()) == 1


async def test_a_missed_reminder_is_announced_once_as_missed(home: Home) -> None:
    await home.say("remind me to call mom at 5 pm")
    home.clock.set(2026, 3, 4, 19, 0)  # the assistant was off at 5
    await home.fire()
    assert [a.text for a in home.said()] == ["While I was off, you had a reminder: call mom."]
    # Started again later: nothing left to say.
    home.clock.set(2026, 3, 4, 19, 30)
    assert await home.fire(count=0) == 0
    assert home.said() == []


async def test_a_missed_repeating_reminder_is_announced_once_and_moves_on(home: Home) -> None:
    await home.say("remind me to take my pills every day at 8")
    home.clock.set(2026, 3, 8, 12, 0)  # off for four mornings
    await home.fire()
    assert [a.text for a in home.said()] == ["While I was off, you had a reminder: take your pills."]
    assert home.due() == [at(2026, 3, 9, 8, 0)]


async def test_a_due_job_handled_before_a_kill_is_not_announced_again(home: Home) -> None:
    await home.say("remind me to take my pills every day at 8")
    await home.say("remind me to call mom at 5 pm")
    handler = home.runtime.skills.skills["reminders"].events["due"]
    context = home.runtime.skill_context("reminders")
    home.clock.set(2026, 3, 5, 8, 0, 1)
    jobs = home.jobs()
    for job in jobs:
        await handler(context, job)
    assert len(home.said()) == 2
    # Killed before the scheduler marked the jobs done: they fire again at the next start.
    for job in jobs:
        assert await handler(context, dataclasses.replace(job, missed=True)) is None
    assert home.said() == []
    # The restarted scheduler fires what was left and marks it done, silently.
    home.clock.set(2026, 3, 5, 8, 5)
    assert await home.fire() == 1
    assert home.said() == []
    assert home.due() == [at(2026, 3, 6, 8, 0)]


async def test_start_up_schedules_a_stored_reminder_whose_job_is_missing(home: Home) -> None:
    await home.say("remind me to call mom at 5 pm")
    [job] = home.jobs()
    home.runtime.jobs.delete("reminders", job.id)  # as if killed between store and schedule
    for hook in home.runtime.skills.skills["reminders"].on_start:
        await hook(home.runtime.skill_context("reminders"))
    assert home.due() == [at(2026, 3, 4, 17, 0)]


async def test_listing_all_and_todays_reminders(home: Home) -> None:
    assert (await home.say("what are my reminders")).reply == "You have no reminders."
    await home.say("remind me to call mom at 5 pm")
    await home.say("remind me tomorrow at 9 to pay the rent")
    await home.say("remind me to take my pills every day at 8")
    assert (await home.say("what are my reminders")).reply == (
        "You have 3 reminders: call mom at 5 PM today, take your pills every day at 8 AM, "
        "and pay the rent at 9 AM tomorrow."
    )
    assert (
        await home.say("what do I have to do today")
    ).reply == "You have one reminder for today: call mom at 5 PM today."
    assert (await home.say("do I have any reminders tomorrow")).reply == (
        "You have 2 reminders for tomorrow: take your pills every day at 8 AM, "
        "and pay the rent at 9 AM tomorrow."
    )


async def test_cancelling_by_task_last_and_all(home: Home) -> None:
    await home.say("remind me to call mom at 5 pm")
    await home.say("remind me tomorrow at 9 to pay the rent")
    await home.say("remind me to water the plants at 6 pm")
    assert (
        await home.say("cancel the reminder to call mom")
    ).reply == "OK, I cancelled the reminder: call mom."
    assert (
        await home.say("cancel my last reminder")
    ).reply == "OK, I cancelled the reminder: water the plants."
    assert (await home.say("cancel the reminder to call mom")).reply == "You have no reminder to call mom."
    # A recognizer's near-miss still finds it.
    assert (
        await home.say("delete the reminder to pay the rant")
    ).reply == "OK, I cancelled the reminder: pay the rent."
    await home.say("remind me to call mom at 5 pm")
    await home.say("remind me to water the plants at 6 pm")
    assert (await home.say("delete all reminders")).reply == "OK, I deleted all 2 reminders."
    assert home.jobs() == [] and await home.stored() == []
    assert (await home.say("delete all reminders")).reply == "You have no reminders."


# --- a real daemon, killed ------------------------------------------------------------------------


def _env(tmp: Path) -> dict[str, str]:
    """The real environment with every XDG directory under ``tmp``."""
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_RUNTIME_DIR"):
        path = tmp / var.lower()
        path.mkdir(mode=0o700, exist_ok=True)
        env[var] = str(path)
    env.pop("STATE_DIRECTORY", None)
    env.pop("RUNTIME_DIRECTORY", None)
    return env


class Daemon:
    """``assistant run`` on silence, its log in a file."""

    def __init__(self, tmp: Path, state: Path, name: str) -> None:
        self.log = tmp / f"{name}.log"
        self._out: IO[bytes] = self.log.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant",
                "--state-dir",
                str(state),
                "--log-level",
                "info",
                "run",
                "--input",
                str(DATA / "silence.wav"),
                "--output",
                str(tmp / f"{name}.wav"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=self._out,
            env=_env(tmp),
            cwd=tmp,
        )

    def text(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while needle not in self.text():
            assert self.proc.poll() is None, f"daemon exited early:\n{self.text()}"
            assert time.monotonic() < deadline, f"no {needle!r} in:\n{self.text()}"
            time.sleep(0.05)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        self.proc.send_signal(sig)
        self.proc.wait(timeout=30)
        self._out.close()


def test_a_reminder_and_a_timer_due_while_the_daemon_was_killed_are_announced_once_at_restart(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    # A timer set while no daemon runs (each command loads the models, so it gets a wide margin
    # to still be pending when the daemon below is killed).
    timer = subprocess.run(
        [
            sys.executable,
            "-m",
            "assistant",
            "--state-dir",
            str(state),
            "ask",
            "set a tea timer for 25 seconds",
        ],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        cwd=tmp_path,
        timeout=120,
    )
    assert timer.returncode == 0, timer.stderr
    assert "timers.start" in timer.stdout, timer.stdout
    first = Daemon(tmp_path, state, "first")
    try:
        asked = subprocess.run(
            [
                sys.executable,
                "-m",
                "assistant",
                "--state-dir",
                str(state),
                "ask",
                "remind me to stretch in 4 seconds",
            ],
            capture_output=True,
            text=True,
            env=_env(tmp_path),
            cwd=tmp_path,
            timeout=120,
        )
        assert asked.returncode == 0, asked.stderr
        assert "reminders.add" in asked.stdout and "in 4 seconds: stretch" in asked.stdout, asked.stdout
        # The running daemon would announce it in a few seconds; it dies first, without warning.
        first.wait_for("Listening")
        first.kill()
    finally:
        if first.proc.poll() is None:
            first.kill()
    assert "stretch" not in first.text(), "killed too late: the reminder was already due"
    assert "tea timer" not in first.text(), "killed too late: the timer was already due"
    jobs = JobStore(state)
    [job] = jobs.find("reminders")
    [timer_job] = jobs.find("timers")  # the timer survived the kill too
    jobs.close()
    # Only a job found more than MISSED_AFTER_S late at start counts as missed.
    last_due = max(job.due, timer_job.due).timestamp()
    time.sleep(max(0.0, last_due + MISSED_AFTER_S + 1 - time.time()))

    second = Daemon(tmp_path, state, "second")
    line = "announce: While I was off, you had a reminder: stretch."
    timer_line = "announce: While I was off, your tea timer finished."
    try:
        second.wait_for(line)
        second.wait_for(timer_line)
        time.sleep(1)
    finally:
        second.kill()
    assert second.text().count(line) == 1
    assert second.text().count(timer_line) == 1
    assert "announce: Reminder: stretch." not in second.text()

    third = Daemon(tmp_path, state, "third")
    try:
        third.wait_for("Listening")
        time.sleep(1.5)  # the scheduler's first look (and a poll) has happened
    finally:
        third.kill(signal.SIGTERM)
    assert "stretch" not in third.text() and "tea timer" not in third.text()
    jobs = JobStore(state)
    assert jobs.find("reminders") == [] and jobs.find("timers") == []
    jobs.close()
