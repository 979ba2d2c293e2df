"""A sound device made of pipes: sounddevice's interface over raw PCM in FIFOs, sockets and files.

``PipeBackend`` stands in for the ``sounddevice`` module wherever DeviceSource and DeviceSink take
a ``backend``. Its microphone reads raw s16le mono PCM from a path, its speaker writes raw s16le
mono PCM to another; each path may be a FIFO (``mkfifo``), a listening Unix stream socket (the
device connects to it) or a regular file. A thread calls the input callback one block per block
period, so a writer that writes faster than real time is paced by the pipe filling up.

It is a tool for end-to-end tests of a real ``assistant run`` and for headless machines whose
sound arrives some other way (``arecord -t raw -f S16_LE -r 16000 -c 1 > mic.fifo``). Like a
real device it can be absent, lost and back, and it overruns when its consumer is too slow:

- absent: the path is missing; a FIFO for output has no reader; a socket refuses the connection.
- lost: the path is removed or replaced, the writer of an input FIFO closes it after writing,
  a socket's peer hangs up, or the reader of an output FIFO goes away.
- stalled: the writer stops writing, so callbacks stop arriving (the device stays open).
- overflow: a callback slower than real time makes the thread fall behind; the blocks it cannot
  deliver in time are thrown away and the next callback's status says ``input_overflow``.

It never imports sounddevice or PortAudio.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import stat
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace, TracebackType
from typing import Any

import numpy as np

__all__ = [
    "CallbackAbort",
    "CallbackFlags",
    "CallbackStop",
    "PipeBackend",
    "PipeInputStream",
    "PipeOutputStream",
    "PortAudioError",
    "StreamTime",
]

log = logging.getLogger(__name__)

INPUT_INDEX = 0
OUTPUT_INDEX = 1


class PortAudioError(Exception):
    """A device error, as sounddevice.PortAudioError: absent, lost, or refusing a setting."""


class CallbackStop(Exception):
    """Raised by a callback to end its stream normally (as sounddevice.CallbackStop)."""


class CallbackAbort(Exception):
    """Raised by a callback to end its stream at once (as sounddevice.CallbackAbort)."""


@dataclass(slots=True)
class CallbackFlags:
    """The status handed to a callback, as sounddevice.CallbackFlags; true when any flag is set."""

    input_underflow: bool = False
    input_overflow: bool = False
    output_underflow: bool = False
    output_overflow: bool = False
    priming_output: bool = False

    def __bool__(self) -> bool:
        return (
            self.input_underflow
            or self.input_overflow
            or self.output_underflow
            or self.output_overflow
            or self.priming_output
        )


@dataclass(frozen=True, slots=True)
class StreamTime:
    """The time_info handed to a callback, with PortAudio's field names."""

    inputBufferAdcTime: float  # PortAudio's spelling, which callbacks expect
    currentTime: float
    outputBufferDacTime: float


