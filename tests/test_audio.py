"""Tests of the audio package: decoding real files, resampling, sources and sinks."""

from __future__ import annotations

import asyncio
import importlib.abc
import io
import itertools
import math
import os
import sys
import threading
import time
import wave
from collections.abc import AsyncIterable
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from assistant.audio.dsp import (
    Resampler,
    float_to_int16,
    frames,
    int16_to_float,
    resample,
    to_mono,
)
from assistant.audio.files import WavWriter, read_audio_file, write_wav
from assistant.audio.sinks import DeviceSink, MemorySink, NullSink, WavFileSink
from assistant.audio.sources import (
    PORTAUDIO_MISSING,
    BufferSource,
    DeviceSource,
    PcmStreamSource,
    describe_devices,
    list_devices,
    load_sounddevice,
)
from assistant.errors import AudioDeviceError, AudioFileError
from assistant.frames import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE, AudioChunk, ReplyAudio

# --------------------------------------------------------------------------- helpers


def tone(rate: int, seconds: float, freq: float = 440.0, amp: float = 0.5) -> np.ndarray:
    """A float sine wave in [-amp, amp]."""
    n = round(rate * seconds)
    return amp * np.sin(2 * np.pi * freq * np.arange(n) / rate)


def write_stdlib_wav(path: Path, x: np.ndarray, rate: int, sampwidth: int) -> None:
    """Write float samples, shape (n,) or (n, ch), as integer PCM with the stdlib wave module."""
    x2 = x[:, None] if x.ndim == 1 else x
    if sampwidth == 1:
        data = (np.round(x2 * 127) + 128).astype(np.uint8).tobytes()
    elif sampwidth == 2:
        data = np.round(x2 * 32767).astype("<i2").tobytes()
    elif sampwidth == 3:
        i32 = np.round(x2 * (2**23 - 1)).astype("<i4").reshape(-1)
        data = i32.view(np.uint8).reshape(-1, 4)[:, :3].tobytes()
    else:
        data = np.round(x2 * (2**31 - 1)).astype("<i4").tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(x2.shape[1])
        w.setsampwidth(sampwidth)
        w.setframerate(rate)
        w.writeframes(data)


def write_pyav(path: Path, x: np.ndarray, rate: int, codec: str, fmt: str) -> None:
    """Encode mono float samples with PyAV (codec in the container implied by the suffix)."""
    with av.open(str(path), "w") as c:
        stream = c.add_stream(codec, rate=rate, layout="mono")
        assert isinstance(stream, av.audio.stream.AudioStream)
        step = stream.codec_context.frame_size or 1024
        for pos in range(0, len(x), step):
            seg = x[pos : pos + step].astype(np.float32).reshape(1, -1)
            if fmt.startswith("s16"):
                seg = np.round(seg * 32767).astype(np.int16)
            frame = av.AudioFrame.from_ndarray(seg, format=fmt, layout="mono")
            frame.sample_rate = rate
            frame.pts = pos
            for packet in stream.encode(frame):
                c.mux(packet)
        for packet in stream.encode(None):
            c.mux(packet)


def samples(pcm: bytes) -> np.ndarray:
    return np.frombuffer(pcm, dtype="<i2").astype(np.int16)


def peak_hz(x: np.ndarray, rate: int = SAMPLE_RATE) -> float:
    """Frequency of the strongest FFT bin."""
    spectrum = np.abs(np.fft.rfft(x.astype(np.float64) * np.hanning(len(x))))
    return float(np.argmax(spectrum) * rate / len(x))


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x.astype(np.float64) ** 2)))


async def collect(it: AsyncIterable[AudioChunk], limit: int | None = None) -> list[AudioChunk]:
    out: list[AudioChunk] = []
    async for chunk in it:
        out.append(chunk)
        if limit is not None and len(out) >= limit:
            break
    return out


# --------------------------------------------------------------------------- dsp


def test_int16_float_round_trip_and_clipping() -> None:
    x = np.array([-32768, -1, 0, 1, 32767], dtype=np.int16)
    assert np.array_equal(float_to_int16(int16_to_float(x)), x)
    clipped = float_to_int16(np.array([-2.0, 1.5, 0.5]))
    assert clipped.tolist() == [-32768, 32767, 16384]


