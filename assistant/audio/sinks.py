"""Where reply audio goes: the speaker, a WAV file, memory (tests) or nowhere."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from ..errors import AudioDeviceError
from ..frames import SAMPLE_RATE, ReplyAudio
from .dsp import pcm_to_int16, resample
from .files import WavWriter
from .sources import (
    _OPEN_STREAMS,
    _PORTAUDIO_LOCK,
    RETRY_FIRST_S,
    RETRY_MAX_S,
    Backoff,
    _abort_and_close,
    _candidate_rates,
    _default_rate,
    _device_summary,
    _name,
    _refresh_devices,
    _stop_and_close,
    load_sounddevice,
)

__all__ = ["DeviceSink", "MemorySink", "NullSink", "Sink", "WavFileSink"]

log = logging.getLogger(__name__)


class Sink(Protocol):
    """The output side of a session."""

    async def play(self, audio: ReplyAudio) -> float:
        """Queue a piece; return the monotonic time its first sample went to the output."""
        ...

    async def drain(self) -> None:
        """Wait until everything handed over so far has been played."""
        ...

    async def stop(self) -> None:
        """Drop everything queued and silence the output now (barge-in)."""
        ...

    async def aclose(self) -> None:
        """Release the output; a file sink is complete afterwards."""
        ...


def _convert_rate(pcm: bytes, in_rate: int, out_rate: int) -> bytes:
    if in_rate == out_rate:
        return pcm
    return resample(pcm_to_int16(pcm), in_rate, out_rate).tobytes()


class NullSink:
    """Discards audio, still reporting when each piece would have started."""

    def __init__(self) -> None:
        self.pieces = 0
        """Pieces received."""

    async def play(self, audio: ReplyAudio) -> float:
        """Discard the piece."""
        self.pieces += 1
        return time.monotonic()

    async def drain(self) -> None:
        """Nothing is ever pending."""

    async def stop(self) -> None:
        """Nothing is ever queued."""

    async def aclose(self) -> None:
        """Nothing to release."""


class MemorySink:
    """Keeps every piece in a list, for tests."""

    def __init__(self) -> None:
        self.pieces: list[ReplyAudio] = []
        self.times: list[float] = []
        self.stops = 0
        self.closed = False

    async def play(self, audio: ReplyAudio) -> float:
        """Record the piece."""
        t = time.monotonic()
        self.pieces.append(audio)
        self.times.append(t)
        return t

    def pcm(self) -> bytes:
        """All recorded samples joined (pieces are assumed to share one rate)."""
        return b"".join(p.pcm for p in self.pieces)

    async def drain(self) -> None:
        """Nothing is ever pending."""

    async def stop(self) -> None:
        """Count the stop; recorded pieces are kept."""
        self.stops += 1

    async def aclose(self) -> None:
        """Mark the sink closed."""
        self.closed = True


class WavFileSink:
    """Writes reply audio to a WAV file at the first piece's sample rate."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.sample_rate: int | None = None
        """Rate of the file, fixed by the first piece."""
        self._writer: WavWriter | None = None
        self._lock = asyncio.Lock()
        self._closed = False

    async def play(self, audio: ReplyAudio) -> float:
        """Append the piece, resampled to the file's rate when it differs."""
        async with self._lock:
            if self._closed:
                raise RuntimeError(f"{self.path}: WavFileSink is closed")
            if self._writer is None:
                writer = WavWriter(self.path, audio.sample_rate)
                await asyncio.to_thread(writer.open)
                self._writer, self.sample_rate = writer, audio.sample_rate
            writer = self._writer
            pcm = await asyncio.to_thread(_convert_rate, audio.pcm, audio.sample_rate, writer.sample_rate)
            t = time.monotonic()
            await asyncio.to_thread(writer.append, pcm)
            return t

    async def drain(self) -> None:
        """Writes are complete when play() returns."""

    async def stop(self) -> None:
        """Nothing is queued; what was written stays written."""

    async def aclose(self) -> None:
        """Finish the file; with no audio at all an empty, valid WAV is written."""
        async with self._lock:
            if self._closed:
                return
            self._closed = True
            writer = self._writer or WavWriter(self.path, SAMPLE_RATE)
            self._writer = None

            def finish() -> None:
                writer.open()
                writer.close()

            await asyncio.to_thread(finish)


@dataclass(slots=True)
class _Piece:
    pcm: bytes
    rate: int
    generation: int
    started: asyncio.Future[float]


