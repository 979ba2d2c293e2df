"""YAML configuration → frozen, validated, typed config with a default and a doc for every key."""

from __future__ import annotations

import dataclasses
import difflib
import ipaddress
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from assistant import paths
from assistant.errors import ConfigError

_MISSING_LINE = 0


def opt(
    default: Any,
    doc: str,
    *,
    choices: tuple[Any, ...] | None = None,
    min: float | None = None,
    max: float | None = None,
    check: typing.Callable[[Any], str | None] | None = None,
) -> Any:
    """Declare one config key: its default, a one-line doc and its allowed values."""
    # ``check`` returns why a value is refused (None when it is fine), for rules beyond a range.
    meta = {"doc": doc, "choices": choices, "min": min, "max": max, "check": check}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class AudioConfig:
    """Sound devices."""

    input_device: str | None = opt(
        None, "Microphone: a device name, part of one, or an index; null = system default."
    )
    output_device: str | None = opt(
        None, "Speaker: a device name, part of one, or an index; null = system default."
    )
    input_queue_frames: int = opt(
        200, "Audio frames (30 ms each) buffered before the oldest are dropped.", min=10, max=10_000
    )
    backend: str = opt(
        "sounddevice",
        "Sound devices through: sounddevice (PortAudio, real sound cards) or pipe (raw s16le mono "
        "PCM through FIFOs, Unix sockets or files: for headless machines and tests).",
        choices=("sounddevice", "pipe"),
    )
    pipe_input: str | None = opt(
        None, "With backend pipe: the microphone, a FIFO, Unix socket or file of raw PCM; null = none."
    )
    pipe_output: str | None = opt(
        None, "With backend pipe: the speaker, a FIFO, Unix socket or file raw PCM goes to; null = none."
    )
    pipe_rate: int = opt(
        16000, "With backend pipe: the sample rate of both pipes, in Hz.", min=8000, max=192000
    )
    retry_max_s: float = opt(
        30.0,
        "Longest wait between attempts to reopen a missing or lost device (1 s first, doubling).",
        min=1,
        max=3600,
    )
    echo_cancel: str = opt(
        "webrtc",
        "Take what the speaker plays out of what the microphone hears, while something plays: "
        "webrtc (WebRTC's echo canceller, from the livekit package) or off.",
        choices=("off", "webrtc"),
    )


@dataclass(frozen=True)
class VadConfig:
    """Voice activity detection (webrtcvad)."""

    aggressiveness: int = opt(2, "webrtcvad mode: 0 lets most sound through, 3 is strictest.", min=0, max=3)


@dataclass(frozen=True)
class EndpointConfig:
    """Deciding where an utterance starts and ends."""

    pre_roll_ms: int = opt(300, "Audio kept from before speech starts.", min=0, max=2000)
    start_speech_ms: int = opt(90, "Voiced audio needed to decide speech has started.", min=30, max=2000)
    silence_ms: int = opt(500, "Silence after speech that ends the utterance.", min=90, max=5000)
    max_utterance_s: float = opt(
        15.0, "Longest utterance; longer speech is cut and processed.", min=1, max=120
    )
    partial_after_ms: int = opt(
        90,
        "Silence after which the speech so far is transcribed speculatively; 0 turns that off.",
        min=0,
        max=5000,
    )
    complete_command_ms: int = opt(
        210,
        "Silence that ends the turn early when the speculative transcript is a complete skill command.",
        min=30,
        max=5000,
    )
    unfinished_extra_ms: int = opt(
        500,
        'More silence needed when the speculative transcript stops mid-sentence (on "for", "the", '
        '"and", "um"...): the person is thinking, not done. 0 turns that off.',
        min=0,
        max=5000,
    )


