"""Commands that run turns: ``run``, ``process``, ``ask``, ``chat`` and ``demo``."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
from collections.abc import AsyncIterator, Callable
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from assistant import paths
from assistant.audio.files import read_audio_file
from assistant.audio.sinks import NullSink, Sink, WavFileSink
from assistant.audio.sources import AudioSource, BufferSource, PcmStreamSource
from assistant.config import Config, load_config
from assistant.daemon import Daemon, run_until_signalled
from assistant.errors import AssistantError, AudioDeviceError, ConfigError
from assistant.logs import setup_logging
from assistant.runtime import Runtime, start_runtime
from assistant.session import Session, TurnResult

if TYPE_CHECKING:
    from assistant.audio.sources import DeviceSource

SAMPLE = "what_time_is_it.wav"


def register(sub: Any, common: argparse.ArgumentParser) -> None:
    """Add the turn-running commands."""
    run = sub.add_parser("run", parents=[common], help="listen on the microphone and answer (foreground)")
    run.add_argument(
        "--input", metavar="IN", help="listen to an audio file, or - for raw s16le 16 kHz mono PCM on stdin"
    )
    run.add_argument("--output", metavar="OUT.wav", help="write everything said to a WAV file")
    run.add_argument(
        "--no-wake", action="store_true", help="take every utterance as a command (wake.mode: always)"
    )
    run.set_defaults(func=_run)

    process = sub.add_parser(
        "process", parents=[common], help="run one spoken utterance from an audio file through the pipeline"
    )
    process.add_argument(
        "input", metavar="IN", help="audio file (WAV, FLAC, MP3, OGG, ...), or - for raw s16le PCM on stdin"
    )
    process.add_argument("--rate", type=int, default=16000, help="sample rate of PCM on stdin (Hz)")
    process.add_argument("--channels", type=int, default=1, help="channels of PCM on stdin")
    process.add_argument("--out", metavar="OUT.wav", help="write the spoken reply here")
    process.add_argument("--json", action="store_true", help="print one JSON object")
    process.add_argument(
        "--no-pace", action="store_true", help="feed audio as fast as possible instead of in real time"
    )
    process.set_defaults(func=_process)

    ask = sub.add_parser("ask", parents=[common], help="run one turn from text")
    ask.add_argument("text", help="what you would have said")
    ask.add_argument("--out", metavar="OUT.wav", help="write the spoken reply here")
    ask.add_argument("--json", action="store_true", help="print one JSON object")
    ask.add_argument(
        "--daemon",
        action="store_true",
        help="have the running daemon handle it (a timer it sets lives there; it speaks the reply)",
    )
    ask.set_defaults(func=_ask)

    chat = sub.add_parser("chat", parents=[common], help="type to the assistant (same path after ASR)")
    chat.set_defaults(func=_chat)

    demo = sub.add_parser(
        "demo",
        parents=[common],
        help="run on the microphone if there is one, else process the bundled spoken sample",
    )
    demo.add_argument("--sample", action="store_true", help="always use the bundled sample")
    demo.add_argument("--out", metavar="OUT.wav", default="reply.wav", help="where the reply WAV goes")
    demo.set_defaults(func=_demo)


def _prepare(args: argparse.Namespace) -> tuple[Config, Path]:
    config = load_config(args.config)
    setup_logging(args.log_level or config.logging.level, args.log_format or config.logging.format)
    return config, paths.state_dir(args.state_dir)


def stdin_pcm() -> BinaryIO:
    """Standard input for a reader thread: unbuffered, and not sys.stdin itself. A thread blocked
    reading sys.stdin.buffer holds its lock, and Python aborts at exit trying to close it."""
    return open(sys.stdin.fileno(), "rb", buffering=0, closefd=False)


def sample_path() -> Path:
    """The bundled spoken sample used when there is no microphone."""
    return Path(str(files("assistant") / "data" / "samples" / SAMPLE))


@contextlib.asynccontextmanager
async def _runtime(
    args: argparse.Namespace, *, need_asr: bool, config: Config | None = None
) -> AsyncIterator[Runtime]:
    prepared, state_dir = _prepare(args) if config is None else (config, paths.state_dir(args.state_dir))
    config = prepared
    runtime = await start_runtime(config, state_dir=state_dir, need_asr=need_asr)
    try:
        yield runtime
    finally:
        await runtime.aclose()


async def process_audio(runtime: Runtime, pcm: bytes, out: str | None, *, realtime: bool) -> TurnResult:
    """Run the first utterance in decoded audio (16 kHz mono s16le) through the daemon's own path."""
    source = BufferSource(
        pcm,
        realtime=realtime,
        # Enough real silence after the speech for the endpointer to decide, as it would live.
        trailing_silence_s=runtime.config.endpoint.silence_ms / 1000 + 0.5,
    )
    return await process_source(runtime, source, out)