def test_to_mono_averages_channels() -> None:
    x = np.array([[100, 300], [-50, 50]], dtype=np.int16)
    assert to_mono(x).tolist() == [200, 0]
    assert to_mono(x).dtype == np.int16


def test_frames_pads_last_partial_frame() -> None:
    out = list(frames(b"\x01" * 10, 4))
    assert out == [b"\x01" * 4, b"\x01" * 4, b"\x01\x01\x00\x00"]
    assert list(frames(b"", 4)) == []


@pytest.mark.parametrize(
    ("in_rate", "out_rate"),
    [
        (8000, 16000),
        (11025, 16000),
        (22050, 16000),
        (44100, 16000),
        (48000, 16000),
        (16000, 48000),
        (16000, 22050),
    ],
)
def test_streaming_resampler_matches_one_shot(in_rate: int, out_rate: int) -> None:
    x = float_to_int16(tone(in_rate, 1.0))
    whole = resample(x, in_rate, out_rate)
    r = Resampler(in_rate, out_rate)
    sizes = [1, 7, 333, 1000, 4097, 5]
    parts, pos, i = [], 0, 0
    while pos < len(x):
        n = sizes[i % len(sizes)]
        parts.append(r.process(x[pos : pos + n]))
        pos, i = pos + n, i + 1
    parts.append(r.flush())
    streamed = np.concatenate(parts)
    assert abs(len(whole) - out_rate) <= 1
    assert len(streamed) == len(whole)
    assert np.max(np.abs(streamed.astype(np.int32) - whole)) <= 2
    assert abs(peak_hz(streamed, out_rate) - 440) <= 2


def test_resampler_same_rate_is_identity_and_reusable_after_flush() -> None:
    x = np.arange(100, dtype=np.int16)
    assert np.array_equal(resample(x, 16000, 16000), x)
    r = Resampler(48000, 16000)
    first = np.concatenate([r.process(x.repeat(30)), r.flush()])
    second = np.concatenate([r.process(x.repeat(30)), r.flush()])
    assert np.array_equal(first, second)


# --------------------------------------------------------------------------- files


@pytest.mark.parametrize("rate", [8000, 22050, 44100, 48000])
@pytest.mark.parametrize("sampwidth", [1, 2, 3, 4])
@pytest.mark.parametrize("channels", [1, 2])
def test_read_wav_keeps_duration_and_pitch(tmp_path: Path, rate: int, sampwidth: int, channels: int) -> None:
    x = tone(rate, 1.0)
    if channels == 2:
        x = np.stack([x, x], axis=1)
    path = tmp_path / f"tone_{rate}_{sampwidth}_{channels}.wav"
    write_stdlib_wav(path, x, rate, sampwidth)
    y = samples(read_audio_file(path))
    assert abs(len(y) - SAMPLE_RATE) <= FRAME_SAMPLES
    assert abs(peak_hz(y) - 440) <= 10
    # 0.5 amplitude sine: RMS 0.5/sqrt(2) of full scale; 8-bit is coarse, hence the margin.
    assert rms(y) == pytest.approx(0.5 / math.sqrt(2) * 32768, rel=0.05)


def test_read_six_channel_wav(tmp_path: Path) -> None:
    x = np.stack([tone(48000, 0.5)] * 6, axis=1)
    path = tmp_path / "six.wav"
    write_stdlib_wav(path, x, 48000, 2)
    y = samples(read_audio_file(path))
    assert abs(len(y) - 8000) <= FRAME_SAMPLES
    assert abs(peak_hz(y) - 440) <= 10


def test_stereo_with_tone_in_one_channel_gives_half_amplitude(tmp_path: Path) -> None:
    left = tone(44100, 1.0, amp=0.8)
    path = tmp_path / "left_only.wav"
    write_stdlib_wav(path, np.stack([left, np.zeros_like(left)], axis=1), 44100, 2)
    y = samples(read_audio_file(path))
    assert rms(y) == pytest.approx(0.4 / math.sqrt(2) * 32768, rel=0.02)


