"""A local GGUF model through llama-cpp-python, streamed from its own worker thread."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import AsyncGenerator, Iterator
from pathlib import Path
from typing import Any

from assistant.config import LlmConfig
from assistant.devices import choose_device
from assistant.errors import ModelError
from assistant.llm.prompt import Message, build_messages
from assistant.models import check_gguf
from assistant.workers import Worker

log = logging.getLogger(__name__)


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


class LocalLlm:
    """Chat completion with a local GGUF model; tokens stream as they are generated."""

    def __init__(self, model_path: Path, config: LlmConfig) -> None:
        self.model_path = model_path
        self.config = config
        self.device = choose_device("llm", config.device, _cuda_available)
        self._worker = Worker("llm")
        self._llama: Any = None
        self.requests = 0
        """Answers started since load, warm-up excluded (shown in status and checked by tests)."""

    @property
    def busy(self) -> bool:
        """Whether the model is generating (or about to): a cancelled answer must leave it idle."""
        return self._worker.busy

    def load(self) -> None:
        """Load the model (blocking): checks the file first so errors name it."""
        check_gguf(self.model_path)
        from llama_cpp import Llama

        try:
            with _quiet_stderr():
                self._llama = Llama(
                    model_path=str(self.model_path),
                    n_ctx=self.config.context,
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

    def _generate(self, messages: list[Message], stop: threading.Event) -> Iterator[str]:
        if self._llama is None:
            raise RuntimeError("LocalLlm.load() must run before generating")
        stream = self._llama.create_chat_completion(
            messages=messages,
            max_tokens=self.config.max_tokens,
            temperature=self.config.temperature,
            repeat_penalty=self.config.repeat_penalty,
            seed=self.config.seed,
            stream=True,
        )
        for chunk in stream:
            if stop.is_set():
                break
            delta = chunk["choices"][0].get("delta", {})
            text = delta.get("content")
            if text:
                yield text

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

    async def warm(self) -> None:
        """Evaluate a short prompt so the first real answer pays no first-call costs."""
        # With the real system prompt: llama.cpp keeps the evaluated prefix, so the first answer
        # evaluates only the question (several times faster to its first token).
        messages = build_messages(self.config.system_prompt, "Hi")
        tokens = self._worker.stream(lambda stop: self._generate(messages, stop))
        # aclosing: leaving the loop early must stop generation now, not when the GC gets to it.
        async with contextlib.aclosing(tokens):
            async for _ in tokens:
                break

    def close(self) -> None:
        """Release the worker thread."""
        self._worker.close()
