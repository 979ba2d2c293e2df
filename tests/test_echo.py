"""Echo cancellation: the mixer's output, fed back through a simulated room into the microphone,
is taken out by WebRTC's canceller on the microphone's time line; nothing is touched at idle."""

from __future__ import annotations

import time
import wave
from pathlib import Path

import numpy as np
import pytest

from assistant.audio.dsp import pcm_to_int16, resample
from assistant.audio.echo import TAIL_S, EchoCanceller, Reference
from assistant.audio.mixer import MIXER_RATE
from assistant.config import Config
from assistant.frames import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE, AudioChunk
from assistant.listen.vad import Vad

pytest.importorskip("livekit.rtc", reason="echo cancellation needs the livekit package")

SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"
T0 = 5000.0
BLOCK = MIXER_RATE // 20  # the mixer's 50 ms blocks


def piper_reply() -> np.ndarray:
    """Three sentences of the embedded voice at the mixer's rate (22.05 kHz)."""
    names = ("tell_me_a_joke.wav", "capital_of_france.wav", "whats_the_date_today.wav")
    parts = []
    for name in names:
        with wave.open(str(SAMPLES / name)) as w:
            assert w.getframerate() == MIXER_RATE
            parts.append(pcm_to_int16(w.readframes(w.getnframes())))
    return np.concatenate(parts)


def room(far16: np.ndarray, delay_ms: int = 60, gain: float = 0.7) -> np.ndarray:
    """What a microphone hears of ``far16`` across a small room: a delay, reflections, a tail."""
    rng = np.random.default_rng(3)
    n = int(0.3 * SAMPLE_RATE)
    h = rng.standard_normal(n) * np.exp(-6.9 * np.arange(n) / n) * 0.2
    h[0] = 1.0
    h[int(0.004 * SAMPLE_RATE)] += 0.4
    wet = np.convolve(far16.astype(np.float64), h / np.sqrt(np.sum(h**2)))[: far16.size] * gain
    return np.concatenate([np.zeros(delay_ms * SAMPLE_RATE // 1000), wet])


def frames_of(x: np.ndarray) -> list[bytes]:
    pcm = np.clip(np.rint(x), -32768, 32767).astype("<i2").tobytes()
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def test_the_reference_is_one_stream_on_the_output_clock() -> None:
    ref = Reference(MIXER_RATE)
    tone = (np.sin(np.arange(MIXER_RATE) * 2 * np.pi * 440 / MIXER_RATE) * 8000).astype(np.int16)
    for k in range(0, tone.size, BLOCK):
        # The first blocks go out at once (the device's buffer fills), later ones jitter by a
        # millisecond, as a device reports them: the stream stays seamless.
        t = T0 + max(0.0, k / MIXER_RATE - 0.1) + 0.001 * (k // BLOCK % 2)
        ref.played(tone[k : k + BLOCK].tobytes(), t)
    got = ref.span(round(T0 * SAMPLE_RATE), SAMPLE_RATE)
    want = resample(tone, MIXER_RATE, SAMPLE_RATE)[: got.size]
    assert float(np.corrcoef(got[100:-100], want[100:-100])[0, 1]) > 0.99
    assert ref.end_t == pytest.approx(T0 + 1.0, abs=0.01)  # a stream of one second
    # Before anything played and after a pause in the output: silence.
    assert not ref.span(round((T0 - 1) * SAMPLE_RATE), 800).any()
    ref.played(tone[:BLOCK].tobytes(), T0 + 3.0)
    assert not ref.span(round((T0 + 2.0) * SAMPLE_RATE), 800).any()
    assert ref.span(round((T0 + 3.0) * SAMPLE_RATE) + 100, 400).any()


def test_its_own_reply_is_taken_out_of_the_microphone_and_idle_frames_are_untouched() -> None:
    reply = piper_reply()
    far16 = resample(reply, MIXER_RATE, SAMPLE_RATE)
    echo = room(far16)
    rng = np.random.default_rng(5)
    reply_s = far16.size / SAMPLE_RATE
    total_s = reply_s + TAIL_S + 1.5
    mic = rng.standard_normal(int(total_s * SAMPLE_RATE)) * 30  # a quiet room
    mic[: echo.size] += echo
    canceller = EchoCanceller(MIXER_RATE)
    vad = Vad(Config().vad.aggressiveness)
    blocks = [(k, reply[k : k + BLOCK]) for k in range(0, reply.size, BLOCK)]
    cleaned: list[bytes] = []
    cpu_s = 0.0
    for n, frame in enumerate(frames_of(mic)):
        t = T0 + (n + 1) * FRAME_SAMPLES / SAMPLE_RATE
        # The mixer writes about 100 ms ahead of the speaker, so its blocks come before the echo.
        while blocks and T0 + blocks[0][0] / MIXER_RATE <= t + 0.1:
            k, block = blocks.pop(0)
            canceller.played(block.tobytes(), T0 + k / MIXER_RATE)
        start = time.process_time()
        out = canceller.clean(AudioChunk(frame, t))
        cpu_s += time.process_time() - start
        assert out.t == t and len(out.pcm) == FRAME_BYTES
        if t > T0 + reply_s + TAIL_S + 0.05:
            assert out.pcm == frame  # nothing plays: the microphone is passed on untouched
        cleaned.append(out.pcm)
    # The echo-only stretch, after the canceller's first second of learning the room.
    first, last = int(1.0 / 0.03), int(reply_s / 0.03)
    before = np.concatenate([pcm_to_int16(f) for f in frames_of(mic)[first:last]]).astype(np.float64)
    after = np.concatenate([pcm_to_int16(f) for f in cleaned[first:last]]).astype(np.float64)
    erle_db = 10 * np.log10(np.mean(before**2) / np.mean(after**2))
    voiced_before = sum(vad.is_speech(f) for f in frames_of(mic)[first:last])
    voiced_after = sum(vad.is_speech(f) for f in cleaned[first:last])
    cleaned_s = canceller.frames_cleaned * 0.03
    print(
        f"echo: ERLE {erle_db:.1f} dB; voiced frames {voiced_before} -> {voiced_after} of {last - first}; "
        f"{cpu_s * 1000 / cleaned_s:.1f} ms CPU per s cleaned; {cleaned_s:.1f} of {total_s:.1f} s cleaned"
    )
    assert erle_db > 15
    assert voiced_after < voiced_before / 2
    assert cleaned_s < reply_s + TAIL_S + 0.3
