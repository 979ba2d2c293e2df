"""The real SmolLM2 model deciding under the answer-or-tool grammar, and its prompt state reuse."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import random
from pathlib import Path

import jsonschema

from assistant import paths
from assistant.audio.sinks import MemorySink
from assistant.llm.decision import AnswerText, LlmEvent, ToolRequest
from assistant.llm.local import LocalLlm
from assistant.llm.prefix_state import PrefixStateStore
from assistant.llm.prompt import Prompt
from assistant.metrics import PromptCounters
from assistant.runtime import Runtime
from assistant.session import Session

_SUBJECTS = ["the moon", "a timer", "my sister", "jazz", "the weather", "bread", "an alarm", "Tokyo", "rain"]
_ASKS = [
    "tell me about",
    "can you set",
    "remind me of",
    "what is",
    "play",
    "how cold is",
    "cancel",
    "explain",
]
_TAILS = ["", "please", "in ten minutes", "tomorrow morning", "right now", "for an hour", "quickly"]


async def _events(
    llm: LocalLlm, runtime: Runtime, text: str, allowed: tuple[str, ...] | None
) -> list[LlmEvent]:
    assert runtime.answerer is not None
    prompt = Prompt(runtime.config.llm.system_prompt, text)
    async with contextlib.aclosing(llm.decide(prompt, runtime.answerer.tools, allowed)) as events:
        return [event async for event in events]


async def test_grammar_constrained_decisions_always_parse_into_an_answer_or_a_real_tool(
    runtime: Runtime,
) -> None:
    assert runtime.llm is not None and runtime.answerer is not None
    tools = runtime.answerer.tools
    rng = random.Random(7)
    llm = runtime.llm
    for _ in range(8):
        text = " ".join(w for w in (rng.choice(_ASKS), rng.choice(_SUBJECTS), rng.choice(_TAILS)) if w)
        # Every tool offered at once: the hardest grammar, and the model's freest choice.
        events = await _events(llm, runtime, text, None)
        requests = [e for e in events if isinstance(e, ToolRequest)]
        answer = "".join(e.text for e in events if isinstance(e, AnswerText))
        if requests:
            (request,) = requests
            assert answer == "" and request.name in tools.tools, (text, request)
            jsonschema.validate(request.arguments, tools.tools[request.name].arguments_schema)
        else:
            assert answer.strip(), text


async def test_a_request_sharing_no_word_with_any_skill_can_only_be_answered(runtime: Runtime) -> None:
    assert runtime.llm is not None and runtime.answerer is not None
    allowed = runtime.answerer.allowed_tools(Prompt("", "What is the capital of France?"))
    assert allowed == ()
    events = await _events(runtime.llm, runtime, "What is the capital of France?", allowed)
    assert events and all(isinstance(e, AnswerText) for e in events)
    assert "paris" in "".join(e.text for e in events if isinstance(e, AnswerText)).lower()


async def test_the_system_prompt_is_evaluated_once_and_reused_by_every_turn(runtime: Runtime) -> None:
    assert runtime.llm is not None
    counters = runtime.llm.prompt_counters
    await _events(runtime.llm, runtime, "Who painted the Mona Lisa?", ())
    first_reused, first_evaluated = counters.last_reused, counters.last_evaluated
    await _events(runtime.llm, runtime, "How many days are in a leap year?", ())
    # The system prompt, tool list and examples (over a thousand tokens) are not evaluated again:
    # only the new question's few tokens are.
    assert counters.last_reused > 1000 and first_reused > 1000
    assert counters.last_evaluated < 40 and first_evaluated < 40

    # A model without that state evaluates all of it for the same question.
    cold = LocalLlm(runtime.llm.model_path, runtime.config.llm, PromptCounters())
    await asyncio.to_thread(cold.load)
    try:
        await _events(cold, runtime, "How many days are in a leap year?", ())
        assert cold.prompt_counters.last_reused == 0
        assert cold.prompt_counters.last_evaluated > 1000 > 25 * counters.last_evaluated
    finally:
        cold.close()


async def test_the_evaluated_prompt_is_restored_from_disk_at_the_next_start(
    runtime: Runtime, tmp_path: Path
) -> None:
    assert runtime.llm is not None and runtime.answerer is not None
    tools, system = runtime.answerer.tools, runtime.config.llm.system_prompt
    saved = paths.cache_dir() / "llm-prompt"
    state = PrefixStateStore(saved).path(runtime.llm.prefix_key)
    assert runtime.llm.prefix_key and state.exists(), "the runtime saves its evaluated prompt at start"

    restarted = LocalLlm(runtime.llm.model_path, runtime.config.llm, PromptCounters())
    await asyncio.to_thread(restarted.load)
    try:
        await restarted.warm(tools, system, saved)
        assert restarted.prefix_restored
        assert restarted.prompt_counters.last_evaluated <= 2 < 1000 < restarted.prompt_counters.last_reused
        answer = await _events(restarted, runtime, "What is the capital of France?", ())
        assert "paris" in "".join(e.text for e in answer if isinstance(e, AnswerText)).lower()
    finally:
        restarted.close()

    # A damaged file is ignored (evaluated afresh and saved again), never a failed start.
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / state.name).write_bytes(state.read_bytes()[:5000])
    again = LocalLlm(runtime.llm.model_path, runtime.config.llm, PromptCounters())
    await asyncio.to_thread(again.load)
    try:
        await again.warm(tools, system, broken)
        assert not again.prefix_restored and again.prompt_counters.last_evaluated > 1000
        assert (broken / state.name).stat().st_size == state.stat().st_size
        assert PrefixStateStore(broken).path(state.stem).exists()
    finally:
        again.close()


async def test_a_prompt_state_for_another_prompt_is_not_used(runtime: Runtime, tmp_path: Path) -> None:
    assert runtime.llm is not None and runtime.answerer is not None
    other = dataclasses.replace(runtime.config.llm, system_prompt="Answer like a pirate.")
    llm = LocalLlm(runtime.llm.model_path, other, PromptCounters())
    await asyncio.to_thread(llm.load)
    try:
        folder = tmp_path / "state"
        folder.mkdir()
        state = PrefixStateStore(paths.cache_dir() / "llm-prompt").path(runtime.llm.prefix_key)
        (folder / state.name).write_bytes(state.read_bytes())
        await llm.warm(runtime.answerer.tools, other.system_prompt, folder)
        assert not llm.prefix_restored and llm.prefix_key != runtime.llm.prefix_key
        assert {p.name for p in folder.glob("*.kvstate")} == {state.name, f"{llm.prefix_key}.kvstate"}
    finally:
        llm.close()


async def test_after_another_prompt_the_system_prompt_state_is_put_back_not_evaluated(
    runtime: Runtime,
) -> None:
    assert runtime.llm is not None
    llm = runtime.llm
    # Something else uses the model in between (the bench's baseline asks without tools).
    other = await llm.complete([{"role": "user", "content": "Say one word."}])
    assert other.strip()
    assert llm.prompt_counters.last_evaluated < 40
    await _events(llm, runtime, "What is the tallest mountain?", ())
    assert llm.prompt_counters.last_evaluated < 40 and llm.prompt_counters.last_reused > 1000


async def test_a_request_only_a_tool_covers_ends_in_a_validated_tool_call(runtime: Runtime) -> None:
    text = "could you wake me up with a reminder to stretch in twenty minutes"
    assert runtime.router.route(text).route == "llm", "a template covers it: pick another phrase"
    before = {job.id for job in runtime.jobs.find(skill="reminders")}
    result = await Session(runtime, MemorySink()).handle_text(text)
    assert result.route == "llm" and result.tool_call is not None, result.to_json()
    assert "tool_rejected" not in result.degraded and result.error is None
    # It ran as a skill action with slots that passed the intent's own schema.
    assert result.skill in {"reminders", "alarms", "timers"} and result.action
    tool = runtime.answerer.tools.tools[f"{result.skill}__{result.action}"] if runtime.answerer else None
    assert tool is not None and tool.validator.is_valid(result.slots)
    for job in runtime.jobs.find(skill="reminders"):
        if job.id not in before:
            runtime.jobs.delete("reminders", job.id)
