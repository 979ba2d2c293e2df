"""CPU/CUDA choice per stage: CPU by default, CUDA only where usable, one warning otherwise."""

from __future__ import annotations

import logging

import pytest

from assistant.devices import choose_device


def no_cuda() -> bool:
    return False


def broken_driver() -> bool:
    raise RuntimeError("libcuda.so.1: cannot open shared object file")


def test_cpu_is_never_second_guessed() -> None:
    assert choose_device("asr", "cpu", lambda: True) == "cpu"


def test_cuda_where_present() -> None:
    assert choose_device("llm", "cuda", lambda: True) == "cuda"
    assert choose_device("llm", "auto", lambda: True) == "cuda"


def test_cuda_missing_falls_back_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert choose_device("asr", "cuda", no_cuda) == "cpu"
        assert choose_device("tts", "cuda", broken_driver) == "cpu"
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 2
    assert warnings[0].startswith("asr: device is cuda but no CUDA device is usable")
    assert warnings[1].startswith("tts:")


def test_auto_without_cuda_is_quietly_cpu(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        assert choose_device("asr", "auto", no_cuda) == "cpu"
    assert not caplog.records