async def process_source(runtime: Runtime, source: AudioSource, out: str | None) -> TurnResult:
    """Run the first utterance heard from ``source``; silence or noise alone make no turn."""
    sink: Sink = WavFileSink(Path(out)) if out else NullSink()
    # One utterance is the command: no wake word, whatever the config says for `run`.
    always = dataclasses.replace(runtime.config.wake, mode="always")
    session = Session(runtime, sink, name="file", wake=always)
    try:
        async with contextlib.aclosing(session.utterances(source)) as utterances:
            async for speech in utterances:
                return await session.handle_speech(speech)
        return TurnResult("", "none")  # silence or noise only: no turn, nothing sent anywhere
    finally:
        await source.aclose()
        await sink.aclose()


def _print_result(result: TurnResult, as_json: bool, out: str | None = None) -> None:
    if as_json:
        print(json.dumps(result.to_json(), ensure_ascii=False))
        return
    if result.route == "none" and not result.transcript and not result.reply:
        print("heard:   (no speech)")
        return
    target = f" → {result.skill}.{result.action}" if result.skill else ""
    slots = f" {json.dumps(result.slots)}" if result.slots else ""
    print(f"heard:   {result.transcript or '(no words)'}")
    print(f"route:   {result.route}{target}{slots}")
    print(f"reply:   {result.reply}")
    order = ("endpoint", "asr", "understand", "llm_first_token", "tts_first_audio", "voice_to_voice")
    timings = "  ".join(f"{k} {result.timings_ms[k]:.0f} ms" for k in order if k in result.timings_ms)
    print(f"timings: {timings}")
    if result.budget_exceeded:
        print(f"over budget: {', '.join(result.budget_exceeded)}")
    if result.error:
        print(f"error:   {result.error}")
    if out:
        print(f"wrote:   {out}")


async def _process(args: argparse.Namespace) -> int:
    if args.input == "-":
        if args.rate <= 0 or args.channels <= 0:
            raise ConfigError(f"--rate and --channels must be positive, got {args.rate} and {args.channels}")
        async with _runtime(args, need_asr=True) as runtime:
            source = PcmStreamSource(stdin_pcm(), sample_rate=args.rate, channels=args.channels)
            result = await process_source(runtime, source, args.out)
        _print_result(result, args.json, args.out)
        return 1 if result.error else 0
    # Decode the file before loading models, so a bad file costs no waiting.
    pcm = await asyncio.to_thread(read_audio_file, Path(args.input))
    async with _runtime(args, need_asr=True) as runtime:
        result = await process_audio(runtime, pcm, args.out, realtime=not args.no_pace)
    _print_result(result, args.json, args.out)
    return 1 if result.error else 0


async def _ask(args: argparse.Namespace) -> int:
    if args.daemon:
        return await _ask_daemon(args)
    sink: Sink = WavFileSink(Path(args.out)) if args.out else NullSink()
    async with _runtime(args, need_asr=False) as runtime:
        try:
            result = await Session(runtime, sink, name="text").handle_text(args.text)
        finally:
            await sink.aclose()
    _print_result(result, args.json, args.out)
    return 1 if result.error else 0


