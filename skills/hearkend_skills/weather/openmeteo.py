"""Open-Meteo client: geocoding and forecasts, parsed into typed values and spoken phrases.

Everything that can go wrong on the wire ends as a ``WeatherError`` carrying a sentence fit to
speak, so the skill can answer with an apology instead of failing the turn.
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal, get_args

import aiohttp

__all__ = [
    "Current",
    "DayForecast",
    "Forecast",
    "OpenMeteoClient",
    "Place",
    "Units",
    "WeatherError",
    "describe_code",
    "pick_days",
    "spoken_current",
    "spoken_day",
    "spoken_days",
]

TemperatureUnit = Literal["celsius", "fahrenheit"]
WindSpeedUnit = Literal["kmh", "mph", "ms", "kn"]
PrecipitationUnit = Literal["mm", "inch"]

FORECAST_URL = "https://api.open-meteo.com/v1/forecast"
GEOCODING_URL = "https://geocoding-api.open-meteo.com/v1/search"

UNREACHABLE = "Sorry, I couldn't reach the weather service."
UNREADABLE = "Sorry, the weather service sent something I couldn't read."
NO_PLACE = "Sorry, I didn't catch which place."

_CURRENT_VARS = (
    "temperature_2m",
    "relative_humidity_2m",
    "apparent_temperature",
    "is_day",
    "weather_code",
    "wind_speed_10m",
)
_DAILY_VARS = (
    "weather_code",
    "temperature_2m_max",
    "temperature_2m_min",
    "precipitation_probability_max",
    "precipitation_sum",
    "wind_speed_10m_max",
)
# Open-Meteo serves at most 16 forecast days.
_MAX_DAYS = 16
# Both caches are bounded so a long-running daemon asked about many places cannot grow without limit.
_MAX_CACHED = 128


class WeatherError(Exception):
    """A failed weather lookup; ``spoken`` is a short apology, ``str()`` the detail for the log."""

    def __init__(self, message: str, *, spoken: str, code: str) -> None:
        super().__init__(message)
        self.spoken = spoken
        """A short sentence to say to the user."""
        self.code = code
        """Stable kind of failure: "unreachable", "unreadable" or "unknown_place"."""


def _unreadable(message: str) -> WeatherError:
    return WeatherError(message, spoken=UNREADABLE, code="unreadable")


@dataclass(frozen=True)
class Place:
    """A geocoded place."""

    name: str
    """The place's name as the geocoder spells it ("Paris")."""
    country: str
    """Country name; empty when the geocoder gives none."""
    admin1: str
    """First-level region (state, province); empty when the geocoder gives none."""
    latitude: float
    longitude: float
    timezone: str
    """IANA zone ("Europe/Paris"); empty when unknown, in which case forecasts use "auto"."""


@dataclass(frozen=True)
class Units:
    """Units to ask Open-Meteo for; the values it returns are already in these units."""

    temperature: TemperatureUnit = "celsius"
    wind_speed: WindSpeedUnit = "kmh"
    precipitation: PrecipitationUnit = "mm"

    def __post_init__(self) -> None:
        # Units often come from user config, where the Literal types are not enforced.
        for value, allowed in (
            (self.temperature, get_args(TemperatureUnit)),
            (self.wind_speed, get_args(WindSpeedUnit)),
            (self.precipitation, get_args(PrecipitationUnit)),
        ):
            if value not in allowed:
                raise ValueError(f"unit {value!r} is not one of {', '.join(allowed)}")

    @classmethod
    def from_system(cls, system: str) -> Units:
        """Units for a measurement system: "metric" or "imperial"."""
        if system == "metric":
            return cls("celsius", "kmh", "mm")
        if system == "imperial":
            return cls("fahrenheit", "mph", "inch")
        raise ValueError(f"unit system {system!r} is not 'metric' or 'imperial'")


@dataclass(frozen=True)
class Current:
    """Conditions now, in the forecast's units."""

    temperature: float
    apparent_temperature: float
    humidity: float
    """Relative humidity in percent."""
    wind_speed: float
    weather_code: int
    """WMO weather interpretation code; see ``describe_code``."""
    is_day: bool
    time: datetime
    """Local time at the place (naive), start of the current 15-minute interval."""


@dataclass(frozen=True)
class DayForecast:
    """One day of the daily forecast, in the forecast's units."""

    date: date
    weather_code: int
    temperature_max: float
    temperature_min: float
    precipitation_probability_max: float | None
    """Percent; None where Open-Meteo's models have no probability for that day."""
    precipitation_sum: float
    wind_speed_max: float


