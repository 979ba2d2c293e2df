"""The clock skill: the time (here or in another city or time zone), the date, the weekday."""

from __future__ import annotations

import functools
import re
import zoneinfo
from typing import Any

from assistant.skill import Reply, Skill, SkillContext, Slot

skill = Skill("clock", "Tells the time here or elsewhere, the date and the day of the week.")

_ASK = "[(can|could|would) you] [please] (tell|give) me"
_TODAYS = "(today's|todays)"
"""Recognizers drop the apostrophe now and then."""
# A place is a name: "the movie inception" or "a dream" is not one, while "the uk" and "the city of
# london" are.
_THE_PLACES = "uk|us|usa|united states|united kingdom|netherlands|philippines|bahamas|gambia|hague"
_A_NAME = rf"^(?!(?:a|an|the) (?!(?:city|town) of |(?:{_THE_PLACES})$))"
_PLACE = Slot("text", "a city, country or time zone, as spoken", pattern=_A_NAME)

# Places people name that are not the city in a time zone's name.
_ALIASES = {
    "new york city": "America/New_York",
    "nyc": "America/New_York",
    "washington": "America/New_York",
    "boston": "America/New_York",
    "miami": "America/New_York",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "california": "America/Los_Angeles",
    "texas": "America/Chicago",
    "houston": "America/Chicago",
    "dallas": "America/Chicago",
    "beijing": "Asia/Shanghai",
    "china": "Asia/Shanghai",
    "japan": "Asia/Tokyo",
    "india": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "mumbai": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "germany": "Europe/Berlin",
    "france": "Europe/Paris",
    "spain": "Europe/Madrid",
    "italy": "Europe/Rome",
    "england": "Europe/London",
    "uk": "Europe/London",
    "the uk": "Europe/London",
    "britain": "Europe/London",
    "ireland": "Europe/Dublin",
    "russia": "Europe/Moscow",
    "hawaii": "Pacific/Honolulu",
    "korea": "Asia/Seoul",
    "south korea": "Asia/Seoul",
    "utc": "UTC",
    "gmt": "Etc/GMT",
}


def spoken_time(hour: int, minute: int) -> str:
    """Say a clock time the way people do: '3:05 PM', 'noon', 'midnight'."""
    if minute == 0 and hour == 12:
        return "noon"
    if minute == 0 and hour == 0:
        return "midnight"
    suffix = "AM" if hour < 12 else "PM"
    return f"{hour % 12 or 12}:{minute:02d} {suffix}"


@functools.cache
def _zone_index() -> dict[str, str]:
    index: dict[str, str] = {}
    for name in zoneinfo.available_timezones():
        if "/" not in name or name.startswith(("Etc/", "SystemV/", "posix/", "right/")):
            continue
        city = name.rsplit("/", 1)[1].replace("_", " ").lower()
        index.setdefault(city, name)
    index.update(_ALIASES)
    return index


def find_zone(place: str) -> zoneinfo.ZoneInfo | None:
    """The time zone of a spoken place ("tokyo", "new york", "Europe/Paris"), or None."""
    cleaned = re.sub(r"[^\w\s/]", "", place).strip().lower()
    cleaned = re.sub(r"^(the city of|downtown)\s+", "", cleaned)
    name = _zone_index().get(cleaned)
    if name is None and "/" in place:
        name = place.strip()
    if name is None:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


@skill.intent(
    "time",
    description="Say the current time here.",
    time_sensitive=True,
    sentences=[
        "[so] [(hey|ok|okay)] what (time is it|time's it) [(now|right now|currently)] [please]",
        "[so] (what's|what is|whats) the [current] time [(now|right now)] [please]",
        f"{_ASK} (the [current] time|what time it is) [(now|right now)] [please]",
        "(do|would) you [happen to] (know|have [got]) (the time|what time it is) [please]",
        "[the] [current] time [please]",
        "what is it o'clock",
        "[have you] got the time",
        "time check",
    ],
)
async def tell_time(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with the current local time."""
    now = ctx.now()
    return Reply(f"It's {spoken_time(now.hour, now.minute)}.")


@skill.intent(
    "time_in",
    description="Say the current time in another city, country or time zone.",
    time_sensitive=True,
    slots={"place": _PLACE},
    sentences=[
        "[(hey|ok|okay)] what (time is it|time's it) [(now|right now)] [(over|out|there)] in {place}",
        "(what's|what is|whats) the [current] time [(now|right now)] [(over|out)] in {place}",
        f"{_ASK} (the [current] time|what time it is) [(over|out)] in {{place}}",
        "(do|would) you know (the time|what time it is) [(over|out)] in {place}",
        "[the] [current] time [(over|out)] in {place}",
        "what time (is it|it is) [(over|out)] in {place} [(now|right now)]",
    ],
)
async def tell_time_in(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with the time in the named place."""
    place = str(slots["place"])
    zone = find_zone(place)
    if zone is None:
        return Reply(f"Sorry, I don't know the time zone of {place}.")
    there = ctx.now().astimezone(zone)
    return Reply(f"In {place.title()} it's {spoken_time(there.hour, there.minute)}.")


@skill.intent(
    "date",
    description="Say today's date.",
    time_sensitive=True,
    sentences=[
        f"(what's|what is|whats) [the] [{_TODAYS}] date [today] [please]",
        f"(what's|what is|whats) {_TODAYS} date [please]",
        "what date is (it|today) [today]",
        f"{_ASK} [the] [{_TODAYS}] date [please]",
        f"[{_TODAYS}] date [please]",
        "what's the date today",
        "what day of the month is it [today]",
    ],
)
async def tell_date(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with today's date."""
    now = ctx.now()
    return Reply(f"Today is {now.strftime('%A')}, {now.strftime('%B')} {now.day}, {now.year}.")


@skill.intent(
    "day",
    description="Say which day of the week it is.",
    time_sensitive=True,
    sentences=[
        "what day is (it|today) [today]",
        "(what|which) day of the week is (it|today) [today]",
        "(what's|what is|whats) (today|the day [today])",
        "which day is (it|today) [today]",
        f"{_ASK} what day it is [today]",
    ],
)
async def tell_day(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with the day of the week."""
    return Reply(f"It's {ctx.now().strftime('%A')}.")
