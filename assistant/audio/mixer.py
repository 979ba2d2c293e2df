"""One output for speech and music: speech plays over music, which ducks under it without clicks."""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import logging
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterable, Callable, Iterable, Iterator
from dataclasses import dataclass
from types import TracebackType
from typing import Final

import numpy as np

from ..frames import ReplyAudio
from .dsp import Resampler, pcm_to_int16, resample
from .sinks import Sink

__all__ = [
    "Ducker",
    "Mixer",
    "MusicChannel",
    "MusicEnded",
    "SpeechChannel",
    "mix",
    "ramp",
    "volume_to_gain",
]

log = logging.getLogger(__name__)

MIXER_RATE: Final = 22050
"""Default output rate: piper's voices speak at 22050 Hz, so speech needs no resampling."""

RECENT_PIECES: Final = 3
"""Speech pieces played last whose words speech_text() still counts: the microphone may hear
the end of one (the room's echo, queued input) while the next plays."""

MusicChunks = AsyncIterable[bytes] | Iterable[bytes]


# ---------------------------------------------------------------------------------------------
# Pure mixing math.


def volume_to_gain(volume: int) -> float:
    """Map a 0..100 volume to an amplitude gain on a square law, close to perceived loudness."""
    v = min(100, max(0, volume)) / 100.0
    return v * v


def ramp(start: float, target: float, n: int, step: float) -> tuple[np.ndarray, float]:
    """Per-sample gains for ``n`` samples moving from ``start`` towards ``target`` by ``step`` each.

    Returns the gains (float32) and the gain reached, which is where the next block starts.
    """
    if n <= 0:
        return np.zeros(0, dtype=np.float32), start
    if start == target or step <= 0:
        return np.full(n, start, dtype=np.float32), start
    moved = step * np.arange(1, n + 1, dtype=np.float64)
    g = np.minimum(start + moved, target) if target > start else np.maximum(start - moved, target)
    return g.astype(np.float32), float(g[-1])


def mix(
    speech: np.ndarray, music: np.ndarray, gains: np.ndarray, extra: np.ndarray | None = None
) -> np.ndarray:
    """Sum speech, music scaled per sample by ``gains`` and an optional float part; clip to int16."""
    acc = music.astype(np.float32) * gains + speech.astype(np.float32)
    if extra is not None:
        acc += extra
    out: np.ndarray = np.clip(np.rint(acc), -32768, 32767).astype(np.int16)
    return out


class Ducker:
    """The music gain envelope around speech: down to ``duck_gain`` while speaking, back after a hold.

    Synchronous and loop-free: the mixer asks it for each block's gains in output order.
    """

    def __init__(self, duck_gain: float, ramp_samples: int, hold_samples: int) -> None:
        if not 0.0 <= duck_gain <= 1.0:
            raise ValueError(f"duck_gain must be within 0..1, got {duck_gain}")
        self.duck_gain = duck_gain
        self.hold_samples = max(0, hold_samples)
        # Equal ramp time down and up, whatever the depth of the duck.
        self.step = (1.0 - duck_gain) / max(1, ramp_samples)
        self.gain = 1.0
        """Gain reached at the end of the last block."""
        self._hold = 0

    def gains(self, n: int, speaking: bool) -> np.ndarray:
        """Gains for the next ``n`` samples; ``speaking`` says speech is in or waiting for them."""
        if speaking:
            g, self.gain = ramp(self.gain, self.duck_gain, n, self.step)
            self._hold = self.hold_samples
            return g
        held = min(self._hold, n)
        self._hold -= held
        down, self.gain = ramp(self.gain, self.duck_gain, held, self.step)
        up, self.gain = ramp(self.gain, 1.0, n - held, self.step)
        return np.concatenate([down, up]) if held else up

    def reset(self) -> None:
        """Forget any duck: used when the output falls silent, where a jump cannot click."""
        self.gain = 1.0
        self._hold = 0


# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class MusicEnded:
    """A music source came to its end by itself (not by stop() or being replaced)."""

    source: int
    """The id MusicChannel.play() returned for it."""
    error: str | None = None
    """Why it ended early, when reading it failed."""