@dataclass(frozen=True)
class WakeConfig:
    """Wake word (microWakeWord), when commands are listened for, and the follow-up window."""

    mode: str = opt(
        "wake",
        "When `run` takes speech as a command: wake (after the wake word), always (every "
        "utterance; no wake word), push_to_talk (only when asked through the control API). "
        "process, demo and bench take every utterance, whatever this says.",
        choices=("wake", "always", "push_to_talk"),
    )
    model: str = opt(
        "okay_nabu",
        "Wake word: okay_nabu, hey_jarvis, alexa or hey_mycroft (assistant models list), or the "
        "path of a microWakeWord .tflite with its .json beside it.",
    )
    probability_cutoff: float | None = opt(
        None,
        "Sensitivity: the probability above which the wake word counts; lower wakes more easily "
        "and more often by mistake. null = the model's own (okay_nabu 0.85, hey_jarvis 0.97, "
        "alexa 0.9, hey_mycroft 0.95).",
        min=0.01,
        max=0.999,
    )
    refractory_s: float = opt(
        2.0, "After a detection the wake word is not heard again for this many seconds.", min=0, max=60
    )
    chime: str = opt(
        "wake",
        "Sound played when the wake word is heard: a bundled sound (wake, chime) or an audio "
        "file; empty = none.",
    )
    no_speech_timeout_s: float = opt(
        5.0,
        "After the wake word, how long to wait for speech to start before waiting for the wake word again.",
        min=0.5,
        max=60,
    )
    follow_up: str = opt(
        "always",
        "When to listen again without the wake word after a reply: always, questions (replies "
        "asking something: a skill's Reply(follow_up=True) or a reply ending in '?'), or never.",
        choices=("always", "questions", "never"),
    )
    follow_up_s: float = opt(
        5.0,
        "How long the follow-up window waits for speech once the reply has finished playing.",
        min=0.5,
        max=60,
    )
    echo_tail_ms: int = opt(
        300,
        "Self-hearing gate: while the assistant speaks, and this long after, no utterance may "
        "start (the wake word is still heard, to interrupt it); covers the speaker's and room's "
        "delay.",
        min=0,
        max=5000,
    )


@dataclass(frozen=True)
class AsrConfig:
    """Speech recognition (faster-whisper)."""

    model: str = opt(
        "whisper-tiny.en", "Manifest name (assistant models list) or path of a CTranslate2 model."
    )
    device: str = opt(
        "cpu", "Where to run: cpu, cuda, or auto (cuda when present).", choices=("cpu", "cuda", "auto")
    )
    compute_type: str = opt(
        "int8",
        "CTranslate2 compute type.",
        choices=("default", "auto", "int8", "int8_float32", "int8_float16", "int16", "float16", "float32"),
    )
    beam_size: int = opt(
        3,
        "Beam width; 1 (greedy) is ~10 ms faster on a short command with ~30 % more word errors.",
        min=1,
        max=10,
    )
    threads: int = opt(2, "CPU threads for recognition; 0 lets CTranslate2 choose.", min=0, max=64)
    window_s: float = opt(
        10.0,
        "Seconds of audio whisper encodes for a short command (30 = whisper's own window); "
        "shorter is faster, below about 10 s tiny.en repeats itself and mis-hears.",
        min=1.0,
        max=30.0,
    )
    language: str = opt("en", "Spoken language code.")


