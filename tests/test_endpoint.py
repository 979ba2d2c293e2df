"""The endpointer state machine, driven by hand-made VAD labels (no audio, no loop)."""

from __future__ import annotations

import pytest

from assistant.frames import FRAME_BYTES, FRAME_MS, SpeechEnded, SpeechStarted
from assistant.listen.endpoint import Endpointer, EndpointSettings

STEP = FRAME_MS / 1000


def frame(i: int) -> bytes:
    """A distinguishable frame: its index in the first two bytes."""
    return i.to_bytes(2, "little") + bytes(FRAME_BYTES - 2)


def drive(ep: Endpointer, labels: str, t0: float = 100.0) -> list[tuple[int, object]]:
    """Feed one frame per character ('x' voiced, '.' silent); return (index, event) pairs."""
    events = []
    for i, ch in enumerate(labels):
        event = ep.feed(frame(i), ch == "x", t0 + (i + 1) * STEP)
        if event is not None:
            events.append((i, event))
    return events


def settings(**kw: float) -> EndpointSettings:
    base = dict(pre_roll_ms=90, start_speech_ms=90, silence_ms=300, max_utterance_s=3.0)
    base.update(kw)
    return EndpointSettings(**base)  # type: ignore[arg-type]


def test_silence_alone_never_starts_speech() -> None:
    ep = Endpointer(settings())
    assert drive(ep, "." * 200) == []
    assert not ep.in_speech


def test_isolated_clicks_do_not_start_speech() -> None:
    ep = Endpointer(settings())
    assert drive(ep, "x....x....x....x....") == []


def test_utterance_starts_ends_and_keeps_pre_roll() -> None:
    ep = Endpointer(settings())
    labels = "....." + "xxxxxxxxxx" + "." * 10 + "...."
    events = drive(ep, labels)
    kinds = [type(e).__name__ for _, e in events]
    assert kinds == ["SpeechStarted", "SpeechEnded"]
    start_i, started = events[0]
    assert isinstance(started, SpeechStarted)
    assert start_i == 7  # third voiced frame decides (start_speech_ms=90)
    end_i, ended = events[1]
    assert isinstance(ended, SpeechEnded)
    assert end_i == 5 + 10 + 10 - 1  # after silence_ms=300 of unvoiced frames
    # Pre-roll: the window before the decision is kept, so the first voiced frame (5) is in it.
    first = int.from_bytes(ended.pcm[:2], "little")
    assert first <= 5
    assert ended.t_last_voiced == 100.0 + 15 * STEP
    assert ended.t_endpoint == 100.0 + 25 * STEP
    assert ended.t_endpoint - ended.t_last_voiced == pytest.approx(0.3)
    assert ended.t_speech_start == 100.0 + 5 * STEP
    assert not ended.truncated


def test_trailing_silence_is_trimmed_to_a_short_tail() -> None:
    ep = Endpointer(settings(silence_ms=600))
    events = drive(ep, "xxxxxx" + "." * 30)
    ended = events[-1][1]
    assert isinstance(ended, SpeechEnded)
    frames = len(ended.pcm) // FRAME_BYTES
    last = int.from_bytes(ended.pcm[-FRAME_BYTES:][:2], "little")
    assert last == 5 + 150 // FRAME_MS  # 150 ms of tail kept after the last voiced frame
    assert frames == last + 1


def test_short_pause_inside_speech_does_not_end_it() -> None:
    ep = Endpointer(settings())
    events = drive(ep, "xxxxx" + "....." + "xxxxx" + "." * 12)
    ended = [e for _, e in events if isinstance(e, SpeechEnded)]
    assert len(ended) == 1
    assert ended[0].t_last_voiced == 100.0 + 15 * STEP


def test_max_length_cuts_and_marks_truncated() -> None:
    ep = Endpointer(settings(max_utterance_s=0.6))
    events = drive(ep, "x" * 60)
    ended = [e for _, e in events if isinstance(e, SpeechEnded)]
    assert ended and ended[0].truncated
    assert len(ended[0].pcm) // FRAME_BYTES == 20


def test_end_now_flushes_an_open_utterance_and_resets() -> None:
    ep = Endpointer(settings())
    drive(ep, "xxxxxx")
    assert ep.in_speech
    ended = ep.end_now(200.0)
    assert isinstance(ended, SpeechEnded) and ended.t_endpoint == 200.0
    assert not ep.in_speech
    assert ep.end_now(201.0) is None


def test_two_utterances_in_a_row() -> None:
    ep = Endpointer(settings())
    events = drive(ep, ("xxxxx" + "." * 12) * 2)
    assert [type(e).__name__ for _, e in events] == ["SpeechStarted", "SpeechEnded"] * 2