@dataclass(slots=True)
class _Speech:
    pcm: np.ndarray
    started: asyncio.Future[float]
    text: str = ""
    pos: int = 0


class _MusicSource:
    """One music stream: a feeder task filling a bounded queue, read by the mixer loop."""

    def __init__(self, source_id: int, max_chunks: int) -> None:
        self.id = source_id
        self.queue: asyncio.Queue[np.ndarray] = asyncio.Queue(maxsize=max_chunks)
        self.available = 0
        """Samples queued or in the head chunk, not yet mixed."""
        self.exhausted = False
        """The feeder has put its last chunk."""
        self.error: str | None = None
        self.paused = False
        self._head = np.zeros(0, dtype=np.int16)
        self._pos = 0

    def put_ready(self, x: np.ndarray) -> None:
        self.available += x.size

    def take(self, n: int) -> np.ndarray:
        """Up to ``n`` queued samples, without waiting."""
        parts: list[np.ndarray] = []
        need = n
        while need > 0:
            if self._pos >= self._head.size:
                try:
                    self._head, self._pos = self.queue.get_nowait(), 0
                except asyncio.QueueEmpty:
                    break
            got = self._head[self._pos : self._pos + need]
            self._pos += got.size
            need -= got.size
            parts.append(got)
        self.available -= n - need
        if not parts:
            return np.zeros(0, dtype=np.int16)
        return parts[0] if len(parts) == 1 else np.concatenate(parts)

    @property
    def finished(self) -> bool:
        return self.exhausted and self.available <= 0


_END = object()


def _next_or_end(it: Iterator[bytes]) -> object:
    return next(it, _END)


def _close_iterator(it: Iterator[bytes]) -> None:
    close = getattr(it, "close", None)
    if callable(close):
        try:
            close()
        except Exception as e:
            log.warning("closing a music source failed: %s", e)


async def _chunks_of(
    source: MusicChunks, executor: concurrent.futures.Executor
) -> AsyncGenerator[bytes, None]:
    """Iterate async sources directly and blocking ones (a decoder) in a worker thread."""
    if isinstance(source, AsyncIterable):
        it_async = aiter(source)
        try:
            async for chunk in it_async:
                yield chunk
        finally:
            aclose = getattr(it_async, "aclose", None)
            if callable(aclose):
                await aclose()
        return
    it = iter(source)
    pending: concurrent.futures.Future[object] | None = None
    try:
        while True:
            pending = executor.submit(_next_or_end, it)
            item = await asyncio.wrap_future(pending)
            pending = None
            if item is _END:
                return
            if not isinstance(item, bytes | bytearray | memoryview):
                raise TypeError(f"music chunks must be bytes, got {type(item).__name__}")
            yield bytes(item)
    finally:
        # A generator cannot be closed while next() runs in the worker; close it right after.
        if pending is not None:
            pending.add_done_callback(lambda _f: _close_iterator(it))
        else:
            try:
                executor.submit(_close_iterator, it)
            except RuntimeError:  # executor already shut down
                _close_iterator(it)


# ---------------------------------------------------------------------------------------------


class SpeechChannel:
    """The speech input of a Mixer; a Sink, so a session can speak through it as to a speaker."""

    def __init__(self, mixer: Mixer) -> None:
        self._m = mixer

    async def play(self, audio: ReplyAudio) -> float:
        """Queue speech; return the monotonic time its first sample is written to the output."""
        m = self._m
        m._check_usable()
        generation = m._speech_generation
        pcm = pcm_to_int16(audio.pcm)
        if audio.sample_rate != m.sample_rate and pcm.size:
            pcm = await asyncio.to_thread(resample, pcm, audio.sample_rate, m.sample_rate)
        if generation != m._speech_generation or not pcm.size:
            return time.monotonic()  # stopped (barge-in) while resampling, or nothing to say
        if len(m._speech_queue) >= m._speech_queue_max:
            m.dropped_speech += 1
            log.warning("speech queue full (%d pieces); dropping a piece", m._speech_queue_max)
            return time.monotonic()
        piece = _Speech(pcm, asyncio.get_running_loop().create_future(), audio.text)
        m._speech_queue.append(piece)
        m._speech_idle.clear()
        m._wake.set()
        # Cancelling this await cancels the future, and the mixer then skips the piece.
        return await piece.started

    async def drain(self) -> None:
        """Wait until all queued speech has been written and has had time to play out."""
        m = self._m
        await m._speech_idle.wait()
        left = m._speech_end_at - time.monotonic()
        if left > 0:
            await asyncio.sleep(left)
        if m._music is None and not m._tail.size:
            # Nothing else feeds the output, so its own drain() ends and covers device latency.
            await m._output.drain()

    async def stop(self) -> None:
        """Barge-in: drop queued speech now; the piece playing fades out within a few ms."""
        self._m._stop_speech()

    async def aclose(self) -> None:
        """Drop queued speech; the mixer stays open (close it with Mixer.aclose())."""
        self._m._stop_speech()