async def _ask_daemon(args: argparse.Namespace) -> int:
    from assistant.cli import control_cmd

    if args.out:
        raise ConfigError("--out does not go with --daemon: the daemon speaks on its own output")
    answer = await control_cmd.ask_daemon(args.text, args.runtime_dir)
    if args.json:
        print(json.dumps(answer, ensure_ascii=False))
    else:
        _print_result(control_cmd.turn_result(answer), as_json=False)
    return 1 if answer.get("error") else 0


async def _chat(args: argparse.Namespace) -> int:
    async with _runtime(args, need_asr=False) as runtime:
        session = Session(runtime, NullSink(), name="chat")
        print(
            "Type to the assistant; /history shows what it remembers, /forget clears it; "
            "an empty line or Ctrl-D ends the chat.",
            file=sys.stderr,
        )
        while True:
            print("you> ", end="", flush=True, file=sys.stderr)
            line = await asyncio.to_thread(sys.stdin.readline)
            if not line.strip():
                return 0
            if line.strip() in ("/history", "/forget"):
                _chat_command(session, line.strip())
                continue
            result = await session.handle_text(line)
            print(f"assistant> {result.reply}")
            timings = " ".join(f"{k}={v:.0f}ms" for k, v in result.timings_ms.items())
            target = f" {result.skill}.{result.action}" if result.skill else ""
            tool = " (tool call)" if result.tool_call is not None else ""
            remembered = len(session.conversation.recent())
            notes = f" {','.join(result.degraded)}" if result.degraded else ""
            print(f"  [{result.route}{target}{tool}{notes}] {timings} memory={remembered}", file=sys.stderr)


def _chat_command(session: Session, command: str) -> None:
    """Show or clear the conversation memory the model sees."""
    if command == "/forget":
        session.conversation.clear()
        print("(forgotten)")
        return
    exchanges = session.conversation.recent()
    if not exchanges:
        print("(nothing remembered)")
    for exchange in exchanges:
        did = f" [{exchange.tool.name} {json.dumps(exchange.tool.arguments)}]" if exchange.tool else ""
        print(f"  you: {exchange.user}\n  assistant:{did} {exchange.answer}")


def device_arg(value: str | None) -> str | int | None:
    """A configured device: an index when it is all digits, else a name (or part of one)."""
    return int(value) if value is not None and value.isdigit() else value


def audio_backend(config: Config) -> Any:
    """The configured sound-device backend: None for sounddevice (loaded on first use), or pipes."""
    audio = config.audio
    if audio.backend != "pipe":
        return None  # sounddevice is imported only when a device is opened: PortAudio may be absent
    from assistant.audio.pipe_device import PipeBackend

    return PipeBackend(audio.pipe_input, audio.pipe_output, samplerate=audio.pipe_rate)


async def open_microphone(config: Config, *, required: bool = True, backend: Any = None) -> DeviceSource:
    """Open the configured microphone; if that fails, raise (``required``) or return it retrying.

    Either way the failure is logged naming the device and listing the devices there are.
    """
    from assistant.audio.sources import DeviceSource

    source = DeviceSource(
        device=device_arg(config.audio.input_device),
        queue_frames=config.audio.input_queue_frames,
        backend=backend if backend is not None else audio_backend(config),
        retry_max_s=config.audio.retry_max_s,
    )
    try:
        await source.start()
    except AudioDeviceError:
        if required:
            await source.aclose()
            raise
        # Not fatal: the source keeps retrying while it is iterated, and the daemon runs degraded.
    return source


def open_speaker(config: Config, backend: Any = None) -> Sink:
    """The configured speaker; it opens on first use and survives the device coming and going."""
    from assistant.audio.sinks import DeviceSink

    return DeviceSink(
        device_arg(config.audio.output_device),
        backend=backend if backend is not None else audio_backend(config),
        retry_max_s=config.audio.retry_max_s,
    )


