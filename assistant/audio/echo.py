"""Acoustic echo cancellation: what the speaker plays is taken out of what the microphone hears.

WebRTC's audio processing module (AEC3, through the livekit package) does the work. The mixer
hands over every block it writes, with the time it went out (``played``); the microphone's
frames are cleaned against what was playing when they were heard (``clean``), before the wake
word and the VAD see them. The canceller finds the room's delay and echo path by itself; it is
only given the reference on the microphone's time line, a little ahead of the echo it causes.

Nothing is processed while nothing plays: a frame heard more than ``TAIL_S`` after the last
sound went out is passed on untouched, so an idle assistant pays nothing for it. What it does
to a room is measured by scripts/echo_measure.py (README, "Echo cancellation").
"""

from __future__ import annotations

import logging
from typing import Any, Final

import numpy as np

from assistant.audio.dsp import Resampler, pcm_to_int16
from assistant.errors import ConfigError
from assistant.frames import SAMPLE_RATE, AudioChunk

log = logging.getLogger(__name__)

TAIL_S: Final = 0.6
"""How long after the last sound went out frames are still cleaned: the room's reverberation
and the microphone's queued audio still carry it."""

HISTORY_S: Final = 2.0
"""Reference audio kept: more than the output runs ahead of real time plus the input's lag."""

RESYNC_S: Final = 0.02
"""A block going out this much later than the reference stream expected it (after a pause in
the output, or a device that dropped audio) restarts the stream at its own time. Blocks going
out early are the output filling its buffer ahead of the speaker: the stream runs on."""

PRIME_S: Final = 10.0
"""Seconds of sound the canceller is taken through at start, over a quiet microphone. New, it is
in an initial state for its first seconds of sound, in which it takes bites out of any voice
heard over that sound, echo or none: with no echo at all, words said over the first reply came
through 2 times in 5 (scripts/echo_measure.py, "aec_unprimed"), against 5 in 5 over later
ones; primed with 3, 6 or 10 s of it, 4, 5 and 5 times in 5, and no less echo was taken out of
a room's first reply.
The microphone side must be noise, not digital silence: primed on zeros, it went on to let a
voiced residue of its own through."""

_STEP: Final = SAMPLE_RATE // 100
"""The processing module takes 10 ms frames."""


class Reference:
    """What the speaker played, at 16 kHz, on the monotonic time line; pure, no I/O."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._resampler = Resampler(rate, SAMPLE_RATE)
        self._buf = np.zeros(int(HISTORY_S * SAMPLE_RATE), dtype=np.int16)
        self._end: int | None = None
        """Sample index (monotonic seconds × 16 kHz) just past the last sample written."""

    @property
    def end_t(self) -> float:
        """When the last sample played ends (monotonic; minus infinity when nothing has played)."""
        return -np.inf if self._end is None else self._end / SAMPLE_RATE

    def played(self, pcm: bytes, t: float) -> None:
        """Add a block of s16le at ``rate`` whose first sample went out at ``t``."""
        x = pcm_to_int16(pcm)
        if not x.size:
            return
        start = round(t * SAMPLE_RATE)
        if self._end is None or start - self._end > RESYNC_S * SAMPLE_RATE:
            # Not the continuation of what came before: a new stream from here, gap silent.
            self._resampler = Resampler(self.rate, SAMPLE_RATE)
            if self._end is not None:
                self._write(self._end, np.zeros(min(start - self._end, self._buf.size), dtype=np.int16))
            self._end = start
        else:
            start = self._end  # continuous: no clicks from rounding the block times
        y = self._resampler.process(x)
        self._write(start, y)
        self._end = start + y.size

    def span(self, start: int, n: int) -> np.ndarray:
        """``n`` samples from sample index ``start``; silence where nothing (known) played."""
        out = np.zeros(n, dtype=np.int16)
        if self._end is None:
            return out
        lo, hi = max(start, self._end - self._buf.size), min(start + n, self._end)
        if hi > lo:
            out[lo - start : hi - start] = self._buf[np.arange(lo, hi) % self._buf.size]
        return out

    def _write(self, start: int, y: np.ndarray) -> None:
        keep = y[-self._buf.size :]
        start += y.size - keep.size
        self._buf[np.arange(start, start + keep.size) % self._buf.size] = keep


class EchoCanceller:
    """Cleans microphone frames of what the speaker plays (WebRTC AEC3 through livekit)."""

    def __init__(self, output_rate: int, *, noise_suppression: bool = False, prime: bool = True) -> None:
        try:
            from livekit import rtc
        except ImportError:
            raise ConfigError(
                "audio.echo_cancel: webrtc needs the livekit package (pip install livekit), "
                "or set audio.echo_cancel: off"
            ) from None
        self._rtc: Any = rtc
        self._apm: Any = rtc.AudioProcessingModule(
            echo_cancellation=True, noise_suppression=noise_suppression, high_pass_filter=True
        )
        self.reference = Reference(output_rate)
        self.frames_cleaned = 0
        """Microphone frames that went through the canceller (the rest passed untouched)."""
        if prime:
            self._prime()

    def _prime(self) -> None:
        """Take the canceller through its initial state: loud noise played, a quiet room heard
        (about 0.1 s of CPU, once)."""
        rtc = self._rtc
        rng = np.random.default_rng(0)
        n = int(PRIME_S * SAMPLE_RATE)
        played = rng.normal(0, 3000, n).astype(np.int16)
        heard = rng.normal(0, 30, n).astype(np.int16)  # about -60 dBFS
        for i in range(0, n - _STEP + 1, _STEP):
            self._apm.process_reverse_stream(
                rtc.AudioFrame(played[i : i + _STEP].tobytes(), SAMPLE_RATE, 1, _STEP)
            )
            self._apm.process_stream(
                rtc.AudioFrame(bytearray(heard[i : i + _STEP].tobytes()), SAMPLE_RATE, 1, _STEP)
            )

    def played(self, pcm: bytes, t: float) -> None:
        """The mixer's tap: a block of its output and the time it went out."""
        self.reference.played(pcm, t)

    def clean(self, chunk: AudioChunk) -> AudioChunk:
        """The frame with the echo of what played taken out; untouched when nothing played lately."""
        n = len(chunk.pcm) // 2
        if chunk.t > self.reference.end_t + TAIL_S or n % _STEP:
            return chunk
        start = round(chunk.t * SAMPLE_RATE) - n  # the frame's first sample, on the output's clock
        far = self.reference.span(start, n)
        near = bytearray(chunk.pcm)
        rtc = self._rtc
        out = bytearray()
        for i in range(0, n, _STEP):
            reverse = rtc.AudioFrame(far[i : i + _STEP].tobytes(), SAMPLE_RATE, 1, _STEP)
            self._apm.process_reverse_stream(reverse)
            frame = rtc.AudioFrame(near[2 * i : 2 * (i + _STEP)], SAMPLE_RATE, 1, _STEP)
            self._apm.process_stream(frame)
            out += frame.data.tobytes()
        self.frames_cleaned += 1
        return AudioChunk(bytes(out), chunk.t)