class MusicChannel:
    """The music input of a Mixer: one source at a time, with pause, volume and an end callback."""

    def __init__(self, mixer: Mixer) -> None:
        self._m = mixer
        self.on_end: Callable[[MusicEnded], object] | None = None
        """Called on the loop when a source ends by itself, e.g. to advance a playlist."""

    async def play(self, chunks: MusicChunks, *, sample_rate: int | None = None) -> int:
        """Replace the current music with ``chunks`` (mono s16le); return the source's id.

        Chunks are at the mixer's rate unless ``sample_rate`` says otherwise. A blocking
        iterator (such as a decoder) is read in a worker thread.
        """
        m = self._m
        m._check_usable()
        await self.stop()
        m._next_source_id += 1
        src = _MusicSource(m._next_source_id, m._music_queue_chunks)
        m._start_feeder(src, chunks, sample_rate)
        m._music = src
        m._run_gain = 1.0
        m._wake.set()
        return src.id

    def pause(self) -> None:
        """Pause the music (it fades out over a few ms); resume() continues where it paused."""
        if self._m._music is not None:
            self._m._music.paused = True
            self._m._wake.set()

    def resume(self) -> None:
        """Continue paused music, fading in."""
        if self._m._music is not None:
            self._m._music.paused = False
            self._m._wake.set()

    async def stop(self) -> None:
        """Stop the music (a short fade-out, no click) and close its source; no end callback."""
        await self._m._stop_music()

    def set_volume(self, volume: int) -> None:
        """Set the music volume, 0..100 (clamped); a change while music sounds is ramped."""
        m = self._m
        m._volume = min(100, max(0, int(volume)))
        if m._music is None or (m._music.paused and m._run_gain == 0.0):
            m._vol_gain = volume_to_gain(m._volume)  # silent now, so no ramp is needed

    @property
    def volume(self) -> int:
        """Music volume, 0..100."""
        return self._m._volume

    @property
    def is_playing(self) -> bool:
        """A source is loaded and not paused."""
        src = self._m._music
        return src is not None and not src.paused

    @property
    def is_paused(self) -> bool:
        """A source is loaded and paused."""
        src = self._m._music
        return src is not None and src.paused


@dataclass(slots=True)
class _Block:
    pcm: bytes
    started: list[tuple[asyncio.Future[float], int]]
    speech_end: int | None
    ended: MusicEnded | None


