"""The weather skill: current conditions and forecasts from Open-Meteo (no API key needed).

Configuration (``skills.weather`` in the config file)::

    latitude: 52.52        # home location; without it only named places can be asked about
    longitude: 13.41
    place: Berlin          # the home's name as spoken; alone (no coordinates) it is looked up
    units: metric          # or imperial
    cache_minutes: 10      # how long an answer from the service is reused; 0 asks every time
    timeout_s: 2.5         # the longest a whole lookup may take; keep it under budgets.skill_timeout_ms
    forecast_url: ...      # Open-Meteo's by default
    geocoding_url: ...
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import aiohttp

from assistant.skill import Reply, Skill, SkillContext, Slot
from hearkend_skills.weather.openmeteo import (
    FORECAST_URL,
    GEOCODING_URL,
    UNREACHABLE,
    DayForecast,
    Forecast,
    OpenMeteoClient,
    Place,
    Units,
    WeatherError,
    describe_code,
    pick_days,
    spoken_current,
    spoken_days,
)

__all__ = ["NO_HOME", "skill", "spoken_forecast", "spoken_precipitation", "spoken_tonight"]

skill = Skill("weather", "Current weather and forecasts, here or in a named place, from Open-Meteo.")

NO_HOME = (
    "I don't know where home is. Set skills.weather.latitude and skills.weather.longitude "
    "in the config file, or ask about a named place."
)

# One request covers every question: next week's Sunday is at most 13 days ahead, and a single
# cached forecast per place then answers "tomorrow", "the weekend" and "next week" alike.
_FORECAST_DAYS = 14
# A rain chance worth a "yes", and one worth a "maybe" (percent).
_LIKELY = 50.0
_POSSIBLE = 20.0
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Words that name the home location rather than a place to look up.
_HOME_WORDS = frozenset({"here", "home", "outside", "my area", "my town", "my city"})

_WHEN_VALUES = (
    "today",
    "this morning",
    "this afternoon",
    "tonight",
    "this evening",
    "tomorrow",
    "the weekend",
    "this weekend",
    *_WEEKDAYS,
    "this week",
    "the week",
    "the coming week",
    "the week ahead",
    "next week",
)
_WHEN = Slot(
    "choice",
    "the day or days asked about; today when left out",
    required=False,
    values=_WHEN_VALUES,
)
_MONTHS_AND_SEASONS = (
    "january|february|march|april|may|june|july|august|september|october|november|december"
    "|spring|summer|autumn|fall|winter"
)
# A place is a name: not "the stock market" or "a picnic" (but "the city of york"), and not
# "lisbon in april" (what it is like in a month is a question about climate, for the language model).
_A_NAME = rf"^(?!(?:a|an|the) (?!(?:city|town) of ))(?!(?:.* )?(?:{_MONTHS_AND_SEASONS})$)"
_PLACE = Slot(
    "text", "a city or town, as spoken; the configured home when left out", required=False, pattern=_A_NAME
)
_KIND = Slot(
    "choice", "the precipitation asked about; rain when left out", required=False, values=("rain", "snow")
)

# No value ends with another value ("weekend" beside "this weekend"): after a place, which is any
# words, "new york this weekend" would then read two ways that the matcher cannot tell apart.
_WHATS = "(what's|what is|whats)"
_HOWS = "(how's|how is|hows)"
_IN = "(in|at) {place}"
_ON = "[(on|for|over|during)] {when}"
# A day, a place, both in either order, or neither.
_WHERE_WHEN = f"[({_IN} [{_ON}]|{_ON} [{_IN}])]"
_WHEN_WHERE = f"({_ON} [{_IN}]|{_IN} {_ON})"
_NOW = "[(now|right now|at the moment|currently|outside|out there)]"
_PLEASE = "[please]"
_LATER = "[(later|later on|later today)]"
"""Later today: the day left out means today."""
_STATES = "(sunny|cloudy|cold|hot|warm|windy|nice|rainy|snowy|stormy|chilly|freezing|foggy|wet|dry)"


# --- configuration ---------------------------------------------------------------------------


class _ConfigProblem(Exception):
    """The skill's config section is unusable; ``spoken`` tells the user what to fix."""

    def __init__(self, spoken: str) -> None:
        super().__init__(spoken)
        self.spoken = spoken