class DeviceSink:
    """A speaker through a sounddevice-shaped backend; blocking writes run in a worker thread.

    play() returns once its piece starts being written, so a producer is naturally paced one
    piece ahead of the speaker. Cancelling play() before its piece started skips the piece.

    A speaker that cannot be opened, or fails while playing, never raises into the caller (the
    mixer and with it every alert would stop): the audio is dropped but still paced at real time,
    the failure is logged and counted, and the device is opened again after a backoff.
    """

    def __init__(
        self,
        device: str | int | None = None,
        backend: Any = None,
        *,
        queue_pieces: int = 32,
        block_ms: int = 50,
        retry_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
    ) -> None:
        self.device = device
        self.rate: int | None = None
        """Rate the device was opened at (the first piece's, else the device default)."""
        self.state = "idle"
        """"idle" (not opened yet), "ready" (open), "degraded" (absent or failed; retrying) or "closed"."""
        self.state_reason: str | None = None
        """Why the state is "degraded", e.g. "no speaker (…)"; None otherwise."""
        self.dropped = 0
        """Pieces not played: the queue was full, or the device was unavailable or failed."""
        self.errors = 0
        """Device failures: attempts to open it that failed, and writes that failed."""
        self.reopens = 0
        """Times the device was opened again after a failure."""
        self._backend = backend
        self._block_ms = block_ms
        self._backoff = Backoff(retry_s, retry_max_s)
        self._retry_at = 0.0
        self._attempted = False
        self._logged_failure: str | None = None
        self._queue: asyncio.Queue[_Piece] = asyncio.Queue(maxsize=queue_pieces)
        self._stream: Any = None
        self._writer: asyncio.Task[None] | None = None
        self._generation = 0
        self._pending = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._open_lock = asyncio.Lock()
        # Serialises write/abort on the stream: PortAudio calls are not safe concurrently.
        self._io_lock = asyncio.Lock()
        self._last_write_end = 0.0
        # Set by stop(): ends the wait of a piece being dropped for want of a device.
        self._cut = asyncio.Event()
        self._closed = False

    def health(self) -> dict[str, Any]:
        """State and counters as plain values, for status reports and metrics."""
        return {
            "state": self.state,
            "reason": self.state_reason,
            "device": self.device,
            "rate": self.rate,
            "dropped": self.dropped,
            "errors": self.errors,
            "reopens": self.reopens,
        }

    async def play(self, audio: ReplyAudio) -> float:
        """Queue a piece and wait until its first sample is handed to the device."""
        if self._closed:
            raise AudioDeviceError(f"output device {_name(self.device)} is closed")
        if self._stream is None:
            await self._try_open(audio.sample_rate)
        # Without a device the piece keeps its own rate: it is only timed, never converted.
        rate = self.rate if self._stream is not None and self.rate is not None else audio.sample_rate
        pcm = await asyncio.to_thread(_convert_rate, audio.pcm, audio.sample_rate, rate)
        if not pcm:
            return time.monotonic()
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_loop(), name="device-sink-writer")
        piece = _Piece(pcm, rate, self._generation, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(piece)
        except asyncio.QueueFull:
            self.dropped += 1
            return time.monotonic()
        self._pending += 1
        self._idle.clear()
        return await piece.started

    async def _try_open(self, rate: int) -> None:
        """Open the device unless it is open, closed, or waiting out its backoff; never raises."""
        async with self._open_lock:
            if self._stream is not None or self._closed or time.monotonic() < self._retry_at:
                return
            retry, self._attempted = self._attempted, True
            try:
                backend = self._backend if self._backend is not None else load_sounddevice()
                stream, opened_rate = await asyncio.to_thread(self._open, backend, rate, retry)
            except AudioDeviceError as e:
                self._failed("no speaker", str(e))
                return
            if self._closed:
                await asyncio.to_thread(_stop_and_close, stream)
                return
            self._stream, self.rate = stream, opened_rate
            if retry:
                self.reopens += 1
                log.info("speaker %s is back (opened at %d Hz)", _name(self.device), opened_rate)
            self.state, self.state_reason = "ready", None
            self._logged_failure = None

    def _failed(self, what: str, message: str) -> None:
        self.errors += 1
        self.state = "degraded"
        self.state_reason = f"{what} ({message})"
        delay = self._backoff.next()
        self._retry_at = time.monotonic() + delay
        if message != self._logged_failure:
            log.warning("%s: %s; audio is dropped, retrying in %g s", what, message, delay)
            self._logged_failure = message
        else:
            log.debug("%s: %s; retrying in %g s", what, message, delay)

    def _open(self, backend: Any, rate: int, retry: bool) -> tuple[Any, int]:
        if retry:
            _refresh_devices(backend)
        errors: list[str] = []
        for r in _candidate_rates([rate], lambda: _default_rate(backend, self.device, "output")):
            try:
                with _PORTAUDIO_LOCK:
                    stream = backend.RawOutputStream(
                        samplerate=r, channels=1, dtype="int16", device=self.device, blocksize=0
                    )
                    _OPEN_STREAMS.add(stream)
            except Exception as e:
                errors.append(f"at {r} Hz: {e}")
                continue
            try:
                stream.start()
            except Exception as e:
                errors.append(f"start at {r} Hz: {e}")
                _stop_and_close(stream)
                continue
            return stream, r
        raise AudioDeviceError(
            f"cannot open output device {_name(self.device)} ({'; '.join(errors)}); "
            f"available output devices: {_device_summary(backend, 'output')}"
        )

    async def _write_loop(self) -> None:
        while True:
            piece = await self._queue.get()
            try:
                if self._stream is None:
                    await self._skip_piece(piece)
                else:
                    await self._write_piece(piece)
            finally:
                if not piece.started.done():
                    piece.started.set_result(time.monotonic())
                self._piece_done()

    async def _write_piece(self, piece: _Piece) -> None:
        stream, rate = self._stream, self.rate
        assert rate is not None
        pcm = piece.pcm
        if piece.rate != rate:  # queued before the device was (re)opened at another rate
            pcm = await asyncio.to_thread(_convert_rate, pcm, piece.rate, rate)
        block = max(2, rate * self._block_ms // 1000 * 2)
        # Small blocks so that stop() cuts in within one block.
        for start in range(0, len(pcm), block):
            async with self._io_lock:
                if piece.generation != self._generation or (piece.started.done() and start == 0):
                    return  # stopped, or play() was cancelled before the piece began
                if self._stream is not stream:
                    self.dropped += 1
                    return  # the device was lost meanwhile
                if start == 0:
                    piece.started.set_result(time.monotonic())
                try:
                    await asyncio.to_thread(stream.write, pcm[start : start + block])
                except Exception as e:
                    self.dropped += 1
                    self._stream = None
                    self._failed("speaker lost", f"writing to output device {_name(self.device)} failed: {e}")
                    await asyncio.to_thread(_abort_and_close, stream)
                    return
                self._last_write_end = time.monotonic()
        self._backoff.reset()

    async def _skip_piece(self, piece: _Piece) -> None:
        """Drop a piece for want of a device, taking as long as it would have taken to play."""
        if piece.generation != self._generation or piece.started.done():
            return
        self.dropped += 1
        piece.started.set_result(time.monotonic())
        cut = self._cut
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(len(piece.pcm) / 2 / piece.rate):
                await cut.wait()  # stop() cuts it short, as it would on a real device

    def _piece_done(self) -> None:
        self._pending -= 1
        if self._pending <= 0:
            self._pending = 0
            self._idle.set()

    async def drain(self) -> None:
        """Wait for the queue to empty and the device buffer to play out."""
        await self._idle.wait()
        latency = getattr(self._stream, "latency", 0.0)
        if isinstance(latency, int | float) and latency > 0:
            await asyncio.sleep(max(0.0, self._last_write_end + float(latency) - time.monotonic()))

    async def stop(self) -> None:
        """Drop queued pieces, cut the one playing, and flush the device buffer if possible."""
        self._generation += 1
        self._cut.set()
        self._cut = asyncio.Event()
        now = time.monotonic()
        while True:
            try:
                piece = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if not piece.started.done():
                # Waiters learn their piece will never sound: it "started" and ended now.
                piece.started.set_result(now)
            self._piece_done()
        stream = self._stream
        if stream is not None and callable(getattr(stream, "abort", None)):
            async with self._io_lock:
                await asyncio.to_thread(_abort_and_restart, stream)

    async def aclose(self) -> None:
        """Stop at once (call drain() first to let audio finish) and close the device."""
        if self._closed:
            return
        await self.stop()
        self._closed = True
        self.state, self.state_reason = "closed", None
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            # gather returns the writer's CancelledError but still raises our own.
            await asyncio.gather(writer, return_exceptions=True)
        stream, self._stream = self._stream, None
        if stream is not None:
            async with self._io_lock:
                await asyncio.to_thread(_stop_and_close, stream)
        self._idle.set()


def _abort_and_restart(stream: Any) -> None:
    """Discard audio buffered in the device, leaving the stream ready for more."""
    try:
        stream.abort()
        stream.start()
    except Exception as e:
        log.warning("flushing the output stream failed: %s", e)
