"""The shared skill helpers in ``assistant.skill.phrasing``, through the public ``assistant.skill``."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest

from assistant.skill import (
    next_wall_time,
    spoken_clock,
    spoken_day,
    spoken_list,
    spoken_weekdays,
    wall_time,
    wall_zone,
)

BERLIN = zoneinfo.ZoneInfo("Europe/Berlin")
WEDNESDAY_3PM = dt.datetime(2026, 3, 4, 15, 0, tzinfo=BERLIN)


@pytest.mark.parametrize(
    ("hour", "minute", "said"),
    [
        (12, 0, "noon"),
        (0, 0, "midnight"),
        (7, 0, "7 AM"),
        (18, 30, "6:30 PM"),
        (0, 5, "12:05 AM"),
        (12, 1, "12:01 PM"),
    ],
)
def test_spoken_clock(hour: int, minute: int, said: str) -> None:
    assert spoken_clock(hour, minute) == said


@pytest.mark.parametrize(
    ("moment", "said"),
    [
        (dt.datetime(2026, 3, 4, 23, 59, tzinfo=BERLIN), "today"),
        (dt.datetime(2026, 3, 5, 0, 0, tzinfo=BERLIN), "tomorrow"),
        (dt.datetime(2026, 3, 6, 8, 0, tzinfo=BERLIN), "on Friday"),
        (dt.datetime(2026, 3, 10, 8, 0, tzinfo=BERLIN), "on Tuesday"),
        (dt.datetime(2026, 3, 11, 8, 0, tzinfo=BERLIN), "on Wednesday, March 11"),
        # 23:30 UTC on the 4th is already the 5th in Berlin: the day is the zone's.
        (dt.datetime(2026, 3, 4, 23, 30, tzinfo=dt.UTC), "tomorrow"),
    ],
)
def test_spoken_day(moment: dt.datetime, said: str) -> None:
    assert spoken_day(moment, WEDNESDAY_3PM, BERLIN) == said


@pytest.mark.parametrize(
    ("weekdays", "said"),
    [
        ((), "every day"),
        ((0, 1, 2, 3, 4, 5, 6), "every day"),
        ((4, 0, 1, 2, 3), "on weekdays"),
        ((5, 6), "on weekends"),
        ((2,), "every Wednesday"),
        ((4, 0), "every Monday and Friday"),
        ((0, 2, 4, 4), "every Monday, Wednesday and Friday"),
    ],
)
def test_spoken_weekdays(weekdays: tuple[int, ...], said: str) -> None:
    assert spoken_weekdays(weekdays) == said


def test_spoken_list() -> None:
    assert spoken_list([]) == ""
    assert spoken_list(["7 AM today"]) == "7 AM today"
    assert spoken_list(["7 AM today", "8 PM tomorrow"]) == "7 AM today, and 8 PM tomorrow"
    assert spoken_list(["a", "b", "c"]) == "a, b, and c"


def test_wall_zone() -> None:
    assert wall_zone(WEDNESDAY_3PM) is BERLIN
    # A fixed offset that is not the system's stays as it is.
    odd = dt.timezone(dt.timedelta(hours=5, minutes=45))
    if dt.datetime(2026, 3, 4, tzinfo=odd).astimezone().utcoffset() != odd.utcoffset(None):
        assert wall_zone(dt.datetime(2026, 3, 4, 15, 0, tzinfo=odd)) is odd
    # The system's own offset means the system's rules (None).
    assert wall_zone(dt.datetime(2026, 3, 4, 15, 0).astimezone()) is None


def test_wall_time_keeps_the_wall_clock_across_dst() -> None:
    # Berlin moves from UTC+1 to UTC+2 on 2026-03-29: 7:00 stays 7:00, an hour earlier in UTC.
    before = wall_time(dt.date(2026, 3, 28), 7, 0, BERLIN)
    after = wall_time(dt.date(2026, 3, 29), 7, 0, BERLIN)
    assert (before.hour, after.hour) == (7, 7)
    assert before.astimezone(dt.UTC) == dt.datetime(2026, 3, 28, 6, 0, tzinfo=dt.UTC)
    assert after.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 5, 0, tzinfo=dt.UTC)


def test_wall_time_in_a_dst_gap_moves_past_it() -> None:
    # 2:30 does not exist in Berlin on 2026-03-29 (2:00 jumps to 3:00).
    moment = wall_time(dt.date(2026, 3, 29), 2, 30, BERLIN)
    assert moment.astimezone(dt.UTC) == dt.datetime(2026, 3, 29, 1, 30, tzinfo=dt.UTC)
    assert (moment.hour, moment.minute, moment.utcoffset()) == (3, 30, dt.timedelta(hours=2))


def test_next_wall_time() -> None:
    # Later today, tomorrow once today's has passed, and the next matching weekday (0 = Monday).
    assert next_wall_time(16, 0, (), WEDNESDAY_3PM, BERLIN) == dt.datetime(2026, 3, 4, 16, 0, tzinfo=BERLIN)
    assert next_wall_time(15, 0, (), WEDNESDAY_3PM, BERLIN) == dt.datetime(2026, 3, 5, 15, 0, tzinfo=BERLIN)
    monday = next_wall_time(7, 0, (0,), WEDNESDAY_3PM, BERLIN)
    assert monday == dt.datetime(2026, 3, 9, 7, 0, tzinfo=BERLIN)
    with pytest.raises(ValueError):
        next_wall_time(7, 0, (7,), WEDNESDAY_3PM, BERLIN)
