"""What the language model sees for one turn: instructions, recent exchanges, the new request.

A ``Prompt`` is backend-neutral; each backend renders it its own way (JSON decisions under a
grammar for the local model, native tool calls for an OpenAI-compatible server).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from assistant.llm.decision import ToolRequest
from assistant.llm.tools import ToolSet

Message = dict[str, Any]

_DECISION_RULES = (
    "Reply with one JSON object and nothing else. To answer in words: "
    '{"answer": "your short spoken answer"}. To act through a tool: '
    '{"tool": "tool_name", "args": {...}} with argument values in plain words as the user said them. '
    "Use a tool only when the request asks for exactly what the tool does."
)

# Our own illustrations of the format (never copied from a benchmark); only those whose tool is
# loaded are shown.
_EXAMPLES: tuple[tuple[str, str | None, dict[str, Any] | str], ...] = (
    ("What is the capital of Italy?", None, "Rome is the capital of Italy."),
    (
        "Could you put a timer on for ten minutes for the pasta?",
        "timers__start",
        {"duration_s": "ten minutes", "name": "pasta"},
    ),
    (
        "Don't let me forget to water the plants tomorrow at noon",
        "reminders__add",
        {"task": "water the plants", "when": "tomorrow at noon"},
    ),
    ("Is it cold outside in Oslo right now?", "weather__current", {"place": "Oslo"}),
)
# No answer example comes last: a small model tends to repeat the most recent answer it saw.


@dataclass(frozen=True)
class Exchange:
    """One earlier turn of the conversation, as the model should remember it."""

    user: str
    """What the person said."""
    answer: str = ""
    """What was said back."""
    tool: ToolRequest | None = None
    """The tool that ran for it (from a template match or the model), if any."""


@dataclass(frozen=True)
class Prompt:
    """Everything one decision needs."""

    system: str
    """The configured instructions."""
    user: str
    """The new request."""
    history: tuple[Exchange, ...] = field(default_factory=tuple)
    """Recent exchanges, oldest first."""


def decision_json(exchange: Exchange) -> str:
    """How the local model would have written this exchange's decision."""
    if exchange.tool is not None:
        return json.dumps({"tool": exchange.tool.name, "args": exchange.tool.arguments}, ensure_ascii=False)
    return json.dumps({"answer": exchange.answer}, ensure_ascii=False)


def local_system_prompt(system: str, tools: ToolSet) -> str:
    """The system message for the local model: instructions, the decision format and the tools."""
    if not len(tools):
        return f"{system}\n\n{_DECISION_RULES}"
    return "\n".join([system, "", _DECISION_RULES, "", "Tools:", tools.catalogue()])


def example_messages(tools: ToolSet) -> list[Message]:
    """A few worked exchanges in the decision format, as earlier chat turns (small models copy
    a format from turns far better than from a description); only loaded tools appear."""
    messages: list[Message] = []
    for said, tool, value in _EXAMPLES:
        if tool is None:
            decision = {"answer": value}
        elif tool in tools.tools:
            decision = {"tool": tool, "args": value}
        else:
            continue
        messages.append({"role": "user", "content": said})
        messages.append({"role": "assistant", "content": json.dumps(decision)})
    return messages


def local_messages(prompt: Prompt, tools: ToolSet) -> list[Message]:
    """Chat messages for the local model; the system part and examples are identical every
    turn, so their evaluated state is reused (only history and the new request are evaluated)."""
    messages: list[Message] = [{"role": "system", "content": local_system_prompt(prompt.system, tools)}]
    messages.extend(example_messages(tools))
    for exchange in prompt.history:
        messages.append({"role": "user", "content": exchange.user})
        messages.append({"role": "assistant", "content": decision_json(exchange)})
    messages.append({"role": "user", "content": prompt.user})
    return messages


def openai_messages(prompt: Prompt) -> list[Message]:
    """Chat messages for an OpenAI-compatible server, earlier tool calls in its own form."""
    messages: list[Message] = [{"role": "system", "content": prompt.system}]
    for n, exchange in enumerate(prompt.history):
        messages.append({"role": "user", "content": exchange.user})
        if exchange.tool is None:
            messages.append({"role": "assistant", "content": exchange.answer})
            continue
        call_id = f"call_{n}"
        call = {
            "id": call_id,
            "type": "function",
            "function": {"name": exchange.tool.name, "arguments": json.dumps(exchange.tool.arguments)},
        }
        messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
        messages.append({"role": "tool", "tool_call_id": call_id, "content": exchange.answer})
    messages.append({"role": "user", "content": prompt.user})
    return messages


def build_messages(system_prompt: str, user_text: str) -> list[Message]:
    """The chat messages for a single plain question (no tools): instructions, then the words."""
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_text}]
