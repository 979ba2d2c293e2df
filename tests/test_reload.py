"""SIGHUP reloads the config of a real ``assistant run`` (JSON logs, as under a log collector):
a good config changes what the next turn says; a bad one is refused, naming its line, and the
running one stays; settings that need a restart are named and kept; SIGTERM still exits 0."""

from __future__ import annotations

import json
import signal
from collections.abc import Iterator
from typing import Any

import pytest
from live_daemon import LiveDaemon, install_slow_skill, isolated_env

from assistant.config import Config, parse_config
from assistant.reload import plan_reload


def config_text(timeout_reply: str, *, extra: str = "") -> str:
    # "take your time" (the test skill) never answers within the budget, so the turn says
    # reply.skill_timeout: a reply text a turn shows without a language model.
    return (
        "wake:\n"
        "  mode: always\n"
        "budgets:\n"
        "  skill_timeout_ms: 300\n"
        "reply:\n"
        f"  skill_timeout: {json.dumps(timeout_reply)}\n"
        f"{extra}"
    )


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveDaemon]:
    tmp = tmp_path_factory.mktemp("reload")
    site = install_slow_skill(tmp / "site")
    config = tmp / "config.yaml"
    config.write_text(config_text("First words."))
    daemon = LiveDaemon(
        tmp, config, env=isolated_env(tmp, PYTHONPATH=str(site)), global_args=("--log-format", "json")
    )
    try:
        daemon.wait_ready()
        yield daemon
    finally:
        daemon.close()


def ask(live: LiveDaemon, text: str) -> dict[str, Any]:
    proc = live.control("ask", "--daemon", "--json", text)
    assert proc.returncode == 0, proc.stderr
    result: dict[str, Any] = json.loads(proc.stdout)
    return result


def hup(live: LiveDaemon, needle: str) -> None:
    mark = len(live.text())
    live.proc.send_signal(signal.SIGHUP)
    live.wait_for(needle, after=mark)


def records(live: LiveDaemon) -> list[dict[str, Any]]:
    return [json.loads(line) for line in live.text().splitlines()]


def test_a_good_config_changes_the_next_turn(live: LiveDaemon) -> None:
    assert ask(live, "take your time")["reply"] == "First words."
    live.config.write_text(config_text("Second words."))
    hup(live, "config reloaded from")
    assert ask(live, "take your time")["reply"] == "Second words."
    [reloaded] = [r for r in records(live) if r["message"].startswith("config reloaded")]
    assert "reply.skill_timeout" in reloaded["message"]


def test_a_bad_config_is_refused_naming_its_line_and_the_running_one_stays(live: LiveDaemon) -> None:
    live.config.write_text(config_text("Third words.", extra="endpoint:\n  silence_ms: soon\n"))
    hup(live, "config reload failed")
    [error] = [r for r in records(live) if r["message"].startswith("config reload failed")]
    assert error["level"] == "error"
    assert f"{live.config}:8: endpoint.silence_ms must be an integer" in error["message"]
    assert ask(live, "take your time")["reply"] == "Second words."
    live.wait_until_quiet()  # the reply has been said: the state is back to listening
    status = json.loads(live.control("status", "--json").stdout)
    assert status["config"]["reload_failures"] == 1 and status["state"] == "listening"


def test_model_settings_wait_for_a_restart(live: LiveDaemon) -> None:
    live.config.write_text(config_text("Fourth words.", extra="asr:\n  model: whisper-base.en\n"))
    hup(live, "takes effect only after a restart")
    status = json.loads(live.control("status", "--json").stdout)
    assert status["config"]["restart_needed"] == ["asr.model"]
    assert status["models"]["asr"]["name"] == "whisper-tiny.en"  # what runs, not what the file says
    assert ask(live, "take your time")["reply"] == "Fourth words."  # the rest applied


def test_reload_through_the_control_socket_reports_errors(live: LiveDaemon) -> None:
    live.config.write_text("reply: [unclosed\n")
    proc = live.control("reload")
    assert proc.returncode == 1
    assert f"config not reloaded (the running one is kept): {live.config}:" in proc.stderr
    live.config.write_text(config_text("Fifth words."))
    proc = live.control("reload", "--json")
    assert proc.returncode == 0, proc.stderr
    answer = json.loads(proc.stdout)
    assert (answer["changed"], answer["restart_needed"]) == (["reply.skill_timeout"], [])


def test_sigterm_exits_0_within_5_s_and_every_log_line_is_json(live: LiveDaemon) -> None:
    code, took = live.stop(signal.SIGTERM)
    assert code == 0 and took < 5, (code, took)
    lines = live.text().splitlines()
    assert lines and all(line.startswith("{") for line in lines), [x for x in lines if not x.startswith("{")]
    parsed = records(live)
    turns = [r for r in parsed if r["logger"] == "assistant.turn" and "turn" in r]
    assert len(turns) == 4 and all(t["turn"]["skill"] == "hktest_slow" for t in turns)
    assert live.stdout.read_text() == ""  # with JSON logs the turn log line is the record


def test_what_a_reload_applies_and_what_it_keeps() -> None:
    running = Config()
    new = parse_config(
        "reply:\n  failure: Oops.\nbudgets:\n  asr_ms: 900\n  http_timeout_ms: 100\n"
        "tts:\n  voice: other\nskills:\n  timers:\n    max_timers: 3\n",
        "new.yaml",
    )
    plan = plan_reload(running, new)
    assert plan.changed == ["reply.failure", "budgets.asr_ms", "skills.timers"]
    assert plan.restart == ["tts.voice", "budgets.http_timeout_ms"]
    assert plan.config.reply.failure == "Oops." and plan.config.budgets.asr_ms == 900
    assert plan.config.tts.voice == running.tts.voice  # kept until a restart
    assert plan.config.budgets.http_timeout_ms == running.budgets.http_timeout_ms
    assert plan.config.skills == {"timers": {"max_timers": 3}}
    assert plan.config.source == "new.yaml"
    assert plan_reload(plan.config, new).changed == []
