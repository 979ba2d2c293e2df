"""Refusing, before loading, a language model that cannot fit in the memory this machine has."""

from __future__ import annotations

import os
from pathlib import Path

from assistant.errors import ModelError

_MIB = 1024 * 1024
_OVERHEAD_BYTES = 96 * _MIB
"""Runtime buffers llama.cpp allocates besides the weights and the KV cache."""
_KV_BYTES_PER_TOKEN_PER_GB = 96 * 1024
"""Rough KV-cache bytes per context token per GB of weights (f16 cache; bigger models have wider
layers). Deliberately generous: refusing a model that would have fit is a clear message, while
accepting one that does not fit means swapping for minutes or being killed."""


def available_memory_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """Memory the kernel says is available for new work, or None where it does not say."""
    try:
        text = meminfo.read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return None


def estimated_need_bytes(model_bytes: int, context: int) -> int:
    """Memory a GGUF model of this size needs with this context window, estimated."""
    kv = context * _KV_BYTES_PER_TOKEN_PER_GB * max(1.0, model_bytes / 1e9)
    return int(model_bytes + kv + _OVERHEAD_BYTES)


def check_fits_memory(path: Path, context: int, available: int | None = None) -> None:
    """Raise ModelError, with the numbers, when the model would not fit in available memory."""
    available = available_memory_bytes() if available is None else available
    if available is None:
        return  # cannot tell here (not Linux): let the loader try
    size = os.path.getsize(path)
    need = estimated_need_bytes(size, context)
    if need > available:
        raise ModelError(
            f"{path}: the model is {size / _MIB:,.0f} MiB and with a {context}-token context needs about "
            f"{need / _MIB:,.0f} MiB, but only {available / _MIB:,.0f} MiB of memory is available; "
            "choose a smaller model or quantization (llm.model) or a shorter llm.context"
        )
