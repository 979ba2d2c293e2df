"""A local GGUF model through llama-cpp-python, streamed from its own worker thread."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import threading
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.config import LlmConfig
from assistant.devices import choose_device
from assistant.errors import ModelError
from assistant.llm.decision import AnswerText, DecisionParser, LlmEvent
from assistant.llm.memory_check import check_fits_memory
from assistant.llm.prefix_state import PrefixStateStore, state_key
from assistant.llm.prompt import Message, Prompt, local_messages
from assistant.llm.tools import ToolSet
from assistant.metrics import PromptCounters
from assistant.models import check_gguf
from assistant.workers import Worker

log = logging.getLogger(__name__)

_RESTORE_GAIN = 32
"""Tokens a restored system prompt must save over what is kept before it is worth restoring."""
_ANSWER_PREFILL = '{"answer": "'
_GRAMMARS_KEPT = 32
"""Compiled grammars kept, one per set of allowed tools (compiling one takes about a millisecond)."""


def _cuda_available() -> bool:
    import llama_cpp

    return bool(llama_cpp.llama_supports_gpu_offload())


@contextlib.contextmanager
def _quiet_stderr() -> Iterator[None]:
    """Silence llama.cpp's C-level loading chatter, which bypasses Python's logging."""
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _counting_llama(**kwargs: Any) -> Any:
    """A llama_cpp.Llama that counts the tokens it evaluates (how prompt reuse is measured)."""
    from llama_cpp import Llama

    class CountingLlama(Llama):  # type: ignore[misc]
        evaluated_tokens = 0

        def eval(self, tokens: Any) -> None:
            self.evaluated_tokens += len(tokens)
            super().eval(tokens)

    return CountingLlama(**kwargs)


def _common_prefix(a: Any, b: Any) -> int:
    """How many leading tokens two token arrays share."""
    n = min(len(a), len(b))
    differ = np.nonzero(a[:n] != b[:n])[0]
    return int(differ[0]) if len(differ) else n


def _chat_formatter(llama: Any) -> Any:
    """The model's own chat template as a formatter (None when the GGUF has no template)."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    eos, bos = llama.token_eos(), llama.token_bos()
    return Jinja2ChatFormatter(
        template=template,
        eos_token=llama._model.token_get_text(eos) if eos != -1 else "",
        bos_token=llama._model.token_get_text(bos) if bos != -1 else "",
        stop_token_ids=[eos],
    )


