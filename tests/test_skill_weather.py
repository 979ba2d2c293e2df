"""The weather skill through whole turns: the real runtime, router and TTS, a real local Open-Meteo."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncIterator, Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
from weather_server import FORECAST_PATH, PLACES, SEARCH_PATH, TODAY, Mode, WeatherServer, metric_weather

from assistant.audio.sinks import MemorySink
from assistant.config import Config
from assistant.runtime import Runtime, start_runtime
from assistant.session import Session, TurnResult
from hearkend_skills.weather import NO_HOME
from hearkend_skills.weather.openmeteo import (
    Current,
    DayForecast,
    Forecast,
    Place,
    Units,
    pick_days,
    spoken_current,
    spoken_days,
)

# Every async test shares one event loop: the server, the runtime's HTTP session and the skill's
# cached clients all belong to the loop they were made in.
in_module_loop = pytest.mark.asyncio(loop_scope="module")

UNREACHABLE = "Sorry, I couldn't reach the weather service."
UNREADABLE = "Sorry, the weather service sent something I couldn't read."
METRIC = Units.from_system("metric")
BERLIN = PLACES["berlin"][0]


def _place(key: str) -> Place:
    p = PLACES[key][0]
    return Place(p["name"], p["country"], p["admin1"], p["latitude"], p["longitude"], p["timezone"])


def server_forecast(key: str, days: int = 14) -> Forecast:
    """What the fake server's data for a known place says, built independently of the client."""
    place = _place(key)
    data = metric_weather(place.latitude, place.longitude, days)
    cur, daily = data["current"], data["daily"]
    current = Current(
        temperature=cur["temperature_2m"],
        apparent_temperature=cur["apparent_temperature"],
        humidity=cur["relative_humidity_2m"],
        wind_speed=cur["wind_speed_10m"],
        weather_code=cur["weather_code"],
        is_day=True,
        time=datetime.combine(TODAY, datetime.min.time()).replace(hour=10),
    )
    forecast_days = tuple(
        DayForecast(
            date=date.fromisoformat(daily["time"][i]),
            weather_code=daily["weather_code"][i],
            temperature_max=daily["temperature_2m_max"][i],
            temperature_min=daily["temperature_2m_min"][i],
            precipitation_probability_max=daily["precipitation_probability_max"][i],
            precipitation_sum=daily["precipitation_sum"][i],
            wind_speed_max=daily["wind_speed_10m_max"][i],
        )
        for i in range(days)
    )
    return Forecast(place, METRIC, current, forecast_days)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def server() -> AsyncIterator[WeatherServer]:
    async with WeatherServer() as srv:
        yield srv


@pytest.fixture(scope="module")
def home(server: WeatherServer) -> dict[str, Any]:
    """The weather section of a config with Berlin as home, pointed at the local server."""
    return {
        "latitude": BERLIN["latitude"],
        "longitude": BERLIN["longitude"],
        "place": "Berlin",
        "forecast_url": server.forecast_url,
        "geocoding_url": server.geocoding_url,
    }


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def runtime(home: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Runtime]:
    state: Path = tmp_path_factory.mktemp("weather-state")
    rt = await start_runtime(
        Config(skills={"weather": home}), state_dir=state, need_asr=False, need_llm=False
    )
    assert "weather" in rt.skills.skills, rt.skills.failed
    yield rt
    await rt.aclose()


@pytest.fixture(autouse=True)
def healthy_server(server: WeatherServer) -> Iterator[None]:
    """Each test starts and ends with the server answering normally."""
    server.mode = "ok"
    yield
    server.mode = "ok"


def configured(runtime: Runtime, weather: dict[str, Any]) -> Runtime:
    """The same runtime (models, HTTP session) with another weather config section."""
    return dataclasses.replace(
        runtime, config=dataclasses.replace(runtime.config, skills={"weather": weather})
    )


async def ask(runtime: Runtime, text: str) -> TurnResult:
    sink = MemorySink()
    result = await Session(runtime, sink).handle_text(text)
    assert result.error is None, result.error
    # What the result says was said is what reached the speaker.
    assert " ".join(p.text for p in sink.pieces) == result.reply
    return result


def budget_s(runtime: Runtime) -> float:
    return runtime.config.budgets.skill_timeout_ms / 1000


