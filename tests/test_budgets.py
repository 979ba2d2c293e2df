"""Budgets that act, on the real models: a filler, a hard stop, and skills-only mode."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from typing import Any

from assistant import paths
from assistant.audio.sinks import MemorySink
from assistant.bench.runner import TurnRecord, summarize
from assistant.config import BudgetsConfig, Config
from assistant.degrade import SkillsOnlySwitch
from assistant.llm.answerer import Answerer
from assistant.llm.local import LocalLlm
from assistant.llm.response_cache import ResponseCache
from assistant.metrics import Metrics
from assistant.runtime import Runtime
from assistant.session import Session

QUESTION = "What is the capital of France?"
STORY = "Write a very long story about a dragon and a knight."
OLD_JSON_KEYS = {"transcript", "route", "skill", "action", "slots", "reply", "timings_ms", "budget_exceeded"}


def with_budgets(runtime: Runtime, **budgets: Any) -> Runtime:
    """The shared models with other budgets, and counters and skills-only state of its own."""
    # No cut unless asked for: a loaded test machine must not turn a slow answer into another test.
    budgets.setdefault("llm_hard_limit_ms", 120_000)
    config = dataclasses.replace(
        runtime.config, budgets=dataclasses.replace(runtime.config.budgets, **budgets)
    )
    return dataclasses.replace(runtime, config=config, metrics=Metrics(), skills_only=SkillsOnlySwitch())


async def test_a_slow_first_token_gets_the_cached_filler_first_while_the_answer_goes_on(
    runtime: Runtime,
) -> None:
    assert runtime.llm is not None
    rt = with_budgets(runtime, llm_first_token_ms=1)
    filler = rt.config.reply.filler
    hits, requests = rt.tts.cache.hits, runtime.llm.requests
    sink = MemorySink()
    result = await Session(rt, sink).handle_text(QUESTION)
    assert result.route == "llm" and result.degraded == ["filler"]
    assert runtime.llm.requests == requests + 1
    assert len(sink.pieces) >= 2 and sink.pieces[0].text == filler
    assert result.reply.startswith(f"{filler} ") and len(result.reply) > len(filler) + 5
    # Pre-synthesized at start: the filler was a cache hit, played before the model's first token.
    assert rt.tts.cache.hits >= hits + 1
    assert result.trace is not None
    assert sink.times[0] < result.trace.marks["llm_first_token"]
    # The stage timings still measure the answer, not the filler.
    assert result.trace.marks["first_reply_text"] >= result.trace.marks["llm_first_token"]
    assert "llm_first_token" in result.budget_exceeded
    assert result.to_json()["degraded"] == ["filler"]
    assert set(result.to_json()) == OLD_JSON_KEYS | {"degraded"}
    snapshot = rt.metrics.snapshot()
    assert snapshot["turns"] == {"llm": 1}
    assert snapshot["over_budget"]["llm_first_token"] == 1
    assert snapshot["degraded"] == {"filler": 1}


async def test_the_filler_can_be_turned_off(runtime: Runtime) -> None:
    rt = with_budgets(runtime, llm_first_token_ms=1, llm_filler=False)
    sink = MemorySink()
    result = await Session(rt, sink).handle_text(QUESTION)
    assert result.degraded == [] and "llm_first_token" in result.budget_exceeded
    assert rt.config.reply.filler not in [p.text for p in sink.pieces]


async def test_past_the_hard_limit_generation_stops_and_the_too_slow_line_is_said(runtime: Runtime) -> None:
    assert runtime.llm is not None
    # A model allowed to write for a long time, so only the cut can end it quickly.
    llm = LocalLlm(runtime.llm.model_path, dataclasses.replace(runtime.config.llm, max_tokens=4096))
    await asyncio.to_thread(llm.load)
    assert runtime.answerer is not None
    # Its system prompt evaluated (restored from the cache) like any started model's: a cut
    # cannot stop llama.cpp in the middle of evaluating a prompt, only between tokens.
    await llm.warm(runtime.answerer.tools, runtime.config.llm.system_prompt, paths.cache_dir() / "llm-prompt")
    try:
        too_slow = runtime.config.reply.too_slow
        for limit_ms in (1, 400):
            assert runtime.answerer is not None
            answerer = Answerer(runtime.answerer.tools, llm, cache=ResponseCache(0, 0))
            rt = dataclasses.replace(
                with_budgets(runtime, llm_hard_limit_ms=limit_ms), llm=llm, answerer=answerer
            )
            sink = MemorySink()
            start = time.monotonic()
            result = await Session(rt, sink).handle_text(STORY)
            took = time.monotonic() - start
            assert not llm.busy, "generation still running after the turn"
            assert result.degraded == ["llm_cancelled"], limit_ms
            assert result.reply.endswith(too_slow) and sink.pieces[-1].text == too_slow
            if limit_ms == 1:
                assert result.reply == too_slow
            assert took < limit_ms / 1000 + 3, took
            assert rt.metrics.snapshot()["degraded"] == {"llm_cancelled": 1}
        assert llm.requests == 2
    finally:
        llm.close()


async def test_slow_llm_turns_switch_to_skills_only_which_ends_by_itself(runtime: Runtime) -> None:
    assert runtime.llm is not None
    rt = with_budgets(runtime, llm_first_token_ms=1, llm_filler=False, skills_only_after=3)
    session = Session(rt, MemorySink())
    for _ in range(3):
        assert not rt.skills_only.active()
        result = await session.handle_text(QUESTION)
        assert result.route == "llm" and "llm_first_token" in result.budget_exceeded
    assert rt.skills_only.active()
    requests = runtime.llm.requests
    result = await session.handle_text("Tell me about the history of Rome.")
    assert runtime.llm.requests == requests
    assert (result.route, result.reply, result.degraded) == (
        "llm",
        rt.config.reply.skills_only,
        ["skills_only"],
    )
    clock = await session.handle_text("what time is it")
    assert (clock.route, clock.skill, clock.action, clock.degraded) == ("skill", "clock", "time", [])
    assert clock.reply.startswith("It's")
    snapshot = rt.metrics.snapshot()
    assert snapshot["turns"] == {"llm": 4, "skill": 1}
    assert snapshot["over_budget"]["llm_first_token"] == 3
    assert snapshot["degraded"] == {"skills_only": 1}
    assert snapshot["skills_only_switches"] == 1
    # It lasts skills_only_s, then the LLM answers again.
    until = rt.skills_only.until
    assert until is not None and until - time.monotonic() > rt.config.budgets.skills_only_s - 60
    assert rt.skills_only.active(now=until - 0.01)
    assert not rt.skills_only.active(now=until)
    result = await session.handle_text(QUESTION)
    assert runtime.llm.requests == requests + 1 and result.degraded == []


def test_only_consecutive_slow_answers_count_and_zero_means_never() -> None:
    budgets = BudgetsConfig(skills_only_after=2, skills_only_s=10)
    switch = SkillsOnlySwitch()
    assert not switch.record(True, budgets, now=0)
    assert not switch.record(False, budgets, now=1)  # a fast answer starts the count again
    assert not switch.record(True, budgets, now=2)
    assert switch.record(True, budgets, now=3)
    assert switch.active(now=12.9) and not switch.active(now=13)
    never = SkillsOnlySwitch()
    assert not any(never.record(True, BudgetsConfig(skills_only_after=0)) for _ in range(10))
    assert not never.active()


async def test_a_quick_answer_takes_no_degrade_action(runtime: Runtime) -> None:
    rt = with_budgets(runtime)
    result = await Session(rt, MemorySink()).handle_text("what time is it")
    assert result.degraded == [] and result.to_json()["degraded"] == []
    assert rt.metrics.snapshot()["turns"] == {"skill": 1}


def test_bench_summary_counts_overruns_and_actions() -> None:
    def record(budget_exceeded: list[str], degraded: list[str]) -> TurnRecord:
        return TurnRecord(
            file="a.wav",
            run=1,
            pipeline="ours",
            transcript="x",
            route="llm",
            skill=None,
            action=None,
            reply="y",
            timings_ms={"voice_to_voice": 900.0},
            marks_ms={},
            cpu_s=0.1,
            budget_exceeded=budget_exceeded,
            degraded=degraded,
        )

    summary = summarize(
        [
            record(["llm_first_token", "voice_to_voice"], ["filler"]),
            record(["llm_first_token"], ["filler", "llm_cancelled"]),
            record([], []),
        ]
    )
    assert summary["over_budget"] == {"llm_first_token": 2, "voice_to_voice": 1}
    assert summary["degraded"] == {"filler": 2, "llm_cancelled": 1}
    assert summarize([record([], [])])["over_budget"] == {}


def test_degrade_settings_have_defaults() -> None:
    budgets = Config().budgets
    assert budgets.llm_filler is True
    assert budgets.llm_hard_limit_ms > budgets.llm_first_token_ms
    assert budgets.skills_only_after == 3 and budgets.skills_only_s == 300