class LocalLlm:
    """Chat completion with a local GGUF model; tokens stream as they are generated."""

    name = "local"

    def __init__(
        self, model_path: Path, config: LlmConfig, prompt_counters: PromptCounters | None = None
    ) -> None:
        self.model_path = model_path
        self.config = config
        self.device = choose_device("llm", config.device, _cuda_available)
        self._worker = Worker("llm")
        self._llama: Any = None
        self.requests = 0
        """Answers started since load, warm-up excluded (shown in status and checked by tests)."""
        self.prompt_counters = prompt_counters or PromptCounters()
        """Prompt tokens evaluated and reused (how the system prompt's cached state is checked)."""
        self._grammars: dict[tuple[int, tuple[str, ...] | None], Any] = {}
        self.prefix_restored = False
        self.prefix_key = ""
        """The name of the saved state of this model's system prompt (empty when not saved)."""
        self._formatter: Any = None
        self._prefix_state: Any = None
        """Whether warm() restored the system prompt's evaluated state from disk."""

    @property
    def busy(self) -> bool:
        """Whether the model is generating (or about to): a cancelled answer must leave it idle."""
        return self._worker.busy

    def load(self) -> None:
        """Load the model (blocking): checks the file first so errors name it."""
        check_gguf(self.model_path)
        check_fits_memory(self.model_path, self.config.context)
        try:
            with _quiet_stderr():
                self._llama = _counting_llama(
                    model_path=str(self.model_path),
                    n_ctx=self.config.context,
                    n_batch=self.config.batch,
                    n_threads=self.config.threads,
                    n_gpu_layers=self.config.n_gpu_layers if self.device == "cuda" else 0,
                    seed=self.config.seed,
                    verbose=False,
                )
        except Exception as exc:
            raise ModelError(
                f"{self.model_path}: cannot load the GGUF model ({exc}); "
                "check llm.model or download it again (assistant models pull NAME)"
            ) from None
        self._formatter = _chat_formatter(self._llama)

    def _generate(
        self, messages: list[Message], stop: threading.Event, grammar: Any = None, prefill: str = ""
    ) -> Iterator[str]:
        """Generate from chat messages; ``prefill`` starts the reply (the model continues it)."""
        llama = self._llama
        if llama is None:
            raise RuntimeError("LocalLlm.load() must run before generating")
        evaluated_before = llama.evaluated_tokens
        settings = {
            "max_tokens": self.config.max_tokens,
            "temperature": self.config.temperature,
            "repeat_penalty": self.config.repeat_penalty,
            "seed": self.config.seed,
            "grammar": grammar,
            "stream": True,
        }
        formatted = self._formatter(messages=messages) if self._formatter is not None else None
        if formatted is not None and self._prefix_state is not None:
            self._restore_prefix(llama, formatted.prompt + prefill)
        if prefill and formatted is not None:
            # The model's own chat template, then the start of its reply written for it.
            stream = llama.create_completion(
                prompt=formatted.prompt + prefill,
                stop=formatted.stop,
                stopping_criteria=formatted.stopping_criteria,
                **settings,
            )
        else:
            stream = llama.create_chat_completion(messages=messages, **settings)
        measured = False
        for chunk in stream:
            if not measured:
                # The first token is sampled right after the prompt: what was evaluated by now
                # is the prompt minus the prefix whose state was reused.
                measured = True
                self.prompt_counters.count(llama.evaluated_tokens - evaluated_before, llama.n_tokens)
            if stop.is_set():
                break
            choice = chunk["choices"][0]
            text = choice["text"] if "text" in choice else choice.get("delta", {}).get("content")
            if text:
                yield text

    def _restore_prefix(self, llama: Any, prompt: str) -> None:
        """Put back the evaluated system prompt when the model's state no longer starts with it."""
        tokens = np.asarray(llama.tokenize(prompt.encode("utf-8"), special=True), dtype=np.intc)
        state = self._prefix_state
        kept = _common_prefix(llama.input_ids[: llama.n_tokens], tokens)
        saved = _common_prefix(state.input_ids[: state.n_tokens], tokens)
        if saved > kept + _RESTORE_GAIN:
            llama.load_state(state)

    def _grammar(self, tools: ToolSet, allowed: tuple[str, ...] | None = None) -> Any:
        """The answer-or-tool grammar for these tools, compiled once per set of allowed tools."""
        key = (id(tools), allowed)
        grammar = self._grammars.get(key)
        if grammar is None:
            from llama_cpp.llama_grammar import LlamaGrammar

            schema = json.dumps(tools.decision_schema(allowed))
            with _quiet_stderr():
                grammar = LlamaGrammar.from_json_schema(schema, verbose=False)
            if len(self._grammars) >= _GRAMMARS_KEPT:
                self._grammars.pop(next(iter(self._grammars)))
            self._grammars[key] = grammar
        return grammar

    def decide(
        self, prompt: Prompt, tools: ToolSet, allowed: tuple[str, ...] | None = None
    ) -> AsyncGenerator[LlmEvent, None]:
        """Answer or call one of the ``allowed`` tools (default all), under a grammar so the output
        always parses; answer text streams as it is generated."""
        self.requests += 1
        messages = local_messages(prompt, tools)
        return self._decisions(messages, tools, allowed)

    async def _decisions(
        self, messages: list[Message], tools: ToolSet, allowed: tuple[str, ...] | None
    ) -> AsyncGenerator[LlmEvent, None]:
        parser = DecisionParser()
        if allowed == () and self._formatter is not None:
            # Nothing to choose: no tool may be called. The reply is begun for the model as an
            # answer, which saves generating those first tokens and checking every token
            # against a grammar; the answer ends at its closing quote.
            parser.push(_ANSWER_PREFILL)
            pieces = self._worker.stream(lambda stop: self._generate(messages, stop, None, _ANSWER_PREFILL))
        else:
            grammar = await self._worker.call(lambda: self._grammar(tools, allowed))
            pieces = self._worker.stream(lambda stop: self._generate(messages, stop, grammar))
        async with contextlib.aclosing(pieces):
            async for piece in pieces:
                text = parser.push(piece)
                if text:
                    yield AnswerText(text)
                if parser.mode == "done":
                    break  # the answer is complete: stop generating whatever would follow
        request = parser.finish()
        if request is not None:
            yield request

    def complete_sync(self, messages: list[Message]) -> str:
        """Generate a whole answer on the calling thread (for checks and tools, not for turns)."""
        return "".join(self._generate(messages, threading.Event()))

    async def complete(self, messages: list[Message]) -> str:
        """Generate a whole answer on the LLM worker thread (no streaming)."""
        self.requests += 1
        return await self._worker.call(lambda: self.complete_sync(messages))

    def stream(self, messages: list[Message]) -> AsyncGenerator[str, None]:
        """Stream the answer's text pieces; closing the iterator stops generation."""
        self.requests += 1
        return self._worker.stream(lambda stop: self._generate(messages, stop))

    async def warm(
        self, tools: ToolSet | None = None, system_prompt: str | None = None, state_dir: Path | None = None
    ) -> None:
        """Evaluate the system prompt (and tools) once, so answers evaluate only the new words.

        With ``state_dir`` the evaluated state is also saved there, and restored at the next
        start instead of being evaluated again.
        """
        # llama.cpp keeps the evaluated prefix: every later prompt starts with this same system
        # message, so its state is reused and time to first token depends on the request alone.
        tools = tools or ToolSet(())
        messages = local_messages(Prompt(system_prompt or self.config.system_prompt, "Hi"), tools)
        grammar = await self._worker.call(lambda: self._grammar(tools)) if len(tools) else None
        store = PrefixStateStore(state_dir) if state_dir is not None else None
        key = ""
        if store is not None:
            settings = {
                "n_ctx": self.config.context,
                "n_batch": self.config.batch,
                "device": self.device,
                "seed": self.config.seed,
            }
            key = await asyncio.to_thread(state_key, self.model_path, settings, messages)
            self.prefix_key = key
            self._prefix_state = await self._worker.call(lambda: store.load(self._llama, key))
            self.prefix_restored = self._prefix_state is not None
        tokens = self._worker.stream(lambda stop: self._generate(messages, stop, grammar))
        # aclosing: leaving the loop early must stop generation now, not when the GC gets to it.
        async with contextlib.aclosing(tokens):
            async for _ in tokens:
                break
        if store is not None and not self.prefix_restored:
            try:
                self._prefix_state = await self._worker.call(lambda: store.save(self._llama, key))
            except OSError as exc:
                log.warning("could not save the evaluated system prompt: %s", exc)
        # The state is also kept in memory: whatever else the model evaluates later (another
        # prompt, the bench's baseline) is then undone in a fraction of a second instead of
        # evaluating the system prompt again.

    def close(self) -> None:
        """Release the worker thread."""
        self._worker.close()
