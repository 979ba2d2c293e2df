"""The control socket of a real ``assistant run``: status, ask --daemon, timers, say, mute,
push-to-talk, bad requests, permissions, stale sockets, SIGTERM; and systemd's STATUS= and
watchdog while the event loop is blocked."""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_daemon import LiveDaemon, install_slow_skill, isolated_env, speech

from assistant.control import protocol
from assistant.control.protocol import Request
from assistant.control.server import ControlServer

CONFIG = """\
wake:
  mode: always
"""


def _stale_socket(path: Path) -> None:
    """What a killed daemon leaves: a socket file nobody listens on."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.bind(str(path))
    sock.close()


@pytest.fixture(scope="module")
def shared_dir() -> Iterator[Path]:
    """A runtime directory other users may enter (0755), so only the socket's own mode guards it."""
    top = Path(tempfile.mkdtemp(prefix="hk-ctl-"))
    top.chmod(0o755)
    run = top / "run"
    run.mkdir(mode=0o755)
    run.chmod(0o755)
    yield run
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory, shared_dir: Path) -> Iterator[LiveDaemon]:
    """One daemon for the module; it starts over a stale socket left by a 'killed' one."""
    tmp = tmp_path_factory.mktemp("control")
    config = tmp / "config.yaml"
    config.write_text(CONFIG)
    _stale_socket(shared_dir / "control.sock")
    daemon = LiveDaemon(tmp, config, runtime_dir=shared_dir)
    try:
        daemon.wait_ready()
        yield daemon
    finally:
        daemon.close()


