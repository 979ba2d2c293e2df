"""Spoken slot values (numbers, durations, times, instants, repeats, volume) turned into typed values.

Every parser takes the raw text an intent template captured from the speech recognizer,
undoes what recognizers do to it ("p.m.", "o'clock", hyphens, trailing full stops, "7am"),
and returns ``None`` rather than raising when the text is not a value of that kind, so a
caller can treat it as "no match". Nothing here reads a clock: whatever needs "now" takes
it as a timezone-aware argument.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal

__all__ = [
    "Repeat",
    "format_duration",
    "parse_duration",
    "parse_instant",
    "parse_number",
    "parse_repeat",
    "parse_time_of_day",
    "parse_volume",
    "split_repeat",
]

Period = Literal["morning", "afternoon", "evening", "night"]


@dataclass(frozen=True)
class Repeat:
    """How a timed event recurs."""

    kind: Literal["daily", "weekly"]
    """"daily": every day; "weekly": on the listed weekdays."""
    weekdays: tuple[int, ...]
    """Sorted weekdays, 0 = Monday; () for daily, and for weekly means "the first occurrence's weekday"."""


# --- normalization -------------------------------------------------------------------------------

_MERIDIEM_RE = re.compile(r"(?<![a-z])([ap])\s*\.?\s*m\b\.?")
_OCLOCK_RE = re.compile(r"\bo\s*'?\s*clock\b")


def _tokens(text: str) -> list[str]:
    """Lower-cased words and numbers, with the recognizer's punctuation habits undone."""
    text = text.lower().replace("’", "'").replace("‘", "'")
    text = text.replace("%", " percent ").replace("&", " and ")
    text = _MERIDIEM_RE.sub(r" \1m ", text)
    text = _OCLOCK_RE.sub(" oclock ", text)
    text = re.sub(r"(?<=[0-9]),(?=[0-9]{3}\b)", "", text)
    text = re.sub(r"([0-9])\s*/\s*([0-9])", r"\1 out of \2", text)
    text = text.replace("'", "")
    text = re.sub(r"[^a-z0-9.:\s]", " ", text)
    # A dot or colon only means something between digits ("2.5", "7:30"); elsewhere it is
    # sentence punctuation the recognizer added.
    text = re.sub(r"(?<![0-9])[.:]|[.:](?![0-9])", " ", text)
    text = re.sub(r"([0-9])(?!(?:st|nd|rd|th)\b)(?=[a-z])", r"\1 ", text)
    text = re.sub(r"([a-z])(?=[0-9])", r"\1 ", text)
    return text.split()


def _round(value: float) -> int:
    """Round half up, so results do not depend on banker's rounding."""
    return math.floor(value + 0.5)


# --- numbers -------------------------------------------------------------------------------------

_SMALL: dict[str, int] = {
    "zero": 0,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "thirteen": 13,
    "fourteen": 14,
    "fifteen": 15,
    "sixteen": 16,
    "seventeen": 17,
    "eighteen": 18,
    "nineteen": 19,
}
_TENS: dict[str, int] = {
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "fifty": 50,
    "sixty": 60,
    "seventy": 70,
    "eighty": 80,
    "ninety": 90,
}
_SCALES: dict[str, int] = {"thousand": 1_000, "million": 1_000_000}
_DECIMAL_RE = re.compile(r"[0-9]+(?:\.[0-9]+)?")


def _at(tokens: Sequence[str], i: int) -> str:
    """The token at ``i``, or "" past the end, so lookahead needs no bounds checks."""
    return tokens[i] if 0 <= i < len(tokens) else ""


def _take_cardinal(tokens: Sequence[str], i: int) -> tuple[int, int] | None:
    """A whole number in words starting at ``i``: (value, index after it)."""
    j = i
    total = 0
    group = 0
    last = ""
    scale_cap = math.inf
    if _at(tokens, j) in ("a", "an") and (_at(tokens, j + 1) == "hundred" or _at(tokens, j + 1) in _SCALES):
        group, last, j = 1, "small", j + 1
    while j < len(tokens):
        word = tokens[j]
        if word in _SMALL:
            value = _SMALL[word]
            # "seven thirty" and "twelve fifteen" are two numbers (a time), not one.
            if last in ("small", "zero") or (last == "tens" and not 1 <= value <= 9) or (value == 0 and last):
                break
            group += value
            last = "zero" if value == 0 else "small"
        elif word in _TENS:
            if last in ("small", "zero", "tens"):
                break
            group += _TENS[word]
            last = "tens"
        elif word == "hundred":
            if last not in ("small", "tens") or not 1 <= group <= 99:
                break
            group *= 100
            last = "hundred"
        elif word in _SCALES:
            scale = _SCALES[word]
            if last not in ("small", "tens", "hundred") or group == 0 or scale >= scale_cap:
                break
            total += group * scale
            group, last, scale_cap = 0, "scale", scale
        elif (
            word == "and"
            and last in ("hundred", "scale")
            and (_at(tokens, j + 1) in _TENS or _SMALL.get(_at(tokens, j + 1), 0) > 0)
        ):
            last = "and"
        else:
            break
        j += 1
    if j == i or last in ("", "and"):
        return None
    return total + group, j


