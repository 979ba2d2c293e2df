"""The timers skill through real turns: routing, state kept in the store and scheduler, ringing."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant.audio.sinks import MemorySink
from assistant.config import Config
from assistant.runtime import Runtime, start_runtime
from assistant.session import Session, TurnResult
from assistant.skill import Held, Job, Reply
from assistant.skill.alerts import AlertService
from assistant.skill.context import HttpClients
from assistant.skill.scheduler import JobStore, SchedulerService
from assistant.store import KeyValueStore
from hearkend_skills.timers import default_name, name_key, spoken_left

START = dt.datetime(2025, 3, 14, 12, 0, 0, tzinfo=dt.UTC)


class Clock:
    """A settable clock for the runtime (and so for every handler's ``ctx.now``)."""

    def __init__(self, now: dt.datetime) -> None:
        self.now = now

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@pytest.fixture(scope="module")
def loaded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """Piper and the built-in skills, loaded once; no speech recognition or language model."""
    state = tmp_path_factory.mktemp("timers-state")
    rt = asyncio.run(start_runtime(Config(), state_dir=state, need_asr=False, need_llm=False, warm=False))
    assert "timers" in rt.skills.skills, rt.skills.failed
    yield rt
    rt.close()


@dataclasses.dataclass
class World:
    """One test's runtime over a fresh state directory, with its clock."""

    rt: Runtime
    clock: Clock
    session: Session

    async def say(self, text: str) -> TurnResult:
        """One typed turn through the session."""
        result = await self.session.handle_text(text)
        assert result.error is None, result.error
        return result

    async def ask(self, text: str) -> str:
        """Route ``text`` and run its timers handler as a session would, without speaking it.

        Piper takes about a second per reply sentence on a small CPU; a few tests speak whole
        turns through ``say``, the rest answer here to keep the file quick.
        """
        decision = self.rt.router.route(text)
        assert decision.intent is not None and decision.spec is not None, text
        assert decision.intent.skill == "timers", text
        reply = await decision.spec.handler(self.rt.skill_context("timers"), dict(decision.intent.slots))
        return reply.text

    async def stored(self) -> dict[str, Any]:
        """The timers skill's store."""
        return await self.rt.skill_context("timers").store.items()

    def jobs(self) -> dict[str, Job]:
        """The timers skill's scheduled jobs by id."""
        return {job.id: job for job in self.rt.jobs.find("timers")}

    def reopen(self) -> None:
        """Simulate a restart: new database connections on the same state directory."""
        self.rt.store.close()
        self.rt.jobs.close()
        self.rt.store = KeyValueStore(self.rt.state_dir)
        self.rt.jobs = JobStore(self.rt.state_dir)


def _world(loaded: Runtime, state: Path, skills: dict[str, dict[str, Any]] | None = None) -> World:
    clock = Clock(START)
    config = dataclasses.replace(loaded.config, skills=skills or {})
    rt = dataclasses.replace(
        loaded,
        config=config,
        now=clock,
        state_dir=state,
        store=KeyValueStore(state),
        jobs=JobStore(state),
        alerts=AlertService(),
        http=HttpClients(5.0),
    )
    return World(rt, clock, Session(rt, MemorySink()))


@contextlib.asynccontextmanager
async def world_at(loaded: Runtime, state: Path, **skills: dict[str, Any]) -> AsyncIterator[World]:
    w = _world(loaded, state, skills)
    try:
        yield w
    finally:
        await w.rt.alerts.aclose()
        await w.rt.http.aclose()
        w.rt.store.close()
        w.rt.jobs.close()


@pytest.fixture
async def world(loaded: Runtime, tmp_path: Path) -> AsyncIterator[World]:
    async with world_at(loaded, tmp_path) as w:
        yield w


async def fire_due(w: World, count: int = 1) -> SchedulerService:
    """Run the scheduler, as the daemon does, until ``count`` jobs have fired."""
    timers = w.rt.skills.skills["timers"]

    async def dispatch(job: Job) -> None:
        await timers.events[job.event](w.rt.skill_context(job.skill), job)

    service = SchedulerService(w.rt.jobs, dispatch, w.rt.now)
    task = asyncio.create_task(service.run())
    try:
        async with asyncio.timeout(5):
            # The service counts fired jobs (after deleting them) but signals nothing; poll it.
            while service.fired < count:  # noqa: ASYNC110
                await asyncio.sleep(0.01)
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return service


def queued(w: World) -> list[tuple[str, str | None]]:
    """Announcements waiting to be spoken, as (text, sound), emptying the queue."""
    items = []
    while not w.rt.alerts.queue.empty():
        item = w.rt.alerts.queue.get_nowait()
        items.append((item.text, item.sound))
    return items


# --- routing --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action", "slots"),
    [
        ("set a timer for 5 minutes", "start", {"duration_s": 300}),
        ("Set a timer for five minutes.", "start", {"duration_s": 300}),
        ("timer for 90 seconds", "start", {"duration_s": 90}),
        ("5 minute timer", "start", {"duration_s": 300}),
        ("a ten-minute timer please", "start", {"duration_s": 600}),
        ("set a timer for 5 mins", "start", {"duration_s": 300}),
        ("set a timer for 30 sec", "start", {"duration_s": 30}),
        ("set a timer for 2 hr", "start", {"duration_s": 7200}),
        ("can you set a timer for twenty minutes please", "start", {"duration_s": 1200}),
        ("I need a timer for 3 minutes", "start", {"duration_s": 180}),
        ("countdown 3 minutes", "start", {"duration_s": 180}),
        ("start a countdown for 1 minute", "start", {"duration_s": 60}),
        ("set a time for 5 minutes", "start", {"duration_s": 300}),
        ("set a tamer for 5 minutes", "start", {"duration_s": 300}),
        ("set a timer for 5 minutes for me", "start", {"duration_s": 300}),
        ("set a timer", "start", {}),
        ("set a 10 minute pasta timer", "start", {"amount": 10.0, "unit": "minute", "name": "pasta"}),
        ("start a 30 second egg timer", "start", {"amount": 30.0, "unit": "second", "name": "egg"}),
        (
            "start a timer for an hour and a half called laundry",
            "start",
            {"duration_s": 5400, "name": "laundry"},
        ),
        ("set a timer named eggs for 7 minutes", "start", {"duration_s": 420, "name": "eggs"}),
        ("set a pasta timer for 10 minutes", "start", {"duration_s": 600, "name": "pasta"}),
        ("set a timer for 10 minutes for the pasta", "start", {"duration_s": 600, "name": "pasta"}),
        ("set a 10 minute timer called pasta", "start", {"duration_s": 600, "name": "pasta"}),
        ("cancel the timer", "cancel", {}),
        ("stop the pasta timer", "cancel", {"name": "pasta"}),
        ("delete my timer", "cancel", {}),
        ("cancel the timer called laundry", "cancel", {"name": "laundry"}),
        ("cancel the five-minute timer", "cancel", {"name": "five-minute"}),
        ("cancel all timers", "cancel_all", {}),
        ("cancel all my timers", "cancel_all", {}),
        ("clear timers", "cancel_all", {}),
        ("cancel all tires", "cancel_all", {}),
        ("cancel both timers", "cancel_all", {}),
        ("pause the timer", "pause", {}),
        ("pause the pasta timer", "pause", {"name": "pasta"}),
        ("pause all timers", "pause_all", {}),
        ("resume the laundry timer", "resume", {"name": "laundry"}),
        ("continue the timer", "resume", {}),
        ("start the timer again", "resume", {}),
        ("resume all my timers", "resume_all", {}),
        ("add 2 minutes to the timer", "add_time", {"duration_s": 120}),
        ("add a minute to the pasta timer", "add_time", {"duration_s": 60, "name": "pasta"}),
        ("take 30 seconds off the pasta timer", "remove_time", {"duration_s": 30, "name": "pasta"}),
        ("how much time is left", "status", {}),
        ("how much time is left on the timer", "status", {}),
        ("how long on the pasta timer", "status", {"name": "pasta"}),
        ("how long until the pasta timer goes off", "status", {"name": "pasta"}),
        ("what timers do I have", "status", {}),
        ("how are my timers doing", "status", {}),
        ("how's the pasta timer doing", "status", {"name": "pasta"}),
        ("any timers running", "status", {}),
        ("is the timer done yet", "status", {}),
        ("the pasta timer", "choose", {"name": "pasta"}),
    ],
)
def test_phrasings_reach_their_action_with_normalized_slots(
    loaded: Runtime, text: str, action: str, slots: dict[str, Any]
) -> None:
    decision = loaded.router.route(text)
    assert decision.route == "skill" and decision.intent is not None, text
    assert (decision.intent.skill, decision.intent.action) == ("timers", action)
    assert decision.intent.slots == slots


