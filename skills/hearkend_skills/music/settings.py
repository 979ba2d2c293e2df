"""The music skill's settings, read from its config section (``skills.music``)."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_VOLUME", "Settings"]

DEFAULT_VOLUME = 50


@dataclass(frozen=True)
class Settings:
    """What ``skills.music`` says, checked, with defaults."""

    folders: tuple[Path, ...] = ()
    """Folders to index, ``~`` expanded."""
    shuffle: bool = False
    """Play in random order unless a request says otherwise."""
    volume: int = DEFAULT_VOLUME
    """Music volume (0–100) until someone changes it."""
    rescan_on_start: bool = True
    """Look for changed files each time the daemon starts (otherwise only when folders change)."""

    @classmethod
    def from_config(cls, config: Mapping[str, Any], log: logging.Logger) -> Settings:
        """Settings from the config section; a wrong value is logged and its default used."""
        raw = config.get("folders") or []
        if isinstance(raw, str | os.PathLike):
            raw = [raw]  # one folder written without a list is clearly meant as one
        folders: list[Path] = []
        if isinstance(raw, list | tuple):
            for item in raw:
                if isinstance(item, str | os.PathLike) and str(item).strip():
                    folders.append(Path(os.path.expanduser(str(item).strip())))
                else:
                    log.warning("skills.music.folders: ignoring %r (not a folder path)", item)
        else:
            log.warning("skills.music.folders must be a list of folders, not %r", raw)
        return cls(
            folders=tuple(folders),
            shuffle=_flag(config, "shuffle", False, log),
            volume=_volume(config, log),
            rescan_on_start=_flag(config, "rescan_on_start", True, log),
        )

    def folder_names(self) -> list[str]:
        """The folders as strings (for the index marker and for messages)."""
        return [str(f) for f in self.folders]


def _flag(config: Mapping[str, Any], key: str, default: bool, log: logging.Logger) -> bool:
    value = config.get(key, default)
    if isinstance(value, bool):
        return value
    log.warning("skills.music.%s must be true or false, not %r; using %s", key, value, default)
    return default


def _volume(config: Mapping[str, Any], log: logging.Logger) -> int:
    value = config.get("volume", DEFAULT_VOLUME)
    if isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 100:
        return round(value)
    log.warning("skills.music.volume must be 0–100, not %r; using %d", value, DEFAULT_VOLUME)
    return DEFAULT_VOLUME
