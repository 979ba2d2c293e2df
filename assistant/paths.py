"""Where the assistant keeps config, state, data and runtime files (XDG and systemd aware)."""

from __future__ import annotations

import os
from pathlib import Path

APP = "hearkend"


def _xdg(var: str, fallback: str) -> Path:
    value = os.environ.get(var)
    return Path(value) if value else Path.home() / fallback


def config_candidates() -> list[Path]:
    """Config files searched when no --config is given, first existing wins."""
    return [_xdg("XDG_CONFIG_HOME", ".config") / APP / "config.yaml", Path("/etc") / APP / "config.yaml"]


def state_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The one directory holding everything the daemon keeps (timers, reminders, caches)."""
    if override:
        return Path(override)
    # systemd's StateDirectory= may list several paths separated by ':'; the first is ours.
    systemd = os.environ.get("STATE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    return _xdg("XDG_STATE_HOME", ".local/state") / APP


def cache_dir() -> Path:
    """Directory for things that can be made again but are slow to make: $CACHE_DIRECTORY
    (systemd's CacheDirectory=), else $XDG_CACHE_HOME/hearkend (~/.cache/hearkend)."""
    systemd = os.environ.get("CACHE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    return _xdg("XDG_CACHE_HOME", ".cache") / APP


def data_dir() -> Path:
    """Directory for downloaded models and other large data ($XDG_DATA_HOME/hearkend)."""
    return _xdg("XDG_DATA_HOME", ".local/share") / APP


def runtime_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """Directory for the control socket: --runtime-dir, $RUNTIME_DIRECTORY (systemd's
    RuntimeDirectory=), $XDG_RUNTIME_DIR/hearkend, else /tmp/hearkend-UID."""
    if override:
        return Path(override)
    systemd = os.environ.get("RUNTIME_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    base = os.environ.get("XDG_RUNTIME_DIR")
    return Path(base) / APP if base else Path("/tmp") / f"{APP}-{os.getuid()}"


CONTROL_SOCKET = "control.sock"
SYSTEM_RUNTIME_DIR = Path("/run") / APP
"""Where the system service (systemd/hearkend.service, RuntimeDirectory=hearkend) keeps its socket."""


def control_socket(override: str | os.PathLike[str] | None = None) -> Path:
    """The daemon's control socket (``assistant status`` and friends connect to it)."""
    return runtime_dir(override) / CONTROL_SOCKET