@dataclass(frozen=True)
class LlmConfig:
    """The local language model (llama.cpp)."""

    model: str = opt("smollm2-135m-instruct-q4_1", "Manifest name or path of a GGUF model.")
    device: str = opt("cpu", "Where to run: cpu, cuda, or auto.", choices=("cpu", "cuda", "auto"))
    n_gpu_layers: int = opt(-1, "Layers offloaded when the device is cuda; -1 = all.", min=-1, max=1000)
    threads: int = opt(2, "CPU threads for generation.", min=1, max=64)
    context: int = opt(2048, "Context window in tokens.", min=256, max=131_072)
    batch: int = opt(
        64,
        "Prompt tokens evaluated per step; each step keeps a row of logits (vocabulary × 4 bytes), "
        "so a small batch saves memory (64 instead of 512: ~90 MB less for SmolLM2, no slower here).",
        min=8,
        max=4096,
    )
    max_tokens: int = opt(96, "Longest answer in tokens.", min=1, max=8192)
    temperature: float = opt(0.3, "Sampling temperature; 0 is deterministic.", min=0.0, max=2.0)
    seed: int = opt(1234, "Sampling seed, for repeatable answers.", min=0)
    repeat_penalty: float = opt(
        1.15, "Penalty on repeating recent tokens; small models loop without it.", min=1.0, max=2.0
    )
    system_prompt: str = opt(
        "You are a helpful voice assistant. Answer in one or two short spoken sentences, "
        "without lists, markdown or emojis.",
        "Instructions given to the model before every conversation.",
    )
    tools: bool = opt(
        True, "Offer every skill intent to the model as a tool it may call (grammar-constrained choice)."
    )
    tool_gate: bool = opt(
        True,
        "Offer only tools whose skill the request's words point at; keeps a small model from calling "
        "tools on a whim (turn off for a big model).",
    )
    phrase_tool_results: bool = opt(
        False, "Let the model phrase a tool's result (slower); false = say the skill's own reply."
    )
    answer_ahead: bool = opt(
        True,
        "Start the model on the transcript of a pause while the end of the utterance is still being "
        "confirmed; dropped if the person goes on. Nothing is said or run before the turn ends.",
    )
    max_spoken_s: float = opt(
        30.0, "Longest spoken answer from the model, in seconds of audio; the rest is not said.", min=1
    )
    memory_turns: int = opt(
        4, "Earlier exchanges the model sees, so follow-ups work; 0 = no memory.", min=0, max=32
    )
    memory_s: float = opt(120.0, "Exchanges older than this many seconds are forgotten.", min=0)
    response_cache_entries: int = opt(
        128, "Answers to repeated questions kept (not for time-sensitive tools); 0 = no cache.", min=0
    )
    response_cache_ttl_s: float = opt(600.0, "How long a cached answer stays valid, in seconds.", min=0)


@dataclass(frozen=True)
class LlmRemoteConfig:
    """An OpenAI-compatible chat-completions server (llama.cpp server, vLLM, Ollama) used first."""

    url: str = opt(
        "", "Base URL of the API, e.g. http://127.0.0.1:8080/v1; empty = use only the local model."
    )
    model: str = opt("", "Model name sent to the server.")
    api_key_env: str = opt(
        "", "Environment variable holding an API key (sent as a Bearer token); empty = none."
    )
    connect_timeout_ms: int = opt(500, "Longest wait to connect.", min=1)
    first_token_timeout_ms: int = opt(2500, "Longest wait for the first token or tool call.", min=1)
    read_timeout_ms: int = opt(5000, "Longest silence between two streamed pieces.", min=1)
    retry_after_s: float = opt(30.0, "After a failure the server is skipped this long.", min=0)
    fallback: str = opt(
        "local",
        "When the server is down: local (the local model, loaded at start) or skills_only.",
        choices=("local", "skills_only"),
    )


@dataclass(frozen=True)
class TtsConfig:
    """Speech synthesis (piper)."""

    voice: str = opt("piper-joe-medium", "Manifest name or path of a piper .onnx voice.")
    device: str = opt("cpu", "Where to run: cpu, cuda, or auto.", choices=("cpu", "cuda", "auto"))
    length_scale: float = opt(1.0, "Speaking pace: below 1 is faster, above 1 slower.", min=0.3, max=3.0)
    threads: int = opt(2, "CPU threads for synthesis.", min=1, max=64)
    cache_mb: int = opt(
        16, "Memory for cached audio of short, repeated phrases, in MiB; 0 turns the cache off.", min=0
    )