@pytest.mark.parametrize(
    ("text", "skill"),
    [
        ("what time is it", "clock"),
        ("what's the time", "clock"),
        ("time", "clock"),
        ("what time is it in tokyo", "clock"),
    ],
)
def test_the_clock_keeps_its_sentences(loaded: Runtime, text: str, skill: str) -> None:
    decision = loaded.router.route(text)
    assert decision.intent is not None and decision.intent.skill == skill


@pytest.mark.parametrize(
    "text",
    ["tell me a joke", "wake me in 20 minutes", "how long do I boil an egg", "who wrote the time machine"],
)
def test_other_requests_are_not_timers(loaded: Runtime, text: str) -> None:
    decision = loaded.router.route(text)
    assert decision.route != "skill" or (decision.intent is not None and decision.intent.skill != "timers")


def test_names_compare_in_one_form() -> None:
    assert name_key("the five-minute timer") == name_key("5 minute") == "5 minute"
    assert name_key("twenty five minutes") == "25 minute"
    assert name_key("an hour") == "1 hour"
    assert name_key("My Pasta timer") == "pasta"
    assert [default_name(s) for s in (300, 90, 3600, 5400, 150)] == [
        "5 minute",
        "90 second",
        "1 hour",
        "90 minute",
        "2 minute 30 second",
    ]
    assert spoken_left(200) == "3 minutes and 20 seconds"
    assert spoken_left(5399) == "1 hour and 30 minutes"


