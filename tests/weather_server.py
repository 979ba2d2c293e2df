"""A real local HTTP server that speaks Open-Meteo's forecast and geocoding formats, for tests.

Data is deterministic: a few known places with fixed coordinates, and weather derived from the
queried coordinates (Berlin's first two days are pinned so spoken sentences can be asserted
exactly). Setting ``mode`` switches the server into one failure at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
from collections import Counter
from datetime import date, timedelta
from types import TracebackType
from typing import Any, Literal

from aiohttp import web

Mode = Literal[
    "ok",
    "slow",
    "http500",
    "http400-error-json",
    "garbled",
    "wrong-shape",
    "unequal-arrays",
    "null-values",
    "wrong-types",
]
MODES: tuple[Mode, ...] = (
    "ok",
    "slow",
    "http500",
    "http400-error-json",
    "garbled",
    "wrong-shape",
    "unequal-arrays",
    "null-values",
    "wrong-types",
)

FORECAST_PATH = "/v1/forecast"
SEARCH_PATH = "/v1/search"

# The server's "today" at every place: a Wednesday.
TODAY = date(2026, 11, 25)

# Real GeoNames ids and coordinates, in the order Open-Meteo ranks them.
PLACES: dict[str, list[dict[str, Any]]] = {
    "berlin": [
        {
            "id": 2950159,
            "name": "Berlin",
            "latitude": 52.52437,
            "longitude": 13.41053,
            "elevation": 74.0,
            "feature_code": "PPLC",
            "country_code": "DE",
            "admin1_id": 2950157,
            "timezone": "Europe/Berlin",
            "population": 3426354,
            "country_id": 2921044,
            "country": "Germany",
            "admin1": "Land Berlin",
        }
    ],
    "paris": [
        {
            "id": 2988507,
            "name": "Paris",
            "latitude": 48.85341,
            "longitude": 2.3488,
            "elevation": 43.0,
            "feature_code": "PPLC",
            "country_code": "FR",
            "admin1_id": 3012874,
            "timezone": "Europe/Paris",
            "population": 2138551,
            "country_id": 3017382,
            "country": "France",
            "admin1": "Île-de-France",
        }
    ],
    "london": [
        {
            "id": 2643743,
            "name": "London",
            "latitude": 51.50853,
            "longitude": -0.12574,
            "elevation": 25.0,
            "feature_code": "PPLC",
            "country_code": "GB",
            "admin1_id": 6269131,
            "timezone": "Europe/London",
            "population": 8961989,
            "country_id": 2635167,
            "country": "United Kingdom",
            "admin1": "England",
        }
    ],
    "springfield": [
        {
            "id": 4409896,
            "name": "Springfield",
            "latitude": 37.21533,
            "longitude": -93.29824,
            "elevation": 396.0,
            "feature_code": "PPLA2",
            "country_code": "US",
            "admin1_id": 4398678,
            "timezone": "America/Chicago",
            "population": 169176,
            "country_id": 6252001,
            "country": "United States",
            "admin1": "Missouri",
        },
        {
            "id": 4951788,
            "name": "Springfield",
            "latitude": 42.10148,
            "longitude": -72.58981,
            "elevation": 21.0,
            "feature_code": "PPLA2",
            "country_code": "US",
            "admin1_id": 6254926,
            "timezone": "America/New_York",
            "population": 155929,
            "country_id": 6252001,
            "country": "United States",
            "admin1": "Massachusetts",
        },
        {
            "id": 4250542,
            "name": "Springfield",
            "latitude": 39.80172,
            "longitude": -89.64371,
            "elevation": 182.0,
            "feature_code": "PPLA",
            "country_code": "US",
            "admin1_id": 4896861,
            "timezone": "America/Chicago",
            "population": 116565,
            "country_id": 6252001,
            "country": "United States",
            "admin1": "Illinois",
        },
    ],
}

# Offsets on TODAY, so utc_offset_seconds matches what the real API would send that day.
_ZONES = {
    "Europe/Berlin": ("CET", 3600),
    "Europe/Paris": ("CET", 3600),
    "Europe/London": ("GMT", 0),
    "America/Chicago": ("CST", -21600),
    "America/New_York": ("EST", -18000),
}

CURRENT_VARS = frozenset(
    {
        "temperature_2m",
        "relative_humidity_2m",
        "apparent_temperature",
        "is_day",
        "weather_code",
        "wind_speed_10m",
        "precipitation",
        "cloud_cover",
    }
)
DAILY_VARS = frozenset(
    {
        "weather_code",
        "temperature_2m_max",
        "temperature_2m_min",
        "precipitation_probability_max",
        "precipitation_sum",
        "wind_speed_10m_max",
        "sunrise",
        "sunset",
    }
)
_TEMPERATURE_UNITS = {"celsius": "°C", "fahrenheit": "°F"}
# Open-Meteo really does label miles per hour "mp/h".
_WIND_UNITS = {"kmh": ("km/h", 1.0), "mph": ("mp/h", 1.609344), "ms": ("m/s", 3.6), "kn": ("kn", 1.852)}
_PRECIPITATION_UNITS = {"mm": ("mm", 1.0), "inch": ("inch", 25.4)}
_CODE_CYCLE = (0, 1, 2, 3, 45, 61, 63, 80, 71, 95)


class BadQuery(Exception):
    """A query the real API would refuse with HTTP 400."""


def metric_weather(latitude: float, longitude: float, days: int) -> dict[str, Any]:
    """The weather at a point in °C, km/h and mm, as {"current": {...}, "daily": {...}}."""
    rng = random.Random(f"{latitude:.4f},{longitude:.4f}")
    base = round(25.0 - abs(latitude) * 0.4 + rng.uniform(-3.0, 3.0), 1)
    current: dict[str, Any] = {
        "temperature_2m": base,
        "relative_humidity_2m": rng.randint(40, 95),
        "apparent_temperature": round(base - rng.uniform(0.0, 4.0), 1),
        "is_day": 1,
        "weather_code": rng.choice(_CODE_CYCLE),
        "wind_speed_10m": round(rng.uniform(2.0, 30.0), 1),
    }
    daily: dict[str, list[Any]] = {name: [] for name in ("time", *sorted(DAILY_VARS - {"sunrise", "sunset"}))}
    for n in range(days):
        high = round(base + rng.uniform(0.0, 5.0), 1)
        daily["time"].append((TODAY + timedelta(days=n)).isoformat())
        daily["weather_code"].append(rng.choice(_CODE_CYCLE))
        daily["temperature_2m_max"].append(high)
        daily["temperature_2m_min"].append(round(high - rng.uniform(3.0, 9.0), 1))
        daily["precipitation_probability_max"].append(rng.choice((0, 5, 15, 30, 55, 80, 100)))
        daily["precipitation_sum"].append(round(rng.uniform(0.0, 8.0), 1))
        daily["wind_speed_10m_max"].append(round(rng.uniform(5.0, 45.0), 1))
    if (round(latitude, 4), round(longitude, 4)) == (52.5244, 13.4105):
        _pin_berlin(current, daily)
    return {"current": current, "daily": daily}


def _pin_berlin(current: dict[str, Any], daily: dict[str, list[Any]]) -> None:
    """Berlin's now, today and tomorrow are fixed so tests can assert whole sentences."""
    current.update(
        temperature_2m=4.2,
        relative_humidity_2m=81,
        apparent_temperature=1.0,
        is_day=1,
        weather_code=3,
        wind_speed_10m=12.3,
    )
    pinned = [
        # code, max, min, probability, sum, wind
        (3, 6.1, 1.4, 10, 0.0, 18.0),
        (61, 7.2, 2.4, 80, 4.1, 22.5),
        (0, 5.0, -1.0, 0, 0.0, 9.8),
        (71, 1.6, -3.6, 60, 2.0, 14.0),
        (0, 3.5, -2.5, 0, 0.0, 50.0),
    ]
    keys = (
        "weather_code",
        "temperature_2m_max",
        "temperature_2m_min",
        "precipitation_probability_max",
        "precipitation_sum",
        "wind_speed_10m_max",
    )
    for n, row in enumerate(pinned[: len(daily["time"])]):
        for key, value in zip(keys, row, strict=True):
            daily[key][n] = value


