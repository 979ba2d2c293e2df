"""Spoken slot values as the recognizer writes them, turned into numbers, durations, times and dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from assistant.understand.slots import (
    Repeat,
    format_duration,
    parse_duration,
    parse_instant,
    parse_number,
    parse_repeat,
    parse_time_of_day,
    parse_volume,
    split_repeat,
)

BERLIN = ZoneInfo("Europe/Berlin")
# A Friday, in the morning and in the evening.
MORNING = datetime(2026, 11, 27, 10, 0, tzinfo=BERLIN)
EVENING = datetime(2026, 11, 27, 20, 0, tzinfo=BERLIN)
WEEKDAYS = (0, 1, 2, 3, 4)
DAILY = Repeat("daily", ())


def at(month: int, day: int, hour: int, minute: int = 0, year: int = 2026) -> datetime:
    """A Berlin wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def assert_same_moment(got: datetime | None, expected: datetime) -> None:
    """Same instant, same wall clock and offset, in the zone of ``now``."""
    assert got is not None
    assert got == expected
    assert got.tzinfo is expected.tzinfo
    assert (got.replace(tzinfo=None), got.utcoffset()) == (
        expected.replace(tzinfo=None),
        expected.utcoffset(),
    )


# --- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("25", 25.0),
        ("2.5", 2.5),
        ("1,000", 1000.0),
        ("1,000,000", 1_000_000.0),
        ("0", 0.0),
        ("twenty five", 25.0),
        ("twenty-five", 25.0),
        ("Twenty Five.", 25.0),
        ("a hundred and twenty", 120.0),
        ("one hundred twenty three", 123.0),
        ("one thousand", 1000.0),
        ("a thousand", 1000.0),
        ("one thousand two hundred and thirty four", 1234.0),
        ("two thousand and five", 2005.0),
        ("nineteen hundred", 1900.0),
        ("zero", 0.0),
        ("a", 1.0),
        ("an", 1.0),
        ("a couple", 2.0),
        ("couple", 2.0),
        ("a dozen", 12.0),
        ("two dozen", 24.0),
        ("half", 0.5),
        ("a half", 0.5),
        ("one half", 0.5),
        ("a quarter", 0.25),
        ("three quarters", 0.75),
        ("one and a half", 1.5),
        ("two and a quarter", 2.25),
        ("five and three quarters", 5.75),
        ("1 and a half", 1.5),
        ("two point five", 2.5),
        ("ninety nine", 99.0),
        ("eleven", 11.0),
    ],
)
def test_parse_number(text: str, expected: float) -> None:
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   ",
        "banana",
        "five five",
        "1 2",
        "twenty banana",
        "hundred",
        "and",
        "seven thirty",
        "a and a half",
    ],
)
def test_parse_number_rejects(text: str) -> None:
    assert parse_number(text) is None


# --- durations -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("5 minutes", 300),
        ("5 min", 300),
        ("5 mins", 300),
        ("5min", 300),
        ("five minutes", 300),
        ("Five Minutes.", 300),
        ("5 minutes.", 300),
        ("  5   minutes  ", 300),
        ("twenty five minutes", 1500),
        ("twenty-five minutes", 1500),
        ("90 seconds", 90),
        ("90 secs", 90),
        ("10 sec", 10),
        ("a minute", 60),
        ("an hour", 3600),
        ("an hour and a half", 5400),
        ("an hour and a quarter", 4500),
        ("2 hours and a half", 9000),
        ("one and a half hours", 5400),
        ("1.5 hours", 5400),
        ("half an hour", 1800),
        ("a half hour", 1800),
        ("half a minute", 30),
        ("a quarter of an hour", 900),
        ("quarter hour", 900),
        ("three quarters of an hour", 2700),
        ("a couple of minutes", 120),
        ("a couple minutes", 120),
        ("2 hours and 15 minutes", 8100),
        ("2 hours 15 minutes", 8100),
        ("1 hour, 20 minutes and 30 seconds", 4830),
        ("3 hrs", 10800),
        ("1 hr", 3600),
        ("two days", 172800),
        ("a day and a half", 129600),
        ("a week", 604800),
        ("1 h 30 m", 5400),
        ("1h30m", 5400),
        ("1:30 hours", 5400),
        ("1:30 minutes", 90),
        ("1:30:00", 5400),
        ("for 5 minutes", 300),
        ("0 minutes", 0),
        ("zero seconds", 0),
        ("2.5 minutes", 150),
    ],
)
def test_parse_duration(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    "text",
    [
        "",
        "banana",
        "for tires",
        "for",
        "5",
        "minutes",
        "1:30",
        "1:30 seconds",
        "5 minutes 5 minutes",
        "30 minutes 1 hour",
        "5 bananas",
        "a few minutes",
        "every other minute",
    ],
)
def test_parse_duration_rejects(text: str) -> None:
    assert parse_duration(text) is None