# --- behaviour ------------------------------------------------------------------------------------


async def test_starting_stores_the_timer_and_schedules_its_end(world: World) -> None:
    result = await world.say("set a 10 minute pasta timer")
    assert (result.skill, result.action) == ("timers", "start")
    assert result.reply == "Pasta timer set for 10 minutes."
    assert await world.stored() == {
        "timer:pasta": {
            "name": "pasta",
            "duration_s": 600,
            "end": (START + dt.timedelta(minutes=10)).isoformat(),
            "left_s": None,
            "named": True,
        }
    }
    job = world.jobs()["timer:pasta"]
    assert (job.event, job.due, dict(job.data)) == (
        "done",
        START + dt.timedelta(minutes=10),
        {"key": "pasta", "name": "pasta"},
    )

    world.clock.advance(minutes=6, seconds=40)
    result = await world.say("how much time is left")
    assert result.reply == "You have 3 minutes and 20 seconds left on your pasta timer."


async def test_several_timers_are_listed_and_a_bare_command_asks_which(world: World) -> None:
    assert await world.ask("set a pasta timer for 8 minutes") == "Pasta timer set for 8 minutes."
    assert await world.ask("set a timer named eggs for 10 minutes") == "Eggs timer set for 10 minutes."
    world.clock.advance(minutes=5)
    result = await world.say("what timers do I have")
    assert result.reply == "You have two timers: pasta with 3 minutes left, and eggs with 5 minutes left."
    assert await world.ask("how long on the eggs timer") == "You have 5 minutes left on your eggs timer."

    asked = await world.say("cancel the timer")
    assert asked.reply == "You have two timers: pasta and eggs. Which one should I cancel?"
    assert len(await world.stored()) == 3  # both timers, and the question
    answer = await world.say("the eggs timer")
    assert (answer.action, answer.reply) == ("choose", "Eggs timer cancelled.")
    assert set(world.jobs()) == {"timer:pasta"}

    # The question is a follow-up: the assistant should listen again.
    assert await world.ask("set a laundry timer for 1 hour") == "Laundry timer set for 1 hour."
    decision = world.rt.router.route("pause the timer")
    assert decision.spec is not None
    reply = await decision.spec.handler(world.rt.skill_context("timers"), {})
    assert reply == Reply("You have two timers: pasta and laundry. Which one should I pause?", follow_up=True)


