"""Runs a corpus through our pipeline (and the baseline), paced in real time, and summarises it."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import resource
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from assistant.audio.files import read_audio_file
from assistant.audio.sinks import NullSink
from assistant.audio.sources import BufferSource
from assistant.bench.baseline import baseline_turn
from assistant.bench.corpus import Sample
from assistant.bench.stats import accuracy, p50_p95, word_error_rate
from assistant.runtime import Runtime
from assistant.session import Session, TurnResult
from assistant.trace import MARKS, STAGES

# Real silence after each file: enough for the baseline's 800 ms endpoint and then some.
TRAILING_SILENCE_S = 1.5
# Quiet between turns so one turn's leftovers never overlap the next one's timing.
SETTLE_S = 0.2


@dataclass
class TurnRecord:
    """One file through one pipeline in one run."""

    file: str
    run: int
    pipeline: str
    transcript: str
    route: str
    skill: str | None
    action: str | None
    reply: str
    timings_ms: dict[str, float]
    marks_ms: dict[str, float]
    """Trace marks relative to the last voiced frame (for the waterfall plot)."""
    cpu_s: float
    expected_transcript: str | None = None
    expected_skill: str | None = None
    skill_known: bool = False
    budget_exceeded: list[str] = field(default_factory=list)
    degraded: list[str] = field(default_factory=list)
    """Degrade actions the turn took (filler, llm_cancelled, skills_only)."""
    answered_ahead: bool = False
    """The model started on the transcript of the final pause (llm.answer_ahead)."""

    def to_json(self) -> dict[str, Any]:
        """The record as printed in ``--json``'s ``turns``."""
        return dict(self.__dict__)


async def ours_turn(runtime: Runtime, source: BufferSource) -> TurnResult:
    """One turn through exactly the daemon's session code (every utterance a command: no wake word)."""
    always = dataclasses.replace(runtime.config.wake, mode="always")
    session = Session(runtime, NullSink(), name="bench", wake=always)
    async with contextlib.aclosing(session.utterances(source)) as utterances:
        async for speech in utterances:
            return await session.handle_speech(speech)
    return TurnResult("", "none")


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _relative_marks(result: TurnResult) -> dict[str, float]:
    if result.trace is None or "last_voiced" not in result.trace.marks:
        return {}
    zero = result.trace.marks["last_voiced"]
    return {name: round((t - zero) * 1000, 1) for name, t in result.trace.marks.items() if name in MARKS}


async def run_one(
    runtime: Runtime, sample: Sample, pcm: bytes, run: int, pipeline: str, *, realtime: bool
) -> TurnRecord:
    """Feed one file through one pipeline and record what happened."""
    source = BufferSource(pcm, realtime=realtime, trailing_silence_s=TRAILING_SILENCE_S)
    # Each run asks the same questions again: without this, runs after the first would measure
    # the caches (the model's answer, its synthesized audio), not the pipeline. Phrases warmed
    # at start (pinned) stay, as they do live.
    if runtime.answerer is not None:
        runtime.answerer.cache.clear()
    runtime.tts.cache.forget_learned()
    cpu_before = _cpu_seconds()
    if pipeline == "ours":
        result = await ours_turn(runtime, source)
    else:
        result = await baseline_turn(runtime, source, NullSink())
    cpu = _cpu_seconds() - cpu_before
    return TurnRecord(
        file=sample.path.name,
        run=run,
        pipeline=pipeline,
        transcript=result.transcript,
        route=result.route,
        skill=result.skill,
        action=result.action,
        reply=result.reply,
        timings_ms=result.timings_ms,
        marks_ms=_relative_marks(result),
        cpu_s=round(cpu, 3),
        expected_transcript=sample.transcript,
        expected_skill=sample.skill,
        skill_known=sample.skill_known,
        budget_exceeded=result.budget_exceeded,
        degraded=result.degraded,
        answered_ahead=result.answered_ahead,
    )