@dataclass(frozen=True)
class ReplyConfig:
    """What the assistant says in special cases."""

    not_heard: str = opt(
        "Sorry, I didn't catch that.",
        "Said when speech was heard but no words recognised; empty = stay silent.",
    )
    failure: str = opt("Sorry, something went wrong.", "Said when a turn fails.")
    skill_timeout: str = opt(
        "Sorry, that took too long.", "Said when a skill does not answer within budgets.skill_timeout_ms."
    )
    filler: str = opt(
        "One moment.", "Said while the LLM is slow to start answering (budgets.llm_filler); empty = never."
    )
    too_slow: str = opt(
        "Sorry, that's taking too long.", "Said when an answer is cut off at budgets.llm_hard_limit_ms."
    )
    skills_only: str = opt(
        "Sorry, I can only do simple commands right now.",
        "Said instead of asking the LLM while it is switched off for being slow (budgets.skills_only_after).",
    )
    tool_error: str = opt(
        "Sorry, I couldn't do that.",
        "Said when the model asks for a tool that does not exist or misuses one.",
    )
    llm_unavailable: str = opt(
        "Sorry, I can't reach the language model right now.",
        "Said when no language model can answer (remote server down, no local fallback).",
    )
    llm_lost: str = opt(
        "Sorry, I lost the connection.", "Said when the remote model fails in the middle of an answer."
    )


@dataclass(frozen=True)
class BudgetsConfig:
    """Latency budgets per stage in milliseconds (overruns are logged and counted) and what they trigger."""

    endpoint_ms: int = opt(600, "Last voiced frame → endpoint decision.", min=1)
    asr_ms: int = opt(600, "Endpoint decision → final transcript.", min=1)
    understand_ms: int = opt(50, "Final transcript → route decision.", min=1)
    llm_first_token_ms: int = opt(1500, "Route decision → first LLM token.", min=1)
    tts_first_audio_ms: int = opt(400, "First reply text → first synthesized audio.", min=1)
    voice_to_voice_ms: int = opt(1500, "Last voiced frame → first reply audio out.", min=1)
    skill_timeout_ms: int = opt(3000, "A skill handler still running after this is cancelled.", min=1)
    http_timeout_ms: int = opt(3000, "Longest wait for a web service a skill uses (weather).", min=1)
    llm_filler: bool = opt(
        True, "Say reply.filler when the LLM has no reply text within llm_first_token_ms, and go on."
    )
    llm_hard_limit_ms: int = opt(
        15000,
        "Longest a turn waits on the LLM in all; then generation is cancelled and reply.too_slow said.",
        min=1,
    )
    skills_only_after: int = opt(
        3,
        "Consecutive LLM turns over llm_first_token_ms that switch to skills-only mode; 0 = never.",
        min=0,
    )
    skills_only_s: float = opt(
        300.0, "How long skills-only mode lasts before the LLM is tried again, in seconds.", min=1
    )


@dataclass(frozen=True)
class LoggingConfig:
    """Logging."""

    level: str = opt("info", "Least severe level shown.", choices=("debug", "info", "warning", "error"))
    format: str = opt("text", "text for people, json for log collectors.", choices=("text", "json"))


def _loopback_only(host: str) -> str | None:
    """Why ``host`` is refused as the HTTP endpoint's address, or None when it is a loopback one."""
    if host == "localhost":
        return None
    try:
        if ipaddress.ip_address(host).is_loopback:
            return None
    except ValueError:
        pass
    # /metrics and /health have no access control: they must not be reachable off this machine.
    return "must be a loopback address (127.0.0.1, ::1 or localhost)"


@dataclass(frozen=True)
class HttpConfig:
    """The loopback HTTP endpoint: /metrics (Prometheus text) and /health."""

    port: int = opt(0, "TCP port to serve on; 0 = off.", min=0, max=65535)
    host: str = opt("127.0.0.1", "Loopback address to listen on.", check=_loopback_only)