def _take_fraction(tokens: Sequence[str], i: int) -> tuple[float, int] | None:
    """A fraction ("half", "a quarter", "three quarters") at ``i``: (value, index after it)."""
    first = _at(tokens, i)
    if first == "three" and _at(tokens, i + 1) == "quarters":
        return 0.75, i + 2
    j = i + 1 if first in ("a", "an", "one") else i
    if _at(tokens, j) == "half":
        return 0.5, j + 1
    if _at(tokens, j) == "quarter":
        return 0.25, j + 1
    return None


def _take_number(tokens: Sequence[str], i: int) -> tuple[float, int] | None:
    """A number in digits or words starting at ``i``: (value, index after it)."""
    fraction = _take_fraction(tokens, i)
    if fraction is not None:
        return fraction
    word, following = _at(tokens, i), _at(tokens, i + 1)
    value: float
    if _DECIMAL_RE.fullmatch(word):
        value, j = float(word), i + 1
    elif word in ("a", "an") and following in ("couple", "dozen"):
        value, j = (2.0 if following == "couple" else 12.0), i + 2
    elif word in ("couple", "dozen"):
        value, j = (2.0 if word == "couple" else 12.0), i + 1
    elif word in ("a", "an") and following != "hundred" and following not in _SCALES:
        # A bare article is "one" only on its own: "a and a half" is not a number.
        return 1.0, i + 1
    else:
        cardinal = _take_cardinal(tokens, i)
        if cardinal is None:
            return None
        value, j = float(cardinal[0]), cardinal[1]
        if _at(tokens, j) == "point":
            digits = ""
            k = j + 1
            while _SMALL.get(_at(tokens, k), 10) <= 9 or _at(tokens, k) == "oh":
                digits += str(_SMALL.get(tokens[k], 0))
                k += 1
            if digits:
                value, j = float(f"{int(value)}.{digits}"), k
        elif _at(tokens, j) == "dozen":
            value, j = value * 12, j + 1
    if value.is_integer() and _at(tokens, j) == "and":
        fraction = _take_fraction(tokens, j + 1)
        if fraction is not None:
            value, j = value + fraction[0], fraction[1]
    return value, j


def parse_number(text: str) -> float | None:
    """A number said in digits or words ("25", "1,000", "twenty-five", "one and a half"), or None."""
    tokens = _tokens(text)
    taken = _take_number(tokens, 0)
    if taken is None or taken[1] != len(tokens):
        return None
    return taken[0]


# --- durations -----------------------------------------------------------------------------------

_UNIT_SECONDS: dict[str, int] = {
    **dict.fromkeys(("s", "sec", "secs", "second", "seconds"), 1),
    **dict.fromkeys(("m", "min", "mins", "minute", "minutes"), 60),
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), 3_600),
    **dict.fromkeys(("d", "day", "days"), 86_400),
    **dict.fromkeys(("week", "weeks"), 604_800),
}
_DAY = 86_400
_CLOCK_DURATION_RE = re.compile(r"([0-9]+):([0-5][0-9])(?::([0-5][0-9]))?")


@dataclass(frozen=True)
class _Component:
    """One "<number> <unit>" piece of a duration."""

    largest: int
    """The largest unit it uses, in seconds, to keep pieces in falling order."""
    smallest: int
    """The smallest unit it uses, in seconds."""
    seconds: float
    end: int
    """Index of the token after it."""


def _take_clock_duration(tokens: Sequence[str], i: int) -> _Component | None:
    """A colon duration ("1:30 hours", "1:30 minutes", "1:30:00"); a bare "1:30" is ambiguous, so None."""
    match = _CLOCK_DURATION_RE.fullmatch(_at(tokens, i))
    if match is None:
        return None
    a, b = int(match[1]), int(match[2])
    unit = _UNIT_SECONDS.get(_at(tokens, i + 1))
    end = i + 1 if unit is None else i + 2
    if match[3] is not None:
        if unit not in (None, 3_600):
            return None
        return _Component(3_600, 1, a * 3_600 + b * 60 + int(match[3]), end)
    if unit == 3_600:
        return _Component(3_600, 60, a * 3_600 + b * 60, end)
    if unit == 60:
        return _Component(60, 1, a * 60 + b, end)
    return None


def _take_component(tokens: Sequence[str], i: int) -> _Component | None:
    """One duration piece ("5 minutes", "half an hour", "an hour and a half") at ``i``."""
    clock = _take_clock_duration(tokens, i)
    if clock is not None:
        return clock
    number = _take_number(tokens, i)
    if number is None:
        return None
    value, j = number
    if _at(tokens, j) == "of":
        j += 1
    if value < 1 and _at(tokens, j) in ("a", "an"):
        j += 1
    unit = _UNIT_SECONDS.get(_at(tokens, j))
    if unit is None:
        return None
    j += 1
    if _at(tokens, j) == "and":
        fraction = _take_fraction(tokens, j + 1)
        # "an hour and a half" adds half an hour; "an hour and a half minute" would not.
        if fraction is not None and _at(tokens, fraction[1]) not in (*_UNIT_SECONDS, "of", "a", "an"):
            value, j = value + fraction[0], fraction[1]
    return _Component(unit, unit, value * unit, j)


