"""A plugin handler that raises or hangs: a short spoken answer, and the assistant carries on."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from assistant.audio.sinks import MemorySink
from assistant.config import BudgetsConfig
from assistant.runtime import Runtime
from assistant.session import Session
from assistant.skill import Reply, Skill, SkillContext
from assistant.understand.intents import IntentMatcher
from assistant.understand.router import Router

misbehaving = Skill("misbehaving", "A plugin with bugs.")


@misbehaving.intent("explode", description="Raises.", sentences=["make it explode"])
async def explode(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    raise RuntimeError("plugin bug")


@misbehaving.intent("hang", description="Never answers.", sentences=["make it hang"])
async def hang(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    await asyncio.sleep(60)
    return Reply("too late")


written: list[str] = []
handler_started = asyncio.Event()


@misbehaving.intent(
    "slow_write", description="Changes something slowly.", sentences=["write slowly"], side_effects=True
)
async def slow_write(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    written.append("started")
    handler_started.set()
    await asyncio.sleep(0.2)
    written.append("finished")
    return Reply("Written.")


@misbehaving.intent("slow_read", description="Looks something up slowly.", sentences=["read slowly"])
async def slow_read(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    written.append("reading")
    handler_started.set()
    await asyncio.sleep(0.2)
    written.append("read")
    return Reply("Read.")


def with_plugin(runtime: Runtime) -> Runtime:
    skills = [*runtime.skills.skills.values(), misbehaving]
    budgets = dataclasses.replace(runtime.config.budgets, skill_timeout_ms=300)
    return dataclasses.replace(
        runtime,
        router=Router(IntentMatcher(skills)),
        config=dataclasses.replace(runtime.config, budgets=budgets),
    )


async def test_a_raising_handler_gets_an_apology_and_the_next_turn_works(runtime: Runtime) -> None:
    rt = with_plugin(runtime)
    sink = MemorySink()
    session = Session(rt, sink)
    result = await session.handle_text("make it explode")
    assert (result.route, result.skill, result.action) == ("skill", "misbehaving", "explode")
    assert result.reply == rt.config.reply.failure
    assert result.error == "RuntimeError: plugin bug"
    assert sink.pieces  # the apology was spoken
    after = await session.handle_text("what time is it")
    assert (after.skill, after.error) == ("clock", None)


async def test_a_hanging_handler_is_cancelled_at_its_budget(runtime: Runtime) -> None:
    rt = with_plugin(runtime)
    assert rt.config.budgets.skill_timeout_ms == 300
    start = time.monotonic()
    result = await Session(rt, MemorySink()).handle_text("make it hang")
    handled_in = time.monotonic() - start
    assert result.reply == rt.config.reply.skill_timeout
    assert result.error is None
    # Cancelled at 0.3 s; the rest is speaking the apology (generous bound for slow machines).
    assert handled_in < 0.3 + 5
    assert BudgetsConfig().skill_timeout_ms > 300  # the default is more patient


async def test_a_cancelled_turn_lets_a_changing_handler_finish_but_cuts_a_reading_one(
    runtime: Runtime,
) -> None:
    rt = with_plugin(runtime)
    for command, expected in (("write slowly", ["started", "finished"]), ("read slowly", ["reading"])):
        written.clear()
        handler_started.clear()
        turn = asyncio.ensure_future(Session(rt, MemorySink()).handle_text(command))
        await asyncio.wait_for(handler_started.wait(), 10)
        turn.cancel()  # a barge-in or shutdown while the handler runs
        try:
            await turn
        except asyncio.CancelledError:
            pass
        else:
            raise AssertionError("the cancellation was swallowed")
        await asyncio.sleep(0.3)
        assert written == expected, command
