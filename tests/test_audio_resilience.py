"""Sound devices that come and go: DeviceSource and DeviceSink on the pipe device, in process and
under a real ``assistant run``."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import yaml

from assistant.audio.files import read_audio_file
from assistant.audio.pipe_device import CallbackFlags, PipeBackend, PortAudioError
from assistant.audio.sinks import DeviceSink
from assistant.audio.sources import DeviceSource, describe_devices, list_devices
from assistant.cli.turns_cmd import open_microphone
from assistant.config import parse_config
from assistant.errors import AudioDeviceError
from assistant.frames import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE, AudioChunk, ReplyAudio

SAMPLE = Path(__file__).parents[1] / "assistant" / "data" / "samples" / "what_time_is_it.wav"
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE

# --------------------------------------------------------------------------- helpers


def ramp_pcm(frames: int, start: int = 0) -> bytes:
    """Frames whose samples all hold their frame's number, so order and gaps can be read back."""
    return np.repeat(np.arange(start, start + frames, dtype=np.int16), FRAME_SAMPLES).tobytes()


def frame_ids(chunks: list[AudioChunk]) -> list[int]:
    return [int(np.frombuffer(c.pcm, dtype="<i2")[0]) for c in chunks]


def open_writer(path: Path, deadline_s: float = 10.0) -> int:
    """Open a FIFO for writing once it has a reader (blocking writes from then on)."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError as e:
            if e.errno not in (errno.ENXIO, errno.ENOENT) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)
            continue
        os.set_blocking(fd, True)
        return fd


def write_paced(fd: int, pcm: bytes, stop: threading.Event | None = None) -> None:
    """Write frame by frame at real time, as a microphone would produce it."""
    start = time.monotonic()
    for n, pos in enumerate(range(0, len(pcm), FRAME_BYTES)):
        if stop is not None and stop.is_set():
            return
        os.write(fd, pcm[pos : pos + FRAME_BYTES])
        time.sleep(max(0.0, start + (n + 1) * FRAME_S - time.monotonic()))


@contextlib.contextmanager
def in_thread(target: Any, *args: Any) -> Iterator[threading.Thread]:
    thread = threading.Thread(target=target, args=args, daemon=True)
    thread.start()
    try:
        yield thread
    finally:
        thread.join(10)


async def until(condition: Any, within: float = 10.0, step: float = 0.01) -> float:
    """Wait for ``condition()``; returns when it became true (monotonic)."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {condition}")
        await asyncio.sleep(step)
    return time.monotonic()


class Collector:
    """Iterates a source in a task, keeping every chunk; the task must end only by aclose()."""

    def __init__(self, source: DeviceSource) -> None:
        self.source = source
        self.chunks: list[AudioChunk] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for chunk in self.source:
            self.chunks.append(chunk)

    async def aclose(self) -> None:
        await self.source.aclose()
        await asyncio.wait_for(self.task, 5)  # re-raises anything the iteration raised


@contextlib.asynccontextmanager
async def collecting(source: DeviceSource) -> AsyncIterator[Collector]:
    collector = Collector(source)
    try:
        yield collector
    finally:
        await collector.aclose()


RETRY_S, RETRY_MAX_S = 0.05, 0.2
"""Backoff for in-process tests: 0.05 s, 0.1 s, then every 0.2 s."""


# --------------------------------------------------------------------------- the pipe device


def test_pipe_backend_looks_like_sounddevice(tmp_path: Path) -> None:
    mic, speaker = tmp_path / "mic.fifo", tmp_path / "speaker.pcm"
    backend = PipeBackend(mic, speaker)
    assert list_devices(backend) == []  # nothing plugged in: both paths are missing
    with pytest.raises(PortAudioError):
        backend.query_devices(kind="input")
    os.mkfifo(mic)
    speaker.touch()
    names = [d["name"] for d in list_devices(backend)]
    assert names == [f"pipe input {mic}", f"pipe output {speaker}"]
    assert backend.query_devices(kind="output")["index"] == 1
    assert backend.default.device == (0, 1)
    assert "pipe input" in describe_devices(backend).split("Output devices:")[0]
    with pytest.raises(PortAudioError, match="Invalid sample rate"):
        backend.RawInputStream(samplerate=48000, channels=1, dtype="int16", callback=print)
    with pytest.raises(PortAudioError, match="Invalid number of channels"):
        backend.RawOutputStream(samplerate=16000, channels=2, dtype="int16")
    assert not CallbackFlags() and CallbackFlags(input_overflow=True)
    backend.close()


