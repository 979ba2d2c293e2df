"""Skill intents as model tools, the decision parser, the response cache and the conversation memory."""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from pathlib import Path

import jsonschema
import pytest

from assistant.errors import ModelError
from assistant.llm.decision import DecisionError, DecisionParser, ToolRequest
from assistant.llm.memory import Conversation
from assistant.llm.memory_check import check_fits_memory, estimated_need_bytes
from assistant.llm.prompt import Exchange, Prompt, local_messages, openai_messages
from assistant.llm.response_cache import CachedDecision, ResponseCache
from assistant.llm.tools import ToolCallError, ToolSet
from assistant.skill.registry import load_skills

NOW = dt.datetime(2026, 3, 2, 9, 15, tzinfo=zoneinfo.ZoneInfo("Europe/Paris"))


@pytest.fixture(scope="module")
def tools() -> ToolSet:
    return ToolSet(load_skills().skills.values())


def test_every_loaded_intent_becomes_one_tool_named_skill__intent(tools: ToolSet) -> None:
    skills = load_skills().skills
    expected = {f"{s.name}__{i.name}" for s in skills.values() for i in s.intents}
    assert set(tools.tools) == expected and len(expected) > 20
    start = tools.tools["timers__start"]
    assert start.description == next(i for i in skills["timers"].intents if i.name == "start").description
    assert start.signature().startswith("timers__start(duration_s?: duration, name?: text")
    declared = start.openai()["function"]
    assert declared["name"] == "timers__start" and declared["parameters"]["additionalProperties"] is False


def test_the_decision_schema_is_valid_and_accepts_answers_and_tool_calls_only(tools: ToolSet) -> None:
    schema = tools.decision_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    valid = jsonschema.Draft202012Validator(schema)
    assert valid.is_valid({"answer": "Paris."})
    assert valid.is_valid({"tool": "timers__start", "args": {"duration_s": "ten minutes"}})
    assert not valid.is_valid({"tool": "shell__run", "args": {}})
    assert not valid.is_valid({"tool": "timers__start", "args": {"seconds": 5}})
    assert not valid.is_valid({"answer": "x", "tool": "clock__time"})
    only = tools.decision_schema(("clock__time",))
    assert jsonschema.Draft202012Validator(only).is_valid({"tool": "clock__time", "args": {}})
    assert not jsonschema.Draft202012Validator(only).is_valid({"tool": "timers__cancel_all", "args": {}})
    answer_only = tools.decision_schema(())
    assert answer_only["properties"] == {"answer": {"type": "string", "minLength": 1}}


def test_spoken_arguments_become_the_same_slot_values_a_template_gives(tools: ToolSet) -> None:
    intent, tool = tools.resolve("timers__start", {"duration_s": "twenty minutes", "name": "tea"}, NOW)
    assert (intent.skill, intent.action, intent.slots) == (
        "timers",
        "start",
        {"duration_s": 1200, "name": "tea"},
    )
    assert tool.spec.side_effects
    intent, _ = tools.resolve("reminders__add", {"task": "stretch", "when": "in twenty minutes"}, NOW)
    assert intent.slots == {"task": "stretch", "when": "2026-03-02T09:35:00+01:00"}
    intent, _ = tools.resolve("music__volume_set", {"volume": 7}, NOW)
    assert intent.slots == {"volume": 70}
    # An empty optional argument is no argument.
    intent, _ = tools.resolve("timers__cancel", {"name": ""}, NOW)
    assert intent.slots == {}


@pytest.mark.parametrize(
    ("name", "arguments", "problem"),
    [
        ("system__shutdown", {}, "unknown tool 'system__shutdown'"),
        ("timers__start", {"seconds": "5"}, "no argument 'seconds'"),
        ("timers__start", {"duration_s": "banana"}, "'banana' is not a duration"),
        ("timers__remove_time", {}, "'duration_s' is a required property"),
        ("weather__forecast", {"when": "next century"}, "is not a choice"),
        ("clock__time_in", {"place": {"city": "Oslo"}}, "must be words or a number"),
        ("music__volume_set", {"volume": 250}, "250"),
    ],
)
def test_bad_tool_calls_are_refused_naming_the_problem(
    tools: ToolSet, name: str, arguments: dict[str, object], problem: str
) -> None:
    with pytest.raises(ToolCallError, match=None) as raised:
        tools.resolve(name, arguments, NOW)
    assert problem in str(raised.value)


def test_only_tools_of_skills_the_words_point_at_are_offered(tools: ToolSet) -> None:
    def skills(text: str) -> set[str]:
        return {name.split("__")[0] for name in tools.candidates(text)}

    assert skills("what is the capital of France") == set()
    assert skills("tell me a joke") == set()
    assert {"reminders", "alarms"} <= skills(
        "could you wake me up with a reminder to stretch in twenty minutes"
    )
    assert skills("is it going to rain in Lyon") == {"weather"}
    assert skills("put on some jazz music") == {"music"}


