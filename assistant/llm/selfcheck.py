"""Checks that llama.cpp runs on this CPU: loads the embedded model and generates one token.

Run as ``python -m assistant.llm.selfcheck``; a crash (illegal instruction) shows the build is
wrong for this machine, which setup detects and repairs.
"""

from __future__ import annotations

import sys

from assistant import paths
from assistant.config import LlmConfig
from assistant.llm.local import LocalLlm
from assistant.models import resolve_model


def main() -> int:
    """Generate one token with the default model; exit 0 when it works."""
    config = LlmConfig(max_tokens=1, context=256)
    llm = LocalLlm(resolve_model(config.model, "llm", paths.data_dir()), config)
    llm.load()
    text = llm.complete_sync([{"role": "user", "content": "Hi"}])
    print(f"llama.cpp ok: {text!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
