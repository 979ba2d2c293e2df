"""``assistant bench``: the latency benchmark."""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

from assistant.bench.corpus import BenchError, Sample, default_corpus, load_corpus
from assistant.bench.runner import TurnRecord, measure_idle, report, run_bench
from assistant.config import Config, load_config
from assistant.logs import setup_logging
from assistant.paths import state_dir
from assistant.runtime import start_runtime

STAGE_ROWS = ("endpoint", "asr", "understand", "llm_first_token", "tts_first_audio")


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the ``bench`` command."""
    bench = sub.add_parser(
        "bench", parents=[common], help="measure every stage on a corpus of spoken commands"
    )
    bench.add_argument("corpus", nargs="?", help="folder of audio files (+ expected.tsv); default: bundled")
    bench.add_argument("--runs", type=int, default=1, help="passes over the corpus")
    bench.add_argument("--baseline", action="store_true", help="also run the sequential baseline")
    bench.add_argument("--plot", metavar="FILE.html", help="write a per-turn waterfall")
    bench.add_argument("--json", action="store_true", help="print one JSON object")
    bench.add_argument("--idle", type=float, metavar="SECONDS", help="measure idle listening instead")
    bench.add_argument("--no-pace", action="store_true", help="do not pace audio in real time")
    bench.set_defaults(func=_bench)


def _fmt(pair: dict[str, float | None]) -> str:
    if pair.get("p50") is None:
        return "—"
    return f"{pair['p50']:.0f} / {pair['p95']:.0f}"


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{100 * value:.1f}%"


def print_table(result: dict[str, Any], out: Any = sys.stdout) -> None:
    """The human-readable summary: p50/p95 per stage, ours beside the baseline."""
    ours = result["summary"]
    base = result.get("baseline")
    header = f"{'ms (p50 / p95)':<24}{'ours':>16}" + (f"{'baseline':>18}" if base else "")
    lines = [header, "-" * len(header)]

    def row(label: str, get: Any, fmt: Any = _fmt) -> None:
        line = f"{label:<24}{fmt(get(ours)):>16}"
        if base:
            line += f"{fmt(get(base)):>18}"
        lines.append(line)

    row("voice to voice", lambda s: s["voice_to_voice_ms"])
    row("  skill commands", lambda s: s["skill"]["voice_to_voice_ms"])
    row("  LLM answers", lambda s: s["llm"]["voice_to_voice_ms"])
    for stage in STAGE_ROWS:
        row(f"  {stage.replace('_', ' ')}", lambda s, st=stage: s["stages_ms"][st])
    row("word error rate", lambda s: s["wer"], _pct)
    row("skill accuracy", lambda s: s["skill_accuracy"], _pct)
    row("CPU s per turn", lambda s: s["cpu_s_per_turn"], lambda v: "—" if v is None else f"{v:.2f}")
    row("peak RSS MB", lambda s: s["rss_mb"], lambda v: f"{v:.0f}")
    for key, label in (("over_budget", "over budget"), ("degraded", "degraded")):
        counts = ours.get(key) or {}
        if counts:
            lines.append(f"{label} (ours): " + ", ".join(f"{k} {n}" for k, n in sorted(counts.items())))
    if ours.get("answered_ahead"):
        ahead, llm_turns = ours["answered_ahead"], ours["llm"]["turns"]
        lines.append(f"LLM answers started on the pause transcript (ours): {ahead} of {llm_turns}")
    if base and result.get("ratio", {}).get("voice_to_voice_p50"):
        lines.append(
            f"speed-up (baseline ÷ ours, voice-to-voice p50): {result['ratio']['voice_to_voice_p50']:.2f}×"
        )
    print("\n".join(lines), file=out)


def _progress(record: TurnRecord) -> None:
    v2v = record.timings_ms.get("voice_to_voice")
    took = f"{v2v:.0f} ms" if v2v is not None else "no reply"
    print(
        f"  run {record.run} {record.pipeline:<8} {record.file:<34} {record.route:<5} {took:>9}  "
        f"{record.transcript!r}",
        file=sys.stderr,
    )


async def _bench(args: argparse.Namespace) -> int:
    if args.runs < 1:
        raise BenchError(f"--runs must be at least 1, got {args.runs}")
    if args.idle is not None and args.idle <= 0:
        raise BenchError(f"--idle must be a positive number of seconds, got {args.idle}")
    config = load_config(args.config)
    setup_logging(args.log_level or "warning", args.log_format or config.logging.format)
    samples = [] if args.idle else load_corpus(Path(args.corpus) if args.corpus else default_corpus())
    with contextlib.ExitStack() as stack:
        if args.state_dir is None:
            # The bench sets timers and alarms as it goes: in a throwaway state directory, not
            # among the person's own (--state-dir picks one on purpose).
            state = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hearkend-bench-")))
        else:
            state = state_dir(args.state_dir)
        return await _bench_in(args, config, samples, state)


async def _bench_in(args: argparse.Namespace, config: Config, samples: list[Sample], state: Path) -> int:
    runtime = await start_runtime(config, state_dir=state)
    try:
        if args.idle:
            idle = await measure_idle(runtime, args.idle)
            print(json.dumps({"idle": idle}) if args.json else _idle_text(idle))
            return 0
        records = await run_bench(
            runtime,
            samples,
            runs=args.runs,
            baseline=args.baseline,
            realtime=not args.no_pace,
            progress=None if args.json else _progress,
        )
    finally:
        runtime.close()
    result = report(records)
    if args.plot:
        from assistant.bench.plot import write_plot

        write_plot(records, Path(args.plot))
    if args.json:
        print(json.dumps(result))
    else:
        print_table(result)
        if args.plot:
            print(f"waterfall: {args.plot}")
    return 0


def _idle_text(idle: dict[str, Any]) -> str:
    return (
        f"idle listening ({idle['mode']} mode) for {idle['seconds']:.0f} s: "
        f"{idle['cpu_percent_of_one_core']:.2f}% of one core, peak RSS {idle['rss_mb']:.0f} MB, "
        f"{idle['false_turns']:.0f} false turns, {idle['wake_detections']:.0f} wake words"
    )