@pytest.mark.parametrize(
    ("seconds", "spoken"),
    [
        (0, "0 seconds"),
        (1, "1 second"),
        (5, "5 seconds"),
        (60, "1 minute"),
        (90, "1 minute and 30 seconds"),
        (300, "5 minutes"),
        (3600, "1 hour"),
        (3601, "1 hour and 1 second"),
        (5400, "1 hour and 30 minutes"),
        (7503, "2 hours, 5 minutes and 3 seconds"),
        (86400, "1 day"),
        (90061, "1 day, 1 hour, 1 minute and 1 second"),
    ],
)
def test_format_duration(seconds: int, spoken: str) -> None:
    assert format_duration(seconds) == spoken


def test_format_duration_refuses_negative() -> None:
    with pytest.raises(ValueError):
        format_duration(-1)


@pytest.mark.parametrize("seconds", [0, 1, 59, 60, 61, 3599, 3600, 5400, 7503, 86399, 90061])
def test_format_duration_reads_back(seconds: int) -> None:
    assert parse_duration(format_duration(seconds)) == seconds


# --- times of day --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("7", (7, 0)),
        ("seven", (7, 0)),
        ("at 7", (7, 0)),
        ("7 am", (7, 0)),
        ("7 a.m.", (7, 0)),
        ("7 A.M.", (7, 0)),
        ("7am", (7, 0)),
        ("7 a m", (7, 0)),
        ("7 pm", (19, 0)),
        ("7 p.m.", (19, 0)),
        ("7pm.", (19, 0)),
        ("seven thirty", (7, 30)),
        ("seven thirty five", (7, 35)),
        ("seven oh five", (7, 5)),
        ("seven o five", (7, 5)),
        ("7:30", (7, 30)),
        ("7.30", (7, 30)),
        ("7 30", (7, 30)),
        ("7 05", (7, 5)),
        ("5:30pm", (17, 30)),
        ("730 pm", (19, 30)),
        ("six thirty p.m.", (18, 30)),
        ("seven fifteen p m", (19, 15)),
        ("twelve fifteen", (12, 15)),
        ("half past six", (6, 30)),
        ("half six", (6, 30)),
        ("quarter to seven", (6, 45)),
        ("a quarter to seven", (6, 45)),
        ("quarter past 8", (8, 15)),
        ("ten to nine", (8, 50)),
        ("ten minutes to nine", (8, 50)),
        ("twenty five past seven", (7, 25)),
        ("quarter to one", (12, 45)),
        ("quarter to one am", (0, 45)),
        ("ten to midnight", (23, 50)),
        ("quarter past noon", (12, 15)),
        ("half past six in the evening", (18, 30)),
        ("noon", (12, 0)),
        ("midday", (12, 0)),
        ("12 noon", (12, 0)),
        ("midnight", (0, 0)),
        ("19:45", (19, 45)),
        ("0730", (7, 30)),
        ("07:30", (7, 30)),
        ("00:15", (0, 15)),
        ("13", (13, 0)),
        ("twenty one thirty", (21, 30)),
        ("7 o'clock", (7, 0)),
        ("7 oclock", (7, 0)),
        ("7 o clock", (7, 0)),
        ("seven o'clock in the evening", (19, 0)),
        ("7 o'clock p.m.", (19, 0)),
        ("7 in the morning", (7, 0)),
        ("3 in the afternoon", (15, 0)),
        ("12 in the afternoon", (12, 0)),
        ("8 in the evening", (20, 0)),
        ("11 at night", (23, 0)),
        ("2 at night", (2, 0)),
        ("12 at night", (0, 0)),
        ("12 am", (0, 0)),
        ("12 pm", (12, 0)),
        ("12", (12, 0)),
    ],
)
def test_parse_time_of_day(text: str, expected: tuple[int, int]) -> None:
    assert parse_time_of_day(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "banana",
        "24",
        "25:00",
        "7:60",
        "19 am",
        "7:30 o'clock",
        "noon pm",
        "half to seven",
        "seven five",
        "7 banana",
        "tomorrow",
        "730",
        "in the morning",
        "sixty past seven",
    ],
)
def test_parse_time_of_day_rejects(text: str) -> None:
    assert parse_time_of_day(text) is None


