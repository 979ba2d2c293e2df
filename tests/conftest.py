"""Shared fixtures: the real models, loaded once per test run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import BudgetsConfig, Config, LlmConfig, WakeConfig
from assistant.runtime import Runtime, start_runtime

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The real embedded models (whisper tiny.en, SmolLM2, piper joe) and built-in skills."""
    state = tmp_path_factory.mktemp("state")
    # A busy CI machine must not turn a slow answer into a cut one; test_budgets tests the cut.
    # Tests feed plain commands: every utterance is one (tests/test_wake.py picks wake mode).
    # No response cache: tests that ask the same question count the model's requests.
    config = Config(
        budgets=BudgetsConfig(llm_hard_limit_ms=120_000),
        wake=WakeConfig(mode="always"),
        llm=LlmConfig(response_cache_entries=0),
    )
    rt = asyncio.run(start_runtime(config, state_dir=state))
    yield rt
    rt.close()
