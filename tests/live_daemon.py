"""A real ``assistant run --input -`` for tests: paced silence on its stdin (speech on request),
its control socket in a private runtime directory, its log in a file.

Shared by the control, HTTP metrics and reload tests. A test-only skill (``hktest_slow``) can be
installed for the daemon alone: a package with its entry point on the daemon's PYTHONPATH, the
way a pip-installed plugin is found, so the product carries no test code.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import wave
from pathlib import Path
from typing import IO

SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"
FRAME_BYTES = 960  # 30 ms of 16 kHz mono s16le
START_TIMEOUT_S = 240.0

SLOW_SKILL = '''
"""Test-only skill: one handler that blocks the event loop, two that are merely slow."""

import asyncio
import time

from assistant.skill import Reply, Skill

skill = Skill("hktest_slow", "Blocks or delays on purpose, for the daemon's tests.")


@skill.intent("freeze", description="Block the event loop.", sentences=["freeze the event loop"])
async def freeze(ctx, slots):
    time.sleep(float(ctx.config.get("freeze_s", 3.0)))  # synchronously, on purpose
    return Reply("Thawed.")


@skill.intent("dawdle", description="Answer too late.", sentences=["take your time"])
async def dawdle(ctx, slots):
    await asyncio.sleep(30)
    return Reply("Finally.")


@skill.intent("linger", description="Think quietly for a while.", sentences=["tell me a joke"])
async def linger(ctx, slots):
    await asyncio.sleep(float(ctx.config.get("linger_s", 10.0)))  # a spoken turn that takes long
    return Reply("Done.")
'''


def install_slow_skill(site: Path) -> Path:
    """Write the test skill and its distribution metadata (entry point) under ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    (site / "hktest_slow.py").write_text(SLOW_SKILL)
    info = site / "hktest_slow-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: hktest-slow\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[hearkend.skills]\nhktest_slow = hktest_slow:skill\n")
    return site