# --- instants ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # A bare 12-hour time is the next of its two readings.
        ("at 7", at(11, 27, 19)),
        ("7", at(11, 27, 19)),
        ("seven", at(11, 27, 19)),
        ("at 10", at(11, 27, 22)),
        ("at 11", at(11, 27, 11)),
        ("at 12", at(11, 27, 12)),
        ("half past six", at(11, 27, 18, 30)),
        ("ten minutes to nine", at(11, 27, 20, 50)),
        ("seven o'clock", at(11, 27, 19)),
        # am/pm or 24-hour: the next time the clock shows it.
        ("7 pm", at(11, 27, 19)),
        ("at 7 am", at(11, 28, 7)),
        ("at 10 am", at(11, 28, 10)),
        ("at 10:30 am", at(11, 27, 10, 30)),
        ("by 5 pm", at(11, 27, 17)),
        ("19:45", at(11, 27, 19, 45)),
        ("7 in the morning", at(11, 28, 7)),
        ("a quarter past six in the evening", at(11, 27, 18, 15)),
        ("at noon", at(11, 27, 12)),
        ("at midnight", at(11, 28, 0)),
        # Waits.
        ("in 20 minutes", at(11, 27, 10, 20)),
        ("20 minutes", at(11, 27, 10, 20)),
        ("20 minutes from now", at(11, 27, 10, 20)),
        ("in 5 min", at(11, 27, 10, 5)),
        ("in an hour and a half", at(11, 27, 11, 30)),
        ("in half an hour", at(11, 27, 10, 30)),
        ("in 90 seconds", datetime(2026, 11, 27, 10, 1, 30, tzinfo=BERLIN)),
        # "second" is a unit here, not the 2nd of the month.
        ("in a second", datetime(2026, 11, 27, 10, 0, 1, tzinfo=BERLIN)),
        ("in 2 days", at(11, 29, 10)),
        ("in a week", at(12, 4, 10)),
        ("in 2 days at 9", at(11, 29, 9)),
        # Named days.
        ("tomorrow", at(11, 28, 9)),
        ("at 5:30 tomorrow", at(11, 28, 17, 30)),
        ("tomorrow at 5 30 p.m.", at(11, 28, 17, 30)),
        ("tomorrow at 7", at(11, 28, 7)),
        ("tomorrow at 7 pm", at(11, 28, 19)),
        ("quarter to seven tomorrow", at(11, 28, 18, 45)),
        ("noon tomorrow", at(11, 28, 12)),
        ("tomorrow at midnight", at(11, 28, 0)),
        ("the day after tomorrow", at(11, 29, 9)),
        ("yesterday", at(11, 26, 9)),
        ("7 pm yesterday", at(11, 26, 19)),
        ("at 7 am today", at(11, 27, 7)),
        ("today at 7", at(11, 27, 19)),
        # Parts of the day.
        ("tonight", at(11, 27, 21)),
        ("tonight at 9", at(11, 27, 21)),
        ("tonight at 11 pm", at(11, 27, 23)),
        ("tonight at midnight", at(11, 28, 0)),
        ("tonight at 1", at(11, 28, 1)),
        ("this morning", at(11, 27, 9)),
        ("this afternoon at 3", at(11, 27, 15)),
        ("this evening", at(11, 27, 19)),
        ("this evening at 8", at(11, 27, 20)),
        ("in the morning", at(11, 28, 9)),
        ("in the evening", at(11, 27, 19)),
        ("tomorrow morning", at(11, 28, 9)),
        ("tomorrow afternoon", at(11, 28, 15)),
        ("tomorrow evening", at(11, 28, 19)),
        ("tomorrow night", at(11, 28, 21)),
        ("at 7 tomorrow morning", at(11, 28, 7)),
        ("tomorrow evening at 7", at(11, 28, 19)),
        # Weekdays (today is Friday).
        ("monday", at(11, 30, 9)),
        ("on Monday.", at(11, 30, 9)),
        ("on thursday", at(12, 3, 9)),
        ("on friday", at(12, 4, 9)),
        ("on friday at 6", at(11, 27, 18)),
        ("friday at 9 am", at(12, 4, 9)),
        ("this friday", at(11, 27, 9)),
        ("next friday", at(12, 4, 9)),
        ("this coming friday", at(12, 4, 9)),
        ("next monday at 9 am", at(11, 30, 9)),
        ("monday at 6", at(11, 30, 18)),
        ("saturday morning", at(11, 28, 9)),
        ("sunday evening at 8", at(11, 29, 20)),
        ("this weekend", at(11, 28, 10)),
        ("on the weekend", at(11, 28, 10)),
        ("next weekend", at(12, 5, 10)),
        # Calendar dates.
        ("on the 5th", at(12, 5, 9)),
        ("the fifth", at(12, 5, 9)),
        ("on the 30th", at(11, 30, 9)),
        ("the 31st", at(12, 31, 9)),
        ("on the second", at(12, 2, 9)),
        ("on March 3rd at noon", at(3, 3, 12, year=2027)),
        ("the 3rd of march", at(3, 3, 9, year=2027)),
        ("march the third", at(3, 3, 9, year=2027)),
        ("December 25", at(12, 25, 9)),
        ("25 december", at(12, 25, 9)),
        ("december twenty fifth at 7 pm", at(12, 25, 19)),
        ("25 december 2027", at(12, 25, 9, year=2027)),
        ("november 27th", at(11, 27, 9)),
        ("february 29", at(2, 29, 9, year=2028)),
        ("friday december 4th", at(12, 4, 9)),
    ],
)
def test_parse_instant_in_the_morning(text: str, expected: datetime) -> None:
    assert_same_moment(parse_instant(text, MORNING), expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("at 7", at(11, 28, 7)),
        ("seven", at(11, 28, 7)),
        ("at 9", at(11, 27, 21)),
        ("7 pm", at(11, 28, 19)),
        ("at 8 pm", at(11, 28, 20)),
        ("at 8:30 pm", at(11, 27, 20, 30)),
        ("half past six", at(11, 28, 6, 30)),
        ("at noon", at(11, 28, 12)),
        ("at midnight", at(11, 28, 0)),
        ("in 20 minutes", at(11, 27, 20, 20)),
        ("in an hour and a half", at(11, 27, 21, 30)),
        ("in 2 days", at(11, 29, 20)),
        ("today at 7", at(11, 27, 7)),
        ("tonight at 9", at(11, 27, 21)),
        ("this evening", at(11, 27, 19)),
        ("in the evening", at(11, 28, 19)),
        ("tomorrow morning", at(11, 28, 9)),
        ("on friday at 6", at(12, 4, 18)),
        ("friday at 9", at(11, 27, 21)),
        ("on friday", at(12, 4, 9)),
        ("monday", at(11, 30, 9)),
        ("the 27th", at(11, 27, 9)),
    ],
)
def test_parse_instant_in_the_evening(text: str, expected: datetime) -> None:
    assert_same_moment(parse_instant(text, EVENING), expected)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "banana",
        "at",
        "the",
        "in 5",
        "every day",
        "now",
        "tomorrow tomorrow",
        "at 7 at 8",
        "tomorrow this evening",
        "in 20 minutes at 7",
        "on the 32nd",
        "february 30 2027",
        "next",
        "in march",
        "friday the banana",
        "second",
    ],
)
def test_parse_instant_rejects(text: str) -> None:
    assert parse_instant(text, MORNING) is None


