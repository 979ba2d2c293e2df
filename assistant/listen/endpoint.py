"""The endpointer: a pure state machine that cuts utterances out of a stream of VAD-labelled frames."""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

from assistant.frames import FRAME_MS, SpeechEnded, SpeechStarted

# Whisper needs little trailing silence; keeping a short tail avoids clipping the last phoneme
# without paying recognition time for the whole silence that ended the turn.
_TAIL_MS = 150


@dataclass(frozen=True)
class EndpointSettings:
    """How the endpointer decides where speech starts and ends."""

    pre_roll_ms: int = 300
    """Audio kept from before the start decision."""
    start_speech_ms: int = 90
    """Voiced audio, within a short window, that starts an utterance."""
    silence_ms: int = 500
    """Unvoiced audio after speech that ends the utterance."""
    max_utterance_s: float = 15.0
    """Longest utterance; it is cut there."""


class Endpointer:
    """Feeds on (frame, voiced, time) and emits SpeechStarted / SpeechEnded; no I/O, no clock."""

    def __init__(self, settings: EndpointSettings) -> None:
        self.settings = settings
        self._start_frames = max(1, math.ceil(settings.start_speech_ms / FRAME_MS))
        self._window = self._start_frames + 2
        self._pre_roll_frames = max(self._window, math.ceil(settings.pre_roll_ms / FRAME_MS))
        self._max_frames = max(1, int(settings.max_utterance_s * 1000 // FRAME_MS))
        self._tail_frames = _TAIL_MS // FRAME_MS
        self.silence_ms = settings.silence_ms
        self.reset()

    def reset(self) -> None:
        """Forget any utterance in progress and start listening afresh."""
        self._recent: deque[tuple[bytes, bool, float]] = deque(maxlen=self._pre_roll_frames)
        self._frames: list[bytes] = []
        self._in_speech = False
        self._t_start = 0.0
        self._t_last_voiced = 0.0
        self._silent_run = 0
        self._extra_ms = 0

    def wait_longer(self, extra_ms: int) -> None:
        """Need ``extra_ms`` more silence to end the utterance in progress, until its speech goes on
        (the words so far stop mid-sentence: the person is thinking)."""
        if self._in_speech:
            self._extra_ms = max(0, extra_ms)

    @property
    def in_speech(self) -> bool:
        """True between SpeechStarted and SpeechEnded."""
        return self._in_speech

    def feed(self, frame: bytes, voiced: bool, t: float) -> SpeechStarted | SpeechEnded | None:
        """Take one frame with its VAD label and arrival time; return an event when one happens."""
        if not self._in_speech:
            self._recent.append((frame, voiced, t))
            window = list(self._recent)[-self._window :]
            if sum(v for _, v, _ in window) < self._start_frames:
                return None
            first_voiced = next(ft for _, v, ft in window if v)
            self._in_speech = True
            self._frames = [f for f, _, _ in self._recent]
            self._recent.clear()
            self._t_start = first_voiced - FRAME_MS / 1000
            self._t_last_voiced = t
            self._silent_run = 0
            return SpeechStarted(t=self._t_start)
        self._frames.append(frame)
        if voiced:
            self._t_last_voiced = t
            self._silent_run = 0
            self._extra_ms = 0
        else:
            self._silent_run += 1
        if self._silent_run * FRAME_MS >= self.silence_ms + self._extra_ms:
            return self._end(t, truncated=False)
        if len(self._frames) >= self._max_frames:
            return self._end(t, truncated=True)
        return None

    @property
    def silent_ms(self) -> int:
        """Unvoiced audio since the last voiced frame of the utterance in progress."""
        return self._silent_run * FRAME_MS if self._in_speech else 0

    def snapshot(self) -> bytes:
        """The utterance so far, trimmed like a final one (for speculative recognition)."""
        keep = len(self._frames) - max(0, self._silent_run - self._tail_frames)
        return b"".join(self._frames[:keep])

    def end_now(self, t: float) -> SpeechEnded | None:
        """End the utterance in progress at once (end of stream, or a caller that knows better)."""
        if not self._in_speech:
            return None
        return self._end(t, truncated=False)

    def _end(self, t: float, *, truncated: bool) -> SpeechEnded:
        event = SpeechEnded(
            pcm=self.snapshot(),
            t_speech_start=self._t_start,
            t_last_voiced=self._t_last_voiced,
            t_endpoint=t,
            truncated=truncated,
        )
        self.reset()
        return event
