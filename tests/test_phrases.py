"""The fast matcher against natural phrasings (tests/data/phrases.tsv), and the scoring itself."""

from __future__ import annotations

import datetime as dt
import zoneinfo
from pathlib import Path

import pytest

from assistant.bench.phrases import LLM, Phrase, evaluate, format_failures, load_phrases
from assistant.frames import Intent
from assistant.skill.registry import load_skills
from assistant.understand.intents import IntentMatcher
from assistant.understand.router import Decision, Router

PHRASES = Path(__file__).parent / "data" / "phrases.tsv"
BUILT_IN = {"clock", "timers", "alarms", "reminders", "weather", "music"}
# A Wednesday morning, so "tomorrow", "friday" and "at 7" all lie ahead.
NOW = dt.datetime(2025, 3, 12, 10, 0, tzinfo=zoneinfo.ZoneInfo("Europe/Berlin"))


@pytest.fixture(scope="module")
def router() -> Router:
    # Only the built-in skills: a plugin installed in the environment must not change the score.
    skills = load_skills(BUILT_IN)
    assert set(skills.skills) == BUILT_IN, skills.failed
    return Router(IntentMatcher(skills.skills.values()), llm_available=True)


def test_the_phrase_set_is_well_formed() -> None:
    phrases = load_phrases(PHRASES)
    assert len(phrases) >= 250
    negatives = [p for p in phrases if p.skill is None]
    assert len(negatives) >= 60
    assert {p.skill for p in phrases} - {None} == BUILT_IN
    texts = [p.text.lower() for p in phrases]
    assert len(texts) == len(set(texts)), "a phrase is listed twice"


def test_natural_phrasings_reach_the_right_intent_and_none_steals_from_the_llm(router: Router) -> None:
    report = evaluate(router, load_phrases(PHRASES), NOW)
    # A sentence for the language model taken by a skill is a confident wrong action: none at all.
    assert not report.false_accepts, format_failures(report.false_accepts)
    assert report.accuracy >= 0.90, report.summary()
    for skill, score in report.per_skill.items():
        assert score.accuracy >= 0.80, f"{skill}: {score}\n{report.summary()}"
    # Understanding stays far below its 50 ms budget per turn.
    assert sorted(report.route_ms)[len(report.route_ms) // 2] < 25, report.summary()


class _FixedRouter(Router):
    """Routes by a table, so evaluate()'s arithmetic can be checked alone."""

    def __init__(self, table: dict[str, str | None]) -> None:
        self.table = table

    def route(self, text: str, now: dt.datetime | None = None) -> Decision:
        target = self.table[text]
        if target is None:
            return Decision("llm")
        skill, action = target.split(".")
        return Decision("skill", Intent(skill, action))


def test_evaluate_counts_right_answers_misses_and_false_accepts() -> None:
    phrases = [
        Phrase("what time is it", "clock", "time"),
        Phrase("what's the date", "clock", "date"),
        Phrase("set a timer", "timers", "start"),
        Phrase("tell me a joke"),
        Phrase("play a game"),
    ]
    router = _FixedRouter(
        {
            "what time is it": "clock.time",
            "what's the date": "clock.day",  # wrong intent
            "set a timer": None,  # missed: went to the LLM
            "tell me a joke": None,
            "play a game": "music.play",  # stolen from the LLM
        }
    )
    report = evaluate(router, phrases, NOW)
    assert (report.overall.right, report.overall.total) == (2, 5)
    assert report.accuracy == pytest.approx(0.4)
    assert {k: (s.right, s.total) for k, s in report.per_skill.items()} == {
        "clock": (1, 2),
        "timers": (0, 1),
        LLM: (1, 2),
    }
    assert [(f.phrase.text, f.got) for f in report.failures] == [
        ("what's the date", "clock.day"),
        ("set a timer", LLM),
        ("play a game", "music.play"),
    ]
    assert [f.phrase.text for f in report.false_accepts] == ["play a game"]
    assert [f.phrase.text for f in report.misses] == ["what's the date", "set a timer"]
    assert len(report.route_ms) == 5
    assert "FALSE ACCEPT: 'play a game' expected (llm), got music.play" in report.summary()


def test_evaluate_of_nothing_is_perfect_and_empty() -> None:
    report = evaluate(_FixedRouter({}), [], NOW)
    assert report.accuracy == 1.0
    assert report.per_skill == {}
    assert report.failures == []


def test_load_phrases_reads_labels_blanks_and_comments(tmp_path: Path) -> None:
    path = tmp_path / "p.tsv"
    path.write_text(
        "text\tskill\taction\n# a comment\nwhat time is it\tclock\ttime\n\nwho are you\t\t\n",
        encoding="utf-8",
    )
    phrases = load_phrases(path)
    assert phrases == [
        Phrase("what time is it", "clock", "time", line=3),
        Phrase("who are you", None, None, line=5),
    ]
    assert [p.expected for p in phrases] == ["clock.time", LLM]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("words\tskill\taction\n", "header"),
        ("text\tskill\taction\nhello\tclock\n", "3 tab-separated columns"),
        ("text\tskill\taction\nhello\tclock\t\n", "both skill and action"),
        ("text\tskill\taction\n \tclock\ttime\n", "empty text"),
    ],
)
def test_load_phrases_refuses_malformed_files(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "p.tsv"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ValueError, match=message):
        load_phrases(path)