class Mixer:
    """Mixes a speech channel and a music channel into one output Sink, in fixed-size blocks.

    The output paces the mixer: a DeviceSink returns from play() as each block starts, so the
    mixer stays a block or two ahead of the speaker. An output that does not pace itself
    (memory, file) is written as fast as sources allow, unless ``pace`` is set. The Mixer owns
    the output and closes it in aclose().
    """

    def __init__(
        self,
        output: Sink,
        *,
        sample_rate: int = MIXER_RATE,
        block_ms: int = 50,
        duck_gain: float = 0.2,
        ramp_ms: int = 100,
        hold_ms: int = 300,
        fade_ms: int = 20,
        volume: int = 100,
        speech_queue_pieces: int = 64,
        music_queue_chunks: int = 16,
        pace: bool = False,
    ) -> None:
        if sample_rate <= 0 or block_ms <= 0:
            raise ValueError("sample_rate and block_ms must be positive")
        self.sample_rate = sample_rate
        self.block_samples = max(1, sample_rate * block_ms // 1000)
        self.speech = SpeechChannel(self)
        """Speech in: a Sink."""
        self.music = MusicChannel(self)
        """Music in."""
        self.samples_written = 0
        """Samples handed to the output so far."""
        self.dropped_speech = 0
        """Speech pieces discarded because the speech queue was full."""
        self.music_gaps = 0
        """Blocks where music could not keep up with speech and was padded with silence."""
        self.on_played: Callable[[bytes, float], None] | None = None
        """Called with each block handed to the output (s16le at ``sample_rate``) and the time its
        first sample went out: what the microphone may hear back (the echo canceller's reference)."""
        self._output = output
        self._pace = pace
        self._ducker = Ducker(duck_gain, sample_rate * ramp_ms // 1000, sample_rate * hold_ms // 1000)
        self._ramp_step = 1.0 / max(1, sample_rate * ramp_ms // 1000)
        self._fade_samples = max(1, sample_rate * fade_ms // 1000)
        self._volume = min(100, max(0, volume))
        self._vol_gain = volume_to_gain(self._volume)
        self._run_gain = 1.0
        self._held_duck = False
        self._speech_queue: deque[_Speech] = deque()
        self._speech_queue_max = speech_queue_pieces
        self._speech: _Speech | None = None
        self._speech_generation = 0
        self._speech_idle = asyncio.Event()
        self._speech_idle.set()
        self._speech_end_at = 0.0
        self._said: deque[str] = deque(maxlen=RECENT_PIECES)
        self._music: _MusicSource | None = None
        self._music_queue_chunks = music_queue_chunks
        self._next_source_id = 0
        self._feeders: dict[int, asyncio.Task[None]] = {}
        self._tail = np.zeros(0, dtype=np.float32)
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._executor: concurrent.futures.ThreadPoolExecutor | None = None
        self._error: BaseException | None = None
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Start the mixing task (on the running loop)."""
        if self._closed:
            raise RuntimeError("the mixer is closed")
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="mixer")

    async def __aenter__(self) -> Mixer:
        self.start()
        return self

    async def __aexit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop at once (drain speech first to let it finish), end every task and close the output."""
        if self._closed:
            return
        self._closed = True
        self._music = None
        tasks = [t for t in (self._task, *self._feeders.values()) if t is not None]
        for t in tasks:
            t.cancel()
        # gather returns the tasks' CancelledErrors but still raises our own.
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None
        self._fail_speech(None)
        if self._executor is not None:
            # Not waiting: a decoder stuck in a read must not hang shutdown; it ends on its own.
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None
        await self._output.aclose()

    def speech_until(self) -> float:
        """Monotonic time until which speech plays: later than now while any is playing or queued."""
        if self._speech is not None or any(not p.started.done() for p in self._speech_queue):
            # Still to be written: at least one more block of it sounds from now on.
            return max(self._speech_end_at, time.monotonic() + self.block_samples / self.sample_rate)
        return self._speech_end_at

    def speech_text(self) -> str:
        """The words of the speech playing, queued, or among the last pieces played."""
        queued = [p.text for p in self._speech_queue if not p.started.done()]
        return " ".join(t for t in (*self._said, *queued) if t)

    def duck(self, on: bool) -> None:
        """Keep music ducked while ``on``, speech or not (e.g. while listening to a request)."""
        self._held_duck = on
        self._wake.set()

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise RuntimeError("the mixer is closed")
        if self._task is None:
            raise RuntimeError("the mixer is not started: call Mixer.start() first")

    # -- the loop ----------------------------------------------------------------------------

    async def _run(self) -> None:
        t0, written = time.monotonic(), 0
        try:
            while True:
                self._wake.clear()
                block = self._compose()
                if block is None:
                    await self._wake.wait()
                    t0, written = time.monotonic(), 0
                    continue
                try:
                    t = await self._output.play(ReplyAudio(block.pcm, self.sample_rate))
                except Exception as e:
                    # The output is broken: tell every speaker waiting, and end the loop.
                    log.error("mixer output failed: %s", e)
                    self._error = e
                    for fut, _ in block.started:
                        if not fut.done():
                            fut.set_exception(e)
                    self._fail_speech(e)
                    return
                self._after_write(block, t)
                written += len(block.pcm) // 2
                ahead = written / self.sample_rate - (time.monotonic() - t0)
                lead = 2 * self.block_samples / self.sample_rate
                # Yield even to an output that never suspends, so feeders and callers get a turn.
                await asyncio.sleep(max(0.0, ahead - lead) if self._pace else 0)
        finally:
            self._fail_speech(None)

    def _compose(self) -> _Block | None:
        """The next block, or None when there is nothing to play (or music must be waited for)."""
        n = self.block_samples
        src = self._music
        if src is not None and src.finished:
            # Its last samples went out in earlier blocks: it ends now, not after a silent block.
            self._music = None
            self._run_gain = 1.0
            self._notify_end(MusicEnded(src.id, src.error))
            src = self._music
        speaking = self._speech is not None or any(not p.started.done() for p in self._speech_queue)
        music_on = src is not None and not (src.paused and self._run_gain == 0.0)
        if not speaking and not self._tail.size:
            if src is None or not music_on:
                # Silence follows: envelopes may jump to their resting values without a click.
                self._ducker.reset()
                self._vol_gain = volume_to_gain(self._volume)
                return None
            if src.available < n and not src.exhausted:
                return None  # waiting for the decoder; the feeder wakes us
        speech, started, speech_end = self._take_speech(n)
        run_target = 0.0 if src is None or src.paused else 1.0

        duck = self._ducker.gains(n, speaking or self._held_duck)
        vol, self._vol_gain = ramp(self._vol_gain, volume_to_gain(self._volume), n, self._ramp_step)
        run, self._run_gain = ramp(self._run_gain, run_target, n, 1.0 / self._fade_samples)
        music = np.zeros(n, dtype=np.int16)
        ended: MusicEnded | None = None
        if src is not None and music_on:
            want = n if not src.paused else int(np.count_nonzero(run))
            got = src.take(want)
            music[: got.size] = got
            if got.size < want and not src.exhausted:
                self.music_gaps += 1
            if src.finished:
                ended = MusicEnded(src.id, src.error)
                self._music = None
                self._run_gain = 1.0
        extra = None
        if self._tail.size:
            extra = np.zeros(n, dtype=np.float32)
            part = self._tail[:n]
            extra[: part.size] = part
            self._tail = self._tail[n:]
        out = mix(speech, music, duck * vol * run, extra)
        return _Block(out.tobytes(), started, speech_end, ended)

    def _take_speech(self, n: int) -> tuple[np.ndarray, list[tuple[asyncio.Future[float], int]], int | None]:
        """Fill up to ``n`` samples of speech; returns them, pieces started (with offsets) and
        the offset where speech ended within the block (None when no speech was taken)."""
        out = np.zeros(n, dtype=np.int16)
        started: list[tuple[asyncio.Future[float], int]] = []
        filled = 0
        while filled < n:
            if self._speech is None:
                if not self._speech_queue:
                    break
                piece = self._speech_queue.popleft()
                if piece.started.done():
                    continue  # its play() was cancelled before it began: skip it
                self._speech = piece
                self._said.append(piece.text)
                started.append((piece.started, filled))
            cur = self._speech
            got = cur.pcm[cur.pos : cur.pos + n - filled]
            out[filled : filled + got.size] = got
            filled += got.size
            cur.pos += got.size
            if cur.pos >= cur.pcm.size:
                self._speech = None
        return out, started, (filled if filled else None)

    def _after_write(self, block: _Block, t: float) -> None:
        if self.on_played is not None:
            try:
                self.on_played(block.pcm, t)
            except Exception:
                # Echo cancellation is an aid to listening: it must never silence the output.
                log.exception("the output tap failed; it is removed")
                self.on_played = None
        for fut, offset in block.started:
            if not fut.done():
                fut.set_result(t + offset / self.sample_rate)
        if block.speech_end is not None:
            self._speech_end_at = t + block.speech_end / self.sample_rate
        if self._speech is None and not self._speech_queue:
            self._speech_idle.set()
        self.samples_written += len(block.pcm) // 2
        if block.ended is not None:
            self._notify_end(block.ended)

    def _notify_end(self, ended: MusicEnded) -> None:
        callback = self.music.on_end
        if callback is None:
            return
        try:
            callback(ended)
        except Exception:
            # A faulty playlist must not silence speech: log it and keep mixing.
            log.exception("music end callback failed")

    # -- speech ------------------------------------------------------------------------------

    def _stop_speech(self) -> None:
        self._speech_generation += 1
        now = time.monotonic()
        while self._speech_queue:
            piece = self._speech_queue.popleft()
            if not piece.started.done():
                # Waiters learn their piece will never sound: it "started" and ended now.
                piece.started.set_result(now)
        cur, self._speech = self._speech, None
        # What was written before still plays out: at most the blocks the loop writes ahead.
        self._speech_end_at = min(self._speech_end_at, now + 2 * self.block_samples / self.sample_rate)
        if cur is not None:
            rest = cur.pcm[cur.pos : cur.pos + self._fade_samples].astype(np.float32)
            fade = np.linspace(1.0, 0.0, self._fade_samples, endpoint=False, dtype=np.float32)
            self._add_tail(rest * fade[: rest.size])
        self._speech_idle.set()
        self._wake.set()

    def _fail_speech(self, error: BaseException | None) -> None:
        now = time.monotonic()
        pieces = list(self._speech_queue)
        if self._speech is not None:
            pieces.append(self._speech)
        self._speech_queue.clear()
        self._speech = None
        for piece in pieces:
            if not piece.started.done():
                if error is None:
                    piece.started.set_result(now)
                else:
                    piece.started.set_exception(error)
        self._speech_idle.set()

    def _add_tail(self, x: np.ndarray) -> None:
        if self._tail.size < x.size:
            self._tail = np.concatenate([self._tail, np.zeros(x.size - self._tail.size, np.float32)])
        self._tail[: x.size] += x

    # -- music -------------------------------------------------------------------------------

    async def _stop_music(self) -> None:
        src, self._music = self._music, None
        if src is None:
            return
        gain = self._ducker.gain * self._vol_gain * self._run_gain
        if gain > 0:
            # What would have played next, faded to nothing, so stopping does not click.
            rest = src.take(self._fade_samples).astype(np.float32)
            fade = np.linspace(gain, 0.0, self._fade_samples, endpoint=False, dtype=np.float32)
            self._add_tail(rest * fade[: rest.size])
        self._run_gain = 1.0
        self._wake.set()
        task = self._feeders.get(src.id)
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def _start_feeder(self, src: _MusicSource, chunks: MusicChunks, in_rate: int | None) -> None:
        if self._executor is None:
            # One worker: a replaced decoder finishes its read (and is closed) before the next starts.
            self._executor = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="mixer-music")
        task = asyncio.create_task(
            self._feed(src, chunks, in_rate, self._executor), name=f"mixer-music-{src.id}"
        )
        self._feeders[src.id] = task
        task.add_done_callback(lambda _t: self._feeders.pop(src.id, None))

    async def _feed(
        self,
        src: _MusicSource,
        chunks: MusicChunks,
        in_rate: int | None,
        executor: concurrent.futures.Executor,
    ) -> None:
        resampler = Resampler(in_rate, self.sample_rate) if in_rate and in_rate != self.sample_rate else None
        odd = b""
        try:
            async with contextlib.aclosing(_chunks_of(chunks, executor)) as stream:
                async for raw in stream:
                    data = odd + raw
                    odd = data[-1:] if len(data) % 2 else b""
                    x = pcm_to_int16(data)
                    if resampler is not None:
                        x = resampler.process(x)
                    await self._put_music(src, x)
            if resampler is not None:
                await self._put_music(src, resampler.flush())
        except Exception as e:
            # The source failed (e.g. a corrupt file): the music ends and on_end says why.
            log.warning("music source %d failed: %s", src.id, e)
            src.error = str(e) or type(e).__name__
        finally:
            src.exhausted = True
            self._wake.set()

    async def _put_music(self, src: _MusicSource, x: np.ndarray) -> None:
        if not x.size:
            return
        await src.queue.put(x)
        src.put_ready(x)
        self._wake.set()
