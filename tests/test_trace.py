"""Turn traces: stage durations and budgets."""

from __future__ import annotations

import pytest

from assistant.config import BudgetsConfig
from assistant.trace import Trace


def test_durations_follow_the_design_definitions() -> None:
    trace = Trace()
    for name, t in [
        ("speech_start", 9.0),
        ("last_voiced", 10.0),
        ("endpoint", 10.5),
        ("asr_final", 10.7),
        ("route", 10.701),
        ("first_reply_text", 10.71),
        ("first_audio_out", 10.9),
    ]:
        trace.mark(name, t)
    d = trace.durations_ms()
    assert d == {
        "endpoint": 500.0,
        "asr": 200.0,
        "understand": 1.0,
        "tts_first_audio": 190.0,
        "voice_to_voice": 900.0,
    }


def test_first_mark_wins_and_unknown_marks_are_refused() -> None:
    trace = Trace()
    trace.mark("route", 1.0)
    trace.mark("route", 2.0)
    assert trace.marks["route"] == 1.0
    with pytest.raises(ValueError, match="unknown trace mark"):
        trace.mark("lunch")


def test_over_budget_names_stage_and_excess() -> None:
    trace = Trace()
    trace.mark("last_voiced", 0.0)
    trace.mark("endpoint", 0.8)
    trace.mark("asr_final", 1.0)
    over = trace.over_budget(BudgetsConfig(endpoint_ms=600, asr_ms=600))
    assert over == {"endpoint": 200.0}
