"""systemd notifications from a real `assistant run`: READY, watchdog while audio flows, STOPPING."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from assistant.notify import Notifier

DATA = Path(__file__).parent / "data"


def test_outside_systemd_nothing_is_sent() -> None:
    notifier = Notifier({})
    assert not notifier.enabled and notifier.watchdog_interval_s is None
    notifier.ready("listening")  # no socket: a no-op, not an error


def test_the_daemon_notifies_ready_pings_while_audio_arrives_and_stops(tmp_path: Path) -> None:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(0.5)
    env = {
        **os.environ,
        "NOTIFY_SOCKET": str(path),
        "WATCHDOG_USEC": "400000",  # ping every 0.2 s
        "XDG_STATE_HOME": str(tmp_path / "state"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "run", "--input", str(DATA / "silence.wav")],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    messages: list[tuple[float, str]] = []
    try:
        deadline = time.monotonic() + 120
        # The input is 2 s of silence + 1 s of trailing silence; then no frames arrive.
        while time.monotonic() < deadline and not any("degraded" in m for _, m in messages):
            try:
                messages.append((time.monotonic(), sock.recv(4096).decode()))
            except TimeoutError:
                continue
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        while True:
            try:
                messages.append((time.monotonic(), sock.recv(4096).decode()))
            except TimeoutError:
                break
    finally:
        if proc.poll() is None:
            proc.kill()
        sock.close()
    texts = [m for _, m in messages]
    assert texts[0] == "READY=1\nSTATUS=listening"
    pings = [i for i, m in enumerate(texts) if m == "WATCHDOG=1"]
    degraded = next(i for i, m in enumerate(texts) if m.startswith("STATUS=degraded: no audio"))
    assert pings and max(pings) < degraded  # pings while frames came, none after they stopped
    assert texts[-1] == "STOPPING=1"