# --- routing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "action", "slots"),
    [
        ("What's the weather?", "current", {}),
        ("How's the weather outside?", "current", {}),
        ("What's it like outside?", "current", {}),
        ("Is it cold outside?", "current", {}),
        ("What's the temperature?", "current", {}),
        ("How hot is it?", "current", {}),
        ("What's the weather in Paris?", "current", {"place": "paris"}),
        ("What's the weather like in New York?", "current", {"place": "new york"}),
        ("What's the weather tomorrow?", "forecast", {"when": "tomorrow"}),
        ("Weather for the weekend", "forecast", {"when": "the weekend"}),
        ("What's the forecast for this week?", "forecast", {"when": "this week"}),
        ("What's the forecast for Paris?", "forecast", {"place": "paris"}),
        ("Weather in London tomorrow", "forecast", {"place": "london", "when": "tomorrow"}),
        ("What's the weather tomorrow in Paris?", "forecast", {"when": "tomorrow", "place": "paris"}),
        (
            "What's the weather like in New York this weekend?",
            "forecast",
            {"place": "new york", "when": "this weekend"},
        ),
        ("What's the temperature going to be on Sunday?", "forecast", {"when": "sunday"}),
        ("Will it rain tomorrow?", "precipitation", {"kind": "rain", "when": "tomorrow"}),
        ("Do I need an umbrella today?", "precipitation", {"when": "today"}),
        ("Is it going to snow on Friday?", "precipitation", {"kind": "snow", "when": "friday"}),
        (
            "Will it rain in Berlin on Saturday?",
            "precipitation",
            {"kind": "rain", "place": "berlin", "when": "saturday"},
        ),
    ],
)
def test_weather_phrasings_reach_their_intent(
    runtime: Runtime, text: str, action: str, slots: dict[str, Any]
) -> None:
    decision = runtime.router.route(text)
    assert decision.route == "skill" and decision.intent is not None
    assert (decision.intent.skill, decision.intent.action, decision.intent.slots) == (
        "weather",
        action,
        slots,
    )


@pytest.mark.parametrize(
    ("text", "action"),
    [
        ("What time is it?", "time"),
        ("What time is it in Paris?", "time_in"),
        ("What's the date today?", "date"),
        ("What day is it today?", "day"),
    ],
)
def test_clock_phrasings_do_not_go_to_the_weather(runtime: Runtime, text: str, action: str) -> None:
    decision = runtime.router.route(text)
    assert decision.intent is not None
    assert (decision.intent.skill, decision.intent.action) == ("clock", action)


@pytest.mark.parametrize(
    "text", ["What time does the bakery open tomorrow?", "What is the capital of France?", "Tell me a joke."]
)
def test_other_questions_are_not_weather(runtime: Runtime, text: str) -> None:
    decision = runtime.router.route(text)
    assert decision.intent is None or decision.intent.skill != "weather"


@in_module_loop
async def test_what_time_is_it_is_answered_by_the_clock(runtime: Runtime, server: WeatherServer) -> None:
    before = server.requests.copy()
    result = await ask(runtime, "what time is it")
    assert (result.skill, result.action) == ("clock", "time")
    assert server.requests == before


# --- answers at home -------------------------------------------------------------------------


@in_module_loop
async def test_current_weather_at_home(runtime: Runtime) -> None:
    result = await ask(runtime, "What's the weather?")
    assert (result.route, result.skill, result.action, result.slots) == ("skill", "weather", "current", {})
    assert result.reply == "In Berlin it's 4 degrees and overcast, feels like 1."


@in_module_loop
@pytest.mark.parametrize(
    ("text", "reply"),
    [
        (
            "What's the weather tomorrow?",
            "Tomorrow in Berlin: light rain, high of 7, low of 2, 80 percent chance of rain.",
        ),
        ("What's the forecast?", "Today in Berlin: overcast, high of 6, low of 1."),
        ("What's the weather tonight?", "Tonight in Berlin: overcast, low of 1."),
        (
            "Weather for the weekend",
            "This weekend in Berlin: Saturday, light snow, high of 2, low of minus 4, "
            "60 percent chance of snow; Sunday, clear skies, high of 4, low of minus 2, "
            "winds up to 50 kilometers per hour.",
        ),
        ("What's the weather on Friday?", "On Friday in Berlin: clear skies, high of 5, low of minus 1."),
        # Today is a Wednesday at the server, so Wednesday is today.
        ("What's the weather on Wednesday?", "Today in Berlin: overcast, high of 6, low of 1."),
    ],
)
async def test_forecast_at_home(runtime: Runtime, text: str, reply: str) -> None:
    result = await ask(runtime, text)
    assert (result.skill, result.action) == ("weather", "forecast")
    assert result.reply == reply


@in_module_loop
async def test_forecast_for_this_week_and_next(runtime: Runtime) -> None:
    berlin = server_forecast("berlin")
    result = await ask(runtime, "What's the forecast for this week?")
    assert result.slots == {"when": "this week"}
    assert result.reply == spoken_days("Berlin", berlin.days[:7], METRIC, "this week")
    assert result.reply.startswith("This week in Berlin: ")
    result = await ask(runtime, "What's the weather next week?")
    # Next week runs from Monday to Sunday after this Wednesday.
    monday = TODAY + timedelta(days=5)
    assert berlin.days[5].date == monday and monday.weekday() == 0
    assert result.reply == spoken_days("Berlin", berlin.days[5:12], METRIC, "next week")
    assert result.reply.startswith("Next week in Berlin: ")


