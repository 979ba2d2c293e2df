"""The Open-Meteo client against a real local server speaking Open-Meteo's formats."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta

import aiohttp
import pytest
from weather_server import FORECAST_PATH, SEARCH_PATH, TODAY, Mode, WeatherServer, metric_weather

from hearkend_skills.weather.openmeteo import (
    Current,
    DayForecast,
    Forecast,
    OpenMeteoClient,
    Place,
    Units,
    WeatherError,
    describe_code,
    pick_days,
    spoken_current,
    spoken_day,
    spoken_days,
)

UNREACHABLE = "Sorry, I couldn't reach the weather service."
UNREADABLE = "Sorry, the weather service sent something I couldn't read."

BERLIN = Place("Berlin", "Germany", "Land Berlin", 52.52437, 13.41053, "Europe/Berlin")
METRIC = Units.from_system("metric")
IMPERIAL = Units.from_system("imperial")


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
async def server() -> AsyncIterator[WeatherServer]:
    async with WeatherServer() as srv:
        yield srv


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def client(server: WeatherServer, session: aiohttp.ClientSession, clock: FakeClock) -> OpenMeteoClient:
    return OpenMeteoClient(
        session,
        forecast_url=server.forecast_url,
        geocoding_url=server.geocoding_url,
        timeout_s=0.5,
        cache_ttl_s=600,
        clock=clock,
    )


# --- geocoding -------------------------------------------------------------------------------


async def test_geocode_finds_a_place(client: OpenMeteoClient, server: WeatherServer) -> None:
    place = await client.geocode("Paris")
    assert place == Place("Paris", "France", "Île-de-France", 48.85341, 2.3488, "Europe/Paris")
    assert server.last_query[SEARCH_PATH] == {
        "name": "Paris",
        "count": "1",
        "language": "en",
        "format": "json",
    }


async def test_geocode_takes_the_first_of_several(client: OpenMeteoClient) -> None:
    place = await client.geocode("springfield")
    assert (place.name, place.admin1, place.timezone) == ("Springfield", "Missouri", "America/Chicago")


async def test_geocode_unknown_place(client: OpenMeteoClient) -> None:
    with pytest.raises(WeatherError) as info:
        await client.geocode("  Atlantis ")
    assert info.value.spoken == "Sorry, I don't know a place called Atlantis."
    assert info.value.code == "unknown_place"
    assert "Atlantis" in str(info.value)


async def test_geocode_empty_name_asks_nothing(client: OpenMeteoClient, server: WeatherServer) -> None:
    with pytest.raises(WeatherError) as info:
        await client.geocode("   ")
    assert info.value.spoken == "Sorry, I didn't catch which place."
    assert server.requests[SEARCH_PATH] == 0


async def test_geocode_is_cached(client: OpenMeteoClient, server: WeatherServer, clock: FakeClock) -> None:
    first = await client.geocode("Berlin")
    assert await client.geocode(" berlin ") == first
    assert server.requests[SEARCH_PATH] == 1
    clock.now += 601
    assert await client.geocode("Berlin") == first
    assert server.requests[SEARCH_PATH] == 2


# --- forecasts -------------------------------------------------------------------------------


async def test_forecast_metric(client: OpenMeteoClient, server: WeatherServer) -> None:
    forecast = await client.forecast(BERLIN, METRIC)
    assert forecast.place == BERLIN
    assert forecast.units == METRIC
    assert forecast.current == Current(
        temperature=4.2,
        apparent_temperature=1.0,
        humidity=81,
        wind_speed=12.3,
        weather_code=3,
        is_day=True,
        time=datetime(2026, 11, 25, 10, 0),
    )
    assert [d.date for d in forecast.days] == [TODAY + timedelta(days=n) for n in range(7)]
    assert forecast.days[1] == DayForecast(date(2026, 11, 26), 61, 7.2, 2.4, 80, 4.1, 22.5)
    query = server.last_query[FORECAST_PATH]
    assert query == {
        "latitude": "52.52437",
        "longitude": "13.41053",
        "current": "temperature_2m,relative_humidity_2m,apparent_temperature,is_day,"
        "weather_code,wind_speed_10m",
        "daily": "weather_code,temperature_2m_max,temperature_2m_min,precipitation_probability_max,"
        "precipitation_sum,wind_speed_10m_max",
        "timezone": "Europe/Berlin",
        "forecast_days": "7",
        "temperature_unit": "celsius",
        "wind_speed_unit": "kmh",
        "precipitation_unit": "mm",
    }


async def test_forecast_imperial_values_are_converted(client: OpenMeteoClient, server: WeatherServer) -> None:
    paris = await client.geocode("Paris")
    metric = await client.forecast(paris, METRIC)
    imperial = await client.forecast(paris, IMPERIAL)
    assert server.last_query[FORECAST_PATH]["temperature_unit"] == "fahrenheit"
    assert server.last_query[FORECAST_PATH]["wind_speed_unit"] == "mph"
    assert server.last_query[FORECAST_PATH]["precipitation_unit"] == "inch"
    assert imperial.units == IMPERIAL
    assert imperial.current.temperature == round(metric.current.temperature * 9 / 5 + 32, 1)
    assert imperial.current.wind_speed == round(metric.current.wind_speed / 1.609344, 1)
    assert imperial.current.humidity == metric.current.humidity
    for m, i in zip(metric.days, imperial.days, strict=True):
        assert i.date == m.date
        assert i.temperature_max == round(m.temperature_max * 9 / 5 + 32, 1)
        assert i.temperature_min == round(m.temperature_min * 9 / 5 + 32, 1)
        assert i.precipitation_sum == round(m.precipitation_sum / 25.4, 3)
        assert i.wind_speed_max == round(m.wind_speed_max / 1.609344, 1)
        assert i.precipitation_probability_max == m.precipitation_probability_max


async def test_forecast_matches_the_servers_data(client: OpenMeteoClient) -> None:
    london = await client.geocode("London")
    forecast = await client.forecast(london, METRIC, days=3)
    data = metric_weather(london.latitude, london.longitude, 3)
    assert forecast.current.temperature == data["current"]["temperature_2m"]
    assert [d.temperature_max for d in forecast.days] == data["daily"]["temperature_2m_max"]
    assert [d.weather_code for d in forecast.days] == data["daily"]["weather_code"]


async def test_forecast_without_a_timezone_asks_for_auto(
    client: OpenMeteoClient, server: WeatherServer
) -> None:
    place = Place("Somewhere", "", "", 10.0, 20.0, "")
    await client.forecast(place, METRIC, days=1)
    assert server.last_query[FORECAST_PATH]["timezone"] == "auto"
    with pytest.raises(ValueError):
        await client.forecast(place, METRIC, days=0)


async def test_forecast_is_cached_per_place_and_units(
    client: OpenMeteoClient, server: WeatherServer, clock: FakeClock
) -> None:
    first = await client.forecast(BERLIN, METRIC)
    assert await client.forecast(BERLIN, METRIC) == first
    assert server.requests[FORECAST_PATH] == 1
    # A shorter forecast is served from the longer cached one.
    short = await client.forecast(BERLIN, METRIC, days=3)
    assert short.days == first.days[:3]
    assert server.requests[FORECAST_PATH] == 1
    await client.forecast(BERLIN, IMPERIAL)
    assert server.requests[FORECAST_PATH] == 2
    clock.now += 599
    await client.forecast(BERLIN, METRIC)
    assert server.requests[FORECAST_PATH] == 2
    clock.now += 2
    await client.forecast(BERLIN, METRIC)
    assert server.requests[FORECAST_PATH] == 3
    await client.forecast(BERLIN, METRIC, days=10)
    assert server.requests[FORECAST_PATH] == 4


# --- failures --------------------------------------------------------------------------------

FORECAST_FAILURES: list[tuple[Mode, str, str]] = [
    ("slow", UNREACHABLE, "no answer within 0.5 s"),
    ("http500", UNREACHABLE, "HTTP 500"),
    ("http400-error-json", UNREADABLE, "invalid String value tempeture_2m"),
    ("garbled", UNREADABLE, "invalid JSON"),
    ("wrong-shape", UNREADABLE, "missing 'daily'"),
    ("unequal-arrays", UNREADABLE, "unequal length"),
    ("null-values", UNREADABLE, "temperature_2m_max: expected a number, got None"),
    ("wrong-types", UNREADABLE, "temperature_2m: expected a number, got '4.2'"),
]
SEARCH_FAILURES: list[tuple[Mode, str, str]] = [
    ("slow", UNREACHABLE, "no answer within 0.5 s"),
    ("http500", UNREACHABLE, "HTTP 500"),
    ("http400-error-json", UNREADABLE, "invalid String value tempeture_2m"),
    ("garbled", UNREADABLE, "invalid JSON"),
    ("wrong-shape", UNREADABLE, "missing 'latitude'"),
    ("null-values", UNREADABLE, "longitude: expected a number, got None"),
    ("wrong-types", UNREADABLE, "name: expected a string, got 42"),
]


@pytest.mark.parametrize(("mode", "spoken", "detail"), FORECAST_FAILURES)
async def test_forecast_failures(
    client: OpenMeteoClient, server: WeatherServer, mode: Mode, spoken: str, detail: str
) -> None:
    server.mode = mode
    started = time.monotonic()
    with pytest.raises(WeatherError) as info:
        await client.forecast(BERLIN, METRIC)
    assert time.monotonic() - started < 0.5 + 0.5
    assert info.value.spoken == spoken
    assert detail in str(info.value)
    # A failure is not cached: the next call asks again and succeeds.
    server.mode = "ok"
    assert (await client.forecast(BERLIN, METRIC)).current.temperature == 4.2


@pytest.mark.parametrize(("mode", "spoken", "detail"), SEARCH_FAILURES)
async def test_geocode_failures(
    client: OpenMeteoClient, server: WeatherServer, mode: Mode, spoken: str, detail: str
) -> None:
    server.mode = mode
    started = time.monotonic()
    with pytest.raises(WeatherError) as info:
        await client.geocode("Berlin")
    assert time.monotonic() - started < 0.5 + 0.5
    assert info.value.spoken == spoken
    assert detail in str(info.value)


async def test_connection_refused(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # Nothing listens on the port once the socket is closed.
    client = OpenMeteoClient(
        session,
        forecast_url=f"http://127.0.0.1:{port}/v1/forecast",
        geocoding_url=f"http://127.0.0.1:{port}/v1/search",
        timeout_s=0.5,
    )
    with pytest.raises(WeatherError) as info:
        await client.geocode("Berlin")
    assert info.value.spoken == UNREACHABLE
    assert info.value.code == "unreachable"
    with pytest.raises(WeatherError):
        await client.forecast(BERLIN, METRIC)


async def test_server_rejects_a_bad_query_like_the_real_api(
    client: OpenMeteoClient, server: WeatherServer, session: aiohttp.ClientSession
) -> None:
    async with session.get(server.forecast_url, params={"longitude": "13.4"}) as response:
        assert response.status == 400
        body = await response.json()
    assert body["error"] is True
    assert "latitude" in body["reason"]
    with pytest.raises(WeatherError) as info:
        await client.forecast(Place("Nowhere", "", "", 91.0, 0.0, ""), METRIC)
    assert info.value.spoken == UNREADABLE
    assert "HTTP 400" in str(info.value)


async def test_cancellation_is_not_turned_into_an_error(
    client: OpenMeteoClient, server: WeatherServer
) -> None:
    server.mode = "slow"
    task = asyncio.create_task(client.forecast(BERLIN, METRIC))
    await asyncio.sleep(0.1)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task


# --- picking days ----------------------------------------------------------------------------


def _day(
    on: date, code: int = 0, high: float = 10.0, low: float = 2.0, rain: float | None = 0.0
) -> DayForecast:
    return DayForecast(on, code, high, low, rain, 0.0, 10.0)


def _forecast(start: date, count: int) -> Forecast:
    now = Current(4.2, 1.0, 81, 12.3, 3, True, datetime.combine(start, datetime.min.time()))
    days = tuple(_day(start + timedelta(days=n)) for n in range(count))
    return Forecast(BERLIN, METRIC, now, days)


MONDAY = date(2026, 11, 23)
WEDNESDAY, SATURDAY, SUNDAY = (
    MONDAY + timedelta(days=2),
    MONDAY + timedelta(days=5),
    MONDAY + timedelta(days=6),
)


@pytest.mark.parametrize(
    ("when", "today", "expected"),
    [
        ("now", WEDNESDAY, [WEDNESDAY]),
        ("today", WEDNESDAY, [WEDNESDAY]),
        ("tomorrow", WEDNESDAY, [WEDNESDAY + timedelta(days=1)]),
        (" Tomorrow ", SUNDAY, [SUNDAY + timedelta(days=1)]),
        ("weekend", WEDNESDAY, [SATURDAY, SUNDAY]),
        ("weekend", SATURDAY, [SATURDAY, SUNDAY]),
        ("weekend", SUNDAY, [SUNDAY]),
        ("friday", WEDNESDAY, [WEDNESDAY + timedelta(days=2)]),
        ("monday", WEDNESDAY, [MONDAY + timedelta(days=7)]),
        ("wednesday", WEDNESDAY, [WEDNESDAY]),
        ("week", WEDNESDAY, [WEDNESDAY + timedelta(days=n) for n in range(7)]),
    ],
)
def test_pick_days(when: str, today: date, expected: list[date]) -> None:
    forecast = _forecast(MONDAY, 14)
    assert [d.date for d in pick_days(forecast, when, today)] == expected


def test_pick_days_beyond_the_forecast_and_unknown_words() -> None:
    forecast = _forecast(WEDNESDAY, 2)
    assert pick_days(forecast, "weekend", WEDNESDAY) == []
    assert len(pick_days(forecast, "week", WEDNESDAY)) == 2
    with pytest.raises(ValueError):
        pick_days(forecast, "fortnight", WEDNESDAY)


# --- words -----------------------------------------------------------------------------------

WMO_CODES = [
    0,
    1,
    2,
    3,
    45,
    48,
    51,
    53,
    55,
    56,
    57,
    61,
    63,
    65,
    66,
    67,
    71,
    73,
    75,
    77,
    80,
    81,
    82,
    85,
    86,
    95,
    96,
    99,
]


def test_describe_code_covers_every_wmo_code() -> None:
    phrases = [describe_code(code) for code in WMO_CODES]
    assert "unsettled weather" not in phrases
    assert len(set(phrases)) == len(WMO_CODES)
    assert describe_code(0) == "clear skies"
    assert describe_code(2) == "partly cloudy"
    assert describe_code(3) == "overcast"
    assert describe_code(61) == "light rain"
    assert describe_code(96) == "thunderstorms with hail"
    assert [describe_code(c) for c in (4, 100, -1)] == ["unsettled weather"] * 3


async def test_spoken_sentences_from_the_server(client: OpenMeteoClient) -> None:
    berlin = await client.geocode("Berlin")
    forecast = await client.forecast(berlin, METRIC)
    today = forecast.current.time.date()
    assert spoken_current(forecast) == "In Berlin it's 4 degrees and overcast, feels like 1."
    (day,) = pick_days(forecast, "today", today)
    assert spoken_day("Berlin", day, METRIC, "today") == "Today in Berlin: overcast, high of 6, low of 1."
    (day,) = pick_days(forecast, "tomorrow", today)
    assert (
        spoken_day("Berlin", day, METRIC, "Tomorrow")
        == "Tomorrow in Berlin: light rain, high of 7, low of 2, 80 percent chance of rain."
    )
    weekend = pick_days(forecast, "weekend", today)
    assert spoken_days("Berlin", weekend, METRIC, "this weekend") == (
        "This weekend in Berlin: Saturday, light snow, high of 2, low of minus 4, 60 percent chance of snow; "
        "Sunday, clear skies, high of 4, low of minus 2, winds up to 50 kilometers per hour."
    )
    fahrenheit = await client.forecast(berlin, IMPERIAL)
    assert spoken_current(fahrenheit) == "In Berlin it's 40 degrees and overcast, feels like 34."


def test_spoken_current_edge_cases() -> None:
    base = _forecast(WEDNESDAY, 1)

    def said(temperature: float, feels: float, code: int = 0) -> str:
        now = Current(temperature, feels, 50, 5.0, code, True, base.current.time)
        return spoken_current(Forecast(BERLIN, METRIC, now, base.days))

    assert said(-3.2, -7.6) == "In Berlin it's minus 3 degrees and clear skies, feels like minus 8."
    assert said(1.2, 0.9, 45) == "In Berlin it's 1 degree and fog."
    assert said(-0.4, 0.4) == "In Berlin it's 0 degrees and clear skies."
    assert said(2.5, 3.4, 99) == "In Berlin it's 3 degrees and thunderstorms with heavy hail."


def test_spoken_day_precipitation_and_wind() -> None:
    dry = DayForecast(WEDNESDAY, 1, 20.4, 11.5, 15, 0.0, 12.0)
    assert (
        spoken_day("Paris", dry, METRIC, "on Friday")
        == "On Friday in Paris: mostly clear, high of 20, low of 12."
    )
    # Without a probability, the amount stands in for it.
    wet = DayForecast(WEDNESDAY, 63, 12.0, 8.0, None, 4.4, 12.0)
    assert (
        spoken_day("Paris", wet, METRIC, "today")
        == "Today in Paris: rain, high of 12, low of 8, about 4 millimeters of rain."
    )
    wet_inches = DayForecast(WEDNESDAY, 63, 54.0, 46.0, None, 0.173, 25.0)
    assert (
        spoken_day("Springfield", wet_inches, IMPERIAL, "today")
        == "Today in Springfield: rain, high of 54, low of 46, about 0.2 inches of rain, "
        "winds up to 25 miles per hour."
    )
    breezy = DayForecast(WEDNESDAY, 2, 54.0, 46.0, 0, 0.0, 24.0)
    assert (
        spoken_day("Springfield", breezy, IMPERIAL, "today")
        == "Today in Springfield: partly cloudy, high of 54, low of 46."
    )


def test_spoken_days_summaries() -> None:
    assert spoken_days("Berlin", [], METRIC, "this weekend") == (
        "Sorry, I don't have a forecast that far ahead for Berlin."
    )
    one = _day(SUNDAY, code=3, high=5.0, low=1.0)
    assert spoken_days("Berlin", [one], METRIC, "this weekend") == spoken_day(
        "Berlin", one, METRIC, "this weekend"
    )
    week = [
        _day(WEDNESDAY, code=3, high=5.0, low=-1.2),
        _day(WEDNESDAY + timedelta(days=1), code=61, high=7.0, low=2.0, rain=80),
        _day(WEDNESDAY + timedelta(days=2), code=3, high=6.0, low=1.0),
        _day(SATURDAY, code=73, high=1.0, low=-3.0, rain=70),
        _day(SUNDAY, code=3, high=4.0, low=0.0, rain=30),
        _day(SUNDAY + timedelta(days=1), code=3, high=9.4, low=3.0),
        _day(SUNDAY + timedelta(days=2), code=0, high=8.0, low=2.0),
    ]
    assert spoken_days("Berlin", week, METRIC, "the week ahead") == (
        "The week ahead in Berlin: mostly overcast, highs from 1 to 9, lows from minus 3 to 3, "
        "rain or snow likely on Thursday and Saturday."
    )
    dry_week = [_day(WEDNESDAY + timedelta(days=n), code=n % 4, high=6.0, low=1.0) for n in range(7)]
    assert spoken_days("Berlin", dry_week, METRIC, "this week") == (
        "This week in Berlin: changeable weather, highs around 6, lows around 1, staying dry."
    )


def test_units_from_system() -> None:
    assert Units.from_system("metric") == Units("celsius", "kmh", "mm")
    assert Units.from_system("imperial") == Units("fahrenheit", "mph", "inch")
    with pytest.raises(ValueError):
        Units.from_system("nautical")
    with pytest.raises(ValueError):
        Units("kelvin", "kmh", "mm")  # type: ignore[arg-type]
