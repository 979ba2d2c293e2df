"""A model behind an OpenAI-compatible chat-completions server, streamed, with native tool calls."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp

from assistant.config import LlmConfig, LlmRemoteConfig
from assistant.errors import ConfigError
from assistant.llm.decision import AnswerText, DecisionError, LlmEvent, ToolRequest
from assistant.llm.prompt import Prompt, openai_messages
from assistant.llm.tools import ToolSet

log = logging.getLogger(__name__)

_MAX_LINE = 1 << 20


class RemoteError(Exception):
    """The server could not be reached, refused the request, or sent something unreadable."""


class RemoteLlm:
    """Chat completions from a server by URL and model name (llama.cpp server, vLLM, Ollama)."""

    name = "remote"

    def __init__(self, remote: LlmRemoteConfig, llm: LlmConfig) -> None:
        if not remote.url.startswith(("http://", "https://")):
            raise ConfigError(f"llm_remote.url must start with http:// or https://, got {remote.url!r}")
        self.remote = remote
        self.llm = llm
        self.endpoint = remote.url.rstrip("/") + "/chat/completions"
        self.url = remote.url
        self.requests = 0
        self.streams_tools = True
        """False once the server has shown it cannot stream a free choice of tools."""
        self._session: aiohttp.ClientSession | None = None

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            timeout = aiohttp.ClientTimeout(
                total=None,
                sock_connect=self.remote.connect_timeout_ms / 1000,
                # The wait for the first piece is bounded by the first-token timeout instead.
                sock_read=max(self.remote.read_timeout_ms, self.remote.first_token_timeout_ms) / 1000,
            )
            headers = {"Content-Type": "application/json"}
            key = os.environ.get(self.remote.api_key_env, "") if self.remote.api_key_env else ""
            if key:
                headers["Authorization"] = f"Bearer {key}"
            self._session = aiohttp.ClientSession(timeout=timeout, headers=headers)
        return self._session

    def request_body(
        self, prompt: Prompt, tools: ToolSet | None, allowed: tuple[str, ...] | None = None
    ) -> dict[str, Any]:
        """The JSON body of one streamed chat-completions request."""
        body: dict[str, Any] = {
            "model": self.remote.model,
            "messages": openai_messages(prompt),
            "stream": True,
            "max_tokens": self.llm.max_tokens,
            "temperature": self.llm.temperature,
        }
        offered = [
            t.openai()
            for t in (tools.tools.values() if tools else ())
            if allowed is None or t.name in allowed
        ]
        if offered:
            body["tools"] = offered
            body["tool_choice"] = "auto"
        return body

    def decide(
        self, prompt: Prompt, tools: ToolSet | None, allowed: tuple[str, ...] | None = None
    ) -> AsyncGenerator[LlmEvent, None]:
        """Answer text as the server streams it, or the tool call it makes; RemoteError when it fails."""
        self.requests += 1
        return self._decisions(self.request_body(prompt, tools, allowed))

    async def _decisions(self, body: dict[str, Any]) -> AsyncGenerator[LlmEvent, None]:
        if "tools" in body and not self.streams_tools:
            async for event in self._whole(body):
                yield event
            return
        calls: dict[int, dict[str, str]] = {}
        finished = False
        pieces = 0
        try:
            async with self._client().post(self.endpoint, json=body) as response:
                if response.status != 200:
                    detail = (await response.text())[:200]
                    raise RemoteError(f"{self.endpoint} answered HTTP {response.status}: {detail}")
                async for data in _sse_data(response):
                    pieces += 1
                    if data == "[DONE]":
                        finished = True
                        break
                    choice = self._choice(data)
                    delta = choice.get("delta") or {}
                    text = delta.get("content")
                    if text:
                        yield AnswerText(text)
                    for call in delta.get("tool_calls") or []:
                        _merge_call(calls, call)
                    if choice.get("finish_reason"):
                        finished = True
        except aiohttp.ClientError as exc:
            raise RemoteError(f"{self.endpoint}: {type(exc).__name__}: {exc}") from exc
        if not finished and pieces == 0 and "tools" in body:
            # Some servers (llama-cpp-python's) cannot stream a free choice of tools and end such
            # a stream empty: ask again in one piece, and from now on always, for tools.
            log.info(
                "%s does not stream tool choices; asking for whole answers when tools are offered", self.url
            )
            self.streams_tools = False
            await self.aclose()  # such a server may also have dropped the connection: start afresh
            async for event in self._whole(body):
                yield event
            return
        if not finished:
            raise RemoteError(f"{self.endpoint} closed the stream before the answer was complete")
        if calls:
            if len(calls) > 1:
                log.warning("the model asked for %d tools at once; only the first runs", len(calls))
            yield _tool_request(calls[min(calls)])

    async def _whole(self, body: dict[str, Any]) -> AsyncGenerator[LlmEvent, None]:
        """One request without streaming: the whole answer, or the tool call, at once."""
        try:
            async with self._client().post(self.endpoint, json={**body, "stream": False}) as response:
                data = await response.text()
                if response.status != 200:
                    raise RemoteError(f"{self.endpoint} answered HTTP {response.status}: {data[:200]}")
        except aiohttp.ClientError as exc:
            raise RemoteError(f"{self.endpoint}: {type(exc).__name__}: {exc}") from exc
        message = self._choice(data).get("message")
        if not isinstance(message, dict):
            raise RemoteError(f"{self.endpoint} sent an answer without a message: {data[:120]!r}")
        calls = message.get("tool_calls") or []
        if calls:
            yield _tool_request((calls[0] or {}).get("function") or {})
        elif message.get("content"):
            yield AnswerText(str(message["content"]))

    def _choice(self, data: str) -> dict[str, Any]:
        """The first choice of a chat-completions JSON body; RemoteError for anything else."""
        try:
            choices = json.loads(data)["choices"]
            if choices == []:
                return {}  # e.g. a closing chunk that only reports usage
            choice = choices[0]
            if not isinstance(choice, dict):
                raise TypeError("choice is not an object")
        except (json.JSONDecodeError, TypeError, KeyError, IndexError) as exc:
            raise RemoteError(
                f"{self.endpoint} sent something that is not chat JSON: {data[:120]!r}"
            ) from exc
        return choice

    async def aclose(self) -> None:
        """Close the HTTP connection pool (a later request opens a new one)."""
        if self._session is not None:
            session, self._session = self._session, None
            await session.close()


def _tool_request(function: dict[str, Any]) -> ToolRequest:
    """A tool request from a function call's name and JSON arguments text."""
    name = str(function.get("name") or "")
    try:
        arguments = json.loads(function.get("arguments") or "{}")
    except json.JSONDecodeError as exc:
        raise DecisionError(f"tool {name!r}: arguments are not JSON ({exc.msg})") from None
    if not isinstance(arguments, dict):
        raise DecisionError(f"tool {name!r}: arguments are not an object")
    return ToolRequest(name, arguments)


def _merge_call(calls: dict[int, dict[str, str]], call: Any) -> None:
    """Tool calls stream in fragments keyed by index: the name once, the arguments in pieces."""
    if not isinstance(call, dict):
        raise RemoteError(f"a tool call fragment is not an object: {call!r}")
    entry = calls.setdefault(int(call.get("index", 0)), {"name": "", "arguments": ""})
    function = call.get("function") or {}
    if function.get("name"):
        entry["name"] = function["name"]
    if function.get("arguments"):
        entry["arguments"] += function["arguments"]


async def _sse_data(response: aiohttp.ClientResponse) -> AsyncGenerator[str, None]:
    """The ``data:`` payloads of a server-sent-events stream."""
    while True:
        line = await response.content.readline()
        if not line:
            return
        if len(line) > _MAX_LINE:
            raise RemoteError("a streamed line is longer than 1 MiB")
        text = line.decode("utf-8", errors="replace").strip()
        if text.startswith("data:"):
            yield text[5:].strip()