def test_pipe_input_overruns_when_its_callback_is_too_slow(tmp_path: Path) -> None:
    mic = tmp_path / "mic.pcm"
    mic.write_bytes(ramp_pcm(100))  # 3 s of audio in a regular file
    backend = PipeBackend(mic, None, max_lag_blocks=2)
    seen: list[tuple[int, bool]] = []

    def slow(indata: bytes, frames: int, time_info: Any, status: CallbackFlags) -> None:
        seen.append((int(np.frombuffer(indata, dtype="<i2")[0]), status.input_overflow))
        time.sleep(0.2)  # about seven blocks' worth: the device falls behind

    stream = backend.RawInputStream(samplerate=16000, blocksize=FRAME_SAMPLES, callback=slow)
    stream.start()
    time.sleep(1.0)
    stream.close()
    ids = [i for i, _ in seen]
    assert any(flag for _, flag in seen)  # the status said input_overflow
    assert ids == sorted(ids) and max(ids) - min(ids) > len(ids)  # blocks were lost, in order
    assert stream.closed and not stream.active


# --------------------------------------------------------------------------- microphone


async def test_absent_microphone_is_retried_until_it_appears(tmp_path: Path) -> None:
    mic = tmp_path / "mic.pcm"
    src = DeviceSource(backend=PipeBackend(mic, None), retry_s=RETRY_S, retry_max_s=RETRY_MAX_S)
    with pytest.raises(AudioDeviceError) as err:
        await src.start()  # a caller can still learn at once that there is none
    assert f"unplugged: {mic} does not exist" in str(err.value)
    assert "available input devices: none" in str(err.value)
    assert src.state == "degraded"
    assert src.state_reason is not None and src.state_reason.startswith("no microphone (")
    async with collecting(src) as got:
        await asyncio.sleep(0.6)
        assert src.open_failures >= 4  # at start, then after 0.05, 0.1, 0.2, 0.2 s
        assert got.chunks == [] and not got.task.done()
        mic.write_bytes(ramp_pcm(20))  # plugged in
        await until(lambda: len(got.chunks) >= 20, within=5)
        assert frame_ids(got.chunks[:20]) == list(range(20))
        health = src.health()  # what `assistant status` and metrics read
        assert (health["state"], health["reason"], health["reopens"]) == ("listening", None, 1)
        assert health["open_failures"] == src.open_failures and health["dropped_frames"] == 0
    assert src.state == "closed"


async def test_microphone_that_stops_delivering_is_detected_within_two_seconds_and_reopened(
    tmp_path: Path,
) -> None:
    mic = tmp_path / "mic.fifo"
    os.mkfifo(mic)
    src = DeviceSource(backend=PipeBackend(mic, None), retry_s=RETRY_S, retry_max_s=RETRY_MAX_S)
    await src.start()

    def writer() -> None:
        fd = open_writer(mic)
        try:
            write_paced(fd, ramp_pcm(10))
            time.sleep(3.0)  # the writer stalls: no callbacks, but nothing closes
            write_paced(fd, ramp_pcm(10, start=100))
        finally:
            os.close(fd)

    async with collecting(src) as got:
        with in_thread(writer):
            await until(lambda: len(got.chunks) >= 10)
            detected = await until(lambda: src.state == "degraded", within=4)
            silent_for = detected - got.chunks[9].t
            assert 1.9 <= silent_for <= 2.5
            assert src.state_reason == "microphone lost (no audio for 2 s)"
            await until(lambda: len(got.chunks) >= 20, within=5)
    # The same iteration carried on with the writer's new audio; nothing was raised.
    assert frame_ids(got.chunks) == list(range(10)) + list(range(100, 110))
    assert src.reopens >= 1 and src.state == "closed"


async def test_writer_closing_or_path_removed_is_a_lost_microphone_that_comes_back(tmp_path: Path) -> None:
    mic = tmp_path / "mic.fifo"
    os.mkfifo(mic)
    src = DeviceSource(backend=PipeBackend(mic, None), retry_s=RETRY_S, retry_max_s=RETRY_MAX_S)
    async with collecting(src) as got:
        fd = await asyncio.to_thread(open_writer, mic)
        await asyncio.to_thread(write_paced, fd, ramp_pcm(5))
        os.close(fd)  # the writer goes away: the stream ends at once
        closed_t = time.monotonic()
        await until(lambda: src.state == "degraded")
        assert time.monotonic() - closed_t < 0.5
        assert src.state_reason == "microphone lost (the stream stopped)"

        fd = await asyncio.to_thread(open_writer, mic)  # a new writer: the device is back
        await asyncio.to_thread(write_paced, fd, ramp_pcm(5, start=10))
        await until(lambda: len(got.chunks) >= 10)
        assert src.state == "listening"

        mic.unlink()  # unplugged while the writer still holds it
        await until(lambda: src.state == "degraded")
        os.close(fd)
        failures = src.open_failures
        await until(lambda: src.open_failures > failures)  # absent now, and retried
        assert src.state_reason is not None and src.state_reason.startswith("no microphone (")

        os.mkfifo(mic)  # plugged in again: a new FIFO at the same path
        fd = await asyncio.to_thread(open_writer, mic)
        await asyncio.to_thread(write_paced, fd, ramp_pcm(5, start=20))
        os.close(fd)
        await until(lambda: len(got.chunks) >= 15)
    assert frame_ids(got.chunks) == [*range(5), *range(10, 15), *range(20, 25)]
    assert src.reopens >= 2