@in_module_loop
@pytest.mark.parametrize(
    ("text", "reply"),
    [
        (
            "Will it rain tomorrow?",
            "Yes, rain is likely tomorrow in Berlin: 80 percent chance, light rain, high of 7, low of 2.",
        ),
        (
            "Do I need an umbrella today?",
            "No, rain isn't expected today in Berlin: 10 percent chance, overcast, high of 6, low of 1.",
        ),
        (
            "Is it going to snow on Friday?",
            "No, snow isn't expected on Friday in Berlin: clear skies, high of 5, low of minus 1.",
        ),
        (
            "Will it snow on Saturday?",
            "Yes, snow is likely on Saturday in Berlin: 60 percent chance, light snow, high of 2, "
            "low of minus 4.",
        ),
        (
            "Will it rain in Berlin on Saturday?",
            "No, but snow is likely on Saturday in Berlin: 60 percent chance, light snow, high of 2, "
            "low of minus 4.",
        ),
        (
            "Will it snow this weekend?",
            "Yes, snow is likely this weekend in Berlin: Saturday, 60 percent chance.",
        ),
    ],
)
async def test_rain_and_snow_questions_answer_yes_or_no_first(
    runtime: Runtime, text: str, reply: str
) -> None:
    result = await ask(runtime, text)
    assert (result.skill, result.action) == ("weather", "precipitation")
    assert result.reply == reply


@in_module_loop
async def test_naming_home_needs_no_lookup(runtime: Runtime, server: WeatherServer) -> None:
    before = server.requests[SEARCH_PATH]
    result = await ask(runtime, "what's the weather in Berlin")
    assert result.reply == "In Berlin it's 4 degrees and overcast, feels like 1."
    assert server.requests[SEARCH_PATH] == before


# --- named places ----------------------------------------------------------------------------


@in_module_loop
async def test_weather_in_a_named_place(runtime: Runtime, server: WeatherServer) -> None:
    paris = server_forecast("paris")
    result = await ask(runtime, "What's the weather in Paris?")
    assert (result.action, result.slots) == ("current", {"place": "paris"})
    assert result.reply == spoken_current(paris)
    assert result.reply.startswith("In Paris it's ")
    assert server.last_query[SEARCH_PATH]["name"] == "Paris"
    assert float(server.last_query[FORECAST_PATH]["latitude"]) == PLACES["paris"][0]["latitude"]

    result = await ask(runtime, "What's the weather tomorrow in Paris?")
    assert (result.action, result.slots) == ("forecast", {"when": "tomorrow", "place": "paris"})
    assert result.reply == spoken_days("Paris", pick_days(paris, "tomorrow", TODAY), METRIC, "tomorrow")
    assert result.reply.startswith("Tomorrow in Paris: ")

    london = server_forecast("london")
    result = await ask(runtime, "Weather in London tomorrow")
    assert result.reply == spoken_days("London", pick_days(london, "tomorrow", TODAY), METRIC, "tomorrow")


@in_module_loop
async def test_unknown_place(runtime: Runtime) -> None:
    result = await ask(runtime, "What's the weather in Atlantis?")
    assert result.slots == {"place": "atlantis"}
    assert result.reply == "Sorry, I don't know a place called Atlantis."


# --- configuration ---------------------------------------------------------------------------


@in_module_loop
async def test_imperial_units(runtime: Runtime, home: dict[str, Any], server: WeatherServer) -> None:
    rt = configured(runtime, home | {"units": "imperial"})
    result = await ask(rt, "What's the weather?")
    assert result.reply == "In Berlin it's 40 degrees and overcast, feels like 34."
    assert server.last_query[FORECAST_PATH]["temperature_unit"] == "fahrenheit"
    assert server.last_query[FORECAST_PATH]["wind_speed_unit"] == "mph"
    result = await ask(rt, "What's the weather tomorrow?")
    assert result.reply == "Tomorrow in Berlin: light rain, high of 45, low of 36, 80 percent chance of rain."
    result = await ask(rt, "Weather for the weekend")
    assert result.reply == (
        "This weekend in Berlin: Saturday, light snow, high of 35, low of 26, 60 percent chance of snow; "
        "Sunday, clear skies, high of 38, low of 28, winds up to 31 miles per hour."
    )