@dataclass(frozen=True)
class _Settings:
    home: Place | None
    """The home location with coordinates, or None when only a name (or nothing) is configured."""
    home_name: str
    """The configured ``place``; empty when none."""
    units: Units
    forecast_url: str
    geocoding_url: str
    timeout_s: float
    cache_s: float


def _number(config: Mapping[str, Any], key: str, default: float | None) -> float | None:
    value = config.get(key, default)
    if value is None:
        return None
    # YAML gives bools for "yes"/"no"; a bool is never a meant number here.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _ConfigProblem(f"The weather setting skills.weather.{key} must be a number.")
    return float(value)


def _url(config: Mapping[str, Any], key: str, default: str) -> str:
    value = config.get(key, default)
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise _ConfigProblem(f"The weather setting skills.weather.{key} must be an http or https URL.")
    return value


def _settings(config: Mapping[str, Any]) -> _Settings:
    """The validated settings; _ConfigProblem naming the bad setting otherwise."""
    latitude = _number(config, "latitude", None)
    longitude = _number(config, "longitude", None)
    if (latitude is None) != (longitude is None):
        raise _ConfigProblem("Set both skills.weather.latitude and skills.weather.longitude in the config.")
    name = config.get("place") or ""
    if not isinstance(name, str):
        raise _ConfigProblem("The weather setting skills.weather.place must be a name.")
    home = None
    if latitude is not None and longitude is not None:
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            raise _ConfigProblem(
                "The weather location in skills.weather is not a valid latitude and longitude."
            )
        home = Place(name.strip() or "your area", "", "", latitude, longitude, "")
    try:
        units = Units.from_system(str(config.get("units", "metric")))
    except ValueError:
        raise _ConfigProblem("The weather setting skills.weather.units must be metric or imperial.") from None
    cache_minutes = _number(config, "cache_minutes", 10.0)
    timeout_s = _number(config, "timeout_s", 2.5)
    assert cache_minutes is not None and timeout_s is not None
    if cache_minutes < 0 or timeout_s <= 0:
        raise _ConfigProblem("The weather settings cache_minutes and timeout_s must be positive.")
    return _Settings(
        home=home,
        home_name=name.strip(),
        units=units,
        forecast_url=_url(config, "forecast_url", FORECAST_URL),
        geocoding_url=_url(config, "geocoding_url", GEOCODING_URL),
        timeout_s=timeout_s,
        cache_s=cache_minutes * 60,
    )


# --- clients ---------------------------------------------------------------------------------

_ClientKey = tuple[str, str, float, float]
# The client's cache must outlive a turn, so clients are kept here; an aiohttp session belongs to
# one event loop, so they are kept per session, and closed sessions (loops gone) are dropped.
_MAX_SESSIONS = 8
_clients: dict[aiohttp.ClientSession, dict[_ClientKey, OpenMeteoClient]] = {}


def _client(http: aiohttp.ClientSession, settings: _Settings) -> OpenMeteoClient:
    """The long-lived client for this HTTP session and these settings."""
    for gone in [s for s in _clients if s.closed]:
        del _clients[gone]
    # A session left behind unclosed with its loop never reads as closed; bound them anyway.
    while len(_clients) >= _MAX_SESSIONS and http not in _clients:
        del _clients[next(iter(_clients))]
    key = (settings.forecast_url, settings.geocoding_url, settings.timeout_s, settings.cache_s)
    per_session = _clients.setdefault(http, {})
    client = per_session.get(key)
    if client is None:
        client = OpenMeteoClient(
            http,
            forecast_url=settings.forecast_url,
            geocoding_url=settings.geocoding_url,
            timeout_s=settings.timeout_s,
            cache_ttl_s=settings.cache_s,
        )
        per_session[key] = client
    return client


# --- answering -------------------------------------------------------------------------------


class _NoHome(Exception):
    """No place was named and no home location is configured."""


def _spoken_place(text: str) -> str:
    """A spoken place name tidied for the geocoder and for repeating back ("new york" → "New York")."""
    words = " ".join(text.split()).strip(" .,!?")
    for prefix in ("the city of ", "the town of "):
        if words.lower().startswith(prefix):
            words = words[len(prefix) :]
    # Speech recognition lower-cases names; the geocoder does not care, the reply does.
    return words.title() if words.islower() else words