def _float_param(query: dict[str, str], key: str, low: float, high: float) -> float:
    raw = query.get(key)
    if raw is None:
        raise BadQuery(f"Parameter '{key}' is required")
    try:
        value = float(raw)
    except ValueError:
        raise BadQuery(f"Value of type 'Float' required for key '{key}'") from None
    if not low <= value <= high:
        raise BadQuery(f"{key.capitalize()} must be in range of {low:g} to {high:g}°. Given: {value}.")
    return value


def _choice(query: dict[str, str], key: str, allowed: dict[str, Any], default: str) -> str:
    value = query.get(key, default)
    if value not in allowed:
        raise BadQuery(f"Cannot initialize {key} from invalid String value {value} for key {key}")
    return value


def _variables(query: dict[str, str], key: str, allowed: frozenset[str]) -> list[str]:
    names = [name for name in query.get(key, "").split(",") if name]
    for name in names:
        if name not in allowed:
            raise BadQuery(
                f"Cannot initialize WeatherVariable from invalid String value {name} for key {key}"
            )
    return names


def _convert(value: Any, factor: float, digits: int) -> Any:
    return value if value is None else round(value / factor, digits)


def _fahrenheit(value: Any) -> Any:
    return value if value is None else round(value * 9 / 5 + 32, 1)


