"""systemd service notifications (sd_notify): READY, STATUS, STOPPING and the watchdog.

Speaks the datagram protocol on $NOTIFY_SOCKET directly; outside systemd it does nothing.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)


class Notifier:
    """Sends state changes to systemd when it started us with a notification socket."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        env = os.environ if env is None else env
        self.address = env.get("NOTIFY_SOCKET") or None
        usec = env.get("WATCHDOG_USEC", "")
        # Ping at half the period systemd waits, as sd_watchdog_enabled() suggests.
        self.watchdog_interval_s = int(usec) / 2_000_000 if usec.isdigit() and int(usec) > 0 else None

    @property
    def enabled(self) -> bool:
        """True when systemd listens."""
        return self.address is not None

    def send(self, message: str) -> None:
        """Send one notification ("READY=1", "STATUS=listening", ...); failures are only logged."""
        if self.address is None:
            return
        address = "\0" + self.address[1:] if self.address.startswith("@") else self.address
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                # Called on the event loop: a reader that is not reading must not block it
                # (a full queue drops this message with a warning instead).
                sock.setblocking(False)
                sock.sendto(message.encode(), address)
        except OSError as exc:
            log.warning("cannot notify systemd at %s: %s", self.address, exc)

    def ready(self, status: str) -> None:
        """Models are loaded and audio is open."""
        self.send(f"READY=1\nSTATUS={status}")

    def status(self, status: str) -> None:
        """What the daemon is doing, shown by systemctl status."""
        self.send(f"STATUS={status}")

    def stopping(self) -> None:
        """Shutdown has begun."""
        self.send("STOPPING=1")

    def watchdog(self) -> None:
        """Still alive: the loop runs and audio arrives."""
        self.send("WATCHDOG=1")