def _take_duration(tokens: Sequence[str], i: int) -> tuple[list[_Component], int] | None:
    """Duration pieces in falling unit order starting at ``i``: (pieces, index after them)."""
    pieces: list[_Component] = []
    j = i
    floor = math.inf
    while True:
        k = j + 1 if pieces and _at(tokens, j) == "and" else j
        piece = _take_component(tokens, k)
        # Units must fall ("2 hours 15 minutes"), which rejects repeats like "5 minutes 5 minutes".
        if piece is None or piece.largest >= floor:
            break
        pieces.append(piece)
        floor, j = piece.smallest, piece.end
    return (pieces, j) if pieces else None


def parse_duration(text: str) -> int | None:
    """Seconds in a spoken duration ("an hour and a half", "5 min", "1 h 30 m"), or None."""
    tokens = _tokens(text)
    start = 1 if _at(tokens, 0) == "for" else 0
    taken = _take_duration(tokens, start)
    if taken is None or taken[1] != len(tokens):
        return None
    return _round(sum(piece.seconds for piece in taken[0]))


def format_duration(seconds: int) -> str:
    """The spoken form of a duration: 5430 → "1 hour, 30 minutes and 30 seconds"."""
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative: {seconds}")
    if seconds == 0:
        return "0 seconds"
    parts: list[str] = []
    rest = seconds
    for size, name in ((_DAY, "day"), (3_600, "hour"), (60, "minute"), (1, "second")):
        count, rest = divmod(rest, size)
        if count:
            parts.append(f"{count} {name}" if count == 1 else f"{count} {name}s")
    if len(parts) == 1:
        return parts[0]
    return f"{', '.join(parts[:-1])} and {parts[-1]}"


# --- times of day --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Clock:
    """A time of day as said, before it is placed on a date."""

    hour: int
    minute: int
    ambiguous: bool
    """No am/pm was said: ``hour`` is 1..12 and may mean either half of the day."""
    night: bool = False
    """Said "at night": small hours belong to the night after the day named."""


_NOON = ("noon", "midday")
_CLOCK_RE = re.compile(r"([0-9]{1,2})[:.]([0-9]{2})")
_PERIOD_SUFFIXES: tuple[tuple[tuple[str, ...], Period], ...] = (
    (("in", "the", "morning"), "morning"),
    (("in", "the", "afternoon"), "afternoon"),
    (("in", "the", "evening"), "evening"),
    (("in", "the", "night"), "night"),
    (("at", "night"), "night"),
)
_BEFORE = ("to", "till", "til", "before", "of")
_AFTER = ("past", "after")


def _take_hour(tokens: Sequence[str]) -> tuple[int, bool] | None:
    """All of ``tokens`` as an hour 0..23: (hour, whether it is a 12-hour reading)."""
    if len(tokens) == 1 and re.fullmatch(r"[0-9]{1,2}", tokens[0]):
        hour = int(tokens[0])
        # A leading zero ("07") is how a 24-hour clock is written, so it is not ambiguous.
        return (hour, 1 <= hour <= 12 and not tokens[0].startswith("0")) if hour <= 23 else None
    cardinal = _take_cardinal(tokens, 0)
    if cardinal is None or cardinal[1] != len(tokens) or cardinal[0] > 23:
        return None
    return cardinal[0], 1 <= cardinal[0] <= 12


def _take_minute(tokens: Sequence[str]) -> int | None:
    """All of ``tokens`` as the minutes after an hour: "30", "05", "thirty", "oh five"."""
    if len(tokens) == 1 and re.fullmatch(r"[0-9]{2}", tokens[0]):
        return int(tokens[0]) if int(tokens[0]) <= 59 else None
    if len(tokens) == 2 and tokens[0] in ("oh", "o", "zero"):
        digit = _SMALL.get(tokens[1], int(tokens[1]) if re.fullmatch(r"[0-9]", tokens[1]) else None)
        return digit if digit is not None and 1 <= digit <= 9 else None
    cardinal = _take_cardinal(tokens, 0)
    # "seven five" is too unlike a time to guess at; minutes under ten need their "oh".
    if cardinal is None or cardinal[1] != len(tokens) or not 10 <= cardinal[0] <= 59:
        return None
    return cardinal[0]


def _take_offset_minutes(tokens: Sequence[str]) -> int | None:
    """The minutes before "past" or "to": "half", "a quarter", "ten", "25 minutes"."""
    if list(tokens) == ["half"]:
        return 30
    if list(tokens) in (["quarter"], ["a", "quarter"]):
        return 15
    if tokens and tokens[-1] in ("minute", "minutes"):
        tokens = tokens[:-1]
    if len(tokens) == 1 and re.fullmatch(r"[0-9]{1,2}", tokens[0]):
        value = int(tokens[0])
    else:
        cardinal = _take_cardinal(tokens, 0)
        if cardinal is None or cardinal[1] != len(tokens):
            return None
        value = cardinal[0]
    return value if 1 <= value <= 59 else None


