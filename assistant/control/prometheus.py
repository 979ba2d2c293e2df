"""Prometheus text exposition (format 0.0.4), written by hand: a few families need no library."""

from __future__ import annotations

import bisect
import math
from collections.abc import Mapping, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class Histogram:
    """Observations counted into fixed buckets, as a Prometheus histogram exports them."""

    def __init__(self, bounds: Sequence[float]) -> None:
        if list(bounds) != sorted(set(bounds)):
            raise ValueError("histogram bounds must be increasing and distinct")
        self.bounds = tuple(float(b) for b in bounds)
        """Upper bounds of the buckets (the +Inf bucket is implied)."""
        self._counts = [0] * (len(self.bounds) + 1)
        self.count = 0
        self.sum = 0.0

    def observe(self, value: float) -> None:
        """Count one observation."""
        self._counts[bisect.bisect_left(self.bounds, value)] += 1
        self.count += 1
        self.sum += value

    def cumulative(self) -> list[tuple[float, int]]:
        """(upper bound, observations ≤ it) for every bucket, ending with +Inf."""
        out, running = [], 0
        for bound, n in zip((*self.bounds, math.inf), self._counts, strict=True):
            running += n
            out.append((bound, running))
        return out


class Exposition:
    """Collects metric families and renders them as one text page."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self._lines: list[str] = []

    def gauge(self, name: str, help_text: str, value: float, labels: Mapping[str, str] | None = None) -> None:
        """A family with one gauge sample."""
        self.family(name, "gauge", help_text, {_key(labels): value})

    def counter(self, name: str, help_text: str, value: float) -> None:
        """A family with one counter sample (``name`` without ``_total``; it is added)."""
        self.family(f"{name}_total", "counter", help_text, {(): value}, declared=name)

    def labelled(
        self,
        name: str,
        kind: str,
        help_text: str,
        label: str,
        values: Mapping[str, float],
    ) -> None:
        """A family with one sample per value of a single label (a counter's name gets ``_total``)."""
        samples: dict[tuple[tuple[str, str], ...], float] = {
            ((label, key),): value for key, value in sorted(values.items())
        }
        if kind == "counter":
            self.family(f"{name}_total", kind, help_text, samples, declared=name)
        else:
            self.family(name, kind, help_text, samples)

    def family(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: Mapping[tuple[tuple[str, str], ...], float],
        *,
        declared: str | None = None,
    ) -> None:
        """Any family: HELP and TYPE lines, then its samples (label pairs → value)."""
        base = f"{self.prefix}_{declared or name}"
        self._lines.append(f"# HELP {base} {_escape_help(help_text)}")
        self._lines.append(f"# TYPE {base} {kind}")
        for labels, value in samples.items():
            self._lines.append(f"{self.prefix}_{name}{_labels(labels)} {_number(value)}")

    def histogram(self, name: str, help_text: str, histogram: Histogram) -> None:
        """A histogram family: cumulative ``_bucket`` samples, ``_sum`` and ``_count``."""
        base = f"{self.prefix}_{name}"
        self._lines.append(f"# HELP {base} {_escape_help(help_text)}")
        self._lines.append(f"# TYPE {base} histogram")
        for bound, count in histogram.cumulative():
            self._lines.append(f'{base}_bucket{{le="{_number(bound)}"}} {count}')
        self._lines.append(f"{base}_sum {_number(histogram.sum)}")
        self._lines.append(f"{base}_count {histogram.count}")

    def text(self) -> str:
        """The page."""
        return "\n".join(self._lines) + "\n"


def _key(labels: Mapping[str, str] | None) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((labels or {}).items()))


def _labels(pairs: tuple[tuple[str, str], ...]) -> str:
    if not pairs:
        return ""
    inner = ",".join(f'{key}="{_escape_label(value)}"' for key, value in pairs)
    return "{" + inner + "}"


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n")


def _number(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if float(value).is_integer() and abs(value) < 2**53:
        return str(int(value))
    return repr(float(value))