async def _place(client: OpenMeteoClient, settings: _Settings, named: str | None) -> Place:
    """The place a question is about: a named one, else home."""
    if named is not None:
        name = _spoken_place(named)
        folded = name.casefold()
        if folded not in _HOME_WORDS and folded != settings.home_name.casefold():
            return await client.geocode(name)
    if settings.home is not None:
        return settings.home
    if settings.home_name:
        return await client.geocode(settings.home_name)
    raise _NoHome


async def _answer(ctx: SkillContext, slots: Mapping[str, Any], speak: Callable[[Forecast], str]) -> Reply:
    """Look up the forecast the slots ask about and say it; any failure becomes a spoken apology."""
    try:
        settings = _settings(ctx.config)
    except _ConfigProblem as exc:
        ctx.log.error("bad configuration: %s", exc.spoken)
        return Reply(exc.spoken)
    named = slots.get("place")
    if named is None and settings.home is None and not settings.home_name:
        return Reply(NO_HOME)
    client = _client(ctx.http, settings)
    try:
        # One deadline for the whole lookup (geocoding and forecast together), so a slow service
        # costs at most timeout_s and the apology is spoken within the skill budget.
        async with asyncio.timeout(settings.timeout_s):
            place = await _place(client, settings, None if named is None else str(named))
            forecast = await client.forecast(place, settings.units, days=_FORECAST_DAYS)
    except _NoHome:
        return Reply(NO_HOME)
    except TimeoutError:
        ctx.log.warning("weather lookup took longer than %g s", settings.timeout_s)
        return Reply(UNREACHABLE)
    except WeatherError as exc:
        ctx.log.warning("weather lookup failed (%s): %s", exc.code, exc)
        return Reply(exc.spoken)
    return Reply(speak(forecast))


@dataclass(frozen=True)
class _Period:
    label: str
    """How the days are named in a sentence: "tomorrow", "on Friday", "this weekend"."""
    days: list[DayForecast]
    night: bool = False


def _period(forecast: Forecast, when: str | None) -> _Period:
    """The forecast days a ``when`` value means, with the words to name them."""
    # "Today" is the place's today, which the forecast states, not the machine's.
    today = forecast.current.time.date()
    word = (when or "today").lower()
    if word in ("today", "this morning", "this afternoon"):
        return _Period("today", pick_days(forecast, "today", today))
    if word in ("tonight", "this evening"):
        return _Period("tonight", pick_days(forecast, "today", today), night=True)
    if word == "tomorrow":
        return _Period("tomorrow", pick_days(forecast, "tomorrow", today))
    if word in ("the weekend", "this weekend"):
        return _Period("this weekend", pick_days(forecast, "weekend", today))
    if word in _WEEKDAYS:
        label = "today" if _WEEKDAYS.index(word) == today.weekday() else f"on {word.capitalize()}"
        return _Period(label, pick_days(forecast, word, today))
    if word == "next week":
        monday = today + timedelta(days=7 - today.weekday())
        return _Period(word, _on_dates(forecast, [monday + timedelta(days=n) for n in range(7)]))
    # "this week" and its like: the seven days starting today.
    return _Period("this week", pick_days(forecast, "week", today))


def _on_dates(forecast: Forecast, dates: Sequence[date]) -> list[DayForecast]:
    by_date = {day.date: day for day in forecast.days}
    return [by_date[d] for d in dates if d in by_date]


def _degrees(value: float) -> str:
    # Rounded half up, and said "minus 3", the way the forecast sentences say them.
    whole = math.floor(value + 0.5)
    return f"minus {-whole}" if whole < 0 else str(whole)


def _percent(value: float) -> int:
    return math.floor(value + 0.5)


def _weekday(day: date) -> str:
    return _WEEKDAYS[day.weekday()].capitalize()


def _kind_of(day: DayForecast) -> str:
    """ "snow" for a snowy day's weather code, else "rain"."""
    return "snow" if "snow" in describe_code(day.weather_code) else "rain"


def _wet_code(day: DayForecast) -> bool:
    phrase = describe_code(day.weather_code)
    return any(word in phrase for word in ("drizzle", "rain", "snow", "showers", "thunder"))


def _likely(day: DayForecast) -> bool:
    if day.precipitation_probability_max is None:
        # Without a probability, a rainy or snowy weather code is the forecast's best word.
        return _wet_code(day)
    return day.precipitation_probability_max >= _LIKELY


def _chance(day: DayForecast) -> str | None:
    probability = day.precipitation_probability_max
    return None if probability is None else f"{_percent(probability)} percent chance"