def _parse(pieces: list[str]) -> tuple[str, ToolRequest | None]:
    parser = DecisionParser()
    text = "".join(parser.push(piece) for piece in pieces)
    return text, parser.finish()


def test_the_answer_streams_out_of_its_json_even_with_escapes_split_between_pieces() -> None:
    pieces = ['{ "', "answer", '": "', "Say \\", '"hi\\', '" to ', "caf\\u00", "e9\\n", 'now." }']
    assert _parse(pieces) == ('Say "hi" to café\nnow.', None)
    # Text arrives as soon as it is generated, not at the end.
    parser = DecisionParser()
    assert parser.push('{"answer": "Paris') == "Paris"
    assert parser.push(" is big") == " is big"


def test_a_tool_call_is_parsed_when_complete_and_a_cut_one_is_an_error() -> None:
    text, request = _parse(['{"tool": "timers__start", ', '"args": {"duration_s": "5 minutes"}}'])
    assert text == "" and request == ToolRequest("timers__start", {"duration_s": "5 minutes"})
    with pytest.raises(DecisionError, match="not complete JSON"):
        _parse(['{"tool": "timers__start", "args": {"dura'])
    with pytest.raises(DecisionError, match="neither an answer nor a tool call"):
        _parse(['{"what": 1}'])
    with pytest.raises(DecisionError, match="no output"):
        _parse([])
    # Without a grammar a model may just talk: that is an answer.
    assert _parse(["Hello ", "there."]) == ("Hello there.", None)


def test_the_response_cache_is_bounded_expires_and_counts() -> None:
    now = [0.0]
    cache = ResponseCache(max_entries=2, ttl_s=60, clock=lambda: now[0])
    cache.put("What is the capital of France?", CachedDecision("Paris."))
    assert cache.get("what is the capital of france") == CachedDecision("Paris.")
    cache.put("a", CachedDecision("1"))
    cache.put("b", CachedDecision("2"))  # evicts the least recently used: France
    assert cache.get("What is the capital of France?") is None
    assert cache.counters.snapshot()["evictions"] == 1 and cache.counters.entries == 2
    now[0] = 61
    assert cache.get("b") is None  # expired
    assert (cache.counters.hits, cache.counters.misses) == (1, 2)
    assert not ResponseCache(0, 60).enabled and ResponseCache(0, 60).get("a") is None


def test_the_conversation_keeps_a_bounded_recent_window() -> None:
    now = [0.0]
    memory = Conversation(window_s=60, max_exchanges=2, clock=lambda: now[0])
    for n in range(3):
        memory.add(Exchange(f"q{n}", f"a{n}"))
        now[0] += 10
    assert [e.user for e in memory.recent()] == ["q1", "q2"]
    now[0] = 75  # q1 was added at 10: older than 60 s now
    assert [e.user for e in memory.recent()] == ["q2"]
    memory.clear()
    assert memory.recent() == ()
    off = Conversation(window_s=60, max_exchanges=0)
    off.add(Exchange("q", "a"))
    assert off.recent() == ()


def test_history_reaches_both_backends_in_their_own_form(tools: ToolSet) -> None:
    weather = ToolRequest("weather__forecast", {"when": "tomorrow"})
    prompt = Prompt(
        "Be brief.", "and in Paris?", (Exchange("weather tomorrow", "Sunny, 20 degrees.", weather),)
    )
    local = local_messages(prompt, tools)
    assert local[0]["role"] == "system" and "weather__forecast(" in local[0]["content"]
    assert local[-3:] == [
        {"role": "user", "content": "weather tomorrow"},
        {
            "role": "assistant",
            "content": json.dumps({"tool": "weather__forecast", "args": {"when": "tomorrow"}}),
        },
        {"role": "user", "content": "and in Paris?"},
    ]
    remote = openai_messages(prompt)
    assert remote[2]["tool_calls"][0]["function"] == {
        "name": "weather__forecast",
        "arguments": '{"when": "tomorrow"}',
    }
    assert remote[3] == {"role": "tool", "tool_call_id": "call_0", "content": "Sunny, 20 degrees."}
    # The fixed part is the same whatever is asked: that is what makes its evaluated state reusable.
    other = local_messages(Prompt("Be brief.", "hello"), tools)
    assert other[: len(local) - 3] == local[: len(local) - 3]


def test_a_model_too_big_for_memory_is_refused_with_the_numbers(tmp_path: Path) -> None:
    model = tmp_path / "big.gguf"
    model.write_bytes(b"\0" * 4_000_000)
    need = estimated_need_bytes(4_000_000, 2048)
    check_fits_memory(model, 2048, available=need + 1)
    with pytest.raises(ModelError) as raised:
        check_fits_memory(model, 2048, available=need - 1)
    message = str(raised.value)
    assert "big.gguf" in message and "MiB of memory is available" in message and "llm.context" in message