def speech(name: str) -> bytes:
    """A bundled spoken sample as raw 16 kHz mono PCM."""
    with wave.open(str(SAMPLES / name)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (16000, 1, 2)
        pcm: bytes = w.readframes(w.getnframes())
        return pcm


def isolated_env(tmp: Path, **extra: str) -> dict[str, str]:
    """The environment with config, state, data and runtime directories under ``tmp``."""
    env = dict(os.environ)
    for var in ("XDG_CONFIG_HOME", "XDG_STATE_HOME", "XDG_DATA_HOME", "XDG_RUNTIME_DIR"):
        path = tmp / var.lower()
        path.mkdir(mode=0o700, exist_ok=True)
        env[var] = str(path)
    for var in ("STATE_DIRECTORY", "RUNTIME_DIRECTORY", "NOTIFY_SOCKET", "WATCHDOG_USEC"):
        env.pop(var, None)
    env.update(extra)
    return env


class LiveDaemon:
    """``assistant run --input - --output OUT.wav`` with its control socket in ``runtime_dir``."""

    def __init__(
        self,
        tmp: Path,
        config: Path,
        *,
        runtime_dir: Path | None = None,
        env: dict[str, str] | None = None,
        global_args: tuple[str, ...] = (),
    ) -> None:
        self.tmp = tmp
        self.config = config
        self.runtime_dir = runtime_dir or tmp / "run"
        self.output = tmp / "out.wav"
        self.log = tmp / "daemon.log"
        self.stdout = tmp / "daemon.stdout"
        self.env = env or isolated_env(tmp)
        self._audio: queue.Queue[bytes] = queue.Queue()
        self._paused = threading.Event()
        self._stop = threading.Event()
        self._log_file: IO[bytes] = self.log.open("wb")
        self._stdout_file: IO[bytes] = self.stdout.open("wb")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "assistant",
                "--config",
                str(config),
                "--runtime-dir",
                str(self.runtime_dir),
                "--state-dir",
                str(tmp / "state"),
                *global_args,
                "run",
                "--input",
                "-",
                "--output",
                str(self.output),
            ],
            stdin=subprocess.PIPE,
            stdout=self._stdout_file,
            stderr=self._log_file,
            env=self.env,
            cwd=tmp,
        )
        self._feeder = threading.Thread(target=self._feed, name="pcm-feeder", daemon=True)
        self._feeder.start()

    @property
    def socket(self) -> Path:
        """The control socket."""
        return self.runtime_dir / "control.sock"

    def _feed(self) -> None:
        """Write 30 ms frames in real time: queued speech first, else silence (none while paused)."""
        stdin = self.proc.stdin
        assert stdin is not None
        pending = b""
        next_t = time.monotonic()
        try:
            while not self._stop.is_set():
                if not pending:
                    try:
                        pending = self._audio.get_nowait()
                    except queue.Empty:
                        pending = b""
                if pending:
                    frame, pending = pending[:FRAME_BYTES], pending[FRAME_BYTES:]
                    frame = frame.ljust(FRAME_BYTES, b"\0")
                elif self._paused.is_set():
                    frame = b""
                else:
                    frame = bytes(FRAME_BYTES)
                if frame:
                    stdin.write(frame)
                    stdin.flush()
                next_t += FRAME_BYTES / 32000
                time.sleep(max(0.0, next_t - time.monotonic()))
        except (BrokenPipeError, ValueError, OSError):
            return  # the daemon is gone

    def say_into_microphone(self, pcm: bytes, trailing_silence_s: float = 1.0) -> None:
        """Queue speech (then silence, so the endpointer ends the utterance)."""
        self._audio.put(pcm + bytes(int(32000 * trailing_silence_s) // 2 * 2))

    def pause_audio(self, paused: bool) -> None:
        """Stop (or resume) sending frames, as a microphone that stops delivering."""
        if paused:
            self._paused.set()
        else:
            self._paused.clear()

    def text(self) -> str:
        """The daemon's log so far."""
        return self.log.read_text(errors="replace")

    def wait_for(self, needle: str, timeout: float = 60, *, after: int = 0) -> None:
        """Wait until ``needle`` is in the log (past character ``after``)."""
        deadline = time.monotonic() + timeout
        while needle not in self.text()[after:]:
            assert self.proc.poll() is None, f"daemon exited ({self.proc.returncode}):\n{self.text()}"
            assert time.monotonic() < deadline, f"no {needle!r} in:\n{self.text()}"
            time.sleep(0.1)

    def wait_ready(self) -> None:
        """Wait until the control socket answers."""
        self.wait_for("control socket listening at", timeout=START_TIMEOUT_S)

    def control(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """Run ``assistant ARGS`` against this daemon's socket."""
        return subprocess.run(
            [sys.executable, "-m", "assistant", "--runtime-dir", str(self.runtime_dir), *args],
            capture_output=True,
            text=True,
            env=self.env,
            cwd=self.tmp,
            timeout=timeout,
        )

    def wait_until_quiet(self, timeout: float = 30) -> None:
        """Wait until the daemon has finished speaking (and the self-hearing tail after it), so
        that speech fed next is not taken for its own echo."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.control("status", "--json")
            if status.returncode == 0 and json.loads(status.stdout).get("state") == "listening":
                time.sleep(0.5)  # wake.echo_tail_ms is 300 by default
                return
            time.sleep(0.2)
        raise AssertionError(f"the daemon was still busy after {timeout} s:\n{self.text()}")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> tuple[int, float]:
        """Send ``sig`` and wait; returns the exit code and how long the exit took."""
        start = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=timeout)
        finally:
            took = time.monotonic() - start
            self.close()
        return code, took

    def close(self) -> None:
        """Kill the daemon if it still runs; stop feeding; close files."""
        self._stop.set()
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=30)
        self._feeder.join(timeout=5)
        if self.proc.stdin is not None:
            with contextlib.suppress(OSError):
                self.proc.stdin.close()
        self._log_file.close()
        self._stdout_file.close()