def _with_command_line(args: argparse.Namespace) -> Callable[[Config], Config]:
    """The command line's settings over the config file's (at start, and again at each reload)."""

    def apply(config: Config) -> Config:
        logging = dataclasses.replace(
            config.logging,
            level=args.log_level or config.logging.level,
            format=args.log_format or config.logging.format,
        )
        config = dataclasses.replace(config, logging=logging)
        if getattr(args, "no_wake", False):
            config = dataclasses.replace(config, wake=dataclasses.replace(config.wake, mode="always"))
        return config

    return apply


async def _serve(runtime: Runtime, source: AudioSource, output: Sink, args: argparse.Namespace) -> int:
    """Run the daemon on ``source`` and ``output`` until SIGTERM or Ctrl-C."""
    overrides = _with_command_line(args)
    # With JSON logs (a log collector) the turn log line is the record; no text on stdout too.
    json_logs = overrides(runtime.config).logging.format == "json"
    daemon = Daemon(
        runtime,
        source,
        output,
        on_turn=None if json_logs else (lambda result: _print_result(result, as_json=False)),
        control_socket=paths.control_socket(args.runtime_dir),
        reread_config=lambda: overrides(load_config(args.config)),
    )
    wake = runtime.config.wake
    what = {
        "wake": f"say the wake word ({wake.model}), then a command",
        "always": "speak a command",
        "push_to_talk": "waiting for push-to-talk",
    }[wake.mode]
    if json_logs:
        logging.getLogger(__name__).info("Listening; %s.", what)
    else:
        print(f"Listening; {what}. Ctrl-C stops.", file=sys.stderr)
    try:
        return await run_until_signalled(daemon.run())
    finally:
        await source.aclose()


async def _run(args: argparse.Namespace) -> int:
    config, _ = _prepare(args)
    config = _with_command_line(args)(config)
    backend = audio_backend(config)  # one for both, so a pipe device is one device
    source: AudioSource
    if args.input == "-":
        source = PcmStreamSource(stdin_pcm())
    elif args.input:
        pcm = await asyncio.to_thread(read_audio_file, Path(args.input))
        source = BufferSource(pcm, realtime=True, trailing_silence_s=1.0)
    else:
        # Try the microphone before loading models, so a missing device is reported at once; the
        # daemon then runs without it (degraded) and keeps retrying until it appears.
        source = await open_microphone(config, required=False, backend=backend)
    output: Sink = WavFileSink(Path(args.output)) if args.output else open_speaker(config, backend)
    try:
        async with _runtime(args, need_asr=True, config=config) as runtime:
            return await _serve(runtime, source, output, args)
    finally:
        await source.aclose()


def _has_microphone() -> bool:
    try:
        from assistant.audio.sources import list_devices

        return any(d.get("max_input_channels", 0) > 0 for d in list_devices())
    except (AssistantError, OSError):
        return False


async def _demo(args: argparse.Namespace) -> int:
    use_mic = not args.sample and await asyncio.to_thread(_has_microphone)
    async with _runtime(args, need_asr=True) as runtime:
        print(f"models ready in {max(runtime.load_ms.values(), default=0):.0f} ms", file=sys.stderr)
        if use_mic:
            try:
                source = await open_microphone(runtime.config)
            except AudioDeviceError as exc:
                print(f"microphone unusable ({exc}); processing the bundled sample", file=sys.stderr)
            else:
                return await _serve(runtime, source, open_speaker(runtime.config), args)
        sample = sample_path()
        print(f"no microphone in use: processing the bundled sample {sample.name}", file=sys.stderr)
        pcm = await asyncio.to_thread(read_audio_file, sample)
        result = await process_audio(runtime, pcm, args.out, realtime=True)
    _print_result(result, as_json=False, out=args.out)
    return 1 if result.error else 0
