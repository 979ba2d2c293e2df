"""Reloading the config in a running daemon (SIGHUP): which settings change live, which wait.

Settings read afresh at every turn or utterance change live. Settings fixed when a model, a
device or a server was opened keep their running value until a restart; the reload names them.
A section this table does not know is treated as needing a restart, the safe side.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from assistant.config import Config

ALL = frozenset({"*"})

LIVE: dict[str, frozenset[str]] = {
    "reply": ALL,
    "budgets": frozenset(
        {
            "endpoint_ms",
            "asr_ms",
            "understand_ms",
            "llm_first_token_ms",
            "tts_first_audio_ms",
            "voice_to_voice_ms",
            "skill_timeout_ms",
            "llm_filler",
            "llm_hard_limit_ms",
            "skills_only_after",
            "skills_only_s",
        }
    ),
    "endpoint": ALL,
    "vad": ALL,
    "logging": ALL,
    "skills": ALL,
}
"""Section → keys that change live (ALL: every key). Everything else needs a restart: the models
(asr, llm, llm_remote, tts) and the wake word, which hold their settings from when they were
loaded; audio devices; the HTTP endpoint; budgets.http_timeout_ms (the skills' HTTP client)."""


@dataclass(frozen=True)
class ReloadPlan:
    """What a newly read config changes in a running daemon."""

    config: Config
    """The config to run with: the new one, with restart-only keys at their running values."""
    changed: list[str]
    """Keys whose new values take effect now ("reply.not_heard", "skills.timers")."""
    restart: list[str]
    """Keys changed in the file that keep their running values until a restart ("asr.model")."""


def is_live(section: str, key: str) -> bool:
    """Whether ``section.key`` can change in a running daemon."""
    keys = LIVE.get(section, frozenset())
    return keys is ALL or key in keys


def plan_reload(running: Config, new: Config) -> ReloadPlan:
    """Compare the running config with a newly read one, key by key."""
    changed: list[str] = []
    restart: list[str] = []
    sections: dict[str, Any] = {}
    for f in dataclasses.fields(Config):
        if f.metadata.get("internal"):
            continue
        old_value, new_value = getattr(running, f.name), getattr(new, f.name)
        if old_value == new_value:
            continue
        if dataclasses.is_dataclass(old_value):
            kept: dict[str, Any] = {}
            for sub in dataclasses.fields(old_value):
                before, after = getattr(old_value, sub.name), getattr(new_value, sub.name)
                if before == after:
                    continue
                key = f"{f.name}.{sub.name}"
                if is_live(f.name, sub.name):
                    changed.append(key)
                else:
                    restart.append(key)
                    kept[sub.name] = before
            if kept:
                sections[f.name] = dataclasses.replace(new_value, **kept)
        else:
            # A mapping section (skills): name each entry that changed.
            names = sorted(set(old_value) | set(new_value))
            keys = [f"{f.name}.{n}" for n in names if old_value.get(n) != new_value.get(n)]
            if is_live(f.name, "*"):
                changed.extend(keys)
            else:
                restart.extend(keys)
                sections[f.name] = old_value
    return ReloadPlan(dataclasses.replace(new, **sections), changed, restart)