async def test_overflow_drops_and_counts_frames_never_raises(tmp_path: Path) -> None:
    mic = tmp_path / "mic.pcm"
    mic.write_bytes(ramp_pcm(100))
    src = DeviceSource(backend=PipeBackend(mic, None), queue_frames=10)
    await src.start()
    await asyncio.sleep(1.0)  # nobody iterates: ~33 blocks arrive, 10 fit
    assert 15 <= src.dropped_frames <= 30
    # The loop itself stalls (on purpose): blocks pile up at the hand-off, which is bounded too.
    time.sleep(0.6)  # noqa: ASYNC251
    async with collecting(src) as got:
        await until(lambda: len(got.chunks) >= 20, within=5)
    assert src.dropped_frames >= 25
    assert src.health()["dropped_frames"] == src.dropped_frames
    assert frame_ids(got.chunks[:10]) == list(range(10))  # the queue kept the oldest, in order


# --------------------------------------------------------------------------- speaker


class Reader:
    """Reads a FIFO without blocking its writer, keeping everything written to it."""

    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        self.data = bytearray()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            ready, _, _ = select.select([self.fd], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.fd, 65536)
            except BlockingIOError:
                continue
            if chunk:
                self.data += chunk
            else:
                time.sleep(0.02)  # no writer at the moment

    def close(self) -> None:
        if self._stop.is_set():
            return
        self._stop.set()
        self._thread.join(5)
        os.close(self.fd)


def piece(seconds: float, value: int, rate: int = 16000) -> ReplyAudio:
    return ReplyAudio(np.full(round(rate * seconds), value, dtype=np.int16).tobytes(), rate)


async def test_absent_speaker_drops_audio_at_real_time_pace_and_recovers(tmp_path: Path) -> None:
    speaker = tmp_path / "speaker.fifo"
    sink = DeviceSink(backend=PipeBackend(None, speaker), retry_s=RETRY_S, retry_max_s=RETRY_MAX_S)
    start = time.monotonic()
    await sink.play(piece(0.3, 1))  # nothing to play it on: no exception
    await sink.play(piece(0.3, 2))
    await sink.drain()
    assert 0.5 <= time.monotonic() - start < 1.0  # still paced like a speaker
    assert sink.state == "degraded"
    assert sink.state_reason is not None and sink.state_reason.startswith("no speaker (")
    assert sink.errors >= 1 and sink.dropped == 2

    os.mkfifo(speaker)
    reader = Reader(speaker)  # plugged in: a FIFO with a reader
    try:
        await asyncio.sleep(0.25)  # past the backoff
        await sink.play(piece(0.2, 3, rate=22050))  # the pipe takes 16 kHz: resampled
        await sink.play(piece(0.2, 4))
        await sink.drain()
        await asyncio.sleep(0.05)
        assert (sink.state, sink.rate, sink.reopens) == ("ready", 16000, 1)
        out = np.frombuffer(bytes(reader.data), dtype="<i2")
        assert abs(len(out) - 6400) <= 2
        assert set(out[-3200:].tolist()) == {4} and 3 in out[:3000]
    finally:
        await sink.aclose()
        reader.close()


