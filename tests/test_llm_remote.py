"""The remote backend against a real OpenAI-compatible server on loopback, and its fallbacks."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import signal
import time
from collections.abc import AsyncIterator

import pytest
from openai_server import chunk, free_port, llama_server, scripted_openai

from assistant.audio.sinks import MemorySink
from assistant.config import LlmConfig, LlmRemoteConfig
from assistant.errors import ConfigError
from assistant.llm.answerer import Answerer, AnswerLost
from assistant.llm.decision import AnswerText, LlmEvent
from assistant.llm.prompt import Prompt
from assistant.llm.remote import RemoteLlm
from assistant.llm.response_cache import ResponseCache
from assistant.metrics import Metrics
from assistant.runtime import Runtime
from assistant.session import Session, TurnResult

_opened: list[RemoteLlm] = []


@pytest.fixture(autouse=True)
async def _close_remotes() -> AsyncIterator[None]:
    """Every remote backend a test made has its HTTP connections closed after it."""
    yield
    while _opened:
        await _opened.pop().aclose()


def with_remote(
    runtime: Runtime, url: str, *, local: bool = True, max_tokens: int | None = None, **remote: object
) -> Runtime:
    """The shared runtime asking a server at ``url`` first, the shared local model as fallback."""
    assert runtime.answerer is not None
    settings = dataclasses.replace(LlmRemoteConfig(url=url, model="smollm2"), **remote)
    llm = dataclasses.replace(runtime.config.llm, max_tokens=max_tokens or runtime.config.llm.max_tokens)
    config = dataclasses.replace(runtime.config, llm_remote=settings, llm=llm)
    remote_llm = RemoteLlm(settings, config.llm)
    _opened.append(remote_llm)
    answerer = Answerer(
        runtime.answerer.tools,
        runtime.llm if local else None,
        remote_llm,
        cache=ResponseCache(0, 0),
        first_token_timeout_s=settings.first_token_timeout_ms / 1000,
        retry_after_s=settings.retry_after_s,
    )
    return dataclasses.replace(runtime, config=config, answerer=answerer, metrics=Metrics())


async def _close(rt: Runtime) -> None:
    assert rt.answerer is not None and isinstance(rt.answerer.remote, RemoteLlm)
    await rt.answerer.remote.aclose()


def _notes(result: TurnResult) -> list[str]:
    """Degrade notes other than the filler (which a loaded test machine may need any time)."""
    return [note for note in result.degraded if note != "filler"]


def _counts(rt: Runtime) -> tuple[int, int]:
    assert rt.answerer is not None and rt.llm is not None
    remote = rt.answerer.remote
    assert isinstance(remote, RemoteLlm)
    return remote.requests, rt.llm.requests


async def test_a_real_openai_compatible_server_streams_the_answer(runtime: Runtime) -> None:
    assert runtime.llm is not None
    with llama_server(runtime.llm.model_path) as (url, _):
        # A loaded test machine is slow to a first token; the timeout is tested on its own below.
        rt = with_remote(runtime, url, first_token_timeout_ms=120_000)
        local_before = runtime.llm.requests
        sink = MemorySink()
        result = await Session(rt, sink).handle_text("What is the capital of France?")
        assert result.route == "llm" and _notes(result) == [] and result.error is None
        assert "paris" in result.reply.lower() and sink.pieces
        assert _counts(rt) == (1, local_before)
        assert rt.answerer is not None and isinstance(rt.answerer.remote, RemoteLlm)
        await rt.answerer.remote.aclose()


async def test_when_the_server_is_killed_mid_answer_the_turn_ends_and_the_local_model_takes_over(
    runtime: Runtime,
) -> None:
    assert runtime.llm is not None
    with llama_server(runtime.llm.model_path) as (url, process):
        # Long enough that the server is still writing when it is killed.
        rt = with_remote(runtime, url, first_token_timeout_ms=120_000, max_tokens=1500)
        assert rt.answerer is not None
        notes: list[str] = []
        # A long answer (not the configured short spoken one), so the server is cut off mid-way.
        story = Prompt("You write long, detailed stories.", "Tell me a story about a dragon and a princess.")
        received: list[LlmEvent] = []
        with pytest.raises(AnswerLost):
            async with contextlib.aclosing(rt.answerer.decide(story, notes)) as events:
                async for event in events:
                    received.append(event)
                    if len(received) == 1:
                        os.killpg(process.pid, signal.SIGKILL)
        assert received and isinstance(received[0], AnswerText) and notes == ["remote_down"]
        # The server is skipped from now on (for retry_after_s): the local model answers at once.
        remote_before, local_before = _counts(rt)
        result = await Session(rt, MemorySink()).handle_text("What is the capital of France?")
        assert result.route == "llm" and "paris" in result.reply.lower() and _notes(result) == []
        assert _counts(rt) == (remote_before, local_before + 1)
        assert isinstance(rt.answerer.remote, RemoteLlm)
        await rt.answerer.remote.aclose()


async def test_a_server_that_is_down_falls_back_to_the_local_model_within_budget(runtime: Runtime) -> None:
    rt = with_remote(runtime, f"http://127.0.0.1:{free_port()}/v1")
    start = time.monotonic()
    result = await Session(rt, MemorySink()).handle_text("What is the capital of France?")
    assert _notes(result) == ["remote_down"] and "paris" in result.reply.lower()
    assert result.timings_ms["llm_first_token"] < rt.config.budgets.llm_hard_limit_ms
    assert time.monotonic() - start < 60


async def test_without_a_local_fallback_a_down_server_leaves_skills_only(runtime: Runtime) -> None:
    rt = with_remote(runtime, f"http://127.0.0.1:{free_port()}/v1", local=False)
    session = Session(rt, MemorySink())
    result = await session.handle_text("What is the capital of France?")
    assert result.reply == rt.config.reply.llm_unavailable
    assert _notes(result) == ["remote_down", "llm_unavailable"] and result.error is None
    clock = await session.handle_text("what time is it")
    assert (clock.skill, clock.action) == ("clock", "time")


async def test_a_streamed_tool_call_in_fragments_runs_the_validated_skill(runtime: Runtime) -> None:
    async with scripted_openai() as (url, script):
        arguments = json.dumps({"duration_s": "four minutes", "name": "eggs"})
        script.events = [
            chunk({"role": "assistant"}),
            chunk(
                {
                    "tool_calls": [
                        {"index": 0, "id": "c1", "function": {"name": "timers__start", "arguments": ""}}
                    ]
                }
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[:14]}}]}),
            chunk({"tool_calls": [{"index": 0, "function": {"arguments": arguments[14:]}}]}, "tool_calls"),
            b"data: [DONE]\n\n",
        ]
        rt = with_remote(runtime, url)
        session = Session(rt, MemorySink())
        result = await session.handle_text("could you get the eggs going, four minutes")
        assert (result.skill, result.action, result.slots) == (
            "timers",
            "start",
            {"duration_s": 240, "name": "eggs"},
        )
        assert _notes(result) == [] and "4 minute" in result.reply
        sent = script.requests[0]
        assert sent["stream"] is True and sent["model"] == "smollm2" and sent["tool_choice"] == "auto"
        assert {t["function"]["name"] for t in sent["tools"]} >= {"timers__start", "timers__cancel"}
        await session.handle_text("cancel all timers")
        assert rt.answerer is not None and isinstance(rt.answerer.remote, RemoteLlm)
        await rt.answerer.remote.aclose()


async def test_a_server_that_cannot_stream_tool_choices_is_asked_for_whole_answers(runtime: Runtime) -> None:
    async with scripted_openai() as (url, script):
        script.events = []  # an empty stream, as llama-cpp-python's server gives for tools + auto
        call = {"function": {"name": "timers__start", "arguments": '{"duration_s": "90 seconds"}'}}
        script.whole = {
            "choices": [{"message": {"content": None, "tool_calls": [call]}, "finish_reason": "tool_calls"}]
        }
        rt = with_remote(runtime, url)
        try:
            session = Session(rt, MemorySink())
            result = await session.handle_text("get a countdown going for my tea, ninety seconds")
            assert (result.skill, result.action, result.slots) == ("timers", "start", {"duration_s": 90})
            assert [r["stream"] for r in script.requests] == [True, False]
            # Known from now on: the next request with tools is not streamed at all.
            await session.handle_text("and now one for the oven, long enough")
            assert [r["stream"] for r in script.requests] == [True, False, False]
            # A request without tools (and nothing to follow up on) still streams.
            session.conversation.clear()
            script.events = [chunk({"content": "Hello."}, "stop"), b"data: [DONE]\n\n"]
            hello = await session.handle_text("Say hello to the princess")
            assert hello.reply == "Hello." and script.requests[-1]["stream"] is True
            await session.handle_text("cancel all timers")
        finally:
            await _close(rt)


@pytest.mark.parametrize("fault", ["garbage", "http_500", "stall", "cut"])
async def test_a_misbehaving_server_falls_back_to_the_local_model(runtime: Runtime, fault: str) -> None:
    async with scripted_openai() as (url, script):
        if fault == "garbage":
            script.events = [b"data: <html>502 Bad Gateway</html>\n\n"]
        elif fault == "http_500":
            script.status = 500
        elif fault == "stall":
            script.stall_s = 60
        else:  # the stream ends without a finish: no [DONE], no finish_reason
            script.events = [chunk({"role": "assistant"})]
        rt = with_remote(runtime, url, first_token_timeout_ms=800)
        start = time.monotonic()
        result = await Session(rt, MemorySink()).handle_text("What is the capital of France?")
        assert _notes(result) == ["remote_down"], fault
        assert "paris" in result.reply.lower() and result.error is None
        if fault == "stall":
            # Given up after the first-token timeout, not after the server's minute of silence.
            assert time.monotonic() - start < 45
        assert rt.answerer is not None and isinstance(rt.answerer.remote, RemoteLlm)
        await rt.answerer.remote.aclose()


def test_a_remote_url_must_be_http() -> None:
    with pytest.raises(ConfigError, match=r"llm_remote\.url must start with http"):
        RemoteLlm(LlmRemoteConfig(url="ftp://example"), LlmConfig())