@dataclass(frozen=True)
class Forecast:
    """Current conditions and daily forecasts for one place."""

    place: Place
    units: Units
    current: Current
    days: tuple[DayForecast, ...]
    """Consecutive days, the first being today at the place."""


class OpenMeteoClient:
    """Asks Open-Meteo for places and forecasts, caching answers for a while."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        *,
        forecast_url: str = FORECAST_URL,
        geocoding_url: str = GEOCODING_URL,
        timeout_s: float = 3.0,
        cache_ttl_s: float = 600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._session = session
        self._forecast_url = forecast_url
        self._geocoding_url = geocoding_url
        self._timeout_s = timeout_s
        self._ttl_s = cache_ttl_s
        self._clock = clock
        self._places: dict[str, tuple[float, Place]] = {}
        self._forecasts: dict[tuple[float, float, Units], tuple[float, int, Forecast]] = {}

    async def geocode(self, name: str) -> Place:
        """The best match for a place name; WeatherError when nothing matches or the lookup fails."""
        query = " ".join(name.split())
        if not query:
            raise WeatherError("empty place name", spoken=NO_PLACE, code="unknown_place")
        key = query.casefold()
        hit = self._places.get(key)
        if hit is not None and self._fresh(hit[0]):
            return hit[1]
        data = await self._get_json(
            self._geocoding_url,
            {"name": query, "count": "1", "language": "en", "format": "json"},
        )
        place = _parse_place(data, query)
        _remember(self._places, key, (self._clock(), place))
        return place

    async def forecast(self, place: Place, units: Units, days: int = 7) -> Forecast:
        """Current conditions and ``days`` daily forecasts (1 to 16) for a place."""
        if not 1 <= days <= _MAX_DAYS:
            raise ValueError(f"days must be between 1 and {_MAX_DAYS}, not {days}")
        key = (place.latitude, place.longitude, units)
        hit = self._forecasts.get(key)
        if hit is not None and self._fresh(hit[0]) and hit[1] >= days:
            cached = hit[2]
            # A longer cached forecast answers a shorter question; keep the caller's place as given.
            return Forecast(place, units, cached.current, cached.days[:days])
        data = await self._get_json(
            self._forecast_url,
            {
                "latitude": repr(place.latitude),
                "longitude": repr(place.longitude),
                "current": ",".join(_CURRENT_VARS),
                "daily": ",".join(_DAILY_VARS),
                "timezone": place.timezone or "auto",
                "forecast_days": str(days),
                "temperature_unit": units.temperature,
                "wind_speed_unit": units.wind_speed,
                "precipitation_unit": units.precipitation,
            },
        )
        forecast = _parse_forecast(data, place, units)
        _remember(self._forecasts, key, (self._clock(), days, forecast))
        return forecast

    def _fresh(self, stored_at: float) -> bool:
        return self._clock() - stored_at < self._ttl_s

    async def _get_json(self, url: str, params: Mapping[str, str]) -> Any:
        """GET a JSON document, turning every transport and HTTP failure into WeatherError."""
        try:
            # ClientTimeout bounds aiohttp's own phases; asyncio.timeout also bounds anything around
            # them (DNS, a stalled connector pool), so the caller never waits past timeout_s.
            async with asyncio.timeout(self._timeout_s):
                async with self._session.get(
                    url, params=params, timeout=aiohttp.ClientTimeout(total=self._timeout_s)
                ) as response:
                    status = response.status
                    body = await response.read()
        except TimeoutError as exc:
            raise WeatherError(
                f"GET {url}: no answer within {self._timeout_s:g} s", spoken=UNREACHABLE, code="unreachable"
            ) from exc
        except aiohttp.ClientError as exc:
            raise WeatherError(f"GET {url}: {exc!r}", spoken=UNREACHABLE, code="unreachable") from exc
        try:
            data: Any = json.loads(body)
        except ValueError:
            data = None
        reason = _error_reason(data)
        if status >= 400:
            detail = reason or body[:200].decode("utf-8", "replace")
            message = f"GET {url}: HTTP {status}: {detail}"
            # Server trouble and rate limits are "couldn't reach"; any other 4xx means the service
            # did not understand us, which to the user is the same as an answer we cannot read.
            if status >= 500 or status == 429:
                raise WeatherError(message, spoken=UNREACHABLE, code="unreachable")
            raise _unreadable(message)
        if data is None:
            raise _unreadable(f"GET {url}: invalid JSON: {body[:200]!r}")
        if reason is not None:
            raise _unreadable(f"GET {url}: error: {reason}")
        return data


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    cache.pop(key, None)
    cache[key] = value
    while len(cache) > _MAX_CACHED:
        # dicts keep insertion order, so the first key is the least recently stored.
        del cache[next(iter(cache))]


def _error_reason(data: Any) -> str | None:
    """Open-Meteo's ``{"error": true, "reason": ...}`` reason, or None when it is no error body."""
    if isinstance(data, dict) and data.get("error") is True:
        return str(data.get("reason", "no reason given"))
    return None


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _unreadable(f"{where}: expected an object, got {type(value).__name__}")
    return value


