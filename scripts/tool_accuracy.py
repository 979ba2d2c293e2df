"""Measure the language model's choices on our phrase set, and its time to first token with and
without the evaluated system prompt.

    .venv/bin/python scripts/tool_accuracy.py [--config FILE] [--no-gate] [--phrases TSV]

For each phrase no template matches: the model's decision (a tool, or an answer in words), whether
it is the expected one, and whether a tool call's arguments pass validation. Prints a summary and
one line per phrase.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from assistant.config import load_config
from assistant.llm.decision import AnswerText, DecisionError, ToolRequest
from assistant.llm.local import LocalLlm
from assistant.llm.prompt import Prompt
from assistant.llm.tools import ToolCallError
from assistant.metrics import PromptCounters
from assistant.runtime import Runtime, start_runtime

PHRASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "tool_phrases.tsv"


def read_phrases(path: Path) -> list[tuple[str, str]]:
    """(text, expected tool or "answer") rows of a phrase file."""
    rows = []
    for line in path.read_text().splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("text\t"):
            continue
        text, expected = line.split("\t")
        rows.append((text, expected))
    return rows


async def first_token_ms(llm: LocalLlm, runtime: Runtime, text: str) -> float:
    """Milliseconds from asking to the first piece of the answer."""
    assert runtime.answerer is not None
    start = time.perf_counter()
    events = llm.decide(Prompt(runtime.config.llm.system_prompt, text), runtime.answerer.tools, ())
    async with contextlib.aclosing(events):
        async for _ in events:
            return (time.perf_counter() - start) * 1000
    return float("nan")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config")
    parser.add_argument("--no-gate", action="store_true", help="offer every tool on every request")
    parser.add_argument("--phrases", type=Path, default=PHRASES)
    args = parser.parse_args()
    config = load_config(args.config)
    config = dataclasses.replace(
        config, llm=dataclasses.replace(config.llm, tool_gate=not args.no_gate, response_cache_entries=0)
    )
    with tempfile.TemporaryDirectory() as state:
        runtime = await start_runtime(config, state_dir=Path(state), need_asr=False)
        try:
            await run(runtime, read_phrases(args.phrases))
        finally:
            await runtime.aclose()


async def run(runtime: Runtime, phrases: list[tuple[str, str]]) -> None:
    """Print the accuracy summary and the first-token times."""
    answerer, llm = runtime.answerer, runtime.llm
    assert answerer is not None and llm is not None
    right = tools_right = tools_total = answers_right = answers_total = valid = calls = 0
    template = 0
    took: list[float] = []
    lines = []
    for text, expected in phrases:
        if runtime.router.route(text, runtime.now()).route == "skill":
            template += 1
            lines.append(f"  template  {text}")
            continue
        start = time.perf_counter()
        chosen, ok = "answer", True
        try:
            async with contextlib.aclosing(
                answerer.decide(Prompt(runtime.config.llm.system_prompt, text), [])
            ) as ev:
                async for event in ev:
                    if isinstance(event, ToolRequest):
                        chosen = event.name
                        calls += 1
                        try:
                            answerer.tools.resolve(event.name, event.arguments, runtime.now())
                            valid += 1
                        except ToolCallError:
                            ok = False
                    elif not isinstance(event, AnswerText):
                        raise TypeError(event)
        except DecisionError:
            chosen, ok = "unreadable", False
        took.append((time.perf_counter() - start) * 1000)
        hit = chosen == expected
        right += hit
        if expected == "answer":
            answers_total += 1
            answers_right += hit
        else:
            tools_total += 1
            tools_right += hit
        lines.append(
            f"  {'ok  ' if hit else 'MISS'} {'' if ok else '(invalid) '}{expected:24} {chosen:24} {text}"
        )
    asked = len(phrases) - template
    gate = "on" if answerer.tool_gate else "off"
    print(f"gate: {gate}; {len(phrases)} phrases, {template} matched a template")
    print(f"right choice: {right}/{asked} ({100 * right / max(1, asked):.0f} %)")
    print(
        f"  tool-bound: {tools_right}/{tools_total}; answer-bound (no tool): {answers_right}/{answers_total}"
    )
    print(f"  tool calls whose arguments validated: {valid}/{calls}")
    print(f"  decision time p50 {statistics.median(took):.0f} ms")
    print("\n".join(lines))
    # Time to first token: the warm model (system prompt state reused) against a cold one.
    warm = [await first_token_ms(llm, runtime, q) for q in ("Who wrote Hamlet?", "Why is the sea salty?")]
    cold = LocalLlm(llm.model_path, runtime.config.llm, PromptCounters())
    await asyncio.to_thread(cold.load)
    try:
        cold_ms = await first_token_ms(cold, runtime, "Who wrote Hamlet?")
        evaluated = cold.prompt_counters.last_evaluated
    finally:
        cold.close()
    print(
        f"first token: with the evaluated prompt {statistics.median(warm):.0f} ms "
        f"({llm.prompt_counters.last_evaluated} tokens evaluated); "
        f"without {cold_ms:.0f} ms ({evaluated} tokens evaluated)"
    )


if __name__ == "__main__":
    asyncio.run(main())