def _summary(day: DayForecast) -> str:
    return (
        f"{describe_code(day.weather_code)}, high of {_degrees(day.temperature_max)}, "
        f"low of {_degrees(day.temperature_min)}"
    )


def _with_chance(day: DayForecast) -> str:
    chance = _chance(day)
    return _summary(day) if chance is None else f"{chance}, {_summary(day)}"


def spoken_tonight(name: str, day: DayForecast) -> str:
    """Tonight as a sentence: "Tonight in Berlin: overcast, low of 1, 30 percent chance of rain."."""
    sentence = f"Tonight in {name}: {describe_code(day.weather_code)}, low of {_degrees(day.temperature_min)}"
    probability = day.precipitation_probability_max
    if probability is not None and probability >= _POSSIBLE:
        sentence += f", {_percent(probability)} percent chance of {_kind_of(day)}"
    return sentence + "."


def spoken_forecast(forecast: Forecast, when: str | None) -> str:
    """The forecast for ``when`` (a ``when`` slot value; today when None) as a reply."""
    period = _period(forecast, when)
    name = forecast.place.name
    if period.night and period.days:
        return spoken_tonight(name, period.days[0])
    return spoken_days(name, period.days, forecast.units, period.label)


def spoken_precipitation(forecast: Forecast, when: str | None, kind: str) -> str:
    """A yes/no-first answer to "will it rain/snow ``when``" ("Yes, rain is likely tomorrow in ...")."""
    period = _period(forecast, when)
    name = forecast.place.name
    where = f"{period.label} in {name}"
    if not period.days:
        return f"Sorry, I don't have a forecast that far ahead for {name}."
    if len(period.days) == 1:
        return _one_day_precipitation(period.days[0], kind, where)
    likely = [d for d in period.days if _likely(d)]
    asked = [d for d in likely if _kind_of(d) == kind]
    if asked:
        return f"Yes, {kind} is likely {where}: {_days_with_chance(asked)}."
    if likely:
        other = _kind_of(likely[0])
        return f"No, but {other} is likely {where}: {_days_with_chance(likely)}."
    chances = [
        d.precipitation_probability_max
        for d in period.days
        if d.precipitation_probability_max is not None and _kind_of(d) == kind
    ]
    if chances and max(chances) >= _POSSIBLE:
        return f"Probably not: at most a {_percent(max(chances))} percent chance of {kind} {where}."
    return f"No, {kind} isn't expected {where}."


def _one_day_precipitation(day: DayForecast, kind: str, where: str) -> str:
    same = _kind_of(day) == kind
    if _likely(day):
        if same:
            return f"Yes, {kind} is likely {where}: {_with_chance(day)}."
        return f"No, but {_kind_of(day)} is likely {where}: {_with_chance(day)}."
    probability = day.precipitation_probability_max
    if same and probability is not None and probability >= _POSSIBLE:
        return f"Maybe, there's a {_percent(probability)} percent chance of {kind} {where}: {_summary(day)}."
    # The chance is of rain or snow together; quoted for a question about the other it would mislead.
    return f"No, {kind} isn't expected {where}: {_with_chance(day) if same else _summary(day)}."


def _days_with_chance(days: Sequence[DayForecast]) -> str:
    parts = []
    for day in days:
        chance = _chance(day)
        parts.append(_weekday(day.date) if chance is None else f"{_weekday(day.date)}, {chance}")
    return "; ".join(parts)


def _day_not_place(slots: dict[str, Any]) -> dict[str, Any]:
    """Slots with a day heard as the place ("forecast for this week") moved to ``when``."""
    # "for {place}" and "for {when}" can read the same words; the templates prefer the day, but a
    # language model filling the slots may not.
    place = slots.get("place")
    if slots.get("when") is None and isinstance(place, str) and place.strip().lower() in _WHEN_VALUES:
        return {**{k: v for k, v in slots.items() if k != "place"}, "when": place.strip().lower()}
    return slots


# --- intents ---------------------------------------------------------------------------------