async def test_speaker_lost_while_playing_is_reopened_later(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    speaker = tmp_path / "speaker.fifo"
    os.mkfifo(speaker)
    reader = Reader(speaker)
    sink = DeviceSink(backend=PipeBackend(None, speaker), retry_s=RETRY_S, retry_max_s=RETRY_MAX_S)
    try:
        await sink.play(piece(0.2, 1))
        await sink.drain()
        reader.close()  # unplugged: the next write fails (EPIPE)
        for value in range(2, 6):
            await sink.play(piece(0.1, value))
        await sink.drain()
        assert sink.state == "degraded"
        # Lost while writing; then, as the retries find no reader, absent.
        assert sink.state_reason is not None and sink.state_reason.startswith(
            ("speaker lost (", "no speaker (")
        )
        assert "speaker lost: writing to output device" in caplog.text
        assert sink.errors >= 1 and sink.dropped >= 1
        reader = Reader(speaker)
        await asyncio.sleep(0.25)
        await sink.play(piece(0.1, 9))
        await sink.drain()
        await asyncio.sleep(0.05)
        assert sink.state == "ready" and sink.reopens >= 1
        assert set(np.frombuffer(bytes(reader.data), dtype="<i2").tolist()) == {9}
    finally:
        await sink.aclose()
        reader.close()


def test_pipe_and_file_audio_never_import_sounddevice(tmp_path: Path) -> None:
    mic = tmp_path / "mic.pcm"
    mic.write_bytes(ramp_pcm(3))
    code = f"""
import asyncio, sys
from assistant.audio.pipe_device import PipeBackend
from assistant.audio.sinks import DeviceSink, WavFileSink
from assistant.audio.sources import DeviceSource, BufferSource
from assistant.cli.turns_cmd import audio_backend
from assistant.config import parse_config

async def main():
    backend = audio_backend(parse_config("audio: {{backend: pipe, pipe_input: {str(mic)!r}}}"))
    assert isinstance(backend, PipeBackend)
    source = DeviceSource(backend=backend)
    async for chunk in source:
        break
    await source.aclose()
    sink = DeviceSink(backend=backend, retry_s=0.01, retry_max_s=0.01)
    await sink.aclose()

asyncio.run(main())
assert "sounddevice" not in sys.modules, "sounddevice was imported"
"""
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)


# --------------------------------------------------------------------------- a real `assistant run`


def speech_pcm() -> bytes:
    return read_audio_file(SAMPLE)


