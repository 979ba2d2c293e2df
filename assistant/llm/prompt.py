"""Building the messages the language model sees for one turn."""

from __future__ import annotations

Message = dict[str, str]


def build_messages(system_prompt: str, user_text: str) -> list[Message]:
    """The chat messages for a single question: instructions, then what the person said."""
    return [{"role": "system", "content": system_prompt}, {"role": "user", "content": user_text}]
