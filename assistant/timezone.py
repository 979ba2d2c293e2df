"""The machine's local time zone as a real zone (with its DST rules), not a fixed UTC offset."""

from __future__ import annotations

import datetime as dt
import functools
import os
import zoneinfo
from pathlib import Path


@functools.cache
def local_zone() -> dt.tzinfo:
    """$TZ, else /etc/timezone, else the zone /etc/localtime links to, else a fixed offset."""
    candidates = [os.environ.get("TZ", "").lstrip(":")]
    timezone_file = Path("/etc/timezone")
    if timezone_file.is_file():
        candidates.append(timezone_file.read_text(encoding="utf-8").strip())
    localtime = Path("/etc/localtime")
    if localtime.is_symlink():
        target = str(localtime.resolve())
        if "zoneinfo/" in target:
            candidates.append(target.split("zoneinfo/", 1)[1])
    for name in candidates:
        if name:
            try:
                return zoneinfo.ZoneInfo(name)
            except (zoneinfo.ZoneInfoNotFoundError, ValueError):
                continue
    # No named zone found: a fixed offset is right today, if not across a DST change.
    fallback = dt.datetime.now().astimezone().tzinfo
    return fallback if fallback is not None else dt.UTC


def local_now() -> dt.datetime:
    """The current time in the local zone."""
    return dt.datetime.now(local_zone())