@pytest.mark.parametrize(
    ("name", "codec", "rate", "fmt", "tolerance_s"),
    [
        ("float.wav", "pcm_f32le", 48000, "flt", FRAME_SAMPLES / SAMPLE_RATE),
        ("tone.flac", "flac", 22050, "s16", FRAME_SAMPLES / SAMPLE_RATE),
        # Lossy codecs add encoder delay/padding; only the order of magnitude is checked.
        ("tone.mp3", "libmp3lame", 44100, "fltp", 0.1),
        ("tone.ogg", "libopus", 48000, "flt", 0.1),
        ("tone.m4a", "aac", 44100, "fltp", 0.1),
    ],
)
def test_read_encoded_formats(
    tmp_path: Path, name: str, codec: str, rate: int, fmt: str, tolerance_s: float
) -> None:
    if codec not in av.codecs_available:
        pytest.skip(f"this FFmpeg build has no {codec} encoder")
    path = tmp_path / name
    write_pyav(path, tone(rate, 1.0), rate, codec, fmt)
    y = samples(read_audio_file(path))
    assert abs(len(y) - SAMPLE_RATE) <= tolerance_s * SAMPLE_RATE
    assert abs(peak_hz(y) - 440) <= 10


def test_corrupt_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "garbage.wav"
    path.write_bytes(np.random.default_rng(1).bytes(4096))
    with pytest.raises(AudioFileError, match=r"garbage\.wav.*not a recognised audio file"):
        read_audio_file(path)


def test_empty_missing_directory_and_no_samples(tmp_path: Path) -> None:
    empty = tmp_path / "empty.wav"
    empty.write_bytes(b"")
    with pytest.raises(AudioFileError, match=r"empty\.wav.*empty"):
        read_audio_file(empty)
    with pytest.raises(AudioFileError, match=r"missing\.wav.*not found"):
        read_audio_file(tmp_path / "missing.wav")
    folder = tmp_path / "folder.wav"
    folder.mkdir()
    with pytest.raises(AudioFileError, match=r"folder\.wav.*directory"):
        read_audio_file(folder)
    silent = tmp_path / "nothing.wav"
    write_stdlib_wav(silent, np.zeros(0), 16000, 2)
    with pytest.raises(AudioFileError, match=r"nothing\.wav.*no audio samples"):
        read_audio_file(silent)


def test_write_wav_is_atomic_and_readable(tmp_path: Path) -> None:
    pcm = float_to_int16(tone(22050, 0.2)).tobytes()
    path = tmp_path / "out.wav"
    write_wav(path, pcm, 22050)
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert w.readframes(w.getnframes()) == pcm
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.wav"]


def test_wav_writer_appends_and_discards_on_error(tmp_path: Path) -> None:
    path = tmp_path / "inc.wav"
    with WavWriter(path, 16000) as w:
        w.append(b"\x01\x00" * 100)
        assert not path.exists()  # appears only when complete
        w.append(b"\x02\x00" * 50)
    with wave.open(str(path), "rb") as r:
        assert r.getnframes() == 150
    bad = tmp_path / "bad.wav"
    with pytest.raises(RuntimeError), WavWriter(bad, 16000) as w:
        w.append(b"\x00\x00" * 10)
        raise RuntimeError("boom")
    assert not bad.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["inc.wav"]


# --------------------------------------------------------------------------- sources


async def test_buffer_source_frames_and_silence() -> None:
    pcm = float_to_int16(tone(SAMPLE_RATE, 1.0)).tobytes()  # 33.3 frames
    src = BufferSource(pcm, realtime=False, leading_silence_s=0.09, trailing_silence_s=0.3)
    chunks = await collect(src)
    assert src.frame_count == 3 + 34 + 10
    assert len(chunks) == src.frame_count
    assert all(len(c.pcm) == FRAME_BYTES for c in chunks)
    assert all(c.pcm == bytes(FRAME_BYTES) for c in chunks[:3] + chunks[-10:])
    body = b"".join(c.pcm for c in chunks[3:-10])
    assert body[: len(pcm)] == pcm
    assert body[len(pcm) :] == bytes(len(body) - len(pcm))
    assert all(a.t <= b.t for a, b in itertools.pairwise(chunks))