def _relative_clock(tokens: Sequence[str]) -> _Clock | None:
    """A time said against the hour: "half past six", "quarter to seven", "half six"."""
    if len(tokens) >= 2 and tokens[0] == "half" and tokens[1] not in (*_AFTER, *_BEFORE):
        hour = _take_hour(tokens[1:])
        return None if hour is None else _Clock(hour[0], 30, hour[1])
    split = next((k for k, word in enumerate(tokens) if word in (*_AFTER, *_BEFORE)), None)
    if split is None:
        return None
    minutes = _take_offset_minutes(tokens[:split])
    target = list(tokens[split + 1 :])
    hour = (12, False) if target in (["noon"], ["midday"]) else (0, False) if target == ["midnight"] else None
    hour = hour or _take_hour(target)
    if minutes is None or hour is None:
        return None
    if tokens[split] in _AFTER:
        return _Clock(hour[0], minutes, hour[1])
    if minutes == 30 and tokens[0] == "half":
        return None
    if hour[1]:
        # On a 12-hour reading the hour before one is twelve, not zero.
        return _Clock((hour[0] - 2) % 12 + 1, 60 - minutes, True)
    return _Clock((hour[0] - 1) % 24, 60 - minutes, False)


def _core_clock(tokens: Sequence[str]) -> _Clock | None:
    """A time of day with its am/pm and "in the evening" already taken off."""
    words = list(tokens)
    if words in (["noon"], ["midday"], ["12", "noon"], ["twelve", "noon"]):
        return _Clock(12, 0, False)
    if words in (["midnight"], ["12", "midnight"], ["twelve", "midnight"]):
        return _Clock(0, 0, False)
    if len(words) == 1:
        match = _CLOCK_RE.fullmatch(words[0])
        if match is not None:
            hh, mm = int(match[1]), int(match[2])
            if hh > 23 or mm > 59:
                return None
            return _Clock(hh, mm, 1 <= hh <= 12 and not match[1].startswith("0"))
        if re.fullmatch(r"[0-9]{4}", words[0]):
            hh, mm = int(words[0][:2]), int(words[0][2:])
            return _Clock(hh, mm, False) if hh <= 23 and mm <= 59 else None
    relative = _relative_clock(words)
    if relative is not None:
        return relative
    for split in range(len(words), 0, -1):
        hour = _take_hour(words[:split])
        if hour is None:
            continue
        if split == len(words):
            return _Clock(hour[0], 0, hour[1])
        minute = _take_minute(words[split:])
        if minute is not None:
            return _Clock(hour[0], minute, hour[1])
    return None


def _with_meridiem(clock: _Clock, pm: bool) -> _Clock | None:
    """The clock read as am or pm; None for what cannot be either, like "19 am"."""
    if clock.hour > 12:
        return clock if pm and not clock.ambiguous else None
    return _Clock(clock.hour % 12 + (12 if pm else 0), clock.minute, False, clock.night)


def _with_period(clock: _Clock, period: Period) -> _Clock:
    """An ambiguous clock read in a part of the day: seven in the evening is 19:00."""
    if period == "night":
        if not clock.ambiguous:
            return _Clock(clock.hour, clock.minute, False, True)
        hour = clock.hour % 12 + (12 if clock.hour >= 5 and clock.hour != 12 else 0)
        return _Clock(hour, clock.minute, False, True)
    if not clock.ambiguous:
        return clock
    return _with_meridiem(clock, pm=period != "morning") or clock


def _take_time_of_day(tokens: Sequence[str]) -> _Clock | None:
    """All of ``tokens`` as a time of day, with am/pm, "o'clock" and "in the evening" applied."""
    words = list(tokens)
    period: Period | None = None
    for suffix, name in _PERIOD_SUFFIXES:
        if len(words) > len(suffix) and tuple(words[-len(suffix) :]) == suffix:
            period, words = name, words[: -len(suffix)]
            break
    meridiem = words.pop() if words and words[-1] in ("am", "pm") else None
    oclock = bool(words) and words[-1] == "oclock"
    if oclock:
        words.pop()
    if (meridiem or period or oclock) and any(word in (*_NOON, "midnight") for word in words):
        return None
    if meridiem is not None and len(words) == 1 and re.fullmatch(r"[0-9]{3}", words[0]):
        # "730 pm" is how the recognizer sometimes writes 7:30 p.m.; without am/pm it is a number.
        words = [f"{words[0][0]}:{words[0][1:]}"]
    clock = _core_clock(words)
    if clock is None or (oclock and clock.minute != 0):
        return None
    if meridiem is not None:
        clock = _with_meridiem(clock, pm=meridiem == "pm")
        if clock is None:
            return None
    if period is not None:
        clock = _with_period(clock, period)
    return clock


def parse_time_of_day(text: str) -> tuple[int, int] | None:
    """(hour 0-23, minute) of a spoken time ("seven thirty", "quarter to seven", "6:30 pm"), or None.

    Without am/pm or a part of the day the hour is returned as said: "7" is (7, 0).
    """
    tokens = _tokens(text)
    if _at(tokens, 0) == "at":
        tokens = tokens[1:]
    clock = _take_time_of_day(tokens)
    return None if clock is None else (clock.hour, clock.minute)


# --- instants ------------------------------------------------------------------------------------