def test_parse_instant_refuses_a_naive_now() -> None:
    with pytest.raises(ValueError):
        parse_instant("at 7", datetime(2026, 11, 27, 10, 0))


def test_parse_instant_keeps_the_zone_of_now() -> None:
    eastern = timezone(timedelta(hours=-5))
    got = parse_instant("at 7", datetime(2026, 11, 27, 10, 0, tzinfo=eastern))
    assert got == datetime(2026, 11, 27, 19, 0, tzinfo=eastern)
    assert got is not None and got.utcoffset() == timedelta(hours=-5)


# In Berlin, 2026-10-25 03:00 CEST becomes 02:00 CET; 2026-03-29 02:00 CET becomes 03:00 CEST.


def test_a_wait_across_the_autumn_change_is_real_time() -> None:
    now = datetime(2026, 10, 25, 1, 30, tzinfo=BERLIN)
    got = parse_instant("in 2 hours", now)
    assert got is not None
    assert got.astimezone(UTC) - now.astimezone(UTC) == timedelta(hours=2)
    assert (got.hour, got.minute, got.utcoffset()) == (2, 30, timedelta(hours=1))


def test_a_wait_across_the_spring_change_is_real_time() -> None:
    now = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)
    got = parse_instant("in 2 hours", now)
    assert got is not None
    assert got.astimezone(UTC) == datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    assert (got.day, got.hour, got.utcoffset()) == (29, 0, timedelta(hours=1))