def _get(obj: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in obj:
        raise _unreadable(f"{where}: missing {key!r}")
    return obj[key]


def _number(value: Any, where: str) -> float:
    # bool is an int subclass; True as a temperature is a malformed answer, not 1 degree.
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _unreadable(f"{where}: expected a number, got {value!r}")
    return float(value)


def _integer(value: Any, where: str) -> int:
    number = _number(value, where)
    if not number.is_integer():
        raise _unreadable(f"{where}: expected a whole number, got {value!r}")
    return int(number)


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise _unreadable(f"{where}: expected a string, got {value!r}")
    return value


def _optional_text(obj: Mapping[str, Any], key: str, where: str) -> str:
    value = obj.get(key)
    return "" if value is None else _text(value, f"{where}.{key}")


def _parse_place(data: Any, query: str) -> Place:
    root = _object(data, "geocoding")
    results = root.get("results")
    # Open-Meteo leaves "results" out entirely when nothing matches.
    if results is None or results == []:
        raise WeatherError(
            f"geocoding: no place matches {query!r}",
            spoken=f"Sorry, I don't know a place called {query}.",
            code="unknown_place",
        )
    if not isinstance(results, list):
        raise _unreadable(f"geocoding.results: expected a list, got {type(results).__name__}")
    first = _object(results[0], "geocoding.results[0]")
    where = "geocoding.results[0]"
    latitude = _number(_get(first, "latitude", where), f"{where}.latitude")
    longitude = _number(_get(first, "longitude", where), f"{where}.longitude")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise _unreadable(f"{where}: coordinates out of range: {latitude}, {longitude}")
    return Place(
        name=_text(_get(first, "name", where), f"{where}.name"),
        country=_optional_text(first, "country", where),
        admin1=_optional_text(first, "admin1", where),
        latitude=latitude,
        longitude=longitude,
        timezone=_optional_text(first, "timezone", where),
    )


def _parse_forecast(data: Any, place: Place, units: Units) -> Forecast:
    root = _object(data, "forecast")
    cur = _object(_get(root, "current", "forecast"), "forecast.current")

    def current_number(key: str) -> float:
        return _number(_get(cur, key, "forecast.current"), f"forecast.current.{key}")

    stamp = _text(_get(cur, "time", "forecast.current"), "forecast.current.time")
    try:
        now = datetime.fromisoformat(stamp)
    except ValueError:
        raise _unreadable(f"forecast.current.time: not an ISO time: {stamp!r}") from None
    current = Current(
        temperature=current_number("temperature_2m"),
        apparent_temperature=current_number("apparent_temperature"),
        humidity=current_number("relative_humidity_2m"),
        wind_speed=current_number("wind_speed_10m"),
        weather_code=_integer(_get(cur, "weather_code", "forecast.current"), "forecast.current.weather_code"),
        is_day=current_number("is_day") != 0,
        time=now,
    )

    daily = _object(_get(root, "daily", "forecast"), "forecast.daily")
    columns: dict[str, list[Any]] = {}
    for key in ("time", *_DAILY_VARS):
        column = _get(daily, key, "forecast.daily")
        if not isinstance(column, list):
            raise _unreadable(f"forecast.daily.{key}: expected a list, got {type(column).__name__}")
        columns[key] = column
    lengths = {key: len(column) for key, column in columns.items()}
    if len(set(lengths.values())) != 1:
        raise _unreadable(f"forecast.daily: arrays of unequal length: {lengths}")
    if lengths["time"] == 0:
        raise _unreadable("forecast.daily: no days")

    days = []
    for i, raw_date in enumerate(columns["time"]):
        where = f"forecast.daily[{i}]"
        try:
            day = date.fromisoformat(_text(raw_date, f"{where}.time"))
        except ValueError:
            raise _unreadable(f"{where}.time: not an ISO date: {raw_date!r}") from None
        probability = columns["precipitation_probability_max"][i]
        days.append(
            DayForecast(
                date=day,
                weather_code=_integer(columns["weather_code"][i], f"{where}.weather_code"),
                temperature_max=_number(columns["temperature_2m_max"][i], f"{where}.temperature_2m_max"),
                temperature_min=_number(columns["temperature_2m_min"][i], f"{where}.temperature_2m_min"),
                precipitation_probability_max=(
                    None
                    if probability is None
                    else _number(probability, f"{where}.precipitation_probability_max")
                ),
                precipitation_sum=_number(columns["precipitation_sum"][i], f"{where}.precipitation_sum"),
                wind_speed_max=_number(columns["wind_speed_10m_max"][i], f"{where}.wind_speed_10m_max"),
            )
        )
    return Forecast(place=place, units=units, current=current, days=tuple(days))


# WMO weather interpretation codes, as Open-Meteo documents them, in words that fit
# "it's 4 degrees and ___" as well as "Tomorrow: ___, high of 7".
_CODES: dict[int, str] = {
    0: "clear skies",
    1: "mostly clear",
    2: "partly cloudy",
    3: "overcast",
    45: "fog",
    48: "freezing fog",
    51: "light drizzle",
    53: "drizzle",
    55: "heavy drizzle",
    56: "light freezing drizzle",
    57: "heavy freezing drizzle",
    61: "light rain",
    63: "rain",
    65: "heavy rain",
    66: "light freezing rain",
    67: "heavy freezing rain",
    71: "light snow",
    73: "snow",
    75: "heavy snow",
    77: "snow grains",
    80: "light rain showers",
    81: "rain showers",
    82: "heavy rain showers",
    85: "light snow showers",
    86: "heavy snow showers",
    95: "thunderstorms",
    96: "thunderstorms with hail",
    99: "thunderstorms with heavy hail",
}
_SNOW_CODES = frozenset({71, 73, 75, 77, 85, 86})
_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
# Thresholds for what is worth saying aloud.
_MENTION_PROBABILITY = 20.0
_LIKELY_PROBABILITY = 50.0
_WINDY_KMH = 40.0
_KMH_PER = {"kmh": 1.0, "mph": 1.609344, "ms": 3.6, "kn": 1.852}
_WIND_WORDS = {
    "kmh": "kilometers per hour",
    "mph": "miles per hour",
    "ms": "meters per second",
    "kn": "knots",
}
_MM_PER = {"mm": 1.0, "inch": 25.4}


def describe_code(code: int) -> str:
    """A short spoken phrase for a WMO weather code ("light rain"); "unsettled weather" if unknown."""
    return _CODES.get(code, "unsettled weather")


def pick_days(forecast: Forecast, when: str, today: date) -> list[DayForecast]:
    """The forecast days meant by ``when`` ("now", "today", "tomorrow", "weekend", a weekday, "week").

    "weekend" is the coming Saturday and Sunday, or what is left of it when today is one of them;
    a weekday name is its next occurrence, today included. Days beyond the forecast are left out.
    """
    word = when.strip().lower()
    if word in ("now", "today"):
        wanted = [today]
    elif word == "tomorrow":
        wanted = [today + timedelta(days=1)]
    elif word == "weekend":
        # On a Sunday only today is left of the weekend; on a Saturday (5 - 5) % 7 is today itself.
        saturday = today + timedelta(days=(5 - today.weekday()) % 7)
        wanted = [today] if today.weekday() == 6 else [saturday, saturday + timedelta(days=1)]
    elif word in _WEEKDAYS:
        wanted = [today + timedelta(days=(_WEEKDAYS.index(word) - today.weekday()) % 7)]
    elif word == "week":
        wanted = [today + timedelta(days=n) for n in range(7)]
    else:
        raise ValueError(f"unknown day {when!r}")
    by_date = {day.date: day for day in forecast.days}
    return [by_date[d] for d in wanted if d in by_date]


def _degrees(value: float) -> str:
    # Half-up rounding (not banker's), and never "minus 0" for -0.4.
    whole = math.floor(value + 0.5)
    return f"minus {-whole}" if whole < 0 else str(whole)


def _percent(value: float) -> int:
    return math.floor(value + 0.5)


def _capitalized(label: str) -> str:
    return label[:1].upper() + label[1:]


def spoken_current(forecast: Forecast) -> str:
    """Current conditions as a sentence: "In Berlin it's 4 degrees and overcast, feels like 1."."""
    now = forecast.current
    temperature = _degrees(now.temperature)
    feels = _degrees(now.apparent_temperature)
    unit = "degree" if temperature == "1" else "degrees"
    sentence = f"In {forecast.place.name} it's {temperature} {unit} and {describe_code(now.weather_code)}"
    if feels != temperature:
        sentence += f", feels like {feels}"
    return sentence + "."


def _day_details(day: DayForecast, units: Units) -> str:
    """ "light rain, high of 7, low of 2, 80 percent chance of rain" and a wind warning if strong."""
    parts = [
        describe_code(day.weather_code),
        f"high of {_degrees(day.temperature_max)}",
        f"low of {_degrees(day.temperature_min)}",
    ]
    kind = "snow" if day.weather_code in _SNOW_CODES else "rain"
    probability = day.precipitation_probability_max
    if probability is not None:
        if probability >= _MENTION_PROBABILITY:
            parts.append(f"{_percent(probability)} percent chance of {kind}")
    elif day.precipitation_sum * _MM_PER[units.precipitation] >= 1.0:
        # Without a probability, the expected amount is the next best thing to say.
        amount = day.precipitation_sum
        said = f"{amount:.1f}" if units.precipitation == "inch" else str(math.floor(amount + 0.5))
        unit = "inches" if units.precipitation == "inch" else "millimeters"
        parts.append(f"about {said} {unit} of {kind}")
    if day.wind_speed_max * _KMH_PER[units.wind_speed] >= _WINDY_KMH:
        parts.append(f"winds up to {math.floor(day.wind_speed_max + 0.5)} {_WIND_WORDS[units.wind_speed]}")
    return ", ".join(parts)


def spoken_day(place_name: str, day: DayForecast, units: Units, label: str) -> str:
    """One day as a sentence: "Tomorrow in Berlin: light rain, high of 7, low of 2, ..."."""
    return f"{_capitalized(label)} in {place_name}: {_day_details(day, units)}."


def _weekday(day: date) -> str:
    # A fixed English list, since strftime("%A") follows the process locale.
    return _WEEKDAYS[day.weekday()].capitalize()


def _spoken_list(items: Sequence[str]) -> str:
    if len(items) <= 1:
        return "".join(items)
    return f"{', '.join(items[:-1])} and {items[-1]}"


def _span(values: Sequence[float]) -> str:
    low, high = _degrees(min(values)), _degrees(max(values))
    return f"around {low}" if low == high else f"from {low} to {high}"


def _is_wet(day: DayForecast) -> bool:
    if day.precipitation_probability_max is not None:
        return day.precipitation_probability_max >= _LIKELY_PROBABILITY
    return day.weather_code >= 51 and day.weather_code in _CODES


def spoken_days(place_name: str, days: Sequence[DayForecast], units: Units, label: str) -> str:
    """Several days as one reply: day by day for up to three (a weekend), else a summary (a week)."""
    if not days:
        return f"Sorry, I don't have a forecast that far ahead for {place_name}."
    if len(days) == 1:
        return spoken_day(place_name, days[0], units, label)
    head = f"{_capitalized(label)} in {place_name}: "
    if len(days) <= 3:
        return head + "; ".join(f"{_weekday(d.date)}, {_day_details(d, units)}" for d in days) + "."
    counts = Counter(describe_code(d.weather_code) for d in days)
    # most_common keeps first-seen order among ties, so the earliest day breaks a tie.
    phrase, count = counts.most_common(1)[0]
    overall = f"mostly {phrase}" if count * 2 >= len(days) else "changeable weather"
    parts = [
        overall,
        f"highs {_span([d.temperature_max for d in days])}",
        f"lows {_span([d.temperature_min for d in days])}",
    ]
    wet = [d for d in days if _is_wet(d)]
    if wet:
        snowy = {d.weather_code in _SNOW_CODES for d in wet}
        kind = "rain or snow" if len(snowy) == 2 else ("snow" if True in snowy else "rain")
        parts.append(f"{kind} likely on {_spoken_list([_weekday(d.date) for d in wet])}")
    else:
        parts.append("staying dry")
    return head + ", ".join(parts) + "."