async def test_unnamed_timers_are_named_after_their_length(world: World) -> None:
    assert await world.ask("set a timer for 5 minutes") == "Timer set for 5 minutes."
    assert await world.ask("5 minute timer") == "Second 5 minute timer set for 5 minutes."
    assert await world.ask("timer for 90 seconds") == "Timer set for 1 minute and 30 seconds."
    assert set(world.jobs()) == {"timer:5 minute", "timer:second 5 minute", "timer:90 second"}
    result = await world.ask("how are my timers doing")
    assert result == (
        "You have three timers: the 90 second timer with 1 minute and 30 seconds left, "
        "the 5 minute timer with 5 minutes left, and the second 5 minute timer with 5 minutes left."
    )
    assert await world.ask("cancel the five-minute timer") == "5 minute timer cancelled."
    assert await world.ask("stop the pasta timer") == (
        "You don't have a pasta timer. You have the 90 second timer and the second 5 minute timer."
    )
    assert await world.ask("cancel all timers") == "All two timers cancelled."
    assert await world.stored() == {} and world.jobs() == {}
    assert await world.ask("cancel the timer") == "You don't have any timers."


async def test_pause_keeps_the_time_left_and_resume_reschedules(world: World) -> None:
    await world.ask("set a timer for 10 minutes called laundry")
    world.clock.advance(minutes=2, seconds=30)
    result = await world.say("pause the timer")
    assert (result.action, result.reply) == (
        "pause",
        "Laundry timer paused with 7 minutes and 30 seconds left.",
    )
    assert world.jobs() == {}
    assert (await world.stored())["timer:laundry"]["left_s"] == 450

    world.clock.advance(hours=1)
    assert await world.ask("how much time is left") == (
        "Your laundry timer is paused with 7 minutes and 30 seconds left."
    )
    assert await world.ask("pause the laundry timer") == "Your laundry timer is already paused."
    answer = await world.ask("resume the laundry timer")
    assert answer == "Laundry timer resumed with 7 minutes and 30 seconds left."
    assert world.jobs()["timer:laundry"].due == world.clock.now + dt.timedelta(seconds=450)

    await world.ask("set a pasta timer for 20 minutes")
    assert await world.ask("pause all timers") == "Two timers paused."
    assert world.jobs() == {}
    assert await world.ask("resume all timers") == "Two timers resumed."
    assert set(world.jobs()) == {"timer:laundry", "timer:pasta"}


async def test_adding_and_taking_off_time(world: World) -> None:
    await world.ask("set a pasta timer for 5 minutes")
    world.clock.advance(minutes=1)
    result = await world.say("add 2 minutes to the timer")
    assert (result.action, result.reply) == (
        "add_time",
        "Added 2 minutes. Your pasta timer now has 6 minutes left.",
    )
    assert world.jobs()["timer:pasta"].due == START + dt.timedelta(minutes=7)
    answer = await world.ask("take 30 seconds off the pasta timer")
    assert answer == "Took off 30 seconds. Your pasta timer now has 5 minutes and 30 seconds left."
    assert world.jobs()["timer:pasta"].due == START + dt.timedelta(minutes=6, seconds=30)
    answer = await world.ask("take 10 minutes off the timer")
    assert answer == "Your pasta timer only has 5 minutes and 30 seconds left."
    assert world.jobs()["timer:pasta"].due == START + dt.timedelta(minutes=6, seconds=30)
    assert await world.ask("add 24 hours to the timer") == "Timers can run for up to 24 hours."


