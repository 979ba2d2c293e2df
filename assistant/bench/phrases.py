"""How well the fast intent matcher understands natural phrasings: a labelled phrase set, scored.

A phrase file is a TSV with the header ``text, skill, action``. An empty skill and action mean
the sentence belongs to the language model: a skill that takes it is a *false accept*, which is
worse than a miss (the user gets a confident wrong action instead of a slower right answer).
Lines starting with ``#`` are comments.
"""

from __future__ import annotations

import csv
import datetime as dt
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.understand.router import Router

LLM = "(llm)"
"""The name a report uses for "no skill": the sentence goes to the language model."""


@dataclass(frozen=True)
class Phrase:
    """One labelled sentence."""

    text: str
    skill: str | None = None
    """The skill that should take it; None when no skill should (it goes to the LLM)."""
    action: str | None = None
    """The skill's intent; None together with ``skill``."""
    line: int = 0
    """Line in the file it came from (for messages); 0 when made in code."""

    @property
    def expected(self) -> str:
        """``skill.action``, or ``(llm)`` for a sentence no skill should take."""
        return LLM if self.skill is None else f"{self.skill}.{self.action}"


@dataclass(frozen=True)
class Failure:
    """A phrase the router got wrong."""

    phrase: Phrase
    got: str
    """``skill.action`` it went to, or ``(llm)``."""

    @property
    def false_accept(self) -> bool:
        """True when a sentence for the LLM was taken by a skill."""
        return self.phrase.skill is None and self.got != LLM


@dataclass(frozen=True)
class Score:
    """Right answers out of a number of phrases."""

    right: int = 0
    total: int = 0

    @property
    def accuracy(self) -> float:
        """Share right, 0–1 (1.0 for no phrases: nothing was wrong)."""
        return self.right / self.total if self.total else 1.0


@dataclass(frozen=True)
class PhraseReport:
    """The router's results over a phrase set."""

    overall: Score
    per_skill: dict[str, Score]
    """By expected skill; sentences for the LLM under ``(llm)``."""
    failures: list[Failure] = field(default_factory=list)
    route_ms: list[float] = field(default_factory=list)
    """Time each ``router.route`` call took, in phrase order."""

    @property
    def accuracy(self) -> float:
        """Share of all phrases routed right."""
        return self.overall.accuracy

    @property
    def false_accepts(self) -> list[Failure]:
        """Sentences for the LLM that a skill took."""
        return [f for f in self.failures if f.false_accept]

    @property
    def misses(self) -> list[Failure]:
        """Skill sentences that went elsewhere (the LLM or another intent)."""
        return [f for f in self.failures if not f.false_accept]

    def summary(self) -> str:
        """A few lines for people: accuracy overall and per skill, then every failure."""
        lines = [f"overall {self.overall.right}/{self.overall.total} = {self.accuracy:.1%}"]
        if self.route_ms:
            lines.append(
                f"route ms: mean {sum(self.route_ms) / len(self.route_ms):.2f}, max {max(self.route_ms):.2f}"
            )
        for name, score in sorted(self.per_skill.items()):
            lines.append(f"  {name:<12} {score.right:>3}/{score.total:<3} = {score.accuracy:.1%}")
        lines.append(f"false accepts: {len(self.false_accepts)}")
        for failure in self.failures:
            mark = "FALSE ACCEPT" if failure.false_accept else "miss"
            lines.append(
                f"  {mark}: {failure.phrase.text!r} expected {failure.phrase.expected}, got {failure.got}"
            )
        return "\n".join(lines)


def load_phrases(path: Path | str) -> list[Phrase]:
    """Read a phrase TSV (header ``text, skill, action``; ``#`` lines are comments)."""
    path = Path(path)
    phrases: list[Phrase] = []
    with path.open(encoding="utf-8", newline="") as handle:
        rows = csv.reader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(rows, None)
        if header is None or [h.strip().lower() for h in header[:3]] != ["text", "skill", "action"]:
            raise ValueError(f"{path}: the first line must be the header text, skill, action")
        for number, row in enumerate(rows, start=2):
            if not row or not "".join(row).strip() or row[0].lstrip().startswith("#"):
                continue
            if len(row) != 3:
                raise ValueError(f"{path}:{number}: expected 3 tab-separated columns, got {len(row)}")
            text, skill, action = (cell.strip() for cell in row)
            if not text:
                raise ValueError(f"{path}:{number}: empty text")
            if bool(skill) != bool(action):
                raise ValueError(f"{path}:{number}: give both skill and action, or neither")
            phrases.append(Phrase(text, skill or None, action or None, line=number))
    return phrases


def _got(router: Router, text: str, now: dt.datetime) -> str:
    decision = router.route(text, now)
    if decision.route == "skill" and decision.intent is not None:
        return f"{decision.intent.skill}.{decision.intent.action}"
    return LLM


def evaluate(router: Router, phrases: Iterable[Phrase], now: dt.datetime) -> PhraseReport:
    """Route every phrase at the moment ``now`` and score where each went."""
    right = total = 0
    per_skill: dict[str, list[int]] = {}
    failures: list[Failure] = []
    route_ms: list[float] = []
    for phrase in phrases:
        started = time.perf_counter()
        got = _got(router, phrase.text, now)
        route_ms.append((time.perf_counter() - started) * 1000)
        ok = got == phrase.expected
        key = phrase.skill or LLM
        counts = per_skill.setdefault(key, [0, 0])
        counts[0] += ok
        counts[1] += 1
        right += ok
        total += 1
        if not ok:
            failures.append(Failure(phrase, got))
    return PhraseReport(
        overall=Score(right, total),
        per_skill={name: Score(r, t) for name, (r, t) in per_skill.items()},
        failures=failures,
        route_ms=route_ms,
    )


def format_failures(failures: Sequence[Failure]) -> str:
    """One line per failure: the text, what was expected and what it got."""
    return "\n".join(f"{f.phrase.text!r}: expected {f.phrase.expected}, got {f.got}" for f in failures)