def forecast_body(query: dict[str, str]) -> dict[str, Any]:
    """The JSON body Open-Meteo would send for a forecast query; BadQuery where it would send 400."""
    latitude = _float_param(query, "latitude", -90.0, 90.0)
    longitude = _float_param(query, "longitude", -180.0, 180.0)
    temperature_unit = _choice(query, "temperature_unit", _TEMPERATURE_UNITS, "celsius")
    wind_unit = _choice(query, "wind_speed_unit", _WIND_UNITS, "kmh")
    precipitation_unit = _choice(query, "precipitation_unit", _PRECIPITATION_UNITS, "mm")
    current_vars = _variables(query, "current", CURRENT_VARS)
    daily_vars = _variables(query, "daily", DAILY_VARS)
    try:
        days = int(query.get("forecast_days", "7"))
    except ValueError:
        raise BadQuery("Value of type 'Int' required for key 'forecast_days'") from None
    if not 0 <= days <= 16:
        raise BadQuery("Forecast days is invalid. Allowed range 0 to 16.")
    zone = query.get("timezone", "GMT")
    if zone == "auto":
        zone = next(
            (
                p["timezone"]
                for matches in PLACES.values()
                for p in matches
                if (round(p["latitude"], 2), round(p["longitude"], 2))
                == (round(latitude, 2), round(longitude, 2))
            ),
            "GMT",
        )
    abbreviation, offset = _ZONES.get(zone, ("GMT", 0))

    data = metric_weather(latitude, longitude, days)
    wind_label, wind_factor = _WIND_UNITS[wind_unit]
    precipitation_label, precipitation_factor = _PRECIPITATION_UNITS[precipitation_unit]
    temperature_label = _TEMPERATURE_UNITS[temperature_unit]

    def convert(name: str, value: Any) -> Any:
        if name.startswith(("temperature", "apparent")):
            return _fahrenheit(value) if temperature_unit == "fahrenheit" else value
        if name.startswith("wind_speed"):
            return _convert(value, wind_factor, 1)
        if name.startswith("precipitation_sum"):
            return _convert(value, precipitation_factor, 3 if precipitation_unit == "inch" else 1)
        return value

    def label(name: str) -> str:
        if name.startswith(("temperature", "apparent")):
            return temperature_label
        if name.startswith("wind_speed"):
            return wind_label
        if name == "precipitation_sum":
            return precipitation_label
        if name in ("relative_humidity_2m", "precipitation_probability_max"):
            return "%"
        if name == "weather_code":
            return "wmo code"
        return ""

    body: dict[str, Any] = {
        # The real API snaps to its grid; two decimals is close enough for a fake.
        "latitude": round(latitude, 2),
        "longitude": round(longitude, 2),
        "generationtime_ms": 0.0629425048828125,
        "utc_offset_seconds": offset,
        "timezone": zone,
        "timezone_abbreviation": abbreviation,
        "elevation": 38.0,
    }
    if current_vars:
        body["current_units"] = {"time": "iso8601", "interval": "seconds"} | {
            name: label(name) for name in current_vars
        }
        body["current"] = {"time": f"{TODAY.isoformat()}T10:00", "interval": 900} | {
            name: convert(name, data["current"].get(name, 0)) for name in current_vars
        }
    if daily_vars:
        body["daily_units"] = {"time": "iso8601"} | {name: label(name) for name in daily_vars}
        body["daily"] = {"time": data["daily"]["time"]} | {
            name: [convert(name, v) for v in data["daily"].get(name, [None] * days)] for name in daily_vars
        }
    return body