async def test_invalid_requests_get_a_clear_answer_and_store_nothing(loaded: Runtime, tmp_path: Path) -> None:
    async with world_at(loaded, tmp_path, timers={"max_timers": 2, "max_duration_s": 7200}) as w:
        assert await w.ask("set a timer for 0 seconds") == "That timer would end right away."
        assert await w.ask("set a timer for 400 days") == "Timers can run for up to 2 hours."
        assert await w.ask("set a timer") == "For how long should the timer run?"
        assert await w.stored() == {} and w.jobs() == {}
        await w.ask("set a pasta timer for 5 minutes")
        assert await w.ask("set a pasta timer for 9 minutes") == (
            "You already have a pasta timer, with 5 minutes left. Cancel it first, or pick another name."
        )
        await w.ask("set a timer for 1 minute")
        result = await w.ask("set a timer for 3 minutes")
        assert result == "You already have two timers, which is as many as I can keep. Cancel one first."
        assert set(w.jobs()) == {"timer:pasta", "timer:1 minute"}
    async with world_at(loaded, tmp_path / "defaults") as w:
        assert await w.ask("set a timer for 400 days") == "Timers can run for up to 24 hours."
        assert await w.ask("set a timer for 24 hours") == "Timer set for 24 hours."


async def test_a_finished_timer_rings_until_stopped(world: World) -> None:
    await world.ask("set a 10 minute pasta timer")
    await world.ask("set a timer for 20 minutes")
    world.clock.advance(minutes=10, seconds=1)
    await fire_due(world)
    assert world.rt.alerts.ringing() == ["timer:pasta"]
    assert queued(world) == [("Your pasta timer is done.", "alarm")]
    assert set(await world.stored()) == {"timer:20 minute"}
    assert set(world.jobs()) == {"timer:20 minute"}

    result = await world.say("stop")
    assert (result.skill, result.action) == ("system", "stop")
    assert world.rt.alerts.ringing() == []
    # The other timer runs on.
    assert await world.ask("how much time is left") == (
        "You have 9 minutes and 59 seconds left on your 20 minute timer."
    )


async def test_cancel_the_timer_silences_a_ringing_one(world: World) -> None:
    await world.ask("set a timer for 1 minute")
    world.clock.advance(minutes=1, seconds=1)
    await fire_due(world)
    assert world.rt.alerts.ringing() == ["timer:1 minute"]
    assert await world.ask("cancel the timer") == "Okay, timer stopped."
    assert world.rt.alerts.ringing() == [] and queued(world) == []


async def test_a_timer_that_ended_while_off_is_announced_once(world: World) -> None:
    await world.ask("set a timer for 5 minutes called pasta")
    world.reopen()  # the daemon stops; the timer survives in the state directory
    world.clock.advance(minutes=30)
    await fire_due(world)
    assert queued(world) == [("While I was off, your pasta timer finished.", "chime")]
    assert world.rt.alerts.ringing() == []
    assert await world.stored() == {} and world.jobs() == {}


async def test_a_paused_timer_never_fires(world: World) -> None:
    await world.ask("set a timer for 1 minute")
    decision = world.rt.router.route("pause the timer")
    assert decision.spec is not None
    job = world.jobs()["timer:1 minute"]
    await decision.spec.handler(world.rt.skill_context("timers"), {})
    # Its job was read just before the pause: the handler sees the timer is paused and stays quiet.
    await world.rt.skills.skills["timers"].events["done"](world.rt.skill_context("timers"), job)
    assert world.rt.alerts.ringing() == [] and queued(world) == []
    assert "timer:1 minute" in await world.stored()


async def test_paused_timers_are_listed_as_held_with_the_time_they_keep(world: World) -> None:
    await world.ask("set a timer for 10 minutes called laundry")
    await world.ask("set a pasta timer for 20 minutes")
    world.clock.advance(minutes=2, seconds=30)
    await world.ask("pause the laundry timer")
    [held] = world.rt.skills.skills["timers"].holders
    world.clock.advance(hours=1)  # a paused timer's time does not run
    # Only the paused one: the running one is listed by its job.
    assert await held(world.rt.skill_context("timers")) == [Held("timer:laundry", "laundry", 450.0)]
    assert set(world.jobs()) == {"timer:pasta"}
    await world.ask("resume the laundry timer")
    assert await held(world.rt.skill_context("timers")) == []