async def test_buffer_source_realtime_pacing() -> None:
    pcm = bytes(FRAME_BYTES * 10)  # 0.3 s
    start = time.monotonic()
    chunks = await collect(BufferSource(pcm, trailing_silence_s=0.0))
    elapsed = time.monotonic() - start
    assert len(chunks) == 10
    assert 0.9 * 0.3 <= elapsed < 0.3 + 0.5
    # Frames arrive spread out, not in a burst at the end.
    assert chunks[-1].t - chunks[0].t >= 0.9 * 0.27


def _stereo_48k_pcm(seconds: float) -> tuple[bytes, int]:
    x = float_to_int16(tone(48000, seconds))
    return np.stack([x, x], axis=1).tobytes(), round(SAMPLE_RATE * seconds)


async def test_pcm_stream_source_from_bytesio() -> None:
    pcm, expected = _stereo_48k_pcm(0.5)
    chunks = await collect(PcmStreamSource(io.BytesIO(pcm), sample_rate=48000, channels=2))
    assert len(chunks) == math.ceil(expected / FRAME_SAMPLES)
    assert all(len(c.pcm) == FRAME_BYTES for c in chunks)
    y = samples(b"".join(c.pcm for c in chunks))[:expected]
    assert abs(peak_hz(y) - 440) <= 10


async def test_pcm_stream_source_from_pipe_with_ragged_writes() -> None:
    pcm, expected = _stereo_48k_pcm(0.5)
    r, w = os.pipe()

    def writer() -> None:
        # 1001 bytes: splits samples and channel pairs across reads.
        with os.fdopen(w, "wb", buffering=0) as fh:
            for pos in range(0, len(pcm), 1001):
                fh.write(pcm[pos : pos + 1001])

    t = threading.Thread(target=writer)
    t.start()
    with os.fdopen(r, "rb") as fh:
        chunks = await asyncio.wait_for(collect(PcmStreamSource(fh, sample_rate=48000, channels=2)), 5)
    t.join()
    assert len(chunks) == math.ceil(expected / FRAME_SAMPLES)
    y = samples(b"".join(c.pcm for c in chunks))[:expected]
    assert abs(peak_hz(y) - 440) <= 10


class FakeInputStream:
    """Calls the callback from its own thread with blocks of ``blocksize`` samples."""

    def __init__(self, backend: FakeInputBackend, samplerate: int, blocksize: int, callback: Any):
        self.backend = backend
        self.samplerate = samplerate
        self.blocksize = blocksize
        self.callback = callback
        self.stopped = threading.Event()
        self.finished = threading.Event()
        self.closed = False
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        for i in range(self.backend.blocks):
            if self.stopped.is_set():
                break
            block = np.full(self.blocksize, i, dtype=np.int16).tobytes()
            self.callback(block, self.blocksize, None, None)
            if self.backend.interval:
                time.sleep(self.backend.interval)
        self.finished.set()

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join()

    def close(self) -> None:
        self.closed = True


class FakeInputBackend:
    """A sounddevice-shaped backend with one fake microphone and one fake speaker."""

    def __init__(self, *, blocks: int = 10, interval: float = 0.0, refuse: Any = ()) -> None:
        self.blocks = blocks
        self.interval = interval
        self.refuse = refuse  # rates to refuse, or "all"
        self.streams: list[FakeInputStream] = []

    def RawInputStream(  # mirrors sounddevice
        self,
        *,
        samplerate: int,
        blocksize: int,
        device: Any,
        channels: int,
        dtype: str,
        callback: Any,
    ) -> FakeInputStream:
        assert (channels, dtype) == (1, "int16")
        if self.refuse == "all" or samplerate in self.refuse:
            raise RuntimeError(f"Invalid sample rate {samplerate}")
        stream = FakeInputStream(self, samplerate, blocksize, callback)
        self.streams.append(stream)
        return stream

    def query_devices(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "Fake Mic",
                "index": 0,
                "max_input_channels": 1,
                "max_output_channels": 0,
                "default_samplerate": 48000.0,
            },
            {
                "name": "Fake Speaker",
                "index": 1,
                "max_input_channels": 0,
                "max_output_channels": 2,
                "default_samplerate": 44100.0,
            },
        ]


