"""The bench's arithmetic on fixed inputs."""

from __future__ import annotations

import pytest

from assistant.bench.stats import accuracy, edit_distance, p50_p95, percentile, word_error_rate, words


@pytest.mark.parametrize(
    ("values", "q", "expected"),
    [
        ([5.0], 50, 5.0),
        ([1.0, 2.0, 3.0, 4.0], 50, 2.5),
        ([1.0, 2.0, 3.0, 4.0], 0, 1.0),
        ([1.0, 2.0, 3.0, 4.0], 100, 4.0),
        ([10.0, 20.0, 30.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 100.0], 95, 95.5),
        ([3.0, 1.0, 2.0], 50, 2.0),  # order of input does not matter
    ],
)
def test_percentile_interpolates_linearly(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_none_and_bad_q_is_refused() -> None:
    assert percentile([], 50) is None
    assert p50_p95([]) == {"p50": None, "p95": None}
    with pytest.raises(ValueError, match=r"0\.\.100"):
        percentile([1.0], 101)


def test_p50_p95_rounds() -> None:
    assert p50_p95([100.0, 200.0]) == {"p50": 150.0, "p95": 195.0}
    assert p50_p95([1.04, 1.04, 1.26]) == {"p50": 1.0, "p95": 1.2}


def test_words_ignore_case_and_punctuation_but_keep_apostrophes() -> None:
    assert words("What's the TIME, now?") == ["what's", "the", "time", "now"]


def test_numbers_are_compared_as_words() -> None:
    assert words("Set a timer for 5 minutes at 5pm") == words("set a timer for five minutes at five PM")
    assert words("42 and 100") == ["forty", "two", "and", "100"]
    assert words("Call mom at 5 p.m.") == words("call mom at five PM")


@pytest.mark.parametrize(
    ("ref", "hyp", "distance"),
    [
        ("what time is it", "what time is it", 0),
        ("what time is it", "what time is", 1),  # deletion
        ("what time is it", "what time is it now", 1),  # insertion
        ("cancel all timers", "cancel all tires", 1),  # substitution
        ("what day is it today", "what made it today", 2),
        ("", "hello there", 2),
    ],
)
def test_edit_distance(ref: str, hyp: str, distance: int) -> None:
    assert edit_distance(words(ref), words(hyp)) == distance


def test_corpus_wer_weights_by_reference_length() -> None:
    pairs = [("cancel all timers", "cancel all tires"), ("what time is it", "what time is it")]
    assert word_error_rate(pairs) == pytest.approx(1 / 7, abs=1e-4)
    assert word_error_rate([]) is None


def test_accuracy() -> None:
    assert accuracy([("clock", "clock"), (None, None), ("clock", None), ("timers", "clock")]) == 0.5
    assert accuracy([]) is None
