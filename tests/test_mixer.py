"""The output mixer: pure mixing math, then speech over music through a memory sink."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Iterator

import numpy as np
import pytest

from assistant.audio.mixer import Ducker, Mixer, MusicEnded, mix, ramp, volume_to_gain
from assistant.audio.sinks import MemorySink
from assistant.frames import ReplyAudio

RATE = 22050
BLOCK = RATE // 20  # the mixer's default 50 ms block


def tone(seconds: float, freq: float, amp: float, rate: int = RATE) -> np.ndarray:
    n = round(seconds * rate)
    return np.round(amp * 32767 * np.sin(2 * np.pi * freq * np.arange(n) / rate)).astype(np.int16)


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


def blocks_of(n: int) -> int:
    """Output length of ``n`` samples: the mixer writes whole blocks, the last one zero-padded."""
    return -(-n // BLOCK) * BLOCK


class ClockSink(MemorySink):
    """A MemorySink whose clock is the audio itself: play() returns the piece's start in seconds
    of output, so a test can find where a piece of speech landed; it yields like a device does.

    ``await hold_at(n)`` returns once n pieces are written, with the mixer held inside the n-th
    play() until ``release()``: a test acts at an exact point of the output.
    """

    def __init__(self) -> None:
        super().__init__()
        self._hold_at: int | None = None
        self._reached = asyncio.Event()
        self._go = asyncio.Event()

    async def hold_at(self, n: int) -> None:
        assert len(self.pieces) < n, "already past that point"
        self._hold_at = n
        self._reached.clear()
        self._go.clear()
        await asyncio.wait_for(self._reached.wait(), 2.0)

    def release(self) -> None:
        self._hold_at = None
        self._go.set()

    async def play(self, audio: ReplyAudio) -> float:
        start = sum(len(p.pcm) for p in self.pieces) / 2 / audio.sample_rate
        await super().play(audio)
        if len(self.pieces) == self._hold_at:
            self._reached.set()
            await self._go.wait()
        await asyncio.sleep(0)
        return start

    def samples(self) -> np.ndarray:
        return np.frombuffer(self.pcm(), dtype="<i2")


async def chunks_of(x: np.ndarray, chunk: int = 2205) -> AsyncIterator[bytes]:
    for start in range(0, x.size, chunk):
        yield x[start : start + chunk].tobytes()


async def until(condition: Callable[[], bool], limit_s: float = 2.0) -> None:
    deadline = time.monotonic() + limit_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.001)


async def play_music(mixer: Mixer, music: np.ndarray) -> asyncio.Event:
    done = asyncio.Event()
    mixer.music.on_end = lambda _ended: done.set()
    await mixer.music.play(chunks_of(music))
    return done


# -- pure functions ------------------------------------------------------------------------------


def test_ramp_is_linear_clamped_and_continuous() -> None:
    g, end = ramp(1.0, 0.2, 10, 0.1)
    assert np.allclose(g, [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2, 0.2, 0.2]) and end == pytest.approx(0.2)
    a, mid = ramp(0.0, 1.0, 5, 0.1)
    b, end = ramp(mid, 1.0, 5, 0.1)
    whole, whole_end = ramp(0.0, 1.0, 10, 0.1)
    assert np.allclose(np.concatenate([a, b]), whole) and end == pytest.approx(whole_end)
    flat, same = ramp(0.5, 0.5, 4, 0.1)
    assert np.all(flat == 0.5) and same == 0.5
    assert ramp(0.3, 1.0, 0, 0.1)[0].size == 0


def test_mix_sums_and_clips() -> None:
    speech = np.array([1000, -1000, 30000, -30000, 0], dtype=np.int16)
    music = np.array([2000, 2000, 10000, -10000, 32767], dtype=np.int16)
    out = mix(speech, music, np.array([0.5, 1.0, 1.0, 1.0, 1.0], dtype=np.float32))
    assert out.tolist() == [2000, 1000, 32767, -32768, 32767]
    assert mix(speech, np.zeros(5, np.int16), np.ones(5, np.float32)).tolist() == speech.tolist()
    extra = np.full(5, 0.4, dtype=np.float32)
    assert (
        mix(np.zeros(5, np.int16), np.zeros(5, np.int16), np.ones(5, np.float32), extra).tolist() == [0] * 5
    )


def test_volume_to_gain() -> None:
    assert volume_to_gain(0) == 0.0 and volume_to_gain(100) == 1.0
    assert volume_to_gain(50) == pytest.approx(0.25)
    assert volume_to_gain(150) == 1.0 and volume_to_gain(-3) == 0.0
    gains = [volume_to_gain(v) for v in range(101)]
    assert gains == sorted(gains)


def test_ducker_ramps_down_holds_and_comes_back() -> None:
    d = Ducker(0.2, ramp_samples=100, hold_samples=250)
    g = d.gains(200, speaking=True)
    assert g[0] < 1.0 and g[99] == pytest.approx(0.2) and np.all(g[100:] == pytest.approx(0.2))
    assert np.all(np.abs(np.diff(g)) <= 0.8 / 100 + 1e-6)
    held = d.gains(200, speaking=False)
    assert np.all(held == pytest.approx(0.2))  # still within the 250-sample hold
    back = d.gains(200, speaking=False)
    assert back[49] == pytest.approx(0.2) and back[50] > 0.2 and back[149] == pytest.approx(1.0)
    assert d.gain == 1.0


# -- the running mixer ------------------------------------------------------------------------------


async def test_music_alone_comes_out_at_its_volume() -> None:
    music = tone(1.0, 440, 0.5)
    sink = ClockSink()
    async with Mixer(sink, sample_rate=RATE) as mixer:
        done = await play_music(mixer, music)
        assert mixer.music.is_playing and not mixer.music.is_paused
        await done.wait()
        out = sink.samples()
        assert out.size == blocks_of(music.size) and not out[music.size :].any()
        assert np.array_equal(out[: music.size], music)

        mixer.music.set_volume(50)
        sink.pieces.clear()
        done = await play_music(mixer, music)
        await done.wait()
        out = sink.samples()
        assert out.size == blocks_of(music.size)
        assert rms(out[: music.size]) / rms(music) == pytest.approx(volume_to_gain(50), rel=0.01)
        assert not mixer.music.is_playing
    assert sink.closed


async def test_speech_alone_comes_out_unchanged() -> None:
    rng = np.random.default_rng(3)
    speech = rng.integers(-20000, 20000, size=RATE // 3, dtype=np.int16)
    sink = ClockSink()
    async with Mixer(sink, sample_rate=RATE) as mixer:
        t = await mixer.speech.play(ReplyAudio(speech.tobytes(), RATE, "hello"))
        await mixer.speech.drain()
        out = sink.samples()
        assert t == 0.0
        assert np.array_equal(out[: speech.size], speech)
        assert not out[speech.size :].any() and out.size % BLOCK == 0

        # Speech at another rate is resampled to the mixer's.
        sink.pieces.clear()
        low = tone(0.5, 300, 0.3, rate=16000)
        await mixer.speech.play(ReplyAudio(low.tobytes(), 16000))
        await mixer.speech.drain()
        out = sink.samples()
        assert np.count_nonzero(out) / RATE == pytest.approx(0.5, abs=0.01)
        assert rms(out[: RATE // 2]) == pytest.approx(rms(low), rel=0.02)


async def test_speech_ducks_music_and_music_comes_back_without_clicks() -> None:
    music = tone(3.0, 200, 0.4)
    speech = tone(0.8, 1000, 0.2)
    sink = ClockSink()
    async with Mixer(sink, sample_rate=RATE, duck_gain=0.2, ramp_ms=100, hold_ms=300) as mixer:
        done = await play_music(mixer, music)
        await sink.hold_at(10)  # 0.5 s of music alone first
        speaking = asyncio.create_task(mixer.speech.play(ReplyAudio(speech.tobytes(), RATE)))
        await asyncio.sleep(0)
        sink.release()
        start = round(await speaking * RATE)
        assert start == 10 * BLOCK
        await done.wait()
    out = sink.samples().astype(np.int32)
    assert out.size == blocks_of(music.size)  # no gaps: music carried on under the speech
    out = out[: music.size]
    assert mixer.music_gaps == 0
    music_part = out.copy()
    music_part[start : start + speech.size] -= speech  # speech comes out unchanged on top
    ramp_n, hold_n = RATE // 10, RATE * 3 // 10
    end = start + speech.size

    def ratio(a: int, b: int) -> float:
        return rms(music_part[a:b]) / rms(music[a:b])

    assert np.array_equal(music_part[:start], music[:start])
    assert ratio(start + ramp_n, end) == pytest.approx(0.2, abs=0.02)
    assert ratio(end + hold_n + ramp_n + BLOCK, music.size) == pytest.approx(1.0, abs=0.01)
    assert ratio(end, end + hold_n - BLOCK) == pytest.approx(0.2, abs=0.02)  # the hold
    # Ramps, not steps: the music never jumps more than a 200 Hz sine moves by itself.
    natural = np.max(np.abs(np.diff(music.astype(np.int32))))
    assert np.max(np.abs(np.diff(music_part))) <= natural * 1.05


async def test_speech_stop_drops_queued_speech() -> None:
    sink = ClockSink()
    pieces = [tone(1.0, 500 + 100 * i, 0.3) for i in range(3)]
    async with Mixer(sink, sample_rate=RATE) as mixer:
        waiters = [asyncio.create_task(mixer.speech.play(ReplyAudio(p.tobytes(), RATE))) for p in pieces]
        await sink.hold_at(4)
        await mixer.speech.stop()
        sink.release()
        await asyncio.wait_for(asyncio.gather(*waiters), 1.0)  # every play() returns
        await mixer.speech.drain()
        written = sink.samples().size
        await asyncio.sleep(0.02)
        assert sink.samples().size == written  # nothing more to play: the mixer idles
        out = sink.samples()
        # Four blocks had gone out; after them only a 20 ms fade instead of a click.
        cut = 4 * BLOCK
        assert np.array_equal(out[:cut], pieces[0][:cut])
        fade = out[cut : cut + RATE // 50].astype(np.float64)
        assert np.all(np.abs(fade) <= np.abs(pieces[0][cut : cut + fade.size]) + 1)
        assert np.abs(fade[-20:]).max() < 0.3 * 32767 * 0.05
        assert not out[cut + RATE // 50 :].any()

        # The channel still speaks after a barge-in.
        sink.pieces.clear()
        await mixer.speech.play(ReplyAudio(pieces[0].tobytes(), RATE))
        await mixer.speech.drain()
        assert np.array_equal(sink.samples()[: pieces[0].size], pieces[0])


async def test_cancelled_play_skips_its_piece() -> None:
    sink = ClockSink()
    async with Mixer(sink, sample_rate=RATE) as mixer:
        mixer.music.pause()  # no music: harmless
        first = asyncio.create_task(mixer.speech.play(ReplyAudio(tone(0.5, 500, 0.3).tobytes(), RATE)))
        second = asyncio.create_task(mixer.speech.play(ReplyAudio(tone(0.5, 700, 0.3).tobytes(), RATE)))
        await asyncio.sleep(0)
        second.cancel()
        await first
        await mixer.speech.drain()
        with pytest.raises(asyncio.CancelledError):
            await second
    first_piece = tone(0.5, 500, 0.3)
    out = sink.samples()
    assert np.array_equal(out[: first_piece.size], first_piece) and not out[first_piece.size :].any()


async def test_music_pause_resume_stop_and_volume() -> None:
    music = tone(2.0, 200, 0.4)
    level = rms(music)
    sink = ClockSink()
    ended: list[MusicEnded] = []
    async with Mixer(sink, sample_rate=RATE, ramp_ms=100, fade_ms=20) as mixer:
        mixer.music.on_end = ended.append
        await mixer.music.play(chunks_of(music))
        await sink.hold_at(4)
        mixer.music.pause()
        assert mixer.music.is_paused and not mixer.music.is_playing
        sink.release()
        await asyncio.sleep(0.02)
        paused_at = len(sink.pieces)
        assert paused_at == 5  # one more block, fading out within its first 20 ms
        await asyncio.sleep(0.02)
        assert len(sink.pieces) == paused_at  # paused: nothing written, no busy loop
        faded = sink.samples()[4 * BLOCK :]
        assert np.abs(faded[RATE // 50 :]).max() == 0
        played = 4 * BLOCK + RATE // 50 - 1  # the fade's last, zero-gain sample is not used up

        hold = asyncio.create_task(sink.hold_at(paused_at + 4))
        await asyncio.sleep(0)
        mixer.music.resume()
        assert mixer.music.is_playing
        await hold
        out = sink.samples()[paused_at * BLOCK :]
        # Resumed where it paused, fading in over 20 ms.
        assert np.array_equal(out[RATE // 50 :], music[played + RATE // 50 : played + out.size])

        mixer.music.set_volume(30)
        assert mixer.music.volume == 30
        hold = asyncio.create_task(sink.hold_at(paused_at + 12))
        sink.release()
        await hold
        last = sink.samples()[-4 * BLOCK :]
        assert rms(last) / level == pytest.approx(volume_to_gain(30), rel=0.03)

        await mixer.music.stop()
        assert not mixer.music.is_playing and not mixer.music.is_paused
        sink.release()
        await asyncio.sleep(0.02)
        stopped_at = sink.samples().size
        await asyncio.sleep(0.02)
        assert sink.samples().size == stopped_at < music.size
        assert np.abs(sink.samples()[-BLOCK + RATE // 50 :]).max() == 0  # a 20 ms fade, then silence
        mixer.music.set_volume(150)
        assert mixer.music.volume == 100
        mixer.music.set_volume(-1)
        assert mixer.music.volume == 0
    assert ended == []  # stop() is not an end
    # Pausing, resuming, volume and stopping all ramp, never jump.
    natural = np.max(np.abs(np.diff(music.astype(np.int32))))
    assert np.max(np.abs(np.diff(sink.samples().astype(np.int32)))) <= natural * 1.05


async def test_end_callback_fires_once_with_source_id_and_errors() -> None:
    sink = ClockSink()
    ended: list[MusicEnded] = []

    def broken() -> Iterator[bytes]:
        yield tone(0.2, 300, 0.3).tobytes()
        raise OSError("disk went away")

    async with Mixer(sink, sample_rate=RATE) as mixer:
        mixer.music.on_end = ended.append
        first = await mixer.music.play(chunks_of(tone(0.3, 300, 0.3)))
        await until(lambda: len(ended) == 1)
        assert ended == [MusicEnded(first, None)]
        second = await mixer.music.play(broken())
        await until(lambda: len(ended) == 2)
        assert ended[1].source == second and ended[1].error == "disk went away"
        await asyncio.sleep(0.02)
    assert len(ended) == 2
    assert sink.samples().size >= round(0.5 * RATE)


async def test_blocking_source_is_read_in_a_thread_and_closed_when_replaced() -> None:
    sink = ClockSink()
    closed = asyncio.Event()
    loop = asyncio.get_running_loop()
    threads: set[str] = set()

    def decoder() -> Iterator[bytes]:
        import threading

        try:
            while True:
                threads.add(threading.current_thread().name)
                time.sleep(0.001)  # a blocking read
                yield tone(0.05, 300, 0.3).tobytes()
        finally:
            loop.call_soon_threadsafe(closed.set)

    async with Mixer(sink, sample_rate=RATE) as mixer:
        await mixer.music.play(decoder())
        await until(lambda: len(sink.pieces) >= 5)  # the decoder keeps up with the mixer
        await mixer.music.play(chunks_of(tone(0.1, 300, 0.3)))
        await asyncio.wait_for(closed.wait(), 1.0)
    assert threads and all(name.startswith("mixer-music") for name in threads)


async def test_music_at_another_rate_is_resampled() -> None:
    sink = ClockSink()
    async with Mixer(sink, sample_rate=RATE) as mixer:
        done = asyncio.Event()
        mixer.music.on_end = lambda _e: done.set()
        await mixer.music.play(chunks_of(tone(1.0, 440, 0.3, rate=44100), 4410), sample_rate=44100)
        await done.wait()
    assert sink.samples().size == pytest.approx(RATE, abs=BLOCK)


async def test_held_duck_keeps_music_down() -> None:
    music = tone(1.5, 200, 0.4)
    sink = ClockSink()
    async with Mixer(sink, sample_rate=RATE, hold_ms=0) as mixer:
        mixer.duck(True)
        done = await play_music(mixer, music)
        await sink.hold_at(10)
        mixer.duck(False)
        sink.release()
        await done.wait()
    out = sink.samples()[: music.size]
    assert rms(out[RATE // 10 : RATE // 3]) / rms(music[RATE // 10 : RATE // 3]) == pytest.approx(
        0.2, abs=0.02
    )
    assert rms(out[-RATE // 4 :]) / rms(music[-RATE // 4 :]) == pytest.approx(1.0, abs=0.01)


async def test_pace_keeps_to_real_time() -> None:
    sink = MemorySink()
    async with Mixer(sink, sample_rate=RATE, pace=True) as mixer:
        started = time.monotonic()
        done = await play_music(mixer, tone(0.4, 300, 0.3))
        await done.wait()
        assert time.monotonic() - started >= 0.25  # 0.4 s less the two blocks of lead


async def test_aclose_ends_every_task_and_the_output() -> None:
    sink = ClockSink()
    mixer = Mixer(sink, sample_rate=RATE)
    with pytest.raises(RuntimeError, match="start"):
        await mixer.speech.play(ReplyAudio(b"\0\0", RATE))
    mixer.start()
    await mixer.music.play(chunks_of(tone(5.0, 300, 0.3)))
    speaking = asyncio.create_task(mixer.speech.play(ReplyAudio(tone(5.0, 500, 0.3).tobytes(), RATE)))
    await sink.hold_at(2)
    await mixer.aclose()  # with the mixer stuck in the output
    await asyncio.wait_for(speaking, 1.0)
    assert sink.closed
    assert [t for t in asyncio.all_tasks() if t is not asyncio.current_task()] == []
    with pytest.raises(RuntimeError, match="closed"):
        await mixer.speech.play(ReplyAudio(b"\0\0", RATE))
    await mixer.aclose()  # twice is fine


async def test_output_failure_reaches_speakers() -> None:
    class Broken(MemorySink):
        async def play(self, audio: ReplyAudio) -> float:
            raise OSError("device unplugged")

    mixer = Mixer(Broken(), sample_rate=RATE)
    mixer.start()
    with pytest.raises(OSError, match="unplugged"):
        await mixer.speech.play(ReplyAudio(tone(0.2, 500, 0.3).tobytes(), RATE))
    with pytest.raises(OSError, match="unplugged"):
        await mixer.speech.play(ReplyAudio(tone(0.2, 500, 0.3).tobytes(), RATE))
    await mixer.aclose()


async def test_it_tells_what_it_says_and_hands_every_block_to_a_tap() -> None:
    sink = ClockSink()
    tapped: list[tuple[bytes, float]] = []
    async with Mixer(sink, sample_rate=RATE) as mixer:
        mixer.on_played = lambda pcm, t: tapped.append((pcm, t))
        assert mixer.speech_text() == ""
        pieces = ["One.", "Two.", "Three.", "Four."]
        plays = [
            asyncio.create_task(mixer.speech.play(ReplyAudio(tone(0.06, 300, 0.3).tobytes(), RATE, p)))
            for p in pieces[:2]
        ]
        await sink.hold_at(1)  # the first block is being written: "Two." waits in the queue
        assert mixer.speech_text() == "One. Two."  # one playing, one queued
        sink.release()
        await asyncio.gather(*plays)
        for p in pieces[2:]:
            await mixer.speech.play(ReplyAudio(tone(0.06, 300, 0.3).tobytes(), RATE, p))
        await mixer.speech.drain()
        # The last few pieces played are still counted: the room and the microphone lag.
        assert mixer.speech_text() == "Two. Three. Four."
        # The tap saw exactly what the output got, with the times the output gave.
        assert b"".join(pcm for pcm, _ in tapped) == sink.pcm()
        assert [t for _, t in tapped] == [k * BLOCK / RATE for k in range(len(tapped))]

        def broken(pcm: bytes, t: float) -> None:
            raise RuntimeError("tap failed")

        # A failing tap is removed; the output goes on.
        mixer.on_played = broken
        await mixer.speech.play(ReplyAudio(tone(0.06, 300, 0.3).tobytes(), RATE, "Five."))
        await mixer.speech.drain()
        assert mixer.on_played is None and len(sink.pieces) > len(tapped)