async def test_device_source_delivers_frames() -> None:
    backend = FakeInputBackend(blocks=10, interval=0.002)
    src = DeviceSource(device="Fake Mic", backend=backend)
    chunks = await asyncio.wait_for(collect(src, limit=10), 5)
    await src.aclose()
    assert src.rate == SAMPLE_RATE
    assert [samples(c.pcm)[0] for c in chunks] == list(range(10))
    assert all(len(c.pcm) == FRAME_BYTES for c in chunks)
    assert src.dropped == 0
    stream = backend.streams[0]
    assert stream.blocksize == FRAME_SAMPLES
    assert stream.stopped.is_set() and stream.closed


async def test_device_source_counts_drops_when_consumer_is_slow() -> None:
    backend = FakeInputBackend(blocks=20)
    src = DeviceSource(device=0, backend=backend, queue_frames=4)
    await src.start()
    # The fake pushes all 20 blocks at once; its callbacks reach the loop before this resumes.
    assert await asyncio.to_thread(backend.streams[0].finished.wait, 2)
    assert src.dropped == 16
    chunks = await asyncio.wait_for(collect(src, limit=4), 2)
    assert [samples(c.pcm)[0] for c in chunks] == [0, 1, 2, 3]
    await src.aclose()


async def test_device_source_falls_back_to_default_rate_and_resamples() -> None:
    backend = FakeInputBackend(blocks=20, refuse={16000})
    src = DeviceSource(device=0, backend=backend)
    chunks = await asyncio.wait_for(collect(src, limit=15), 5)
    await src.aclose()
    assert src.rate == 48000
    assert backend.streams[0].blocksize == 1440
    assert all(len(c.pcm) == FRAME_BYTES for c in chunks)


async def test_device_source_open_failure_names_device_and_lists_inputs() -> None:
    src = DeviceSource(device="Bogus Mic", backend=FakeInputBackend(refuse="all"))
    with pytest.raises(AudioDeviceError) as err:
        await src.start()
    message = str(err.value)
    assert "'Bogus Mic'" in message
    assert "0: Fake Mic" in message
    assert "Fake Speaker" not in message  # only input devices are listed


async def test_device_source_aclose_ends_iteration() -> None:
    src = DeviceSource(backend=FakeInputBackend(blocks=0))
    task = asyncio.create_task(collect(src))
    await asyncio.sleep(0.05)
    await src.aclose()
    assert await asyncio.wait_for(task, 2) == []


def test_list_and_describe_devices() -> None:
    backend = FakeInputBackend()
    assert [d["name"] for d in list_devices(backend)] == ["Fake Mic", "Fake Speaker"]
    text = describe_devices(backend)
    inputs, outputs = text.split("Output devices:")
    assert "Fake Mic" in inputs and "Fake Speaker" not in inputs
    assert "Fake Speaker" in outputs and "48000 Hz" in inputs


def test_missing_portaudio_becomes_audio_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    class NoPortAudio(importlib.abc.MetaPathFinder):
        def find_spec(self, name: str, path: Any, target: Any = None) -> None:
            if name == "sounddevice":
                raise OSError("PortAudio library not found")

    monkeypatch.delitem(sys.modules, "sounddevice", raising=False)
    monkeypatch.setattr(sys, "meta_path", [NoPortAudio(), *sys.meta_path])
    with pytest.raises(AudioDeviceError) as err:
        load_sounddevice()
    assert str(err.value) == PORTAUDIO_MISSING


# --------------------------------------------------------------------------- sinks


def _piece(n: int, rate: int = 22050, value: int = 1) -> ReplyAudio:
    return ReplyAudio(pcm=np.full(n, value, dtype=np.int16).tobytes(), sample_rate=rate)


