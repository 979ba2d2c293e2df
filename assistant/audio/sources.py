"""Audio sources: async iterators of 30 ms AudioChunk frames of 16 kHz mono s16le."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import functools
import inspect
import logging
import math
import sys
import threading
import time
from collections.abc import AsyncIterator, Iterator, Mapping
from types import TracebackType
from typing import Any, BinaryIO, Protocol

from ..errors import AudioDeviceError, AudioFileError
from ..frames import FRAME_BYTES, FRAME_MS, SAMPLE_RATE, AudioChunk
from .dsp import Resampler, frames, pcm_to_int16, to_mono

__all__ = [
    "PORTAUDIO_MISSING",
    "RETRY_FIRST_S",
    "RETRY_MAX_S",
    "STALL_S",
    "AudioSource",
    "Backoff",
    "BufferSource",
    "DeviceSource",
    "PcmStreamSource",
    "describe_devices",
    "list_devices",
    "load_sounddevice",
]

log = logging.getLogger(__name__)

PORTAUDIO_MISSING = (
    "PortAudio library not found: install libportaudio2 (Debian/Ubuntu: apt-get install libportaudio2)"
)

_FRAME_S = FRAME_MS / 1000.0

RETRY_FIRST_S = 1.0
"""First wait before reopening a missing or lost device; it doubles on each failure."""
RETRY_MAX_S = 30.0
"""Longest wait between attempts to reopen a device."""
STALL_S = 2.0
"""A microphone that delivers no block for this long is taken as lost and reopened."""
_POLL_S = 0.25


class AudioSource(Protocol):
    """Anything that yields pipeline audio frames and can be closed."""

    def __aiter__(self) -> AsyncIterator[AudioChunk]:
        """Yield AudioChunk frames of exactly FRAME_BYTES."""
        ...

    async def aclose(self) -> None:
        """Stop producing audio and release resources."""
        ...


def load_sounddevice() -> Any:
    """Import sounddevice on first use; a missing PortAudio becomes AudioDeviceError."""
    try:
        import sounddevice
    except OSError as e:
        # sounddevice raises OSError at import time when libportaudio is absent.
        raise AudioDeviceError(PORTAUDIO_MISSING) from e
    except ImportError as e:
        raise AudioDeviceError("the sounddevice package is not installed: pip install sounddevice") from e
    return sounddevice


class _Framer:
    """Cuts a byte stream into exact FRAME_BYTES frames, carrying the remainder."""

    def __init__(self) -> None:
        self._buf = bytearray()

    def push(self, pcm: bytes) -> Iterator[bytes]:
        self._buf += pcm
        whole = len(self._buf) - len(self._buf) % FRAME_BYTES
        if whole:
            out = bytes(self._buf[:whole])
            del self._buf[:whole]
            yield from frames(out, FRAME_BYTES)

    def flush(self) -> Iterator[bytes]:
        if self._buf:
            out = bytes(self._buf)
            self._buf.clear()
            yield from frames(out, FRAME_BYTES)


def _silence_frames(seconds: float) -> int:
    if seconds < 0 or not math.isfinite(seconds):
        raise ValueError(f"silence length must be a finite number >= 0, got {seconds}")
    return round(seconds / _FRAME_S)


class BufferSource:
    """Plays PCM already in memory (16 kHz mono s16le) as if it came from a microphone."""

    def __init__(
        self,
        pcm: bytes,
        *,
        realtime: bool = True,
        trailing_silence_s: float = 1.0,
        leading_silence_s: float = 0.0,
    ) -> None:
        if len(pcm) % 2:
            raise ValueError(f"PCM length {len(pcm)} is not a whole number of 16-bit samples")
        self.pcm = pcm
        self.realtime = realtime
        self.leading_frames = _silence_frames(leading_silence_s)
        self.trailing_frames = _silence_frames(trailing_silence_s)
        self.frame_count = self.leading_frames + math.ceil(len(pcm) / FRAME_BYTES) + self.trailing_frames
        """Total frames one iteration yields, silence included."""
        self._closed = False

    def _frames(self) -> Iterator[bytes]:
        silence = bytes(FRAME_BYTES)
        for _ in range(self.leading_frames):
            yield silence
        yield from frames(self.pcm, FRAME_BYTES)
        for _ in range(self.trailing_frames):
            yield silence

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        """Yield the frames, paced at real time when ``realtime`` is set."""
        start = time.monotonic()
        for n, pcm in enumerate(self._frames()):
            if self._closed:
                return
            if self.realtime:
                # Absolute deadlines: a late wake-up is caught up on, never accumulated.
                # A frame "arrives" once its last sample would have been captured.
                delay = start + (n + 1) * _FRAME_S - time.monotonic()
                await asyncio.sleep(max(0.0, delay))
            else:
                # Still yield to the loop so a fast source cannot starve other tasks.
                await asyncio.sleep(0)
            yield AudioChunk(pcm=pcm, t=time.monotonic())

    async def aclose(self) -> None:
        """Stop at the next frame."""
        self._closed = True


_Item = bytes | BaseException | None


class PcmStreamSource:
    """Raw s16le PCM from a binary stream (e.g. stdin), converted to 16 kHz mono; ends at EOF.

    A daemon reader thread feeds a bounded queue. When the consumer is slow the thread waits
    (back-pressure on the writer) rather than dropping audio, since a pipe can be paused.
    """

    def __init__(
        self,
        stream: BinaryIO,
        *,
        sample_rate: int = SAMPLE_RATE,
        channels: int = 1,
        queue_blocks: int = 32,
    ) -> None:
        if sample_rate <= 0 or channels <= 0:
            raise ValueError(f"invalid PCM format: {sample_rate} Hz, {channels} channels")
        self.sample_rate = sample_rate
        self.channels = channels
        self._stream = stream
        self._queue_blocks = queue_blocks
        self._sample_bytes = 2 * channels
        # One frame's worth per read keeps latency at one frame for a live pipe.
        self._read_size = max(1, sample_rate * FRAME_MS // 1000) * self._sample_bytes
        self._stop = threading.Event()
        self._queue: asyncio.Queue[_Item] | None = None
        self._thread: threading.Thread | None = None

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        """Yield 16 kHz mono frames until the stream reaches EOF or aclose() is called."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[_Item] = asyncio.Queue(maxsize=self._queue_blocks)
        self._queue = queue
        # A plain daemon thread, not to_thread: a read blocked on an idle stdin must not hold
        # up the loop's executor shutdown when the daemon exits.
        self._thread = threading.Thread(
            target=self._reader, args=(loop, queue), name="pcm-stream-reader", daemon=True
        )
        self._thread.start()
        resampler = Resampler(self.sample_rate, SAMPLE_RATE)
        framer = _Framer()
        carry = b""
        try:
            while True:
                item = await queue.get()
                if item is None:
                    break
                if isinstance(item, BaseException):
                    raise AudioFileError(f"reading PCM stream failed: {item}") from item
                data = carry + item
                usable = len(data) - len(data) % self._sample_bytes
                carry = data[usable:]
                for pcm in framer.push(self._convert(data[:usable], resampler)):
                    yield AudioChunk(pcm=pcm, t=time.monotonic())
                if self._stop.is_set():
                    return
            if self._stop.is_set():
                return  # closed by aclose(), not EOF: no tail to flush
            for pcm in framer.push(resampler.flush().tobytes()):
                yield AudioChunk(pcm=pcm, t=time.monotonic())
            for pcm in framer.flush():
                yield AudioChunk(pcm=pcm, t=time.monotonic())
        finally:
            self._stop.set()

    def _convert(self, data: bytes, resampler: Resampler) -> bytes:
        samples = pcm_to_int16(data)
        if self.channels > 1:
            samples = to_mono(samples.reshape(-1, self.channels))
        return resampler.process(samples).tobytes()

    def _reader(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[_Item]) -> None:
        read = getattr(self._stream, "read1", None) or self._stream.read
        try:
            while not self._stop.is_set():
                data = read(self._read_size)
                if not data:
                    break
                if not self._put(loop, queue, bytes(data)):
                    return
        except Exception as e:
            self._put(loop, queue, e)
            return
        self._put(loop, queue, None)

    def _put(self, loop: asyncio.AbstractEventLoop, queue: asyncio.Queue[_Item], item: _Item) -> bool:
        """Hand an item to the loop, waiting for room; False once the consumer is gone."""
        put = queue.put(item)
        try:
            fut = asyncio.run_coroutine_threadsafe(put, loop)
        except RuntimeError:
            put.close()  # the loop is closed; avoid a never-awaited warning
            return False
        while True:
            try:
                fut.result(timeout=0.1)
                return True
            except concurrent.futures.TimeoutError:
                if self._stop.is_set() or loop.is_closed():
                    fut.cancel()
                    return False
            except Exception:
                # Cancelled (a concurrent.futures error, not task cancellation) or loop gone.
                return False

    async def aclose(self) -> None:
        """Stop reading; the stream itself belongs to the caller and stays open."""
        self._stop.set()
        if self._queue is not None:
            _wake(self._queue)