class Microphone:
    """Feeds a FIFO like a microphone in a quiet room: silence at real time, speech when asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._speech = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.connected = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def say(self, pcm: bytes) -> None:
        with self._lock:
            self._speech += pcm

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                fd = open_writer(self.path, deadline_s=0.2)
            except OSError:
                continue  # no FIFO or no reader yet
            self.connected.set()
            try:
                start, n = time.monotonic(), 0
                while not self._stop.is_set():
                    with self._lock:
                        frame = bytes(self._speech[:FRAME_BYTES]).ljust(FRAME_BYTES, b"\0")
                        del self._speech[:FRAME_BYTES]
                    os.write(fd, frame)
                    n += 1
                    time.sleep(max(0.0, start + n * FRAME_S - time.monotonic()))
            except BrokenPipeError:
                continue  # the daemon went away; wait for it to come back
            finally:
                os.close(fd)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)


def rms(pcm: bytes) -> float:
    x = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float64)
    return float(np.sqrt(np.mean(x**2))) if x.size else 0.0


def loud_seconds(pcm: bytes, rate: int = 16000) -> float:
    """Seconds of 50 ms windows that are clearly not silence."""
    window = rate // 20 * 2
    return sum(rms(pcm[i : i + window]) > 300 for i in range(0, len(pcm), window)) * 0.05


class Daemon:
    """A real ``assistant run`` on pipe devices, with its output captured in files."""

    def __init__(self, tmp: Path, audio: dict[str, Any], env: dict[str, str] | None = None) -> None:
        config = {"audio": audio, "wake": {"mode": "always"}}
        (tmp / "config.yaml").write_text(yaml.safe_dump(config))
        self.out, self.err = tmp / "stdout.txt", tmp / "stderr.txt"
        environ = {k: v for k, v in os.environ.items() if k not in ("NOTIFY_SOCKET", "RUNTIME_DIRECTORY")}
        environ.update(
            XDG_STATE_HOME=str(tmp / "state"),
            XDG_CONFIG_HOME=str(tmp / "cfg"),
            XDG_RUNTIME_DIR=str(tmp / "rt"),
            PYTHONUNBUFFERED="1",
            **(env or {}),
        )
        with self.out.open("w") as out, self.err.open("w") as err:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "assistant", "--config", str(tmp / "config.yaml"), "run"],
                env=environ,
                stdout=out,
                stderr=err,
            )

    def stdout(self) -> str:
        return self.out.read_text()

    def stderr(self) -> str:
        return self.err.read_text()

    def wait_for(self, condition: Any, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            assert self.proc.poll() is None, f"assistant run exited early:\n{self.stderr()}"
            assert time.monotonic() < deadline, f"timed out; stderr:\n{self.stderr()}"
            time.sleep(0.1)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()


class Notifications:
    """Receives sd_notify messages the way systemd does: at once (a full queue blocks the sender)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.messages: list[str] = []
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sock.bind(str(path))
        self._sock.settimeout(0.1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(TimeoutError):
                self.messages.append(self._sock.recv(4096).decode())

    def statuses(self) -> list[str]:
        return [m for m in list(self.messages) if m != "WATCHDOG=1"]

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        self._sock.close()


def ask_what_time(daemon: Daemon, microphone: Microphone, reader: Reader, turn: int) -> None:
    """Say the sample into the microphone; wait for the answer's text and its sound."""
    assert microphone.connected.wait(30)
    heard_before = bytes(reader.data)
    microphone.say(speech_pcm())
    daemon.wait_for(lambda: daemon.stdout().count("heard:   What time is it?") >= turn, timeout=120)
    daemon.wait_for(lambda: loud_seconds(bytes(reader.data)[len(heard_before) :]) >= 0.5, timeout=30)


@pytest.mark.slow
def test_run_answers_through_pipe_devices_and_survives_the_microphone_going(tmp_path: Path) -> None:
    mic, speaker = tmp_path / "mic", tmp_path / "spk"
    os.mkfifo(mic)
    os.mkfifo(speaker)
    reader = Reader(speaker)
    microphone = Microphone(mic)
    daemon = Daemon(
        tmp_path,
        {"backend": "pipe", "pipe_input": str(mic), "pipe_output": str(speaker), "retry_max_s": 1},
    )
    try:
        daemon.wait_for(lambda: "Listening" in daemon.stderr(), timeout=300)
        ask_what_time(daemon, microphone, reader, turn=1)
        assert "clock.time" in daemon.stdout()

        microphone.close()  # the microphone goes away (its writer closes the pipe) ...
        daemon.wait_for(lambda: "microphone (system default) lost" in daemon.stderr(), timeout=10)
        microphone = Microphone(mic)  # ... and comes back: the same daemon answers again
        ask_what_time(daemon, microphone, reader, turn=2)
    finally:
        code = daemon.stop()
        microphone.close()
        reader.close()
    assert code == 0, daemon.stderr()
    assert "no microphone" not in daemon.stderr()


@pytest.mark.slow
def test_run_without_a_microphone_runs_degraded_then_answers_once_it_appears(tmp_path: Path) -> None:
    mic, speaker = tmp_path / "mic", tmp_path / "spk"
    os.mkfifo(speaker)
    reader = Reader(speaker)
    notifications = Notifications(tmp_path / "notify")
    daemon = Daemon(
        tmp_path,
        {"backend": "pipe", "pipe_input": str(mic), "pipe_output": str(speaker), "retry_max_s": 1},
        env={"NOTIFY_SOCKET": str(notifications.path), "WATCHDOG_USEC": "400000"},
    )
    microphone: Microphone | None = None
    try:
        daemon.wait_for(lambda: "Listening" in daemon.stderr(), timeout=300)
        time.sleep(2.0)  # no microphone for a while: the daemon keeps running, and says why
        assert daemon.proc.poll() is None
        assert (
            "WARNING assistant.audio.sources: no microphone: cannot open input device (system default) "
            f"(at 16000 Hz: Error querying device -1 (unplugged: {mic} does not exist)); "
            "available input devices: none; retrying in the background"
        ) in daemon.stderr()
        ready = notifications.statuses()[0]
        assert ready.startswith("READY=1\nSTATUS=degraded: no microphone (cannot open input device")
        assert notifications.messages.count("WATCHDOG=1") >= 5  # alive and retrying: no restart

        os.mkfifo(mic)  # the microphone appears
        microphone = Microphone(mic)
        ask_what_time(daemon, microphone, reader, turn=1)
        assert "microphone (system default) is back" in daemon.stderr()
        assert "STATUS=listening" in notifications.statuses()[1:]
    finally:
        code = daemon.stop()
        if microphone is not None:
            microphone.close()
        reader.close()
        notifications.close()
    assert code == 0, daemon.stderr()
    assert notifications.messages[-1] == "STOPPING=1"


async def test_run_opens_a_missing_sounddevice_microphone_without_failing() -> None:
    # A device name no machine has, so the result is the same with or without a sound card,
    # and without PortAudio (which is a missing microphone too). `demo` still gets the error.
    config = parse_config("audio: {input_device: hearkend-test-no-such-microphone, retry_max_s: 1}")
    source = await open_microphone(config, required=False)
    try:
        assert source.state == "degraded"
        assert source.state_reason is not None
        assert source.state_reason.startswith("no microphone (")
        assert "hearkend-test-no-such-microphone" in source.state_reason or "PortAudio" in source.state_reason
    finally:
        await source.aclose()
    with pytest.raises(AudioDeviceError):
        await open_microphone(config)
