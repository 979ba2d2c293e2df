"""The ``assistant`` command as a person runs it: real subprocesses, real models, real files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import wave
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"
JSON_KEYS = {"transcript", "route", "skill", "action", "slots", "reply", "timings_ms", "budget_exceeded"}


def assistant(
    *args: str, tmp: Path, stdin: bytes | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    """Run the real command with config, state and data isolated under ``tmp``."""
    env = dict(os.environ)
    env.update(
        XDG_CONFIG_HOME=str(tmp / "config"),
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_DATA_HOME=str(tmp / "data"),
    )
    env.pop("STATE_DIRECTORY", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        input=stdin.decode("latin-1") if stdin is not None else None,
        capture_output=True,
        text=True,
        env=env,
        timeout=timeout,
        cwd=tmp,
        encoding="latin-1" if stdin is not None else None,
    )


def test_process_json_follows_the_contract(tmp_path: Path) -> None:
    out = tmp_path / "reply.wav"
    proc = assistant(
        "process", str(SAMPLES / "what_time_is_it.espeak.wav"), "--json", "--out", str(out), tmp=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert set(result) >= JSON_KEYS
    assert (result["route"], result["skill"], result["action"]) == ("skill", "clock", "time")
    assert {"endpoint", "asr", "understand", "tts_first_audio", "voice_to_voice"} <= set(result["timings_ms"])
    assert isinstance(result["budget_exceeded"], list)
    with wave.open(str(out)) as reply:
        assert reply.getnframes() > 0
    # One log line per turn, with its timings.
    turn_lines = [line for line in proc.stderr.splitlines() if "turn session=file route=skill" in line]
    assert len(turn_lines) == 1 and "voice_to_voice=" in turn_lines[0]


def test_demo_processes_the_bundled_sample_without_a_microphone(tmp_path: Path) -> None:
    proc = assistant("demo", "--sample", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = dict(line.split(":", 1) for line in proc.stdout.splitlines() if ":" in line)
    assert lines["heard"].strip().lower().startswith("what time is it")
    assert "clock.time" in lines["route"]
    assert lines["reply"].strip().startswith("It's")
    assert "voice_to_voice" in lines["timings"]
    with wave.open(str(tmp_path / "reply.wav")) as reply:
        assert reply.getnframes() > 0


def test_raw_pcm_on_stdin_is_a_source(tmp_path: Path) -> None:
    with wave.open(str(SAMPLES / "what_day_is_it.espeak.wav")) as w:
        assert w.getframerate() == 16000
        pcm = w.readframes(w.getnframes())
    pcm += bytes(16000 * 2)  # a second of silence after the words
    proc = assistant("process", "-", "--json", tmp=tmp_path, stdin=pcm)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    assert (result["skill"], result["action"]) == ("clock", "day")


def test_json_logs_are_one_object_per_line(tmp_path: Path) -> None:
    proc = assistant("--log-format", "json", "ask", "what day is it", tmp=tmp_path)
    assert proc.returncode == 0, proc.stderr
    records = [json.loads(line) for line in proc.stderr.splitlines() if line.startswith("{")]
    turns = [r for r in records if r["logger"] == "assistant.turn" and "turn" in r]
    assert len(turns) == 1
    assert turns[0]["turn"]["action"] == "day"


@pytest.mark.parametrize(
    ("content", "reason"),
    [(b"RIFF\x00\x00garbage that is not audio" * 10, "not a recognised audio file"), (b"", "empty")],
)
def test_bad_audio_file_is_named_with_the_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    bad = tmp_path / "broken.wav"
    bad.write_bytes(content)
    proc = assistant("process", str(bad), tmp=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert "broken.wav" in proc.stderr and reason in proc.stderr
    assert "Traceback" not in proc.stderr


def test_corrupt_model_fails_at_start_naming_the_file(tmp_path: Path) -> None:
    model = tmp_path / "broken.gguf"
    model.write_bytes(b"GGXX" + bytes(64))
    config = tmp_path / "config.yaml"
    config.write_text(f"llm:\n  model: {model}\n")
    proc = assistant("--config", str(config), "ask", "tell me a joke", tmp=tmp_path, timeout=60)
    assert proc.returncode == 1
    assert str(model) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_bad_config_exits_2_naming_line_and_key(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("asr:\n  beam_size: five\n")
    proc = assistant("--config", str(config), "ask", "what time is it", tmp=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert f"{config}:2: asr.beam_size must be an integer" in proc.stderr


def test_usage_error_exits_2(tmp_path: Path) -> None:
    proc = assistant("process", tmp=tmp_path, timeout=60)
    assert proc.returncode == 2
    assert "usage:" in proc.stderr


def test_run_without_its_microphone_names_it_lists_devices_and_keeps_running(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text('audio:\n  input_device: "Imaginary USB Mic"\nwake: {mode: always}\n')
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_RUNTIME_DIR": str(tmp_path)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "assistant", "--config", str(config), "run"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert proc.stderr is not None
    seen: list[str] = []
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen.append(line)
            if "Listening" in line:  # models loaded, signals handled
                break
        text = "".join(seen)
        assert "Imaginary USB Mic" in text and "available input devices" in text, text
        # Degraded, not dead: it waits for the microphone (and answers SIGTERM cleanly).
        time.sleep(1)
        assert proc.poll() is None, "".join(seen)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
