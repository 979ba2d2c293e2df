"""Config loading: defaults, validation errors that name file, line and key, and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.cli import main
from assistant.config import Config, load_config, parse_config, render_config
from assistant.errors import ConfigError


def test_no_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    config = load_config(None)
    assert config == Config()
    assert config.asr.beam_size >= 1


def test_xdg_file_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "hearkend").mkdir()
    (tmp_path / "hearkend" / "config.yaml").write_text("asr:\n  beam_size: 4\n")
    assert load_config(None).asr.beam_size == 4


def test_error_names_file_line_and_key(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("# my config\nllm:\n  threads: 2\n\nasr:\n  model: whisper-tiny.en\n  beam_size: five\n")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    assert str(err.value) == f"{path}:7: asr.beam_size must be an integer from 1 to 10, got 'five'"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("vad:\n  aggressiveness: 4\n", "x.yaml:2: vad.aggressiveness must be an integer from 0 to 3, got 4"),
        ("asr:\n  device: tpu\n", "x.yaml:2: asr.device must be one of cpu, cuda, auto, got 'tpu'"),
        ("asr:\n  beamsize: 2\n", "x.yaml:2: unknown key asr.beamsize (did you mean asr.beam_size?)"),
        ("asr: 3\n", "x.yaml:1: asr must be a mapping of keys, got 3"),
        ("llm:\n  temperature: true\n", "x.yaml:2: llm.temperature must be a number from 0 to 2, got true"),
        ("budgets:\n  asr_ms: 0\n", "x.yaml:2: budgets.asr_ms must be an integer ≥ 1, got 0"),
        ("asr:\n  model: [1, 2]\n", "x.yaml:2: asr.model must be a string, got [1, 2]"),
        ("llm: {context: 1.5}\n", "x.yaml:1: llm.context must be an integer"),
        ("asr:\n  beam_size: [\n", "x.yaml:3: not valid YAML"),
        ("- 1\n- 2\n", "x.yaml:1: the top level must be a mapping"),
    ],
)
def test_invalid_values_are_named(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(text, "x.yaml")
    assert str(err.value).startswith(message)


def test_valid_overrides_and_skill_sections() -> None:
    config = parse_config(
        "endpoint:\n  silence_ms: 400\naudio:\n  input_device: 2\nskills:\n  weather:\n    units: metric\n",
        "x.yaml",
    )
    assert config.endpoint.silence_ms == 400
    assert config.audio.input_device == "2"
    assert config.skills == {"weather": {"units": "metric"}}
    assert config.asr == Config().asr


def test_rendered_config_reloads_to_the_same_values() -> None:
    config = parse_config("llm:\n  max_tokens: 50\ntts:\n  length_scale: 0.9\n", "x.yaml")
    text = render_config(config)
    assert "# Longest answer in tokens." in text
    assert parse_config(text, "again.yaml").llm == config.llm
    assert parse_config(text, "again.yaml").tts == config.tts


def test_cli_check_reports_errors_with_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("endpoint:\n  silence_ms: soon\n")
    assert main(["config", "check", str(bad)]) == 2
    assert f"{bad}:2: endpoint.silence_ms must be an integer" in capsys.readouterr().err
    good = tmp_path / "good.yaml"
    good.write_text("endpoint:\n  silence_ms: 400\n")
    assert main(["config", "check", str(good)]) == 0
    assert "ok" in capsys.readouterr().out


def test_cli_missing_file_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["config", "check", str(tmp_path / "nope.yaml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_cli_show_prints_effective_values(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("asr:\n  beam_size: 4\n")
    for argv in (["--config", str(path), "config", "show"], ["config", "show", "--config", str(path)]):
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "beam_size: 4" in out
        assert "silence_ms: 500" in out
