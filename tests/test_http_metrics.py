"""The loopback HTTP endpoint of a real ``assistant run``: /metrics in Prometheus text format,
/health (200 while audio arrives, 503 when it stops), and loopback-only configuration."""

from __future__ import annotations

import json
import math
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from live_daemon import LiveDaemon, install_slow_skill, isolated_env, speech

_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
_SAMPLE = re.compile(rf"^({_NAME})(?:\{{(.*)\}})? (\S+)$")
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)')
_SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_sum", "_count")}

Samples = dict[str, dict[tuple[tuple[str, str], ...], float]]


def parse_prometheus(text: str) -> tuple[dict[str, str], Samples]:
    """Parse the text exposition format strictly: every sample belongs to a family declared by a
    TYPE line before it, with a name its type allows; labels and values are well formed."""
    assert text.endswith("\n")
    types: dict[str, str] = {}
    samples: Samples = {}
    for line in text.splitlines():
        if line.startswith("# HELP "):
            assert re.match(rf"^# HELP {_NAME} \S", line), line
            continue
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ")
            assert kind in _SUFFIXES and name not in types, line
            types[name] = kind
            continue
        match = _SAMPLE.match(line)
        assert match, f"not a sample line: {line!r}"
        name, labels_text, value = match.groups()
        family = next(
            (f for f, kind in types.items() for suffix in _SUFFIXES[kind] if name == f + suffix), None
        )
        assert family is not None, f"{name} has no TYPE line before it"
        labels: list[tuple[str, str]] = []
        if labels_text:
            consumed = "".join(m.group(0) for m in _LABEL.finditer(labels_text))
            assert consumed == labels_text, f"bad labels in {line!r}"
            labels = [(m.group(1), m.group(2)) for m in _LABEL.finditer(labels_text)]
        number = float(value.replace("+Inf", "inf").replace("-Inf", "-inf"))
        samples.setdefault(name, {})[tuple(sorted(labels))] = number
    return types, samples


def get(url: str) -> tuple[int, str, str]:
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            return response.status, response.headers["Content-Type"], response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers["Content-Type"], exc.read().decode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LiveDaemon, str]]:
    tmp = tmp_path_factory.mktemp("http")
    port = free_port()
    config = tmp / "config.yaml"
    config.write_text(
        f"wake:\n  mode: always\nhttp:\n  port: {port}\n  host: 127.0.0.1\n"
        "budgets:\n  skill_timeout_ms: 30000\nskills:\n  hktest_slow:\n    linger_s: 12\n"
    )
    # The test skill: "tell me a joke" is a spoken turn that thinks for 12 s.
    site = install_slow_skill(tmp / "site")
    daemon = LiveDaemon(tmp, config, env=isolated_env(tmp, PYTHONPATH=str(site)))
    try:
        daemon.wait_ready()
        daemon.wait_for("serving /metrics and /health")
        yield daemon, f"http://127.0.0.1:{port}"
    finally:
        daemon.close()


def metrics(base: str) -> tuple[dict[str, str], Samples]:
    status, content_type, body = get(f"{base}/metrics")
    assert status == 200
    assert content_type.startswith("text/plain; version=0.0.4")
    return parse_prometheus(body)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples[name][tuple(sorted(labels.items()))]


def test_metrics_parse_and_count_turns_caches_and_latency(live: tuple[LiveDaemon, str]) -> None:
    daemon, base = live
    types, before = metrics(base)
    assert types["hearkend_turns"] == "counter" and types["hearkend_voice_to_voice_seconds"] == "histogram"
    assert value(before, "hearkend_turns_total", route="skill") == 0
    assert value(before, "hearkend_muted") == 0
    assert value(before, "hearkend_uptime_seconds") > 0
    assert value(before, "hearkend_cache_entries", cache="tts") > 0  # the fixed replies, pre-made
    assert {("stage", "voice_to_voice")} <= {key[0] for key in before["hearkend_over_budget_total"]}

    # One typed turn and one spoken one.
    assert daemon.control("ask", "--daemon", "what day is it").returncode == 0
    daemon.wait_until_quiet()
    mark = len(daemon.text())
    daemon.say_into_microphone(speech("what_time_is_it.espeak.wav"))
    daemon.wait_for("turn session=local route=skill clock.time", after=mark)
    _, after = metrics(base)
    assert value(after, "hearkend_turns_total", route="skill") == 2
    assert value(after, "hearkend_turn_failures_total") == 0
    lookups = sum(value(after, f"hearkend_cache_{k}_total", cache="tts") for k in ("hits", "misses"))
    assert lookups >= 2
    assert value(after, "hearkend_audio_out_seconds_total") > 1
    # The spoken turn's latency, in the histogram and as the latest value.
    latest = value(after, "hearkend_last_voice_to_voice_seconds")
    assert 0 < latest < 30
    buckets = sorted(
        (float(dict(key)["le"].replace("+Inf", "inf")), n)
        for key, n in after["hearkend_voice_to_voice_seconds_bucket"].items()
    )
    counts = [n for _, n in buckets]
    assert counts == sorted(counts) and buckets[-1] == (math.inf, 1)
    assert value(after, "hearkend_voice_to_voice_seconds_count") == 1
    assert value(after, "hearkend_voice_to_voice_seconds_sum") == pytest.approx(latest, abs=1e-6)
    assert next(n for le, n in buckets if le >= latest) == 1