_WEEKDAYS: dict[str, int] = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
_MONTHS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        (
            "january",
            "february",
            "march",
            "april",
            "may",
            "june",
            "july",
            "august",
            "september",
            "october",
            "november",
            "december",
        ),
        start=1,
    )
}
_ORDINALS: dict[str, int] = {
    "first": 1,
    "second": 2,
    "third": 3,
    "fourth": 4,
    "fifth": 5,
    "sixth": 6,
    "seventh": 7,
    "eighth": 8,
    "ninth": 9,
    "tenth": 10,
    "eleventh": 11,
    "twelfth": 12,
    "thirteenth": 13,
    "fourteenth": 14,
    "fifteenth": 15,
    "sixteenth": 16,
    "seventeenth": 17,
    "eighteenth": 18,
    "nineteenth": 19,
    "twentieth": 20,
    "thirtieth": 30,
}
_PERIODS: dict[str, Period] = {
    "morning": "morning",
    "afternoon": "afternoon",
    "evening": "evening",
    "night": "night",
}
_PERIOD_DEFAULTS: dict[Period, tuple[int, int]] = {
    "morning": (9, 0),
    "afternoon": (15, 0),
    "evening": (19, 0),
    "night": (21, 0),
}
_DATE_DEFAULT = (9, 0)
_WEEKEND_DEFAULT = (10, 0)
_FILLERS = frozenset({"at", "on", "by", "for", "in", "the", "around", "about"})
_NIGHT_ENDS = 5
"""Hours before this, said of a night, belong to the next calendar day."""


@dataclass(frozen=True)
class _Day:
    """The day part of an instant, before a time is put on it."""

    kind: Literal["date", "weekday", "weekend"]
    day: date | None = None
    weekday: int = 0
    mode: Literal["bare", "this", "next"] = "bare"


@dataclass
class _Said:
    """What one instant expression has said so far; each part may be said once."""

    day: _Day | None = None
    clock: _Clock | None = None
    period: Period | None = None
    relative: list[_Component] | None = None


def _take_day_number(tokens: Sequence[str], i: int) -> tuple[int, int, bool] | None:
    """A day of the month at ``i``: (day, index after it, whether it was said as an ordinal)."""
    word = _at(tokens, i)
    day: int | None = None
    ordinal = True
    if match := re.fullmatch(r"([0-9]{1,2})(?:st|nd|rd|th)", word):
        day, j = int(match[1]), i + 1
    elif re.fullmatch(r"[0-9]{1,2}", word):
        day, j, ordinal = int(word), i + 1, False
    elif word in ("twenty", "thirty") and _ORDINALS.get(_at(tokens, i + 1), 10) <= 9:
        day, j = _TENS[word] + _ORDINALS[tokens[i + 1]], i + 2
    elif word in _ORDINALS:
        day, j = _ORDINALS[word], i + 1
    else:
        cardinal = _take_cardinal(tokens, i)
        if cardinal is not None:
            day, j, ordinal = cardinal[0], cardinal[1], False
    if day is None or not 1 <= day <= 31:
        return None
    return day, j, ordinal


def _take_year(tokens: Sequence[str], i: int) -> tuple[int | None, int]:
    """An optional four-digit year at ``i``: (year or None, index after it)."""
    word = _at(tokens, i)
    if re.fullmatch(r"(19|20|21)[0-9]{2}", word):
        return int(word), i + 1
    return None, i


def _valid_date(year: int, month: int, day: int) -> date | None:
    """The date, or None where the month has no such day."""
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _next_month_day(today: date, month: int, day: int) -> date | None:
    """The first ``month``/``day`` on or after today (Feb 29 waits for a leap year)."""
    for year in range(today.year, today.year + 9):
        found = _valid_date(year, month, day)
        if found is not None and found >= today:
            return found
    return None