class _Endpoint:
    """One opened path, non-blocking: a FIFO, a connected Unix stream socket or a regular file."""

    def __init__(self, path: Path, for_output: bool) -> None:
        self.path = path
        try:
            st = os.stat(path)
        except FileNotFoundError:
            raise PortAudioError(f"{path}: no such device (the path does not exist)") from None
        except OSError as e:
            raise PortAudioError(f"{path}: {e.strerror or e}") from e
        self.identity = (st.st_dev, st.st_ino)
        self.sock: socket.socket | None = None
        self.writer_seen = False
        """An input FIFO has had a writer: its next end-of-file means the writer went away."""
        self.dead = False
        flags = (os.O_WRONLY if for_output else os.O_RDONLY) | os.O_NONBLOCK
        try:
            if stat.S_ISFIFO(st.st_mode):
                self.kind = "fifo"
                # Non-blocking: an input FIFO opens without a writer; an output one fails without a
                # reader (ENXIO), which is exactly "no speaker there".
                self.fd = os.open(path, flags)
            elif stat.S_ISSOCK(st.st_mode):
                self.kind = "socket"
                sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                try:
                    sock.connect(str(path))
                except OSError:
                    sock.close()
                    raise
                sock.setblocking(False)
                self.sock, self.fd = sock, sock.fileno()
                self.writer_seen = True
            elif stat.S_ISREG(st.st_mode):
                self.kind = "file"
                self.fd = os.open(path, (flags | os.O_APPEND) if for_output else flags)
            else:
                raise PortAudioError(f"{path}: not a FIFO, Unix socket or regular file")
        except OSError as e:
            raise PortAudioError(f"{path}: cannot open ({e.strerror or e})") from e

    def still_there(self) -> bool:
        """The path still names what was opened (not removed, not replaced by a new one)."""
        try:
            st = os.stat(self.path)
        except OSError:
            return False
        return (st.st_dev, st.st_ino) == self.identity

    def read(self, n: int) -> bytes | None:
        """Up to ``n`` bytes; None when none are there yet; b"" at end of file."""
        try:
            if self.sock is not None:
                return self.sock.recv(n)
            return os.read(self.fd, n)
        except BlockingIOError:
            return None

    def write_all(self, data: bytes, timeout_s: float) -> None:
        """Write everything, waiting at most ``timeout_s`` for a reader that does not read."""
        view = memoryview(data)
        deadline = time.monotonic() + timeout_s
        while view:
            try:
                sent = self.sock.send(view) if self.sock is not None else os.write(self.fd, view)
            except BlockingIOError:
                sent = 0
            except (BrokenPipeError, ConnectionResetError) as e:
                self.dead = True
                raise PortAudioError(f"{self.path}: the reader went away ({e.strerror or e})") from e
            except OSError as e:
                self.dead = True
                raise PortAudioError(f"{self.path}: write failed ({e.strerror or e})") from e
            view = view[sent:]
            if view and sent == 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise PortAudioError(f"{self.path}: output stalled (nobody reads it)")
                select.select([], [self.fd], [], min(left, 0.1))

    def close(self) -> None:
        """Close the descriptor (idempotent)."""
        if self.fd < 0:
            return
        if self.sock is not None:
            self.sock.close()
        else:
            with contextlib.suppress(OSError):
                os.close(self.fd)
        self.fd = -1


