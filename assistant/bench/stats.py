"""The bench's arithmetic: percentiles, word error rate, accuracy. Pure functions."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

_WORD = re.compile(r"[a-z']+|[0-9]+")
_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _number_words(token: str) -> list[str]:
    """Spell out 0–99 ("5" → five, "42" → forty two) so "5 minutes" and "five minutes" agree."""
    n = int(token)
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    return [token]


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (0–100) with linear interpolation between ranks; None when empty."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0..100, got {q}")
    if not values:
        return None
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    if low == high:
        return float(ordered[low])
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def p50_p95(values: Sequence[float]) -> dict[str, float | None]:
    """Median and 95th percentile, rounded to 0.1."""
    out: dict[str, float | None] = {}
    for name, q in (("p50", 50.0), ("p95", 95.0)):
        value = percentile(values, q)
        out[name] = None if value is None else round(value, 1)
    return out


def words(text: str) -> list[str]:
    """Words for scoring: lower case, punctuation dropped, apostrophes kept ("what's"), numbers
    under 100 spelled out, digits split from letters ("5pm" → five pm)."""
    out: list[str] = []
    # "p.m." and "pm", "U.S." and "US" are the same words.
    text = re.sub(r"\b([a-z])\.(?=[a-z]\.)", r"\1", text.lower()).replace("’", "'")
    text = re.sub(r"\b([a-z])\.", r"\1", text)
    for token in _WORD.findall(text):
        out.extend(_number_words(token) if token.isdigit() else [token])
    return out


def edit_distance(reference: Sequence[str], hypothesis: Sequence[str]) -> int:
    """Word-level Levenshtein distance: substitutions + deletions + insertions."""
    previous = list(range(len(hypothesis) + 1))
    for i, ref_word in enumerate(reference, 1):
        current = [i]
        for j, hyp_word in enumerate(hypothesis, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ref_word != hyp_word)))
        previous = current
    return previous[-1]


def word_error_rate(pairs: Sequence[tuple[str, str]]) -> float | None:
    """Corpus WER over (reference, hypothesis) pairs: total edits ÷ total reference words."""
    total_words = 0
    total_edits = 0
    for reference, hypothesis in pairs:
        ref = words(reference)
        total_words += len(ref)
        total_edits += edit_distance(ref, words(hypothesis))
    if total_words == 0:
        return None
    return round(total_edits / total_words, 4)


def accuracy(pairs: Sequence[tuple[str | None, str | None]]) -> float | None:
    """Share of (expected, got) pairs that agree; None when there are none."""
    if not pairs:
        return None
    return round(sum(expected == got for expected, got in pairs) / len(pairs), 4)
