"""Asking the language model: the remote server first when there is one, the local model else.

Also where repeated requests are answered from the response cache. The caller sees one stream
of events (answer text, or a tool request) whichever backend produced it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Callable
from typing import Protocol

from assistant.llm.decision import AnswerText, LlmEvent, ToolRequest
from assistant.llm.prompt import Prompt
from assistant.llm.remote import RemoteError
from assistant.llm.response_cache import CachedDecision, ResponseCache
from assistant.llm.tools import ToolSet

log = logging.getLogger(__name__)


class LlmUnavailable(Exception):
    """No language model can answer right now."""


class AnswerLost(Exception):
    """The remote model failed after part of its answer had been handed on."""


class Backend(Protocol):
    """A language model that answers or calls a tool."""

    name: str

    def decide(
        self, prompt: Prompt, tools: ToolSet, allowed: tuple[str, ...] | None = None
    ) -> AsyncGenerator[LlmEvent, None]:
        """Stream the decision for one prompt, offering only the ``allowed`` tools (None = all)."""
        ...


class Answerer:
    """Picks the backend for each request and keeps the response cache."""

    def __init__(
        self,
        tools: ToolSet,
        local: Backend | None,
        remote: Backend | None = None,
        *,
        cache: ResponseCache,
        first_token_timeout_s: float = 2.5,
        retry_after_s: float = 30.0,
        tool_gate: bool = True,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.tools = tools
        self.local = local
        self.remote = remote
        self.cache = cache
        self.first_token_timeout_s = first_token_timeout_s
        self.retry_after_s = retry_after_s
        self.tool_gate = tool_gate
        self._clock = clock
        self.remote_down_until = 0.0
        self.remote_failures = 0
        """Requests the remote server failed (shown in status)."""

    @property
    def available(self) -> bool:
        """Whether any model is configured."""
        return self.local is not None or self.remote is not None

    def _backends(self) -> list[Backend]:
        chosen: list[Backend] = []
        if self.remote is not None and self._clock() >= self.remote_down_until:
            chosen.append(self.remote)
        if self.local is not None:
            chosen.append(self.local)
        return chosen

    def cacheable(self, request: ToolRequest | None) -> bool:
        """Whether a decision may be stored: answers yes; tool calls only if neither
        time-sensitive nor side-effecting (the cache stores decisions, the tool still runs)."""
        if request is None:
            return True
        tool = self.tools.tools.get(request.name)
        return tool is not None and not tool.spec.time_sensitive and not tool.spec.side_effects

    def allowed_tools(self, prompt: Prompt) -> tuple[str, ...] | None:
        """The tools offered for this prompt: all, or (with the gate) those of skills its words,
        or the exchanges it may follow up on, point at."""
        if not self.tool_gate:
            return None
        said = " ".join([*(e.user for e in prompt.history), prompt.user])
        allowed = set(self.tools.candidates(said))
        for exchange in prompt.history:
            if exchange.tool is not None and exchange.tool.name in self.tools.tools:
                skill = self.tools.tools[exchange.tool.name].skill
                allowed |= {name for name, tool in self.tools.tools.items() if tool.skill == skill}
        return tuple(name for name in self.tools.tools if name in allowed)

    async def decide(self, prompt: Prompt, notes: list[str]) -> AsyncGenerator[LlmEvent, None]:
        """Events of the decision for ``prompt``; degrade steps taken are appended to ``notes``."""
        use_cache = not prompt.history  # a follow-up's meaning depends on what came before
        if use_cache:
            cached = self.cache.get(prompt.user)
            if cached is not None:
                notes.append("cached")
                if cached.tool is not None:
                    yield cached.tool
                else:
                    yield AnswerText(cached.answer)
                return
        backends = self._backends()
        if not backends:
            raise LlmUnavailable("the remote model is down and there is no local fallback")
        allowed = self.allowed_tools(prompt)
        for backend in backends:
            answer: list[str] = []
            request: ToolRequest | None = None
            handed_on = False
            events = backend.decide(prompt, self.tools, allowed)
            try:
                async with contextlib.aclosing(events):
                    while True:
                        if not handed_on and backend is self.remote:
                            async with asyncio.timeout(self.first_token_timeout_s):
                                event = await anext(events, None)
                        else:
                            event = await anext(events, None)
                        if event is None:
                            break
                        if isinstance(event, ToolRequest):
                            request = event
                        else:
                            answer.append(event.text)
                        handed_on = True
                        yield event
            except (RemoteError, TimeoutError) as exc:
                if backend is not self.remote:
                    raise
                if isinstance(exc, TimeoutError) and not str(exc):
                    exc = TimeoutError(f"no first token within {self.first_token_timeout_s:g} s")
                self.remote_failures += 1
                self.remote_down_until = self._clock() + self.retry_after_s
                log.warning(
                    "remote model failed (%s); %s for %.0f s",
                    exc,
                    "using the local model" if self.local is not None else "skills only",
                    self.retry_after_s,
                )
                notes.append("remote_down")
                if handed_on:
                    raise AnswerLost(str(exc)) from exc
                if self.local is None:
                    raise LlmUnavailable(str(exc)) from exc
                continue
            if use_cache and self.cacheable(request) and (request is not None or "".join(answer).strip()):
                self.cache.put(prompt.user, CachedDecision("".join(answer), request))
            return
