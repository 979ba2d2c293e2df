"""Shared fixtures: the real models, loaded once per test run."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Config
from assistant.runtime import Runtime, start_runtime

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The real embedded models (whisper tiny.en, SmolLM2, piper joe) and built-in skills."""
    state = tmp_path_factory.mktemp("state")
    rt = asyncio.run(start_runtime(Config(), state_dir=state))
    yield rt
    rt.close()
