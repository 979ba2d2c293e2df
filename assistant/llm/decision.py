"""What the model decided, read while it is still being generated.

A local model writes its decision as JSON under a grammar: ``{"answer": "…"}`` or
``{"tool": "skill__intent", "args": {…}}``. The answer's text is handed on as it arrives, so
speech can start before the model has finished; a tool call is parsed once it is complete.
"""

from __future__ import annotations

import contextlib
import json
import re
from dataclasses import dataclass, field
from typing import Any

_ANSWER_START = re.compile(r'\s*\{\s*"answer"\s*:\s*"')
_TOOL_START = re.compile(r'\s*\{\s*"tool"\s*:')
_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}


@dataclass(frozen=True)
class AnswerText:
    """A piece of the model's spoken answer."""

    text: str


@dataclass(frozen=True)
class ToolRequest:
    """The model asks for one tool to run (not yet checked against the tools there are)."""

    name: str
    arguments: dict[str, Any] = field(default_factory=dict)


LlmEvent = AnswerText | ToolRequest


class DecisionError(ValueError):
    """The model's output is not a decision (cut off, or not the expected shape)."""


class DecisionParser:
    """Feeds on generated text; yields answer text at once and parses a tool call at the end."""

    def __init__(self) -> None:
        self._buffer = ""
        self._mode = "start"  # start | answer | tool | plain | done
        self._pending_escape = ""

    @property
    def mode(self) -> str:
        """What the output has turned out to be so far: start, answer, tool, plain or done."""
        return self._mode

    def push(self, text: str) -> str:
        """Take more generated text; return the answer text it completes (may be empty)."""
        if self._mode == "start":
            self._buffer += text
            stripped = self._buffer.lstrip()
            answer = _ANSWER_START.match(self._buffer)
            if answer:
                rest = self._buffer[answer.end() :]
                self._buffer = ""
                self._mode = "answer"
                return self._decode(rest)
            if _TOOL_START.match(self._buffer):
                self._mode = "tool"
                return ""
            if stripped and not stripped.startswith("{"):
                # Not JSON at all (an unconstrained backend): the text is the answer.
                self._mode = "plain"
                out, self._buffer = self._buffer, ""
                return out
            if len(stripped) > 64:
                self._mode = "tool"  # some other JSON shape: judged whole at the end
            return ""
        if self._mode == "answer":
            return self._decode(text)
        if self._mode == "plain":
            return text
        if self._mode == "tool":
            self._buffer += text
        return ""

    def _decode(self, text: str) -> str:
        """Decode JSON string content up to its closing quote; escapes may straddle pieces."""
        out: list[str] = []
        text = self._pending_escape + text
        self._pending_escape = ""
        i = 0
        while i < len(text):
            ch = text[i]
            if ch == '"':
                self._mode = "done"
                break
            if ch != "\\":
                out.append(ch)
                i += 1
                continue
            if i + 1 >= len(text):
                self._pending_escape = text[i:]
                break
            kind = text[i + 1]
            if kind == "u":
                if i + 6 > len(text):
                    self._pending_escape = text[i:]
                    break
                with contextlib.suppress(ValueError):  # a broken escape is dropped, not spoken
                    out.append(chr(int(text[i + 2 : i + 6], 16)))
                i += 6
                continue
            out.append(_ESCAPES.get(kind, ""))
            i += 2
        return "".join(out)

    def finish(self) -> ToolRequest | None:
        """End of output: the tool call when that is what it was, else None (it was an answer)."""
        if self._mode in ("answer", "plain", "done"):
            return None
        if self._mode == "start" and not self._buffer.strip():
            raise DecisionError("the model produced no output")
        try:
            decision = json.loads(self._buffer)
        except json.JSONDecodeError as exc:
            raise DecisionError(
                f"the model's output is not complete JSON ({exc.msg}): {self._buffer[:120]!r}"
            ) from None
        return parse_tool_call(decision)


def parse_tool_call(decision: Any) -> ToolRequest:
    """Read ``{"tool": name, "args": {…}}``; anything else is a DecisionError."""
    if not isinstance(decision, dict) or not isinstance(decision.get("tool"), str):
        raise DecisionError(
            f"the model's output is neither an answer nor a tool call: {str(decision)[:120]!r}"
        )
    arguments = decision.get("args", {})
    if not isinstance(arguments, dict):
        raise DecisionError(f"tool {decision['tool']!r}: arguments are not an object: {arguments!r}")
    return ToolRequest(decision["tool"], arguments)
