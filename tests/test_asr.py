"""Speech recognition helpers that need no model."""

from __future__ import annotations

import pytest

from assistant.asr import trim_repetition


@pytest.mark.parametrize(
    ("text", "trimmed"),
    [
        ("What time is it? What time", "What time is it?"),
        (
            "What is the capital of France? What is the capital of France? What is",
            "What is the capital of France?",
        ),
        ("Tell me a joke Tell me a joke Tell", "Tell me a joke"),
        ("What time is it?", "What time is it?"),
        ("set a timer for five minutes", "set a timer for five minutes"),
        (
            "play the beatles and then play the rolling stones",
            "play the beatles and then play the rolling stones",
        ),
        ("no no", "no no"),
    ],
)
def test_short_window_repetition_is_trimmed(text: str, trimmed: str) -> None:
    assert trim_repetition(text) == trimmed