@dataclass(frozen=True)
class Config:
    """The whole effective configuration."""

    audio: AudioConfig = field(default_factory=AudioConfig)
    vad: VadConfig = field(default_factory=VadConfig)
    endpoint: EndpointConfig = field(default_factory=EndpointConfig)
    wake: WakeConfig = field(default_factory=WakeConfig)
    asr: AsrConfig = field(default_factory=AsrConfig)
    llm: LlmConfig = field(default_factory=LlmConfig)
    llm_remote: LlmRemoteConfig = field(default_factory=LlmRemoteConfig)
    tts: TtsConfig = field(default_factory=TtsConfig)
    reply: ReplyConfig = field(default_factory=ReplyConfig)
    budgets: BudgetsConfig = field(default_factory=BudgetsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)
    http: HttpConfig = field(default_factory=HttpConfig)
    skills: dict[str, dict[str, Any]] = field(
        default_factory=dict, metadata={"doc": "Per-skill settings, one section per skill name."}
    )
    source: str = field(default="<defaults>", metadata={"internal": True})
    """Where this config came from, for messages."""


class _Located:
    """Maps key paths in a YAML document to their line numbers."""

    def __init__(self, node: yaml.Node | None) -> None:
        self.lines: dict[tuple[str, ...], int] = {}
        if node is not None:
            self._walk(node, ())

    def _walk(self, node: yaml.Node, path: tuple[str, ...]) -> None:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                self._walk(value, sub)
                # Point errors about a key at the key's own line, not at a nested value's.
                self.lines[sub] = key.start_mark.line + 1

    def line(self, path: tuple[str, ...]) -> int:
        while path and path not in self.lines:
            path = path[:-1]
        return self.lines.get(path, _MISSING_LINE)


def _describe(value: Any) -> str:
    return repr(value) if isinstance(value, str) else yaml.safe_dump(value, default_flow_style=True).strip()


class _Builder:
    def __init__(self, source: str, located: _Located) -> None:
        self.source = source
        self.located = located

    def fail(self, path: tuple[str, ...], message: str) -> ConfigError:
        line = self.located.line(path)
        where = f"{self.source}:{line}" if line else self.source
        return ConfigError(f"{where}: {message}")

    def build(self, cls: type[Any], data: Any, path: tuple[str, ...]) -> Any:
        if data is None:
            data = {}
        if not isinstance(data, dict):
            name = ".".join(path) or "the top level"
            raise self.fail(path, f"{name} must be a mapping of keys, got {_describe(data)}")
        hints = typing.get_type_hints(cls)
        fields = {f.name: f for f in dataclasses.fields(cls) if not f.metadata.get("internal")}
        unknown = [k for k in data if k not in fields]
        if unknown:
            key = str(unknown[0])
            near = difflib.get_close_matches(key, list(fields), n=1)
            hint = f" (did you mean {'.'.join((*path, near[0]))}?)" if near else ""
            known = ", ".join(fields)
            raise self.fail((*path, key), f"unknown key {'.'.join((*path, key))}{hint}; known keys: {known}")
        values: dict[str, Any] = {}
        for name, value in data.items():
            f = fields[name]
            values[name] = self.convert(hints[name], value, (*path, name), f.metadata)
        return cls(**values)

    def convert(self, hint: Any, value: Any, path: tuple[str, ...], meta: typing.Mapping[str, Any]) -> Any:
        key = ".".join(path)
        if dataclasses.is_dataclass(hint) and isinstance(hint, type):
            return self.build(hint, value, path)
        origin = typing.get_origin(hint)
        args = typing.get_args(hint)
        if origin in (types.UnionType, typing.Union):
            if value is None and type(None) in args:
                return None
            (hint,) = [a for a in args if a is not type(None)]
            if hint is str and isinstance(value, int) and not isinstance(value, bool):
                return str(value)  # a device index written as a number
            return self.convert(hint, value, path, meta)
        if origin is dict:
            if value is None:  # a section left empty in YAML ("skills:") means no settings
                return {}
            if not isinstance(value, dict):
                raise self.fail(path, f"{key} must be a mapping, got {_describe(value)}")
            return {str(k): (v if v is not None else {}) for k, v in value.items()}
        if hint is bool:
            if not isinstance(value, bool):
                raise self.fail(path, f"{key} must be true or false, got {_describe(value)}")
            return value
        if hint is int:
            if isinstance(value, bool) or not isinstance(value, int):
                raise self.fail(
                    path, f"{key} must be {self._range('an integer', meta)}, got {_describe(value)}"
                )
        elif hint is float:
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise self.fail(
                    path, f"{key} must be {self._range('a number', meta)}, got {_describe(value)}"
                )
            value = float(value)
        elif hint is str and not isinstance(value, str):
            raise self.fail(path, f"{key} must be a string, got {_describe(value)}")
        choices = meta.get("choices")
        if choices and value not in choices:
            allowed = ", ".join(str(c) for c in choices)
            raise self.fail(path, f"{key} must be one of {allowed}, got {_describe(value)}")
        low, high = meta.get("min"), meta.get("max")
        if (low is not None and value < low) or (high is not None and value > high):
            kind = "an integer" if hint is int else "a number"
            raise self.fail(path, f"{key} must be {self._range(kind, meta)}, got {_describe(value)}")
        check = meta.get("check")
        refused = check(value) if check is not None else None
        if refused:
            raise self.fail(path, f"{key} {refused}, got {_describe(value)}")
        return value

    @staticmethod
    def _range(kind: str, meta: typing.Mapping[str, Any]) -> str:
        low, high = meta.get("min"), meta.get("max")
        if low is not None and high is not None:
            return f"{kind} from {low:g} to {high:g}"
        if low is not None:
            return f"{kind} ≥ {low:g}"
        if high is not None:
            return f"{kind} ≤ {high:g}"
        return kind