def _wake(queue: asyncio.Queue[Any]) -> None:
    """Put a None sentinel into a queue, discarding the oldest item if it is full."""
    while True:
        try:
            queue.put_nowait(None)
            return
        except asyncio.QueueFull:
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()


class Backoff:
    """Delays between attempts to reach a device: ``first`` seconds, doubling up to ``maximum``."""

    def __init__(self, first: float = RETRY_FIRST_S, maximum: float = RETRY_MAX_S) -> None:
        if first <= 0 or maximum < first:
            raise ValueError(f"invalid retry delays: first {first} s, maximum {maximum} s")
        self.first = first
        self.maximum = maximum
        self._next = first

    def next(self) -> float:
        """The delay before the next attempt; each call doubles the one after, up to the maximum."""
        delay = self._next
        self._next = min(self.maximum, delay * 2)
        return delay

    def reset(self) -> None:
        """The device works again: the next failure waits ``first`` seconds."""
        self._next = self.first


_Block = tuple[bytes, float]


class DeviceSource:
    """A microphone through a sounddevice-shaped backend, yielding 16 kHz mono frames.

    Iteration survives the device: when it cannot be opened, or it is lost (the stream ends or
    no block arrives for ``stall_s``), the stream is closed and reopened with backoff while the
    iterator simply waits, so a consumer never sees a device error. ``state`` and
    ``state_reason`` say what is going on; counters say what was lost.
    """

    def __init__(
        self,
        *,
        device: str | int | None = None,
        sample_rate: int = SAMPLE_RATE,
        backend: Any = None,
        queue_frames: int = 100,
        retry_s: float = RETRY_FIRST_S,
        retry_max_s: float = RETRY_MAX_S,
        stall_s: float = STALL_S,
    ) -> None:
        if queue_frames <= 0:
            raise ValueError(f"queue_frames must be positive, got {queue_frames}")
        if stall_s <= 0:
            raise ValueError(f"stall_s must be positive, got {stall_s}")
        self.device = device
        self.sample_rate = sample_rate
        """The rate asked of the device first; output is always 16 kHz."""
        self.rate: int | None = None
        """The rate the device was actually opened at."""
        self.state = "starting"
        """"starting", "listening" (audio arrives), "degraded" (absent or lost; retrying) or "closed"."""
        self.state_reason: str | None = None
        """Why the state is "degraded", e.g. "no microphone (…)"; None otherwise."""
        self.overflows = 0
        """Callbacks in which the backend reported a status problem (e.g. input overflow)."""
        self.reopens = 0
        """Times the device was opened again after an open failed or the stream was lost."""
        self.open_failures = 0
        """Attempts to open the device that failed."""
        self.stall_s = stall_s
        """No block for this long means the device is lost."""
        self._backend = backend
        self._backoff = Backoff(retry_s, retry_max_s)
        self._queue: asyncio.Queue[_Block | None] = asyncio.Queue(maxsize=queue_frames)
        self._max_in_flight = queue_frames
        self._stream: Any = None
        self._closed = False
        self._closed_event = asyncio.Event()
        self._generation = 0
        self._attempted = False
        self._last_block_t = 0.0
        self._lost: str | None = None
        self._logged_failure: str | None = None
        self._dropped = 0
        # Blocks handed to the loop but not yet queued: bounded, so a stalled loop cannot pile up
        # callbacks without limit. Touched from the audio thread, hence the lock.
        self._in_flight = 0
        self._dropped_in_callback = 0
        self._thread_lock = threading.Lock()

    @property
    def dropped_frames(self) -> int:
        """Device blocks (30 ms each) thrown away because the consumer fell behind."""
        return self._dropped + self._dropped_in_callback

    @property
    def dropped(self) -> int:
        """The same as dropped_frames (its older name)."""
        return self.dropped_frames

    def health(self) -> dict[str, Any]:
        """State and counters as plain values, for status reports and metrics."""
        return {
            "state": self.state,
            "reason": self.state_reason,
            "device": self.device,
            "rate": self.rate,
            "dropped_frames": self.dropped_frames,
            "overflows": self.overflows,
            "reopens": self.reopens,
            "open_failures": self.open_failures,
        }

    async def start(self) -> None:
        """Open and start the device now, or raise AudioDeviceError naming it and the devices there are.

        Iteration calls this itself and keeps retrying; call it first to learn at once.
        """
        if self._stream is not None:
            return
        if self._closed:
            raise AudioDeviceError(f"input device {_name(self.device)} is already closed")
        retry = self._attempted
        self._attempted = True
        self._generation += 1
        generation = self._generation
        loop = asyncio.get_running_loop()
        try:
            backend = self._backend if self._backend is not None else load_sounddevice()
            callback = functools.partial(self._callback, loop, generation)
            finished = functools.partial(self._finished, loop, generation)
            stream, rate = await asyncio.to_thread(self._open, backend, callback, finished, retry)
        except AudioDeviceError as e:
            self._failed(str(e))
            raise
        if self._closed or generation != self._generation:
            await asyncio.to_thread(_stop_and_close, stream)
            raise AudioDeviceError(f"input device {_name(self.device)} was closed while opening")
        self._stream, self.rate = stream, rate
        self._last_block_t = time.monotonic()
        self._lost = None
        if retry:
            self.reopens += 1
            log.info("microphone %s is back (opened at %d Hz)", _name(self.device), rate)
        self._logged_failure = None

    def _failed(self, message: str) -> None:
        self.open_failures += 1
        self.state = "degraded"
        self.state_reason = f"no microphone ({message})"
        if message != self._logged_failure:
            # Once per distinct problem: a retry every 30 s must not flood the journal.
            log.warning("no microphone: %s; retrying in the background", message)
            self._logged_failure = message
        else:
            log.debug("microphone still unavailable: %s", message)

    def _open(self, backend: Any, callback: Any, finished: Any, retry: bool) -> tuple[Any, int]:
        if retry:
            _refresh_devices(backend)
        # The finished callback tells at once that a stream ended; a backend without it is polled.
        takes_finished = _accepts(backend.RawInputStream, "finished_callback")
        extra = {"finished_callback": finished} if takes_finished else {}
        errors: list[str] = []
        rates = [self.sample_rate]
        for rate in _candidate_rates(rates, lambda: _default_rate(backend, self.device, "input")):
            try:
                with _PORTAUDIO_LOCK:
                    stream = backend.RawInputStream(
                        samplerate=rate,
                        blocksize=rate * FRAME_MS // 1000,
                        device=self.device,
                        channels=1,
                        dtype="int16",
                        callback=callback,
                        **extra,
                    )
                    _OPEN_STREAMS.add(stream)
            except Exception as e:
                errors.append(f"at {rate} Hz: {e}")
                continue
            try:
                stream.start()
            except Exception as e:
                errors.append(f"start at {rate} Hz: {e}")
                _stop_and_close(stream)
                continue
            return stream, rate
        raise AudioDeviceError(
            f"cannot open input device {_name(self.device)} ({'; '.join(errors)}); "
            f"available input devices: {_device_summary(backend, 'input')}"
        )

    def _callback(
        self,
        loop: asyncio.AbstractEventLoop,
        generation: int,
        indata: Any,
        frames: int,
        time_info: Any,
        status: Any,
    ) -> None:
        # Runs on the audio thread: copy the buffer (it is reused) and never raise.
        t = time.monotonic()
        with self._thread_lock:
            if self._in_flight >= self._max_in_flight:
                self._dropped_in_callback += 1
                return
            self._in_flight += 1
        try:
            loop.call_soon_threadsafe(self._push, generation, bytes(indata), t, bool(status))
        except Exception:
            with self._thread_lock:
                self._in_flight -= 1  # the loop is closing; nobody is listening any more

    def _finished(self, loop: asyncio.AbstractEventLoop, generation: int) -> None:
        # Runs on the audio thread when the stream ends: by our own stop, or because the device went.
        with contextlib.suppress(Exception):
            loop.call_soon_threadsafe(self._stream_ended, generation)

    def _stream_ended(self, generation: int) -> None:
        if generation == self._generation and self._stream is not None and self._lost is None:
            self._lost = "the stream stopped"
            _wake(self._queue)

    def _push(self, generation: int, data: bytes, t: float, status: bool) -> None:
        with self._thread_lock:
            self._in_flight -= 1
        if generation != self._generation or self._closed:
            return  # from a stream already given up on
        if status:
            self.overflows += 1
        self._last_block_t = t
        try:
            self._queue.put_nowait((data, t))
        except asyncio.QueueFull:
            self._dropped += 1

    async def __aiter__(self) -> AsyncIterator[AudioChunk]:
        """Yield 30 ms frames until aclose(); each ``t`` is when its device block arrived.

        A missing or lost device never ends the iteration: it waits, retrying with backoff.
        """
        while not self._closed:
            if self._stream is None:
                if self._attempted:
                    await self._sleep(self._backoff.next())
                    if self._closed:
                        return
                with contextlib.suppress(AudioDeviceError):
                    await self.start()
                if self._stream is None:
                    continue
            assert self.rate is not None
            resampler = Resampler(self.rate, SAMPLE_RATE) if self.rate != SAMPLE_RATE else None
            framer = _Framer()
            while (item := await self._next_block()) is not None:
                if self.state != "listening":
                    self.state, self.state_reason = "listening", None
                    self._backoff.reset()
                data, t = item
                if resampler is not None:
                    data = resampler.process(pcm_to_int16(data)).tobytes()
                for frame in framer.push(data):
                    yield AudioChunk(pcm=frame, t=t)
            if not self._closed:
                await self._give_up_stream()

    async def _next_block(self) -> _Block | None:
        """The next device block; None once the source is closed or the stream is lost."""
        while not self._closed and self._lost is None:
            try:
                item = self._queue.get_nowait()
            except asyncio.QueueEmpty:
                left = self._last_block_t + self.stall_s - time.monotonic()
                if left <= 0:
                    self._lost = f"no audio for {self.stall_s:g} s"
                    break
                try:
                    # Wake now and then to see whether the backend says the stream has stopped.
                    async with asyncio.timeout(min(left, _POLL_S)):
                        item = await self._queue.get()
                except TimeoutError:
                    if getattr(self._stream, "active", True) is False:
                        self._lost = "the stream stopped"
                    continue
            if item is not None:
                return item
        return None

    async def _give_up_stream(self) -> None:
        reason = self._lost or "the stream stopped"
        self._generation += 1  # late callbacks from the old stream are ignored
        stream, self._stream = self._stream, None
        _clear(self._queue)  # the old stream's last blocks: a gap follows them anyway
        self.state = "degraded"
        self.state_reason = f"microphone lost ({reason})"
        log.warning("microphone %s lost (%s); reopening it", _name(self.device), reason)
        if stream is not None:
            await asyncio.to_thread(_abort_and_close, stream)

    async def _sleep(self, seconds: float) -> None:
        """Wait, but wake at once when the source is closed."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._closed_event.wait()

    async def aclose(self) -> None:
        """Stop and close the device, and end any iteration in progress."""
        self._closed = True
        self._closed_event.set()
        self._generation += 1
        self.state, self.state_reason = "closed", None
        stream, self._stream = self._stream, None
        if stream is not None:
            await asyncio.to_thread(_stop_and_close, stream)
        _wake(self._queue)

    async def __aenter__(self) -> DeviceSource:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()


# Streams we have open on any backend; PortAudio may only be re-initialised while there are none.
_OPEN_STREAMS: set[Any] = set()
# Serialises opening streams with re-initialising PortAudio, which happen on worker threads.
_PORTAUDIO_LOCK = threading.Lock()


def _refresh_devices(backend: Any) -> None:
    """Let a device plugged in since start be found: PortAudio lists devices only when initialised.

    Re-initialising closes every stream under its owner, so it happens only while none of ours is
    open; meanwhile a device that kept its name (e.g. PipeWire's "default") is still reopened.
    """
    is_portaudio = backend is sys.modules.get("sounddevice")
    try:
        if not is_portaudio:
            refresh = getattr(backend, "refresh_devices", None)
            if callable(refresh):
                refresh()
            return
        with _PORTAUDIO_LOCK:
            if any(not getattr(s, "closed", True) for s in _OPEN_STREAMS):
                return
            try:
                backend._terminate()
            finally:
                # Even after a failed terminate: PortAudio must be left initialised.
                backend._initialize()
    except Exception as e:
        log.debug("refreshing the device list failed: %s", e)


def _accepts(factory: Any, parameter: str) -> bool:
    """Whether a stream factory takes ``parameter`` (a test double may take fewer than sounddevice)."""
    try:
        params = inspect.signature(factory).parameters
    except (TypeError, ValueError):
        return False
    return parameter in params or any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values())


def _clear(queue: asyncio.Queue[Any]) -> None:
    while True:
        try:
            queue.get_nowait()
        except asyncio.QueueEmpty:
            return


def _stop_and_close(stream: Any) -> None:
    """Stop then close a backend stream, logging (not raising) failures during teardown."""
    _end(stream, ("stop", "close"))


def _abort_and_close(stream: Any) -> None:
    """Abort then close a stream whose device is gone: nothing is left worth playing out."""
    _end(stream, ("abort" if callable(getattr(stream, "abort", None)) else "stop", "close"))


def _end(stream: Any, steps: tuple[str, str]) -> None:
    try:
        for step in steps:
            try:
                getattr(stream, step)()
            except Exception as e:
                log.warning("audio stream %s failed: %s", step, e)
    finally:
        with _PORTAUDIO_LOCK:
            _OPEN_STREAMS.discard(stream)


def _candidate_rates(first: list[int], fallback: Any) -> Iterator[int]:
    """The preferred rates, then the device's default rate (looked up only if needed)."""
    yield from first
    try:
        default = fallback()
    except Exception:
        default = None
    if default and default not in first:
        yield default


def _name(device: str | int | None) -> str:
    return "(system default)" if device is None else repr(device)


def _default_rate(backend: Any, device: str | int | None, kind: str) -> int | None:
    info = _device_info(backend, device, kind)
    if info is None:
        return None
    rate = info.get("default_samplerate")
    return int(rate) if rate else None


def _device_info(backend: Any, device: str | int | None, kind: str) -> dict[str, Any] | None:
    """Look a device up the sounddevice way, falling back to a scan of query_devices()."""
    with contextlib.suppress(Exception):
        info = backend.query_devices(kind=kind) if device is None else backend.query_devices(device, kind)
        if isinstance(info, Mapping):
            return dict(info)
    key = f"max_{kind}_channels"
    try:
        devices = [d for d in list_devices(backend) if d.get(key, 0) > 0]
    except Exception:
        return None
    for d in devices:
        if device is None:
            return d
        if isinstance(device, int) and d.get("index") == device:
            return d
        if isinstance(device, str) and device.lower() in str(d.get("name", "")).lower():
            return d
    return None


def _device_summary(backend: Any, kind: str) -> str:
    try:
        devices = list_devices(backend)
    except Exception as e:
        return f"(could not list devices: {e})"
    key = f"max_{kind}_channels"
    names = [f"{d.get('index')}: {d.get('name')}" for d in devices if d.get(key, 0) > 0]
    return ", ".join(names) if names else "none"


def list_devices(backend: Any = None) -> list[dict[str, Any]]:
    """All sound devices as dicts (index, name, max_input_channels, default_samplerate, ...)."""
    sd = backend if backend is not None else load_sounddevice()
    raw = sd.query_devices()
    items = [raw] if isinstance(raw, Mapping) else list(raw)
    result: list[dict[str, Any]] = []
    for i, d in enumerate(items):
        entry = dict(d)
        entry.setdefault("index", i)
        result.append(entry)
    return result


def describe_devices(backend: Any = None) -> str:
    """A human-readable list of input and output devices; defaults are marked with '*'."""
    sd = backend if backend is not None else load_sounddevice()
    devices = list_devices(sd)
    defaults: tuple[Any, Any] = (None, None)
    with contextlib.suppress(Exception):
        pair = tuple(sd.default.device)
        if len(pair) == 2:
            defaults = (pair[0], pair[1])
    lines: list[str] = []
    for title, kind, default in (
        ("Input devices:", "input", defaults[0]),
        ("Output devices:", "output", defaults[1]),
    ):
        lines.append(title)
        key = f"max_{kind}_channels"
        chosen = [d for d in devices if d.get(key, 0) > 0]
        for d in chosen:
            mark = "*" if d.get("index") == default else " "
            rate = d.get("default_samplerate")
            rate_s = f", {float(rate):.0f} Hz" if rate else ""
            lines.append(f" {mark}{d.get('index'):>3}  {d.get('name')}  ({d.get(key)} ch{rate_s})")
        if not chosen:
            lines.append("    (none)")
    return "\n".join(lines)
