"""The evaluated system prompt kept on disk, so a restart does not evaluate it again.

The system prompt, tool catalogue and examples are the same on every turn. llama.cpp keeps
their evaluated (KV) state between turns in memory; this module also saves that state once in
the state folder and restores it at the next start, which turns seconds of prompt evaluation on
a small CPU into a fraction of a second of reading a file. The file is keyed by everything that
shapes the state (model file, context and batch sizes, llama.cpp version, the messages), so a
changed prompt or model simply evaluates and saves anew.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

_MAGIC = b"HKPS1\n"
_SUFFIX = ".kvstate"


def state_key(model_path: Path, settings: dict[str, Any], messages: list[dict[str, Any]]) -> str:
    """A name for the state of these messages on this model with these settings."""
    import llama_cpp

    stat = model_path.stat()
    identity = {
        "model": [str(model_path.resolve()), stat.st_size, stat.st_mtime_ns],
        "llama_cpp": llama_cpp.__version__,
        "settings": settings,
        "messages": messages,
    }
    return hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:32]


_KEPT = 4
"""States kept per folder (about 30 MB each for the embedded model): several configurations, or
several test runs, may share one cache folder."""


def _used(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except FileNotFoundError:
        return 0.0


class PrefixStateStore:
    """Saved states, one per key; the least recently used beyond a few are removed when saving."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def path(self, key: str) -> Path:
        """Where the state for ``key`` lives."""
        return self.folder / f"{key}{_SUFFIX}"

    def load(self, llama: Any, key: str) -> Any:
        """Restore the saved state into ``llama`` and return it; None when there is none or it is
        unreadable."""
        from llama_cpp.llama import LlamaState

        path = self.path(key)
        try:
            data = path.read_bytes()
            os.utime(path)  # recently used: kept when others are removed
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read the saved prompt state %s: %s", path, exc)
            return None
        try:
            if not data.startswith(_MAGIC):
                raise ValueError("not a prompt state file")
            offset = len(_MAGIC)
            n_tokens, state_size = struct.unpack_from("<QQ", data, offset)
            offset += 16
            ids_end = offset + 4 * n_tokens
            if ids_end + state_size != len(data) or n_tokens > llama.n_ctx():
                raise ValueError("truncated or for another context size")
            input_ids = np.zeros(llama.n_ctx(), dtype=np.intc)
            input_ids[:n_tokens] = np.frombuffer(data[offset:ids_end], dtype="<i4")
            # The logits are not kept: llama-cpp-python evaluates again the last prompt token
            # after a restore, which recomputes them. One row of zeros fills every row.
            scores = np.zeros((1, llama.n_vocab()), dtype=np.single)
            # A view, not a copy: the state is tens of megabytes.
            llama_state = memoryview(data)[ids_end:]
            state = LlamaState(input_ids, scores, n_tokens, llama_state, state_size, llama._seed)  # type: ignore[arg-type]
            llama.load_state(state)
        except Exception as exc:  # a corrupt file must never stop the assistant from starting
            log.warning("ignoring the saved prompt state %s: %s", path, exc)
            llama.reset()
            return None
        return state

    def save(self, llama: Any, key: str) -> Any:
        """Save ``llama``'s current state under ``key`` (atomically), remove the least recently
        used beyond a few, and return the state (without its logits, see ``load``)."""
        state = llama.save_state()
        state.scores = np.zeros((1, llama.n_vocab()), dtype=np.single)
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self.path(key)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")  # processes sharing the folder never collide
        ids = np.asarray(state.input_ids[: state.n_tokens], dtype="<i4").tobytes()
        with open(tmp, "wb") as out:
            out.write(_MAGIC)
            out.write(struct.pack("<QQ", state.n_tokens, state.llama_state_size))
            out.write(ids)
            out.write(state.llama_state)
        os.replace(tmp, path)
        states = sorted(self.folder.glob(f"*{_SUFFIX}"), key=_used, reverse=True)
        for old in states[_KEPT:]:
            old.unlink(missing_ok=True)
        log.info("saved the evaluated system prompt to %s for the next start", path)
        return state