def parse_config(text: str, source: str = "<string>") -> Config:
    """Parse and validate YAML text into a Config; errors name the source, line and key."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        line = f":{mark.line + 1}" if mark is not None else ""
        raise ConfigError(f"{source}{line}: not valid YAML: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{source}: not valid YAML: {exc}") from None
    config: Config = _Builder(source, _Located(node)).build(Config, data, ())
    return dataclasses.replace(config, source=source)


def find_config_file(explicit: str | os.PathLike[str] | None = None) -> Path | None:
    """The config file to use: --config, else the first existing XDG or /etc file, else None."""
    if explicit:
        return Path(explicit)
    for candidate in paths.config_candidates():
        if candidate.is_file():
            return candidate
    return None


def load_config(explicit: str | os.PathLike[str] | None = None) -> Config:
    """Load the effective config (built-in defaults when no file exists)."""
    path = find_config_file(explicit)
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: config file not found") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a directory, not a config file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read config file: {exc}") from None
    return parse_config(text, str(path))


def _field_docs(cls: type[Any]) -> typing.Iterator[tuple[dataclasses.Field[Any], str]]:
    for f in dataclasses.fields(cls):
        if not f.metadata.get("internal"):
            yield f, str(f.metadata.get("doc") or (f.type.__doc__ if isinstance(f.type, type) else "") or "")


def render_config(config: Config) -> str:
    """The effective config as commented YAML, every key with its one-line doc."""
    lines = [f"# effective configuration (from {config.source})"]
    for f, _ in _field_docs(Config):
        section = getattr(config, f.name)
        if dataclasses.is_dataclass(section):
            lines.append(f"{f.name}:  # {type(section).__doc__}")
            for sub, doc in _field_docs(type(section)):
                value = yaml.safe_dump(
                    {sub.name: getattr(section, sub.name)}, width=10_000, allow_unicode=True
                )
                lines.append(f"  {value.strip()}  # {doc}")
        else:
            empty = "" if section else " {}"
            lines.append(f"{f.name}:{empty}  # {f.metadata.get('doc', '')}")
            if section:
                dumped = yaml.safe_dump(section, width=10_000, allow_unicode=True)
                lines.extend(f"  {row}" for row in dumped.splitlines())
    return "\n".join(lines) + "\n"
