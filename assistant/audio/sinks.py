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
    _candidate_rates,
    _default_rate,
    _device_summary,
    _name,
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
    generation: int
    started: asyncio.Future[float]


class DeviceSink:
    """A speaker through a sounddevice-shaped backend; blocking writes run in a worker thread.

    play() returns once its piece starts being written, so a producer is naturally paced one
    piece ahead of the speaker. Cancelling play() before its piece started skips the piece.
    """

    def __init__(
        self,
        device: str | int | None = None,
        backend: Any = None,
        *,
        queue_pieces: int = 32,
        block_ms: int = 50,
    ) -> None:
        self.device = device
        self.rate: int | None = None
        """Rate the device was opened at (the first piece's, else the device default)."""
        self.dropped = 0
        """Pieces discarded because the queue was full."""
        self._backend = backend
        self._block_ms = block_ms
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
        self._error: AudioDeviceError | None = None
        self._closed = False

    async def play(self, audio: ReplyAudio) -> float:
        """Queue a piece and wait until its first sample is handed to the device."""
        if self._closed:
            raise AudioDeviceError(f"output device {_name(self.device)} is closed")
        if self._error is not None:
            raise self._error
        await self._ensure_open(audio.sample_rate)
        assert self.rate is not None
        pcm = await asyncio.to_thread(_convert_rate, audio.pcm, audio.sample_rate, self.rate)
        if not pcm:
            return time.monotonic()
        piece = _Piece(pcm, self._generation, asyncio.get_running_loop().create_future())
        try:
            self._queue.put_nowait(piece)
        except asyncio.QueueFull:
            self.dropped += 1
            return time.monotonic()
        self._pending += 1
        self._idle.clear()
        return await piece.started

    async def _ensure_open(self, rate: int) -> None:
        async with self._open_lock:
            if self._stream is not None:
                return
            backend = self._backend if self._backend is not None else load_sounddevice()
            self._stream, self.rate = await asyncio.to_thread(self._open, backend, rate)
            self._writer = asyncio.create_task(self._write_loop(), name="device-sink-writer")

    def _open(self, backend: Any, rate: int) -> tuple[Any, int]:
        errors: list[str] = []
        for r in _candidate_rates([rate], lambda: _default_rate(backend, self.device, "output")):
            try:
                stream = backend.RawOutputStream(
                    samplerate=r, channels=1, dtype="int16", device=self.device, blocksize=0
                )
            except Exception as e:
                errors.append(f"at {r} Hz: {e}")
                continue
            try:
                stream.start()
            except Exception as e:
                errors.append(f"start at {r} Hz: {e}")
                with contextlib.suppress(Exception):
                    stream.close()
                continue
            return stream, r
        raise AudioDeviceError(
            f"cannot open output device {_name(self.device)} ({'; '.join(errors)}); "
            f"available output devices: {_device_summary(backend, 'output')}"
        )

    async def _write_loop(self) -> None:
        assert self.rate is not None
        block = max(2, self.rate * self._block_ms // 1000 * 2)
        while True:
            piece = await self._queue.get()
            try:
                await self._write_piece(piece, block)
            finally:
                if not piece.started.done():
                    piece.started.set_result(time.monotonic())
                self._piece_done()

    async def _write_piece(self, piece: _Piece, block: int) -> None:
        # Small blocks so that stop() cuts in within one block.
        for start in range(0, len(piece.pcm), block):
            async with self._io_lock:
                if piece.generation != self._generation or (piece.started.done() and start == 0):
                    return  # stopped, or play() was cancelled before the piece began
                if start == 0:
                    piece.started.set_result(time.monotonic())
                try:
                    await asyncio.to_thread(self._stream.write, piece.pcm[start : start + block])
                except Exception as e:
                    self._error = AudioDeviceError(
                        f"writing to output device {_name(self.device)} failed: {e}"
                    )
                    log.error("%s", self._error)
                    return
                self._last_write_end = time.monotonic()

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