@in_module_loop
async def test_answers_are_cached_across_turns(
    runtime: Runtime, home: dict[str, Any], server: WeatherServer
) -> None:
    # Another cache time makes a client of its own, so this test starts with an empty cache.
    rt = configured(runtime, home | {"cache_minutes": 5})
    forecasts, searches = server.requests[FORECAST_PATH], server.requests[SEARCH_PATH]
    await ask(rt, "What's the weather?")
    assert server.requests[FORECAST_PATH] == forecasts + 1
    for text in ("What's the weather?", "Will it rain tomorrow?", "What's the forecast for this week?"):
        await ask(rt, text)
    assert server.requests[FORECAST_PATH] == forecasts + 1
    await ask(rt, "What's the weather in London?")
    await ask(rt, "Will it rain in London tomorrow?")
    assert server.requests[SEARCH_PATH] == searches + 1
    assert server.requests[FORECAST_PATH] == forecasts + 2


@in_module_loop
async def test_without_a_home_location_the_user_is_told_how_to_set_one(
    runtime: Runtime, server: WeatherServer
) -> None:
    rt = configured(runtime, {"forecast_url": server.forecast_url, "geocoding_url": server.geocoding_url})
    before = server.requests.copy()
    for text in ("What's the weather?", "Will it rain tomorrow?"):
        result = await ask(rt, text)
        assert result.reply == NO_HOME
    assert "skills.weather.latitude" in NO_HOME and "skills.weather.longitude" in NO_HOME
    assert server.requests == before
    # A named place needs no home.
    result = await ask(rt, "What's the weather in Paris?")
    assert result.reply == spoken_current(server_forecast("paris"))


@in_module_loop
async def test_a_home_named_but_not_located_is_looked_up(runtime: Runtime, server: WeatherServer) -> None:
    rt = configured(
        runtime,
        {"place": "London", "forecast_url": server.forecast_url, "geocoding_url": server.geocoding_url},
    )
    result = await ask(rt, "What's the weather?")
    assert result.reply == spoken_current(server_forecast("london"))


@in_module_loop
@pytest.mark.parametrize(
    ("change", "reply"),
    [
        ({"units": "kelvin"}, "The weather setting skills.weather.units must be metric or imperial."),
        ({"latitude": "north"}, "The weather setting skills.weather.latitude must be a number."),
        ({"latitude": None}, "Set both skills.weather.latitude and skills.weather.longitude in the config."),
    ],
)
async def test_a_bad_setting_is_named(
    runtime: Runtime, home: dict[str, Any], change: dict[str, Any], reply: str
) -> None:
    result = await ask(configured(runtime, home | change), "What's the weather?")
    assert result.reply == reply


# --- failures --------------------------------------------------------------------------------

FAILURES: list[tuple[Mode, str, str]] = [
    ("slow", "What's the weather?", UNREACHABLE),
    # Two lookups (the place, then its forecast) share one deadline, so this is no slower.
    ("slow", "What's the weather in Paris?", UNREACHABLE),
    ("http500", "What's the weather?", UNREACHABLE),
    ("http500", "Will it rain in London tomorrow?", UNREACHABLE),
    ("garbled", "What's the weather tomorrow?", UNREADABLE),
    ("wrong-types", "What's the weather?", UNREADABLE),
    ("ok", "Will it rain in Atlantis tomorrow?", "Sorry, I don't know a place called Atlantis."),
]


@in_module_loop
@pytest.mark.parametrize(("mode", "text", "reply"), FAILURES)
async def test_failures_are_apologies_within_the_budget(
    runtime: Runtime, home: dict[str, Any], server: WeatherServer, mode: Mode, text: str, reply: str
) -> None:
    # No caching, so every question reaches the failing server; timeout_s is left at its default.
    rt = configured(runtime, home | {"cache_minutes": 0})
    server.mode = mode
    before = server.requests.total()
    started = time.monotonic()
    result = await ask(rt, text)
    took = time.monotonic() - started
    assert (result.route, result.skill) == ("skill", "weather")
    assert result.reply == reply
    assert server.requests.total() > before
    # The skill's own deadline (timeout_s, 2.5 s by default) has the answer ready inside the skill
    # budget, so the session never cuts it off with its generic "took too long".
    assert result.trace is not None
    answered = result.trace.marks["first_reply_text"] - started
    assert answered < budget_s(rt)
    # What is left is speaking the short apology, which is the TTS's time (about 0.3 to 1 s on a
    # small CPU), not the skill's.
    speaking = result.trace.marks["done"] - result.trace.marks["first_reply_text"]
    assert took - speaking < budget_s(rt) + 0.5


@in_module_loop
async def test_a_failure_is_not_remembered(
    runtime: Runtime, home: dict[str, Any], server: WeatherServer
) -> None:
    # A cache time of its own gives this test a client (and cache) of its own.
    rt = configured(runtime, home | {"cache_minutes": 7})
    server.mode = "http500"
    assert (await ask(rt, "What's the weather in London?")).reply == UNREACHABLE
    server.mode = "ok"
    assert (await ask(rt, "What's the weather in London?")).reply == spoken_current(server_forecast("london"))
