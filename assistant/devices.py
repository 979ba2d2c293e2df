"""Choosing CPU or CUDA for each model stage, with one clear warning when CUDA is absent."""

from __future__ import annotations

import logging
from collections.abc import Callable

log = logging.getLogger(__name__)


def choose_device(stage: str, wanted: str, cuda_available: Callable[[], bool]) -> str:
    """Resolve cpu|cuda|auto to cpu or cuda; asking for CUDA without one falls back to CPU."""
    if wanted == "cpu":
        return "cpu"
    try:
        has_cuda = cuda_available()
    except Exception:  # a missing driver can raise from deep inside a library
        has_cuda = False
    if has_cuda:
        return "cuda"
    if wanted == "cuda":
        log.warning("%s: device is cuda but no CUDA device is usable here; running on the CPU", stage)
    return "cpu"