def status(live: LiveDaemon) -> dict[str, Any]:
    proc = live.control("status", "--json")
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def raw(path: Path, payload: bytes) -> dict[str, Any]:
    """Send bytes as they are and read the one answer line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(30)
        sock.connect(str(path))
        sock.sendall(payload)
        sock.shutdown(socket.SHUT_WR)
        data = b""
        while not data.endswith(b"\n"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    answer: dict[str, Any] = json.loads(data)
    return answer


# --- without a daemon -----------------------------------------------------------------------------


def test_without_a_daemon_the_client_says_so_and_exits_2(tmp_path: Path) -> None:
    run = tmp_path / "run"
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "--runtime-dir", str(run), "status"],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        f"error: no daemon running at {run / 'control.sock'}: start it with `assistant run`"
    )


async def test_a_running_servers_socket_is_never_taken_over_and_a_dead_ones_is(tmp_path: Path) -> None:
    async def echo(request: Request) -> dict[str, Any]:
        return {"cmd": request.cmd}

    path = tmp_path / "run" / "control.sock"
    first = ControlServer(path, echo)
    assert await first.start()
    second = ControlServer(path, echo)
    try:
        assert not await second.start()  # another daemon holds it: warned, not stolen
        assert not second.listening
        answer = await asyncio.to_thread(raw, path, protocol.encode_request("status"))
        assert answer == {"v": 1, "ok": True, "result": {"cmd": "status"}}
    finally:
        await first.aclose()
    assert not path.exists()  # removed on exit
    _stale_socket(path)
    try:
        assert await second.start()  # a socket nobody serves is replaced
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    finally:
        await second.aclose()
    assert not path.exists()


async def test_the_socket_directory_must_not_be_writable_by_others(tmp_path: Path) -> None:
    from assistant.control.server import ControlSetupError

    run = tmp_path / "run"
    run.mkdir()
    run.chmod(0o777)

    async def nothing(request: Request) -> dict[str, Any]:
        return {}

    with pytest.raises(ControlSetupError, match="writable by other users"):
        await ControlServer(run / "control.sock", nothing).start()


# --- one live daemon ------------------------------------------------------------------------------


def test_a_stale_socket_is_replaced_and_the_socket_is_private(live: LiveDaemon) -> None:
    assert "replaced the stale control socket" in live.text()
    mode = live.socket.stat().st_mode
    assert stat.S_ISSOCK(mode) and stat.S_IMODE(mode) == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="switching to another user needs root")
def test_another_user_cannot_connect(live: LiveDaemon) -> None:
    nobody = pwd.getpwnam("nobody")
    pid = os.fork()
    if pid == 0:  # the child becomes nobody and tries; it only reports through its exit code
        code = 3
        try:
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(str(live.socket))
            code = 1
        except PermissionError:
            code = 0
        except BaseException:
            code = 2
        finally:
            os._exit(code)
    _, wait_status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(wait_status) == 0, "connected, or failed otherwise (1: connected)"
    # The directory lets them in: it is the socket's own mode that refuses them.
    assert stat.S_IMODE(live.socket.parent.stat().st_mode) == 0o755


def test_status_shows_state_models_and_skills(live: LiveDaemon) -> None:
    result = status(live)
    assert result["state"] == "listening" and result["muted"] is False
    assert result["pid"] == live.proc.pid
    assert {"asr", "llm", "tts"} <= set(result["models"])
    assert result["models"]["asr"]["name"] == "whisper-tiny.en"
    assert {"clock", "timers", "reminders"} <= set(result["skills"]["loaded"])
    assert "tts_cache" in result["metrics"] and "turns" in result["metrics"]
    assert result["control_socket"] == str(live.socket)
    text = live.control("status")
    assert text.returncode == 0, text.stderr
    assert ": listening" in text.stdout.splitlines()[0]
    assert "skills:" in text.stdout and "timers" in text.stdout


def test_ask_daemon_sets_a_timer_that_lives_in_the_daemon(live: LiveDaemon) -> None:
    proc = live.control("ask", "--daemon", "--json", "set a timer for 10 minutes")
    assert proc.returncode == 0, proc.stderr
    turn = json.loads(proc.stdout)
    assert (turn["route"], turn["skill"], turn["action"]) == ("skill", "timers", "start")
    assert turn["reply"] == "Timer set for 10 minutes."
    assert {"transcript", "slots", "timings_ms", "budget_exceeded"} <= set(turn)

    listed = live.control("timers", "--json")
    assert listed.returncode == 0, listed.stderr
    [job] = json.loads(listed.stdout)["jobs"]
    assert job["skill"] == "timers" and job["text"] == "10 minute"
    assert 570 < job["in_s"] <= 600
    text = live.control("timers")
    assert text.stdout.startswith("10 minute timer") and "min" in text.stdout and "left" in text.stdout

    # The human form is `assistant ask`'s.
    reminder = live.control("ask", "--daemon", "remind me to stretch in 2 hours")
    assert reminder.returncode == 0, reminder.stderr
    assert "route:   skill → reminders.add" in reminder.stdout
    reminders = live.control("reminders")
    # Reminders are kept to the minute.
    assert re.match(r"stretch +in (2 h|1 h 5\d min) +\(at ", reminders.stdout), reminders.stdout
    last = status(live)["turns"][-1]
    assert last["source"] == "control" and last["skill"] == "reminders"


def ask_daemon(live: LiveDaemon, text: str, action: str) -> None:
    proc = live.control("ask", "--daemon", "--json", text)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["action"] == action, proc.stdout


def test_timers_lists_paused_timers_with_the_time_they_keep(live: LiveDaemon) -> None:
    ask_daemon(live, "set a 20 minute pasta timer", "start")
    ask_daemon(live, "pause the pasta timer", "pause")
    time.sleep(1.5)  # a paused timer's time does not run
    listed = live.control("timers", "--json")
    assert listed.returncode == 0, listed.stderr
    jobs = json.loads(listed.stdout)["jobs"]
    [paused] = [job for job in jobs if job["state"] == "paused"]
    assert {k: v for k, v in paused.items() if k != "left_s"} == {
        "skill": "timers",
        "id": "timer:pasta",
        "event": None,
        "due": None,
        "in_s": None,
        "text": "pasta",
        "state": "paused",
    }
    assert 1190 < paused["left_s"] <= 1200
    assert all(job["state"] == "scheduled" and job["due"] for job in jobs if job is not paused)
    text = live.control("timers")
    assert text.returncode == 0, text.stderr
    line = next(line for line in text.stdout.splitlines() if line.startswith("pasta timer"))
    assert re.fullmatch(r"pasta timer +(20 min|19 min 5\d s) left +\(paused\)", line), text.stdout
    ask_daemon(live, "cancel the pasta timer", "cancel")
    assert "pasta" not in live.control("timers").stdout


def test_alarms_lists_the_daemons_alarms(live: LiveDaemon) -> None:
    empty = live.control("alarms")
    assert (empty.returncode, empty.stdout) == (0, "no alarms\n"), empty.stderr
    ask_daemon(live, "set an alarm for 6:30 on weekdays", "set")
    ask_daemon(live, "set an alarm for 8 called gym", "set")
    listed = live.control("alarms", "--json")
    assert listed.returncode == 0, listed.stderr
    jobs = json.loads(listed.stdout)["jobs"]
    assert {job["skill"] for job in jobs} == {"alarms"} and len(jobs) == 2
    assert sorted(str(job["text"]) for job in jobs) == ["None", "gym"]  # the label, if it has one
    assert all(0 < job["in_s"] <= 7 * 86400 and job["state"] == "scheduled" for job in jobs)
    text = live.control("alarms")
    assert text.returncode == 0, text.stderr
    lines = sorted(text.stdout.splitlines())
    assert len(lines) == 2, text.stdout
    assert re.fullmatch(r"alarm +in \d.* +\(at .*\)", lines[0]), lines
    assert re.fullmatch(r"gym alarm +in \d.* +\(at .*(08|20):00(:00)?\)", lines[1]), lines
    ask_daemon(live, "cancel all alarms", "cancel_all")
    assert live.control("alarms").stdout == "no alarms\n"


def test_say_speaks_on_the_daemon_output(live: LiveDaemon) -> None:
    before = status(live)["output"]["spoken_s"]
    proc = live.control("say", "The kettle has boiled.")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "said: The kettle has boiled."
    spoken = status(live)["output"]["spoken_s"] - before
    assert 0.8 < spoken < 5, spoken
    # The --output WAV (written to a temporary file until the daemon exits) grew.
    assert any(p.stat().st_size > 22050 for p in live.tmp.glob(".out.wav.*"))


def test_muted_the_daemon_ignores_speech_but_still_speaks(live: LiveDaemon) -> None:
    muted = live.control("mute", "--json")
    assert json.loads(muted.stdout) == {"muted": True, "state": "muted"}
    assert status(live)["state"] == "muted"
    turns = len(status(live)["turns"])
    mark = len(live.text())
    live.say_into_microphone(speech("what_time_is_it.espeak.wav"))
    time.sleep(5)  # 1.3 s of speech, 1 s of silence, and time for a turn it must not take
    after = status(live)
    assert len(after["turns"]) == turns and after["listening"]["audio_age_s"] < 1
    assert "turn session=local" not in live.text()[mark:]
    assert live.control("say", "Still talking.").returncode == 0  # muting is the microphone only

    assert json.loads(live.control("unmute", "--json").stdout)["muted"] is False
    live.wait_until_quiet()  # "Still talking." is over: speech now is not taken for its echo
    mark = len(live.text())
    live.say_into_microphone(speech("what_time_is_it.espeak.wav"))
    live.wait_for("turn session=local route=skill clock.time", after=mark)
    last = status(live)["turns"][-1]
    assert last["source"] == "voice" and last["action"] == "time"
    assert "voice_to_voice" in last["timings_ms"]


def test_push_to_talk_needs_its_mode(live: LiveDaemon) -> None:
    proc = live.control("listen")
    assert proc.returncode == 1
    assert "push-to-talk needs wake.mode: push_to_talk" in proc.stderr


def test_bad_requests_get_clear_errors_and_the_daemon_lives(live: LiveDaemon) -> None:
    cases = [
        (b"not json\n", "bad_request"),
        (b"[1, 2]\n", "bad_request"),
        (b'{"v": 7, "cmd": "status"}\n', "version"),
        (b'{"v": 1, "cmd": "launch"}\n', "unknown_command"),
        (b'{"v": 1, "cmd": "say", "args": {"text": ""}}\n', "bad_args"),
        (b'{"v": 1, "cmd": "status", "args": {"verbose": true}}\n', "bad_args"),
        (b"{" + b" " * (protocol.MAX_REQUEST_BYTES + 10) + b"}\n", "too_large"),
    ]
    for payload, code in cases:
        answer = raw(live.socket, payload)
        assert answer["ok"] is False and answer["error"]["code"] == code, (payload[:40], answer)
        assert answer["error"]["message"]
    # Without a newline, then EOF: still one request.
    assert raw(live.socket, b'{"v": 1, "cmd": "status"}')["ok"] is True
    proc = live.control("status", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["state"] == "listening"


def test_sigterm_exits_0_within_5_s_and_removes_the_socket(live: LiveDaemon) -> None:
    code, took = live.stop(signal.SIGTERM)
    assert code == 0, live.text()
    assert took < 5, took
    assert not live.socket.exists()
    assert "Traceback" not in live.text()


# --- systemd ----------------------------------------------------------------------------------------


def test_under_systemd_status_follows_turns_and_a_blocked_loop_stops_the_watchdog(tmp_path: Path) -> None:
    """One daemon (in push-to-talk mode, started as systemd would): STATUS= through mute, a
    turn and its reply; no watchdog pings while a skill blocks the loop; push-to-talk."""
    notify = tmp_path / "notify.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(notify))
    listener.settimeout(0.2)
    messages: list[tuple[float, str]] = []
    done = threading.Event()

    def collect() -> None:  # read all the time, as systemd does
        while not done.is_set():
            try:
                messages.append((time.monotonic(), listener.recv(4096).decode()))
            except TimeoutError:
                continue

    collector = threading.Thread(target=collect, daemon=True)
    collector.start()
    site = install_slow_skill(tmp_path / "site")
    # A ping every 0.2 s; the test skill on the daemon's path.
    env = isolated_env(tmp_path, NOTIFY_SOCKET=str(notify), WATCHDOG_USEC="400000", PYTHONPATH=str(site))
    config = tmp_path / "config.yaml"
    config.write_text(
        "wake:\n  mode: push_to_talk\n"
        "budgets:\n  skill_timeout_ms: 20000\nskills:\n  hktest_slow:\n    freeze_s: 3\n"
    )
    daemon = LiveDaemon(tmp_path, config, env=env)
    try:
        daemon.wait_ready()
        time.sleep(1)
        assert daemon.control("mute").returncode == 0
        assert daemon.control("unmute").returncode == 0
        # The skill sleeps synchronously: nothing on the event loop runs for 3 s.
        freeze = daemon.control("ask", "--daemon", "freeze the event loop")
        assert freeze.returncode == 0, freeze.stderr
        assert "reply:   Thawed." in freeze.stdout
        time.sleep(1.5)
        ptt_from = len(messages)

        # Push-to-talk: speech is a command only after `assistant listen`.
        mark = len(daemon.text())
        daemon.say_into_microphone(speech("what_time_is_it.espeak.wav"))
        time.sleep(4)
        assert "turn session=local" not in daemon.text()[mark:]
        opened = daemon.control("listen", "--seconds", "8", "--json")
        assert json.loads(opened.stdout) == {"listening": True, "seconds": 8.0}, opened.stderr
        daemon.say_into_microphone(speech("what_time_is_it.espeak.wav"))
        daemon.wait_for("turn session=local route=skill clock.time", after=mark)
        time.sleep(0.5)
        code, took = daemon.stop()
        assert code == 0 and took < 5
        time.sleep(0.5)
    finally:
        daemon.close()
        done.set()
        collector.join(timeout=5)
        listener.close()
    texts = [m for _, m in messages]
    assert texts[0] == "READY=1\nSTATUS=listening", texts[:3]
    assert texts[-1] == "STOPPING=1"
    assert "cannot notify systemd" not in daemon.text()
    statuses = [m.removeprefix("STATUS=") for m in texts if m.startswith("STATUS=")]
    assert statuses[:2] == ["muted", "listening"], statuses
    # The request is thought about (the skill runs), then its reply is spoken. (Frames held up
    # by the blocked loop may read as "degraded: no audio" for a moment.)
    steps = [s for s in statuses[2:] if not s.startswith("degraded")]
    assert steps[:3] == ["thinking", "speaking", "listening"], statuses
    ptt = [m.removeprefix("STATUS=") for m in texts[ptt_from:] if m.startswith("STATUS=")]
    assert ptt[:3] == ["speaking", "listening", "thinking"], ptt  # the chime, then the command
    pings = [t for t, m in messages if m == "WATCHDOG=1"]
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert max(gaps) > 2.5, gaps  # the blocked loop sent nothing for about 3 s
    long_gap = gaps.index(max(gaps))
    assert len(pings) - long_gap > 3  # and pings resumed afterwards
    assert sorted(gaps)[len(gaps) // 2] < 0.5  # otherwise every 0.2 s