def test_health_is_ok_while_audio_arrives_and_503_when_it_stops(live: tuple[LiveDaemon, str]) -> None:
    daemon, base = live
    status, content_type, body = get(f"{base}/health")
    assert status == 200 and content_type.startswith("application/json")
    health: dict[str, Any] = json.loads(body)
    assert health["status"] == "ok" and health["reasons"] == []
    assert health["state"] in ("listening", "speaking")  # the last reply may still be playing
    daemon.pause_audio(True)
    try:
        time.sleep(3.5)
        status, _, body = get(f"{base}/health")
        health = json.loads(body)
        assert status == 503
        assert health["status"] == "degraded" and health["reasons"][0].startswith("no audio for")
        _, samples = metrics(base)
        assert value(samples, "hearkend_degraded") == 1
    finally:
        daemon.pause_audio(False)
    time.sleep(1)
    assert get(f"{base}/health")[0] == 200


def test_unknown_paths_are_404(live: tuple[LiveDaemon, str]) -> None:
    _, base = live
    assert get(f"{base}/admin")[0] == 404


def test_utterances_dropped_while_turns_wait_are_counted(live: tuple[LiveDaemon, str]) -> None:
    daemon, base = live
    daemon.wait_until_quiet()
    _, before = metrics(base)
    assert value(before, "hearkend_dropped_utterances_total") == 0
    mark = len(daemon.text())
    daemon.say_into_microphone(speech("tell_me_a_joke.espeak.wav"))
    # The turn thinks for 12 s (the test skill), saying nothing: listening goes on meanwhile.
    deadline = time.monotonic() + 60
    while json.loads(daemon.control("status", "--json").stdout)["state"] != "thinking":
        assert time.monotonic() < deadline, daemon.text()[mark:]
        time.sleep(0.2)
    for _ in range(3):  # two wait for their turn (TURN_QUEUE), the third finds no room
        daemon.say_into_microphone(speech("what_time_is_it.espeak.wav"))
    daemon.wait_for("this one is dropped", after=mark, timeout=30)
    _, after = metrics(base)
    assert value(after, "hearkend_dropped_utterances_total") == 1
    assert value(after, "hearkend_muted_utterances_total") == 0
    status = json.loads(daemon.control("status", "--json").stdout)
    assert status["listening"]["dropped_utterances"] == 1
    assert "utterances dropped: 1 with turns already waiting" in daemon.control("status").stdout
    # The waiting two are answered after the long turn.
    deadline = time.monotonic() + 90
    while daemon.text()[mark:].count("route=skill clock.time") < 2:
        assert time.monotonic() < deadline, daemon.text()[mark:]
        time.sleep(0.2)
    log = daemon.text()[mark:]
    assert "route=skill hktest_slow.linger" in log and log.count("route=skill clock.time") == 2
    daemon.wait_until_quiet()


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.20", "example.com"])
def test_only_loopback_addresses_are_accepted(tmp_path: Path, host: str) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"http:\n  port: 9100\n  host: {host}\n")
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "--config", str(config), "run", "--input", "-"],
        capture_output=True,
        text=True,
        env=isolated_env(tmp_path),
        input="",
        timeout=60,
    )
    assert proc.returncode == 2
    assert f"{config}:3: http.host must be a loopback address (127.0.0.1, ::1 or localhost)" in proc.stderr


def test_answers_started_on_the_pause_are_counted(live: tuple[LiveDaemon, str]) -> None:
    daemon, base = live
    daemon.wait_until_quiet()
    _, before = metrics(base)
    mark = len(daemon.text())
    daemon.say_into_microphone(speech("capital_of_france.espeak.wav"))
    daemon.wait_for("turn session=local route=llm", after=mark, timeout=90)
    _, after = metrics(base)
    gained = {
        outcome: value(after, "hearkend_answers_ahead_total", outcome=outcome)
        - value(before, "hearkend_answers_ahead_total", outcome=outcome)
        for outcome in ("started", "used", "dropped")
    }
    # Every pause inside the question may start one; the one at its end is the one used.
    assert gained["used"] == 1 and gained["started"] == gained["used"] + gained["dropped"], gained
    daemon.wait_until_quiet()