async def test_wav_file_sink_writes_sum_of_pieces(tmp_path: Path) -> None:
    path = tmp_path / "reply.wav"
    sink = WavFileSink(path)
    times = [await sink.play(_piece(n, value=i + 1)) for i, n in enumerate([1000, 2205, 501])]
    assert times == sorted(times)
    await sink.play(_piece(1600, rate=16000))  # resampled to the file's 22050 Hz
    await sink.drain()
    await sink.aclose()
    with wave.open(str(path), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        n = w.getnframes()
        data = samples(w.readframes(n))
    assert abs(n - (1000 + 2205 + 501 + 2205)) <= 1
    assert data[:1000].tolist() == [1] * 1000 and data[3205:3706].tolist() == [3] * 501


async def test_wav_file_sink_without_audio_writes_empty_valid_wav(tmp_path: Path) -> None:
    sink = WavFileSink(tmp_path / "none.wav")
    await sink.aclose()
    with wave.open(str(tmp_path / "none.wav"), "rb") as w:
        assert w.getnframes() == 0


async def test_memory_and_null_sinks() -> None:
    mem, null = MemorySink(), NullSink()
    for sink in (mem, null):
        t = await sink.play(_piece(10))
        assert t <= time.monotonic()
        await sink.stop()
        await sink.drain()
        await sink.aclose()
    assert mem.pcm() == _piece(10).pcm and mem.stops == 1 and mem.closed
    assert null.pieces == 1


class FakeOutputStream:
    """Records writes; each write takes ``delay`` seconds, like a device buffer filling."""

    def __init__(self, samplerate: int, delay: float) -> None:
        self.samplerate = samplerate
        self.delay = delay
        self.written = bytearray()
        self.events: list[str] = []

    def start(self) -> None:
        self.events.append("start")

    def write(self, data: bytes) -> None:
        time.sleep(self.delay)
        self.written += data

    def stop(self) -> None:
        self.events.append("stop")

    def close(self) -> None:
        self.events.append("close")


class FakeOutputBackend:
    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.streams: list[FakeOutputStream] = []

    def RawOutputStream(  # mirrors sounddevice
        self, *, samplerate: int, channels: int, dtype: str, device: Any, blocksize: int
    ) -> FakeOutputStream:
        assert (channels, dtype) == (1, "int16")
        stream = FakeOutputStream(samplerate, self.delay)
        self.streams.append(stream)
        return stream

    def query_devices(self) -> list[dict[str, Any]]:
        return FakeInputBackend().query_devices()


async def test_device_sink_receives_all_bytes_in_order() -> None:
    backend = FakeOutputBackend(delay=0.001)
    sink = DeviceSink("Fake Speaker", backend=backend)
    pieces = [_piece(n, value=i + 1) for i, n in enumerate([3000, 1, 5000, 2205])]
    times = [await sink.play(p) for p in pieces]
    await sink.play(_piece(1600, rate=16000, value=9))  # resampled to 22050
    await sink.drain()
    stream = backend.streams[0]
    assert stream.samplerate == 22050
    expected = b"".join(p.pcm for p in pieces)
    assert bytes(stream.written[: len(expected)]) == expected
    assert abs((len(stream.written) - len(expected)) // 2 - 2205) <= 1
    assert times == sorted(times)
    await sink.aclose()
    assert stream.events == ["start", "stop", "close"]


async def test_device_sink_stop_drops_queued_audio() -> None:
    backend = FakeOutputBackend(delay=0.02)  # 20 ms per 50 ms block
    sink = DeviceSink(None, backend=backend)
    long_piece = _piece(22050 * 2)  # 40 blocks, ~0.8 s to write
    first = asyncio.create_task(sink.play(long_piece))
    await first  # the first piece has started
    queued = asyncio.create_task(sink.play(_piece(22050, value=7)))
    await asyncio.sleep(0.05)
    await sink.stop()
    await asyncio.wait_for(queued, 1)  # a waiter on a dropped piece is released
    await asyncio.wait_for(sink.drain(), 1)
    written = len(backend.streams[0].written)
    assert 0 < written < len(long_piece.pcm)
    assert 7 not in samples(bytes(backend.streams[0].written))
    await sink.aclose()
