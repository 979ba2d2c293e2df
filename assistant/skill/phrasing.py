"""Helpers skills share for saying times, days and lists, and for placing wall-clock times.

Replies are heard, not read, so times and days are said the way people say them ("7 AM",
"tomorrow", "on weekdays"). Times a user gives are wall-clock times: "every day at 7" must stay
7:00 across a daylight-saving change, which ``wall_zone`` and ``wall_time`` take care of.
"""

from __future__ import annotations

import datetime as dt
import zoneinfo
from collections.abc import Sequence

__all__ = [
    "next_wall_time",
    "spoken_clock",
    "spoken_day",
    "spoken_list",
    "spoken_weekdays",
    "wall_time",
    "wall_zone",
]

_WEEKDAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_WORKWEEK = [0, 1, 2, 3, 4]
_WEEKEND = [5, 6]


# --- wall-clock times ----------------------------------------------------------------------------


def wall_zone(now: dt.datetime) -> dt.tzinfo | None:
    """The zone to place wall-clock times in, from ``ctx.now()``; None means the system's own.

    ``now`` may carry a fixed UTC offset (``astimezone()``), which would move a daily 7:00 to
    6:00 or 8:00 after a DST change; when that offset is the system's, None selects the
    system's rules instead. Pass the result to the other helpers here as ``zone``.
    """
    if isinstance(now.tzinfo, zoneinfo.ZoneInfo):
        return now.tzinfo
    if now.utcoffset() == now.astimezone().utcoffset():
        return None
    return now.tzinfo


def wall_time(day: dt.date, hour: int, minute: int, zone: dt.tzinfo | None) -> dt.datetime:
    """``hour:minute`` on ``day`` in ``zone``; a time skipped by a DST change moves past the gap."""
    naive = dt.datetime(day.year, day.month, day.day, hour, minute)
    if zone is None:
        return naive.astimezone()
    # The round trip through UTC normalizes a time in a DST gap (2:30 on a spring-forward
    # night) to the real instant after it, with the offset that holds then.
    return naive.replace(tzinfo=zone).astimezone(dt.UTC).astimezone(zone)


def next_wall_time(
    hour: int, minute: int, weekdays: Sequence[int], after: dt.datetime, zone: dt.tzinfo | None
) -> dt.datetime:
    """The first ``hour:minute`` strictly after ``after`` on one of ``weekdays`` (0 = Monday; () = any)."""
    start = after.astimezone(zone).date()
    # Eight days ahead covers "today, but the time has passed" plus a full week.
    for ahead in range(9):
        day = start + dt.timedelta(days=ahead)
        if weekdays and day.weekday() not in weekdays:
            continue
        moment = wall_time(day, hour, minute, zone)
        if moment > after:
            return moment
    raise ValueError(f"no weekday in {list(weekdays)}")


# --- saying things -------------------------------------------------------------------------------


def spoken_clock(hour: int, minute: int) -> str:
    """A time of day as said: "7 AM", "6:30 PM", "noon", "midnight"."""
    if (hour, minute) == (12, 0):
        return "noon"
    if (hour, minute) == (0, 0):
        return "midnight"
    suffix = "AM" if hour < 12 else "PM"
    shown = hour % 12 or 12
    return f"{shown} {suffix}" if minute == 0 else f"{shown}:{minute:02d} {suffix}"


def spoken_day(moment: dt.datetime, now: dt.datetime, zone: dt.tzinfo | None) -> str:
    """The day of ``moment`` as said from ``now``: "today", "tomorrow", "on Friday", "on Friday, May 3"."""
    day, today = moment.astimezone(zone).date(), now.astimezone(zone).date()
    ahead = (day - today).days
    if ahead == 0:
        return "today"
    if ahead == 1:
        return "tomorrow"
    name = _WEEKDAY_NAMES[day.weekday()]
    if 1 < ahead < 7:
        return f"on {name}"
    return f"on {name}, {day.strftime('%B')} {day.day}"


def spoken_weekdays(weekdays: Sequence[int]) -> str:
    """Repeating days as said: "every day", "on weekdays", "every Monday and Friday" (0 = Monday)."""
    days = sorted(set(weekdays))
    if not days or len(days) == 7:
        return "every day"
    if days == _WORKWEEK:
        return "on weekdays"
    if days == _WEEKEND:
        return "on weekends"
    names = [_WEEKDAY_NAMES[d] for d in days]
    if len(names) == 1:
        return f"every {names[0]}"
    return f"every {', '.join(names[:-1])} and {names[-1]}"


def spoken_list(items: Sequence[str]) -> str:
    """Items joined for speech, with a comma before "and" (they are often long): "a, b, and c"."""
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])}, and {items[-1]}"