def search_body(query: dict[str, str]) -> dict[str, Any]:
    """The JSON body Open-Meteo's geocoder would send; no "results" key when nothing matches."""
    name = query.get("name")
    if name is None:
        raise BadQuery("Parameter 'name' is required")
    try:
        count = int(query.get("count", "10"))
    except ValueError:
        raise BadQuery("Value of type 'Int' required for key 'count'") from None
    if not 1 <= count <= 100:
        raise BadQuery("Parameter count must be between 1 and 100.")
    matches = PLACES.get(" ".join(name.split()).casefold(), [])
    body: dict[str, Any] = {"generationtime_ms": 0.31495094}
    if matches:
        body["results"] = [dict(m) for m in matches[:count]]
    return body


class WeatherServer:
    """Open-Meteo on 127.0.0.1 with an ephemeral port; use as ``async with WeatherServer() as server``."""

    def __init__(self, *, slow_s: float = 30.0) -> None:
        self.mode: Mode = "ok"
        """The failure to act out, for both paths; "ok" answers normally."""
        self.slow_s = slow_s
        """How long "slow" stalls before answering (or until the server stops)."""
        self.requests: Counter[str] = Counter()
        """Requests received, by path."""
        self.last_query: dict[str, dict[str, str]] = {}
        """The most recent query string per path."""
        self._stopping = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self._base = ""

    @property
    def forecast_url(self) -> str:
        """URL to pass as the client's forecast_url."""
        return self._base + FORECAST_PATH

    @property
    def geocoding_url(self) -> str:
        """URL to pass as the client's geocoding_url."""
        return self._base + SEARCH_PATH

    async def start(self) -> None:
        """Bind to a free loopback port and start answering."""
        app = web.Application()
        app.router.add_get(FORECAST_PATH, self._handle)
        app.router.add_get(SEARCH_PATH, self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=1.0, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self._base = f"http://{host}:{port}"

    async def stop(self) -> None:
        """Release stalled handlers and shut the server down."""
        self._stopping.set()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> WeatherServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _handle(self, request: web.Request) -> web.Response:
        path = request.path
        self.requests[path] += 1
        query = dict(request.query)
        self.last_query[path] = query
        mode = self.mode
        if mode == "slow":
            # Waiting on an event rather than a bare sleep lets stop() end the stall at once.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), self.slow_s)
        if mode == "http500":
            return web.Response(status=500, text="Internal Server Error", content_type="text/plain")
        if mode == "http400-error-json":
            reason = "Cannot initialize WeatherVariable from invalid String value tempeture_2m for key hourly"
            return _json({"error": True, "reason": reason}, status=400)
        if mode == "garbled":
            return web.Response(
                status=200, text='{"latitude": 52.52, "current": {', content_type="application/json"
            )
        try:
            body = forecast_body(query) if path == FORECAST_PATH else search_body(query)
        except BadQuery as exc:
            return _json({"error": True, "reason": str(exc)}, status=400)
        _spoil(body, mode)
        return _json(body)


def _spoil(body: dict[str, Any], mode: Mode) -> None:
    """Damage a well-formed body the way a failure mode asks (no-op for modes it does not affect)."""
    results = body.get("results")
    if mode == "wrong-shape":
        body.pop("daily", None)
        if results:
            del results[0]["latitude"]
    elif mode == "unequal-arrays" and "daily" in body:
        body["daily"]["temperature_2m_min"].pop()
    elif mode == "null-values":
        if "daily" in body:
            body["daily"]["temperature_2m_max"][1] = None
        if results:
            results[0]["longitude"] = None
    elif mode == "wrong-types":
        if "current" in body:
            body["current"]["temperature_2m"] = str(body["current"]["temperature_2m"])
        if results:
            results[0]["name"] = 42


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return web.Response(
        status=status, text=json.dumps(body, ensure_ascii=False), content_type="application/json"
    )