class PipeBackend:
    """A sounddevice-shaped backend whose microphone and speaker are paths (see the module doc).

    The input stays open across streams until it is lost, so a FIFO's writer is not cut off
    (EPIPE), a socket's peer sees no hang-up and a file is not read again from its start while
    the daemon closes and reopens a stalled stream; close() releases it.
    """

    PortAudioError = PortAudioError
    CallbackFlags = CallbackFlags
    CallbackStop = CallbackStop
    CallbackAbort = CallbackAbort

    def __init__(
        self,
        input_path: str | os.PathLike[str] | None,
        output_path: str | os.PathLike[str] | None,
        *,
        samplerate: int = 16000,
        max_lag_blocks: int = 4,
        write_timeout_s: float = 2.0,
        output_buffer_s: float = 0.1,
    ) -> None:
        if samplerate <= 0:
            raise ValueError(f"samplerate must be positive, got {samplerate}")
        self.input_path = Path(input_path).expanduser() if input_path is not None else None
        self.output_path = Path(output_path).expanduser() if output_path is not None else None
        self.samplerate = samplerate
        """The one rate both pipes carry; other rates are refused, as by a fussy sound card."""
        self.max_lag_blocks = max_lag_blocks
        """Blocks the input thread may fall behind real time before it overruns."""
        self.write_timeout_s = write_timeout_s
        """How long a write waits for an output reader that does not read before failing."""
        self.output_buffer_s = output_buffer_s
        """How far ahead of real time blocking writes may run (the output latency)."""
        self._input: _Endpoint | None = None
        self._input_user: PipeInputStream | None = None
        self._lock = threading.Lock()

    @property
    def default(self) -> SimpleNamespace:
        """Default (input, output) device indices, -1 where there is none (as sounddevice.default)."""
        present = {d["index"] for d in self._devices()}
        return SimpleNamespace(
            device=(
                INPUT_INDEX if INPUT_INDEX in present else -1,
                OUTPUT_INDEX if OUTPUT_INDEX in present else -1,
            )
        )

    def _devices(self) -> list[dict[str, Any]]:
        devices: list[dict[str, Any]] = []
        for index, path, kind in (
            (INPUT_INDEX, self.input_path, "input"),
            (OUTPUT_INDEX, self.output_path, "output"),
        ):
            if path is None or not os.path.exists(path):
                continue  # a missing path is an unplugged device: not listed
            latency = 0.03 if kind == "input" else self.output_buffer_s
            devices.append(
                {
                    "name": f"pipe {kind} {path}",
                    "index": index,
                    "hostapi": 0,
                    "max_input_channels": 1 if kind == "input" else 0,
                    "max_output_channels": 1 if kind == "output" else 0,
                    "default_low_input_latency": latency if kind == "input" else 0.0,
                    "default_high_input_latency": latency if kind == "input" else 0.0,
                    "default_low_output_latency": latency if kind == "output" else 0.0,
                    "default_high_output_latency": latency if kind == "output" else 0.0,
                    "default_samplerate": float(self.samplerate),
                }
            )
        return devices

    def query_devices(self, device: int | str | None = None, kind: str | None = None) -> Any:
        """All present devices as a list, or one device's dict (as sounddevice.query_devices)."""
        if device is None and kind is None:
            return self._devices()
        if kind not in (None, "input", "output"):
            raise ValueError(f"invalid kind: {kind!r}")
        return self._find(device, kind)

    def _find(self, device: int | str | None, kind: str | None) -> dict[str, Any]:
        devices = self._devices()
        if kind is not None:
            devices = [d for d in devices if d[f"max_{kind}_channels"] > 0]
        if device is None:
            if not devices:
                raise PortAudioError("Error querying device -1")
            return devices[0]
        for d in devices:
            if (isinstance(device, int) and d["index"] == device) or (
                isinstance(device, str) and device.lower() in str(d["name"]).lower()
            ):
                return d
        what = f"{kind} device" if kind else "device"
        raise ValueError(f"No {what} matching {device!r}")

    def _check(self, samplerate: float | None, channels: int | None, dtype: str | None) -> int:
        rate = int(samplerate) if samplerate else self.samplerate
        if rate != self.samplerate:
            raise PortAudioError(f"Invalid sample rate {rate} (the pipe carries {self.samplerate} Hz)")
        if channels not in (None, 1):
            raise PortAudioError(f"Invalid number of channels {channels} (the pipe is mono)")
        if dtype not in (None, "int16"):
            raise ValueError(f"the pipe carries int16 samples, not {dtype!r}")
        return rate

    def _acquire_input(self, user: PipeInputStream) -> _Endpoint:
        assert self.input_path is not None
        with self._lock:
            if self._input_user is not None and not self._input_user.closed:
                raise PortAudioError("Device unavailable (another stream has the input open)")
            ep = self._input
            if ep is None or ep.dead or not ep.still_there():
                if ep is not None:
                    ep.close()
                self._input = None
                ep = self._input = _Endpoint(self.input_path, for_output=False)
            self._input_user = user
            return ep

    def _release_input(self, user: PipeInputStream, ep: _Endpoint) -> None:
        with self._lock:
            if self._input_user is user:
                self._input_user = None
            if ep.dead:
                ep.close()
                if self._input is ep:
                    self._input = None

    def RawInputStream(  # sounddevice's name
        self,
        samplerate: float | None = None,
        blocksize: int | None = None,
        device: int | str | None = None,
        channels: int | None = None,
        dtype: str | None = None,
        latency: Any = None,
        extra_settings: Any = None,
        callback: Callable[..., None] | None = None,
        finished_callback: Callable[[], None] | None = None,
        **ignored: Any,
    ) -> PipeInputStream:
        """Open the microphone; ``callback(indata: bytes, frames, time, status)`` gets each block."""
        return self._input_stream(samplerate, blocksize, device, channels, dtype, callback, finished_callback)

    def InputStream(  # sounddevice's name
        self,
        samplerate: float | None = None,
        blocksize: int | None = None,
        device: int | str | None = None,
        channels: int | None = None,
        dtype: str | None = None,
        latency: Any = None,
        extra_settings: Any = None,
        callback: Callable[..., None] | None = None,
        finished_callback: Callable[[], None] | None = None,
        **ignored: Any,
    ) -> PipeInputStream:
        """As RawInputStream, with each block as an int16 array of shape (frames, 1)."""
        return self._input_stream(
            samplerate, blocksize, device, channels, dtype, callback, finished_callback, as_array=True
        )

    def _input_stream(
        self,
        samplerate: float | None,
        blocksize: int | None,
        device: int | str | None,
        channels: int | None,
        dtype: str | None,
        callback: Callable[..., None] | None,
        finished_callback: Callable[[], None] | None,
        *,
        as_array: bool = False,
    ) -> PipeInputStream:
        if callback is None:
            raise ValueError("the pipe microphone needs a callback (blocking reads are not supported)")
        self._resolve(device, "input")
        rate = self._check(samplerate, channels, dtype)
        block = blocksize or rate * 30 // 1000
        return PipeInputStream(self, rate, block, callback, finished_callback, as_array)

    def RawOutputStream(  # sounddevice's name
        self,
        samplerate: float | None = None,
        blocksize: int | None = None,
        device: int | str | None = None,
        channels: int | None = None,
        dtype: str | None = None,
        latency: Any = None,
        extra_settings: Any = None,
        callback: Callable[..., None] | None = None,
        finished_callback: Callable[[], None] | None = None,
        **ignored: Any,
    ) -> PipeOutputStream:
        """Open the speaker for blocking writes of bytes."""
        return self._output_stream(samplerate, device, channels, dtype, callback)

    def OutputStream(  # sounddevice's name
        self,
        samplerate: float | None = None,
        blocksize: int | None = None,
        device: int | str | None = None,
        channels: int | None = None,
        dtype: str | None = None,
        latency: Any = None,
        extra_settings: Any = None,
        callback: Callable[..., None] | None = None,
        finished_callback: Callable[[], None] | None = None,
        **ignored: Any,
    ) -> PipeOutputStream:
        """Open the speaker for blocking writes of int16 arrays."""
        return self._output_stream(samplerate, device, channels, dtype, callback)

    def _output_stream(
        self,
        samplerate: float | None,
        device: int | str | None,
        channels: int | None,
        dtype: str | None,
        callback: Callable[..., None] | None,
    ) -> PipeOutputStream:
        if callback is not None:
            raise ValueError("the pipe speaker takes blocking writes only, not a callback")
        self._resolve(device, "output")
        rate = self._check(samplerate, channels, dtype)
        assert self.output_path is not None
        return PipeOutputStream(self, _Endpoint(self.output_path, for_output=True), rate)

    def _resolve(self, device: int | str | None, kind: str) -> None:
        path = self.input_path if kind == "input" else self.output_path
        if path is None:
            raise PortAudioError(f"Error querying device -1 (no pipe {kind} is configured)")
        if not os.path.exists(path):
            raise PortAudioError(f"Error querying device -1 (unplugged: {path} does not exist)")
        try:
            self._find(device, kind)
        except ValueError as e:
            raise PortAudioError(str(e)) from e

    def close(self) -> None:
        """Release the input FIFO kept open between streams."""
        with self._lock:
            if self._input is not None:
                self._input.close()
                self._input = None