async def run_bench(
    runtime: Runtime,
    samples: list[Sample],
    *,
    runs: int = 1,
    baseline: bool = False,
    realtime: bool = True,
    progress: Callable[[TurnRecord], None] | None = None,
) -> list[TurnRecord]:
    """Every sample through our pipeline (and the baseline), ``runs`` times, in one process."""
    audio = [await asyncio.to_thread(read_audio_file, s.path) for s in samples]
    pipelines = ["ours", "baseline"] if baseline else ["ours"]
    records: list[TurnRecord] = []
    for run in range(1, runs + 1):
        for pipeline in pipelines:
            for sample, pcm in zip(samples, audio, strict=True):
                record = await run_one(runtime, sample, pcm, run, pipeline, realtime=realtime)
                records.append(record)
                if progress is not None:
                    progress(record)
                await asyncio.sleep(SETTLE_S)
    return records


def summarize(records: list[TurnRecord]) -> dict[str, Any]:
    """Percentiles per stage and route, WER, skill accuracy, memory and CPU for one pipeline."""
    answered = [r for r in records if "voice_to_voice" in r.timings_ms]
    summary: dict[str, Any] = {
        "turns": len(records),
        "voice_to_voice_ms": p50_p95([r.timings_ms["voice_to_voice"] for r in answered]),
    }
    for route in ("skill", "llm"):
        of_route = [r for r in answered if r.route == route]
        summary[route] = {
            "turns": len(of_route),
            "voice_to_voice_ms": p50_p95([r.timings_ms["voice_to_voice"] for r in of_route]),
        }
    summary["stages_ms"] = {
        stage: p50_p95([r.timings_ms[stage] for r in records if stage in r.timings_ms])
        for stage in STAGES
        if stage != "voice_to_voice"
    }
    summary["wer"] = word_error_rate(
        [(r.expected_transcript, r.transcript) for r in records if r.expected_transcript is not None]
    )
    summary["skill_accuracy"] = accuracy([(r.expected_skill, r.skill) for r in records if r.skill_known])
    # How often budgets were overrun and acted on: stage → turns, action → turns.
    summary["over_budget"] = dict(Counter(stage for r in records for stage in r.budget_exceeded))
    summary["degraded"] = dict(Counter(action for r in records for action in r.degraded))
    summary["answered_ahead"] = sum(r.answered_ahead for r in records)
    summary["rss_mb"] = peak_rss_mb()
    summary["cpu_s_per_turn"] = round(sum(r.cpu_s for r in records) / len(records), 3) if records else None
    return summary


def report(records: list[TurnRecord]) -> dict[str, Any]:
    """The ``--json`` object: summary, baseline summary and ratio when run, and every turn."""
    ours = [r for r in records if r.pipeline == "ours"]
    base = [r for r in records if r.pipeline == "baseline"]
    out: dict[str, Any] = {"summary": summarize(ours)}
    if base:
        out["baseline"] = summarize(base)
        ours_p50 = out["summary"]["voice_to_voice_ms"]["p50"]
        base_p50 = out["baseline"]["voice_to_voice_ms"]["p50"]
        out["ratio"] = {
            "voice_to_voice_p50": round(base_p50 / ours_p50, 2) if ours_p50 and base_p50 else None
        }
    out["turns"] = [r.to_json() for r in records]
    return out


async def measure_idle(runtime: Runtime, seconds: float, *, seed: int = 1) -> dict[str, Any]:
    """CPU share of one core and memory while listening to quiet room noise for ``seconds``
    (in the configured listening mode: by default the wake word detector is what runs)."""
    rng = np.random.default_rng(seed)
    # Quiet room noise, about -50 dBFS: what an idle microphone hears.
    noise = rng.normal(0, 100, int(16000 * seconds)).clip(-32768, 32767).astype(np.int16)
    source = BufferSource(noise.tobytes(), realtime=True, trailing_silence_s=0)
    session = Session(runtime, NullSink(), name="idle")
    turns = 0
    start_wall, start_cpu = time.monotonic(), _cpu_seconds()
    async with contextlib.aclosing(session.utterances(source)) as utterances:
        async for _ in utterances:
            turns += 1
    wall = time.monotonic() - start_wall
    cpu = _cpu_seconds() - start_cpu
    detector = session.listener.detector
    return {
        "seconds": round(wall, 1),
        "cpu_percent_of_one_core": round(100 * cpu / wall, 2),
        "rss_mb": peak_rss_mb(),
        "false_turns": turns,
        "mode": session.wake.mode,
        "wake_detections": detector.detections if detector is not None else 0,
    }