def _next_day_of_month(today: date, day: int) -> date | None:
    """The first date on or after today whose day of the month is ``day``."""
    for ahead in range(13):
        month_index = today.month - 1 + ahead
        found = _valid_date(today.year + month_index // 12, month_index % 12 + 1, day)
        if found is not None and found >= today:
            return found
    return None


def _take_calendar_date(tokens: Sequence[str], i: int, today: date) -> tuple[_Day, int] | None:
    """A calendar date ("March 3rd", "3rd of March", "December 25 2027", "the 5th") at ``i``."""
    word = _at(tokens, i)
    if word in _MONTHS:
        j = i + 2 if _at(tokens, i + 1) == "the" else i + 1
        taken = _take_day_number(tokens, j)
        if taken is None:
            return None
        month, (day, j, _) = _MONTHS[word], taken
    else:
        taken = _take_day_number(tokens, i)
        if taken is None:
            return None
        day, j, ordinal = taken
        k = j + 1 if _at(tokens, j) == "of" else j
        if _at(tokens, k) in _MONTHS:
            month, j = _MONTHS[tokens[k]], k + 1
        elif ordinal and (re.match(r"[0-9]", word) or _at(tokens, i - 1) == "the"):
            # An ordinal word alone ("second") is only a date after "the": "a second" is not.
            found = _next_day_of_month(today, day)
            return None if found is None else (_Day("date", found), j)
        else:
            return None
    year, j = _take_year(tokens, j)
    found = _next_month_day(today, month, day) if year is None else _valid_date(year, month, day)
    return None if found is None else (_Day("date", found), j)


def _take_day(tokens: Sequence[str], i: int, today: date) -> tuple[_Day, int] | None:
    """A day at ``i``: today, tomorrow, a weekday, the weekend or a calendar date."""
    word = _at(tokens, i)
    offsets = {"today": 0, "tomorrow": 1, "yesterday": -1}
    if word in offsets:
        return _Day("date", today + timedelta(days=offsets[word])), i + 1
    if tuple(tokens[i : i + 3]) == ("day", "after", "tomorrow"):
        return _Day("date", today + timedelta(days=2)), i + 3
    if tuple(tokens[i : i + 3]) == ("day", "before", "yesterday"):
        return _Day("date", today - timedelta(days=2)), i + 3
    mode: Literal["bare", "this", "next"] = "bare"
    j = i
    if word == "this" and _at(tokens, i + 1) == "coming":
        mode, j = "next", i + 2
    elif word == "this":
        mode, j = "this", i + 1
    elif word in ("next", "coming"):
        mode, j = "next", i + 1
    if _at(tokens, j) in _WEEKDAYS:
        return _Day("weekday", weekday=_WEEKDAYS[tokens[j]], mode=mode), j + 1
    if _at(tokens, j) == "weekend":
        return _Day("weekend", mode=mode), j + 1
    if mode != "bare":
        return None
    return _take_calendar_date(tokens, i, today)


def _take_relative(tokens: Sequence[str], i: int) -> tuple[list[_Component], int] | None:
    """A wait ("20 minutes", "an hour and a half from now", "2 days") at ``i``."""
    taken = _take_duration(tokens, i)
    if taken is None:
        return None
    pieces, j = taken
    # "ten minutes to nine" is a time of day, not a wait.
    if _at(tokens, j) in (*_AFTER, *_BEFORE):
        return None
    if tuple(tokens[j : j + 2]) == ("from", "now"):
        j += 2
    elif _at(tokens, j) == "later":
        j += 1
    return pieces, j


def _take_clock_span(tokens: Sequence[str], i: int) -> tuple[_Clock, int] | None:
    """The longest run of tokens at ``i`` that is a time of day."""
    for end in range(min(len(tokens), i + 8), i, -1):
        clock = _take_time_of_day(tokens[i:end])
        if clock is not None:
            return clock, end
    return None


def _read_instant(tokens: Sequence[str], today: date) -> _Said | None:
    """The parts an instant expression names, in any order; None on a word that fits none."""
    said = _Said()
    i = 0
    while i < len(tokens):
        word = tokens[i]
        day = _take_day(tokens, i, today)
        if day is not None:
            if said.day is not None:
                # "Friday December 4th": the calendar date is the more precise of the two.
                if said.day.kind == "weekday" and day[0].kind == "date":
                    said.day = None
                elif not (said.day.kind == "date" and day[0].kind == "weekday"):
                    return None
            said.day = said.day or day[0]
            i = day[1]
            continue
        period: Period | None = None
        if word == "tonight":
            period, i = "night", i + 1
        elif word == "this" and _at(tokens, i + 1) in _PERIODS:
            period, i = _PERIODS[tokens[i + 1]], i + 2
        elif word in _PERIODS:
            period, i = _PERIODS[word], i + 1
        if period is not None:
            if said.period is not None:
                return None
            said.period = period
            if word in ("tonight", "this"):
                if said.day is not None:
                    return None
                said.day = _Day("date", today)
            continue
        relative = _take_relative(tokens, i)
        if relative is not None:
            if said.relative is not None:
                return None
            said.relative, i = relative
            continue
        clock = _take_clock_span(tokens, i)
        if clock is not None:
            if said.clock is not None:
                return None
            said.clock, i = clock
            continue
        # "in" must lead to a wait or to "the morning": "in 5" is not a time.
        if word == "in" and _at(tokens, i + 1) != "the" and _take_relative(tokens, i + 1) is None:
            return None
        if word not in _FILLERS:
            return None
        i += 1
    return said


def _local(day: date, hour: int, minute: int, now: datetime, second: int = 0, micro: int = 0) -> datetime:
    """A wall-clock time on ``day`` in now's zone; a time skipped by DST moves forward past the gap."""
    wall = datetime(day.year, day.month, day.day, hour, minute, second, micro, tzinfo=now.tzinfo)
    return wall.astimezone(UTC).astimezone(now.tzinfo)


def _candidates(clock: _Clock) -> list[tuple[int, int]]:
    """The hours an ambiguous clock may mean, or the one it does."""
    if clock.ambiguous:
        return [(clock.hour % 12, clock.minute), (clock.hour % 12 + 12, clock.minute)]
    return [(clock.hour, clock.minute)]


def _daytime_hour(hour: int) -> int:
    """A 12-hour reading placed in waking hours (7:00-18:59), for days other than today."""
    return hour if 7 <= hour <= 12 else hour % 12 + 12


def _on_day(now: datetime, day: date, clock: _Clock) -> datetime:
    """The clock on a given day; an ambiguous one today is the next of its two readings."""
    if clock.ambiguous:
        if day == now.date():
            for hour, minute in _candidates(clock):
                moment = _local(day, hour, minute, now)
                if moment > now:
                    return moment
        hour = _daytime_hour(clock.hour)
    else:
        hour = clock.hour
    if clock.night and hour < _NIGHT_ENDS:
        day += timedelta(days=1)
    return _local(day, hour, clock.minute, now)


def _next_occurrence(now: datetime, clock: _Clock) -> datetime:
    """The first moment after now that the clock shows (either reading if ambiguous)."""
    today = now.date()
    moments = [
        _local(today + timedelta(days=ahead), hour, minute, now)
        for ahead in range(3)
        for hour, minute in _candidates(clock)
    ]
    return min(moment for moment in moments if moment > now)


def _resolve(said: _Said, now: datetime) -> datetime | None:
    """Put what was said on the calendar, relative to now."""
    today = now.date()
    day = said.day
    if said.relative is not None:
        seconds = sum(piece.seconds for piece in said.relative)
        whole_days = int(seconds // _DAY) if any(p.largest >= _DAY for p in said.relative) else 0
        rest = seconds - whole_days * _DAY
        if day is not None or (rest and (said.clock or said.period)):
            return None
        target = today + timedelta(days=whole_days)
        if said.clock is None and said.period is None:
            # Days move the calendar (same wall-clock time); hours and less are real elapsed time.
            base = now
            if whole_days:
                base = _local(target, now.hour, now.minute, now, now.second, now.microsecond)
            return (base.astimezone(UTC) + timedelta(seconds=rest)).astimezone(now.tzinfo)
        day = _Day("date", target)
    clock = said.clock
    if clock is None:
        if said.period is not None:
            hour, minute = _PERIOD_DEFAULTS[said.period]
        elif day is not None:
            hour, minute = _WEEKEND_DEFAULT if day.kind == "weekend" else _DATE_DEFAULT
        else:
            return None
        clock = _Clock(hour, minute, False, said.period == "night")
    elif said.period is not None:
        clock = _with_period(clock, said.period)
    if day is None:
        return _next_occurrence(now, clock)
    if day.kind == "date":
        assert day.day is not None
        return _on_day(now, day.day, clock)
    if day.kind == "weekend":
        weekday = today.weekday()
        ahead = 0 if weekday >= 5 else 5 - weekday
        if day.mode == "next":
            ahead += 7 if weekday != 6 else 6
        return _on_day(now, today + timedelta(days=ahead), clock)
    ahead = (day.weekday - today.weekday()) % 7
    if ahead == 0 and day.mode == "next":
        ahead = 7
    elif ahead == 0 and day.mode == "bare":
        # Today's weekday means today only when a time still ahead of us was said.
        if said.clock is not None or said.period is not None:
            moment = _on_day(now, today, clock)
            if moment > now:
                return moment
        ahead = 7
    return _on_day(now, today + timedelta(days=ahead), clock)


def parse_instant(text: str, now: datetime) -> datetime | None:
    """The moment a spoken time expression names ("tomorrow at 5 30 p.m.", "in 20 minutes"), or None.

    The result is aware and in now's timezone. A bare 12-hour time is its next occurrence; a
    time on a named day without am/pm is read in waking hours (7:00-18:59), except today,
    where it is the next of its two readings. An explicit day in the past is returned as is.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    said = _read_instant(_tokens(text), now.date())
    return None if said is None else _resolve(said, now)


# --- repeats -------------------------------------------------------------------------------------

_ALL_WEEKDAYS = (0, 1, 2, 3, 4)
_WEEKEND = (5, 6)
_PERIOD_PLURALS: dict[str, Period] = {f"{word}s": period for word, period in _PERIODS.items()}
_RANGE_WORDS = ("to", "through", "thru", "till", "until")


def _take_day_item(tokens: Sequence[str], i: int) -> tuple[tuple[int, ...], int, bool, bool] | None:
    """A weekday, "weekday" or "weekend" at ``i``: (weekdays, index after, is a name, is plural)."""
    word = _at(tokens, i)
    if word == "work" and _at(tokens, i + 1) in ("day", "days"):
        word, i = f"work{tokens[i + 1]}", i + 1
    readings = [(word, False)]
    if word.endswith("s"):
        readings.append((word[:-1], True))
    for stem, plural in readings:
        if stem in _WEEKDAYS:
            return (_WEEKDAYS[stem],), i + 1, True, plural
        if stem in ("weekday", "workday"):
            return _ALL_WEEKDAYS, i + 1, False, plural
        if stem == "weekend":
            return _WEEKEND, i + 1, False, plural
    return None


def _take_day_set(tokens: Sequence[str], i: int) -> tuple[set[int], int, bool] | None:
    """Weekdays such as "monday and wednesday", "mondays, fridays", "monday to friday" at ``i``.

    Returns (weekdays, index after them, whether every item was plural or a range): without
    "every", a lone "monday" is one day, not a repeat.
    """
    days: set[int] = set()
    recurring_all = True
    j = i
    while True:
        item = _take_day_item(tokens, j)
        if item is None:
            return None
        found, j, named, recurring = item
        if named and _at(tokens, j) in _RANGE_WORDS:
            end = _take_day_item(tokens, j + 1)
            if end is None or not end[2]:
                return None
            span = (end[0][0] - found[0]) % 7
            found = tuple((found[0] + step) % 7 for step in range(span + 1))
            j, recurring = end[1], True
        days.update(found)
        recurring_all = recurring_all and recurring
        # The commas of "monday, wednesday and friday" are gone by now, so "and" is optional.
        following = j + 1 if _at(tokens, j) == "and" else j
        if _take_day_item(tokens, following) is None:
            return days, j, recurring_all
        j = following


def _repeat_of(days: set[int] | tuple[int, ...]) -> Repeat:
    """A weekly repeat on ``days``, or daily when that is every day."""
    ordered = tuple(sorted(set(days)))
    return Repeat("daily", ()) if len(ordered) == 7 else Repeat("weekly", ordered)


def _take_repeat(tokens: Sequence[str]) -> tuple[Repeat, Period | None] | None:
    """All of ``tokens`` as a repeat phrase: (repeat, the part of the day it named, if any)."""
    words = list(tokens)
    if not words:
        return None
    if words in (["daily"], ["everyday"], ["once", "a", "day"], ["once", "per", "day"]):
        return Repeat("daily", ()), None
    if words == ["nightly"]:
        return Repeat("daily", ()), "night"
    every = words[0] in ("every", "each")
    if every and words[1:] in (["day"], ["single", "day"], ["day", "of", "the", "week"]):
        return Repeat("daily", ()), None
    if every and len(words) == 2 and words[1] in _PERIODS:
        return Repeat("daily", ()), _PERIODS[words[1]]
    weekly = next(
        (
            len(form)
            for form in (["weekly"], ["every", "week"], ["each", "week"], ["once", "a", "week"])
            if words[: len(form)] == form
        ),
        0,
    )
    if weekly:
        if weekly == len(words):
            return Repeat("weekly", ()), None
        start = weekly + 1 if words[weekly] == "on" else weekly
        days = _take_day_set(words, start)
        if days is None or days[1] != len(words):
            return None
        return _repeat_of(days[0]), None
    start = 1 if every or words[0] in ("on", "from") else 0
    days = _take_day_set(words, start)
    if days is None:
        return None
    found, j, recurring = days
    period: Period | None = None
    if _at(words, j) in _PERIODS and every:
        period, j = _PERIODS[words[j]], j + 1
    elif _at(words, j) in _PERIOD_PLURALS:
        # "on weekday mornings": the plural period makes a singular day recur.
        period, j, recurring = _PERIOD_PLURALS[words[j]], j + 1, True
    if j != len(words) or not (every or recurring):
        return None
    return _repeat_of(found), period


def parse_repeat(text: str) -> Repeat | None:
    """How often a spoken repeat recurs ("every day", "on weekdays", "mondays and fridays"), or None."""
    taken = _take_repeat(_tokens(text))
    return None if taken is None else taken[0]


def split_repeat(text: str) -> tuple[str, Repeat | None]:
    """A time expression without its leading or trailing repeat phrase, and that repeat.

    The remaining text comes back normalized ("7am" becomes "7 am"), and a part of the day the
    repeat named stays with it: "every morning at 7" gives ("at 7 in the morning", daily).
    """
    tokens = _tokens(text)
    found: tuple[Repeat, Period | None] | None = None
    rest: list[str] = tokens
    for start in range(len(tokens)):
        found = _take_repeat(tokens[start:])
        if found is not None:
            rest = tokens[:start]
            break
    else:
        for end in range(len(tokens) - 1, 0, -1):
            found = _take_repeat(tokens[:end])
            if found is not None:
                rest = tokens[end:]
                break
    if found is None:
        return " ".join(tokens), None
    while rest and rest[-1] == "and":
        rest = rest[:-1]
    while rest and rest[0] == "and":
        rest = rest[1:]
    repeat, period = found
    if period == "night":
        rest = [*rest, "at", "night"]
    elif period is not None:
        rest = [*rest, "in", "the", period]
    return " ".join(rest), repeat


# --- volume --------------------------------------------------------------------------------------

_VOLUME_WORDS: dict[str, int] = {
    "max": 100,
    "maximum": 100,
    "full": 100,
    "loudest": 100,
    "min": 0,
    "minimum": 0,
    "mute": 0,
    "muted": 0,
    "silent": 0,
    "off": 0,
    "half": 50,
    "a half": 50,
    "halfway": 50,
    "half way": 50,
    "quarter": 25,
    "a quarter": 25,
    "three quarters": 75,
}


def parse_volume(text: str) -> int | None:
    """A spoken volume as 0..100 ("50 percent", "five", "5 out of 10", "max"), or None.

    A bare number up to 10 is on a 0-10 scale; above 10 it is a percentage.
    """
    words = _tokens(text)
    while words and words[0] in ("to", "at", "the", "volume", "level"):
        words = words[1:]
    if words and words[-1] == "volume":
        words = words[:-1]
    if " ".join(words) in _VOLUME_WORDS:
        return _VOLUME_WORDS[" ".join(words)]
    percent = False
    if words[-1:] == ["percent"]:
        percent, words = True, words[:-1]
    elif words[-2:] == ["per", "cent"]:
        percent, words = True, words[:-2]
    if "out" in words and not percent:
        split = words.index("out")
        if words[split + 1 : split + 2] != ["of"]:
            return None
        share, whole = parse_number(" ".join(words[:split])), parse_number(" ".join(words[split + 2 :]))
        if share is None or whole is None or whole <= 0 or share > whole:
            return None
        return _round(share / whole * 100)
    value = parse_number(" ".join(words))
    if value is None or value > 100:
        return None
    return _round(value if percent or value > 10 else value * 10)