def test_a_wait_from_the_repeated_hour_is_real_time() -> None:
    now = datetime(2026, 10, 25, 2, 30, fold=1, tzinfo=BERLIN)
    got = parse_instant("in 10 minutes", now)
    assert got is not None
    assert got.astimezone(UTC) == datetime(2026, 10, 25, 1, 40, tzinfo=UTC)


def test_tomorrow_across_the_autumn_change_is_local_wall_time() -> None:
    now = datetime(2026, 10, 24, 10, 0, tzinfo=BERLIN)
    assert_same_moment(parse_instant("tomorrow at 9", now), at(10, 25, 9))
    got = parse_instant("tomorrow at 9", now)
    assert got is not None and got.utcoffset() == timedelta(hours=1)
    # 24 real hours after 10:00 CEST is 09:00 CET on the calendar.
    assert_same_moment(parse_instant("in 24 hours", now), at(10, 25, 9))
    assert_same_moment(parse_instant("in 1 day", now), at(10, 25, 10))


def test_tomorrow_across_the_spring_change_is_local_wall_time() -> None:
    now = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)
    got = parse_instant("tomorrow at 9", now)
    assert_same_moment(got, at(3, 29, 9))
    assert got is not None and got.utcoffset() == timedelta(hours=2)


def test_a_time_skipped_by_the_spring_change_moves_past_the_gap() -> None:
    now = datetime(2026, 3, 28, 22, 0, tzinfo=BERLIN)
    assert_same_moment(parse_instant("tomorrow at 2:30 am", now), at(3, 29, 3, 30))