class _StreamBase:
    def __init__(self, samplerate: int, blocksize: int) -> None:
        self.samplerate = float(samplerate)
        self.blocksize = blocksize
        self.channels = 1
        self.dtype = "int16"
        self.samplesize = 2
        self._active = False
        self._closed = False

    @property
    def active(self) -> bool:
        """Started, and neither stopped nor finished."""
        return self._active

    @property
    def stopped(self) -> bool:
        """Not active."""
        return not self._active

    @property
    def closed(self) -> bool:
        """close() was called."""
        return self._closed

    def __enter__(self) -> _StreamBase:
        self.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
        self.close()

    def start(self) -> None:
        """Start the stream."""
        raise NotImplementedError

    def stop(self) -> None:
        """Stop the stream."""
        raise NotImplementedError

    def close(self) -> None:
        """Close the stream."""
        raise NotImplementedError


class PipeInputStream(_StreamBase):
    """A capture stream: a thread delivers one block per block period from the input path."""

    def __init__(
        self,
        backend: PipeBackend,
        samplerate: int,
        blocksize: int,
        callback: Callable[..., None],
        finished_callback: Callable[[], None] | None,
        as_array: bool,
    ) -> None:
        super().__init__(samplerate, blocksize)
        self.latency = blocksize / samplerate
        self._backend = backend
        self._callback = callback
        self._finished_callback = finished_callback
        self._as_array = as_array
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        # Opening acquires the device, as Pa_OpenStream does: a missing path fails here.
        self._endpoint = backend._acquire_input(self)

    def start(self) -> None:
        """Start delivering blocks to the callback."""
        if self._closed:
            raise PortAudioError("Stream is closed")
        if self._active:
            return
        self._stop.clear()
        self._active = True
        self._thread = threading.Thread(target=self._run, name="pipe-input", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop delivering blocks; waits for a callback in progress to return."""
        self._stop.set()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join()
        self._thread = None

    abort = stop

    def close(self) -> None:
        """Stop and give the device back."""
        if self._closed:
            return
        self.stop()
        self._closed = True
        self._backend._release_input(self, self._endpoint)

    def _run(self) -> None:
        period = self.blocksize / self.samplerate
        need = self.blocksize * 2
        buf = bytearray()
        deadline = time.monotonic()
        overflow = False
        try:
            while True:
                deadline += period
                if self._stop.wait(max(0.0, deadline - time.monotonic())):
                    return
                behind = int((time.monotonic() - deadline) / period)
                if behind > self._backend.max_lag_blocks:
                    # The callback is slower than real time: a sound card's buffer would overrun
                    # and lose what it captured meanwhile; so do we.
                    self._discard(buf, behind * need)
                    deadline += behind * period
                    overflow = True
                lost = self._fill(buf, need)
                if lost is not None:
                    log.info("pipe microphone %s lost: %s", self._endpoint.path, lost)
                    return
                if len(buf) < need:
                    continue  # nothing written this period: no callback, like a stalled device
                block = bytes(buf[:need])
                del buf[:need]
                now = time.monotonic()
                status = CallbackFlags(input_overflow=overflow)
                overflow = False
                indata: Any = np.frombuffer(block, dtype="<i2").reshape(-1, 1) if self._as_array else block
                try:
                    self._callback(indata, self.blocksize, StreamTime(now - period, now, 0.0), status)
                except (CallbackStop, CallbackAbort):
                    return
                except Exception:
                    log.exception("pipe microphone callback failed; the stream stops")
                    return
        finally:
            self._active = False
            if self._finished_callback is not None:
                try:
                    self._finished_callback()
                except Exception:
                    log.exception("pipe microphone finished_callback failed")

    def _fill(self, buf: bytearray, need: int) -> str | None:
        """Read towards one block; returns why the device is gone, or None while it is there."""
        ep = self._endpoint
        if not ep.still_there():
            ep.dead = True
            return f"{ep.path} was removed or replaced"
        while len(buf) < need:
            try:
                data = ep.read(need - len(buf))
            except OSError as e:
                ep.dead = True
                return f"read failed ({e.strerror or e})"
            if data is None:
                return None
            if not data:
                if ep.kind == "file" or (ep.kind == "fifo" and not ep.writer_seen):
                    return None  # at the end of a file, or no writer yet: no audio for now
                if ep.kind == "fifo":
                    ep.writer_seen = False  # the FIFO stays: a new writer brings the device back
                else:
                    ep.dead = True
                return "the writer closed it"
            ep.writer_seen = True
            buf += data
        return None

    def _discard(self, buf: bytearray, n: int) -> None:
        """Throw away up to ``n`` bytes of captured audio (what an overrun loses)."""
        take = min(n, len(buf))
        del buf[:take]
        n -= take
        while n > 0:
            try:
                data = self._endpoint.read(min(n, 65536))
            except OSError:
                return
            if not data:
                return
            n -= len(data)


class PipeOutputStream(_StreamBase):
    """A playback stream: blocking writes go to the output path, paced at real time."""

    def __init__(self, backend: PipeBackend, endpoint: _Endpoint, samplerate: int) -> None:
        super().__init__(samplerate, 0)
        self.latency = backend.output_buffer_s
        self._backend = backend
        self._endpoint = endpoint
        self._play_end = 0.0

    def start(self) -> None:
        """Accept writes."""
        if self._closed:
            raise PortAudioError("Stream is closed")
        self._active = True

    def write(self, data: Any) -> bool:
        """Write int16 samples (bytes or an array); returns once they fit in the device buffer."""
        if not self._active:
            raise PortAudioError("Stream is stopped")
        raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        ep = self._endpoint
        if ep.dead or not ep.still_there():
            ep.dead = True
            raise PortAudioError(f"{ep.path}: the output device is gone")
        ep.write_all(raw, self._backend.write_timeout_s)
        # Pace like a sound card: a write returns when what is queued fits in its buffer.
        now = time.monotonic()
        self._play_end = max(self._play_end, now) + len(raw) / 2 / self.samplerate
        wait = self._play_end - self.latency - now
        if wait > 0:
            time.sleep(wait)
        return False

    def stop(self) -> None:
        """Let what was written play out, then stop."""
        if self._active:
            left = self._play_end - time.monotonic()
            if left > 0:
                time.sleep(left)
        self._active = False

    def abort(self) -> None:
        """Stop at once, dropping what has not played."""
        self._play_end = time.monotonic()
        self._active = False

    def close(self) -> None:
        """Close the output path."""
        self._active = False
        self._closed = True
        self._endpoint.close()