@skill.intent(
    "current",
    description="Say the weather right now, at home or in a named place.",
    time_sensitive=True,
    slots={"place": _PLACE},
    sentences=[
        f"[(hey|ok|okay)] {_WHATS} the weather [(like|looking|looking like)] {_NOW} [{_IN}] {_NOW} [like] "
        f"{_PLEASE}",
        f"{_HOWS} the weather [(looking|doing)] {_NOW} [{_IN}] {_NOW}",
        f"(tell|give) me the [current] weather [{_IN}] {_PLEASE}",
        f"[the] [current] weather [{_IN}] {_NOW} {_PLEASE}",
        f"{_WHATS} it like (outside|out there|outdoors) [{_IN}]",
        "(what's|what is|whats|how's|how is|hows) it (outside|out there|outdoors)",
        f"is it (cold|hot|warm|chilly|freezing|sunny|windy|raining|snowing|nice) {_NOW} [{_IN}]",
        f"{_WHATS} the [current] temperature {_NOW} [{_IN}] {_NOW}",
        f"how (hot|cold|warm|chilly) is it {_NOW} [{_IN}] {_NOW}",
        f"(tell|give) me the [current] temperature [{_IN}] {_PLEASE}",
    ],
)
async def current(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with the current conditions."""
    return await _answer(ctx, slots, spoken_current)


@skill.intent(
    "forecast",
    description="Say the forecast for a day or days (tomorrow, the weekend, a weekday, this week).",
    time_sensitive=True,
    slots={"when": _WHEN, "place": _PLACE},
    sentences=[
        f"{_WHATS} the weather [(like|going to be like|gonna be like)] {_WHEN_WHERE} [like] {_PLEASE}",
        f"what will the weather be [like] {_WHEN_WHERE}",
        f"{_HOWS} the weather [(going to be|gonna be|looking)] {_WHEN_WHERE}",
        f"[(tell|give) me] the weather {_WHEN_WHERE} {_PLEASE}",
        f"weather {_WHEN_WHERE} {_PLEASE}",
        f"{_WHATS} the [weather] forecast {_WHERE_WHEN} {_PLEASE}",
        f"[(tell|give) me] the [weather] forecast {_WHERE_WHEN} {_PLEASE}",
        f"[the] [weather] forecast {_WHERE_WHEN} {_PLEASE}",
        # After the sentences above, so "the forecast for this week" reads "this week" as the day.
        f"[{_WHATS}] [(tell|give) me] the [weather] forecast for {{place}} [{_ON}] {_PLEASE}",
        f"[weather] forecast for {{place}} [{_ON}] {_PLEASE}",
        f"{_WHATS} the temperature [(going to be|gonna be)] {_WHEN_WHERE}",
        f"how (hot|cold|warm) (will it be|is it going to be|is it gonna be) {_WHEN_WHERE}",
        f"(will it be|is it going to be|is it gonna be) {_STATES} {_WHERE_WHEN} {_LATER}",
    ],
)
async def forecast(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer with the forecast for the day or days asked about."""
    slots = _day_not_place(slots)
    when = slots.get("when")
    return await _answer(ctx, slots, lambda f: spoken_forecast(f, when))


@skill.intent(
    "precipitation",
    description="Answer yes or no whether rain or snow (or an umbrella) is expected on a day or days.",
    time_sensitive=True,
    slots={"kind": _KIND, "when": _WHEN, "place": _PLACE},
    sentences=[
        f"(will|is) it (going to|gonna) {{kind}} {_WHERE_WHEN} {_LATER}",
        f"will it {{kind}} {_WHERE_WHEN} {_LATER}",
        f"(will|is) there (be|going to be|gonna be) [any] {{kind}} {_WHERE_WHEN} {_LATER}",
        f"[(is there|will there be)] any {{kind}} {_WHERE_WHEN} {_LATER}",
        f"(should|do) (i|we) expect [any] {{kind}} {_WHERE_WHEN}",
        f"is [there] [any] {{kind}} (expected|forecast|in the forecast) {_WHERE_WHEN}",
        f"(do|will|would) (i|we) need (an|my|our|a) umbrella {_WHERE_WHEN}",
        f"should (i|we) (take|bring) (an|my|our|a) umbrella {_WHERE_WHEN}",
        f"is it (an|a) umbrella day {_WHERE_WHEN}",
    ],
)
async def precipitation(ctx: SkillContext, slots: dict[str, Any]) -> Reply:
    """Answer whether rain or snow is likely, yes or no first."""
    slots = _day_not_place(slots)
    when = slots.get("when")
    kind = str(slots.get("kind") or "rain")
    return await _answer(ctx, slots, lambda f: spoken_precipitation(f, when, kind))