# --- repeats -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("every day", DAILY),
        ("Every day.", DAILY),
        ("daily", DAILY),
        ("everyday", DAILY),
        ("each day", DAILY),
        ("every single day", DAILY),
        ("every day of the week", DAILY),
        ("once a day", DAILY),
        ("every morning", DAILY),
        ("every evening", DAILY),
        ("nightly", DAILY),
        ("on weekdays", Repeat("weekly", WEEKDAYS)),
        ("every weekday", Repeat("weekly", WEEKDAYS)),
        ("weekdays", Repeat("weekly", WEEKDAYS)),
        ("on workdays", Repeat("weekly", WEEKDAYS)),
        ("every work day", Repeat("weekly", WEEKDAYS)),
        ("every weekday morning", Repeat("weekly", WEEKDAYS)),
        ("on weekday mornings", Repeat("weekly", WEEKDAYS)),
        ("monday to friday", Repeat("weekly", WEEKDAYS)),
        ("from monday through friday", Repeat("weekly", WEEKDAYS)),
        ("friday to monday", Repeat("weekly", (0, 4, 5, 6))),
        ("on weekends", Repeat("weekly", (5, 6))),
        ("every weekend", Repeat("weekly", (5, 6))),
        ("weekends", Repeat("weekly", (5, 6))),
        ("every monday", Repeat("weekly", (0,))),
        ("each tuesday", Repeat("weekly", (1,))),
        ("on mondays", Repeat("weekly", (0,))),
        ("sundays", Repeat("weekly", (6,))),
        ("every monday morning", Repeat("weekly", (0,))),
        ("every monday and wednesday", Repeat("weekly", (0, 2))),
        ("every monday, wednesday and friday", Repeat("weekly", (0, 2, 4))),
        ("mondays and fridays", Repeat("weekly", (0, 4))),
        ("on mondays and thursdays", Repeat("weekly", (0, 3))),
        ("fridays and mondays", Repeat("weekly", (0, 4))),
        ("every weekday and saturday", Repeat("weekly", (0, 1, 2, 3, 4, 5))),
        ("every weekday and weekend", DAILY),
        ("weekly", Repeat("weekly", ())),
        ("every week", Repeat("weekly", ())),
        ("once a week", Repeat("weekly", ())),
        ("every week on monday", Repeat("weekly", (0,))),
        ("weekly on tuesdays and thursdays", Repeat("weekly", (1, 3))),
    ],
)
def test_parse_repeat(text: str, expected: Repeat) -> None:
    assert parse_repeat(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "",
        "banana",
        "every",
        "monday",
        "on monday",
        "every other day",
        "mondays and",
        "every banana",
        "monday to",
        "tomorrow",
        "weekly on banana",
        "every day at 7",
    ],
)
def test_parse_repeat_rejects(text: str) -> None:
    assert parse_repeat(text) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6:30 on weekdays", ("6:30", Repeat("weekly", WEEKDAYS))),
        ("7 am every day", ("7 am", DAILY)),
        ("7am daily", ("7 am", DAILY)),
        ("every day at 7", ("at 7", DAILY)),
        ("every monday at 7 a.m.", ("at 7 am", Repeat("weekly", (0,)))),
        ("at 7 on mondays and fridays", ("at 7", Repeat("weekly", (0, 4)))),
        ("every morning at 7", ("at 7 in the morning", DAILY)),
        ("every weekday morning", ("in the morning", Repeat("weekly", WEEKDAYS))),
        ("every night at 10", ("at 10 at night", DAILY)),
        ("every day", ("", DAILY)),
        ("friday at 6", ("friday at 6", None)),
        ("tomorrow at 9", ("tomorrow at 9", None)),
        ("Tomorrow at 9.", ("tomorrow at 9", None)),
        ("", ("", None)),
    ],
)
def test_split_repeat(text: str, expected: tuple[str, Repeat | None]) -> None:
    assert split_repeat(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("6:30 on weekdays", at(11, 27, 18, 30)),
        ("every morning at 7", at(11, 28, 7)),
        ("every night at 10", at(11, 27, 22)),
        ("every weekday morning", at(11, 28, 9)),
    ],
)
def test_split_repeat_leaves_a_parseable_time(text: str, expected: datetime) -> None:
    rest, repeat = split_repeat(text)
    assert repeat is not None
    assert_same_moment(parse_instant(rest, MORNING), expected)


# --- volume --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("50", 50),
        ("fifty", 50),
        ("50 percent", 50),
        ("50%", 50),
        ("fifty per cent", 50),
        ("5 percent", 5),
        ("100 percent", 100),
        ("half", 50),
        ("halfway", 50),
        ("a quarter", 25),
        ("three quarters", 75),
        ("max", 100),
        ("maximum", 100),
        ("full", 100),
        ("full volume", 100),
        ("min", 0),
        ("minimum", 0),
        ("mute", 0),
        ("zero", 0),
        ("0", 0),
        ("level 5", 50),
        ("5 out of 10", 50),
        ("7 out of ten", 70),
        ("3 out of 5", 60),
        ("5/10", 50),
        ("5", 50),
        ("five", 50),
        ("2.5", 25),
        ("10", 100),
        ("11", 11),
        ("100", 100),
        ("one hundred", 100),
        ("to 30", 30),
        ("volume 7", 70),
        ("Seventy.", 70),
    ],
)
def test_parse_volume(text: str, expected: int) -> None:
    assert parse_volume(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", "banana", "101", "150 percent", "8 out of 5", "5 out of 0", "louder", "up", "5 out 10", "percent"],
)
def test_parse_volume_rejects(text: str) -> None:
    assert parse_volume(text) is None
