"""Short utterances heard while the assistant speaks ("stop!"), cut out for recognition.

While its own voice may reach the microphone no command starts (the self-hearing gate), but a
person can still say a short word over it. This state machine, fed the gated frames with their
VAD labels, cuts out voiced stretches that end within ``max_speech_ms``: only those are worth
transcribing. Longer ones are the assistant's own sentences (or someone talking over it at
length) and are dropped without running recognition. Pure and synchronous: no clock, no I/O.
"""

from __future__ import annotations

import math
from collections import deque

from assistant.frames import FRAME_MS


class Interjections:
    """Cuts short voiced stretches out of audio heard while the assistant speaks."""

    def __init__(
        self,
        *,
        max_speech_ms: int = 1500,
        start_speech_ms: int = 90,
        end_silence_ms: int = 300,
        pre_roll_ms: int = 300,
    ) -> None:
        if max_speech_ms <= start_speech_ms:
            raise ValueError("max_speech_ms must be longer than start_speech_ms")
        self.max_frames = math.ceil(max_speech_ms / FRAME_MS)
        self.start_frames = max(1, math.ceil(start_speech_ms / FRAME_MS))
        self.end_frames = max(1, math.ceil(end_silence_ms / FRAME_MS))
        self._pre_roll: deque[bytes] = deque(maxlen=max(1, math.ceil(pre_roll_ms / FRAME_MS)))
        self._run = 0
        """Voiced frames in a row before a stretch starts."""
        self._frames: list[bytes] = []
        """The stretch so far (empty when none has started, or once it grew too long)."""
        self._in_speech = False
        self._too_long = False
        self._silent = 0
        self._spoken = 0
        """Frames from the stretch's start to its last voiced frame."""
        self.cut = 0
        """Short stretches handed out for recognition."""
        self.dropped = 0
        """Stretches dropped unrecognised for being too long."""

    @property
    def active(self) -> bool:
        """True while a stretch has started and not ended."""
        return self._in_speech

    def feed(self, pcm: bytes, voiced: bool) -> bytes | None:
        """Take one frame; returns a short stretch's audio when it has just ended."""
        if not self._in_speech:
            self._pre_roll.append(pcm)
            self._run = self._run + 1 if voiced else 0
            if self._run < self.start_frames:
                return None
            self._in_speech, self._too_long = True, False
            self._frames = list(self._pre_roll)
            self._pre_roll.clear()
            self._spoken, self._silent = self.start_frames, 0
            return None
        if voiced:
            self._spoken += self._silent + 1
            self._silent = 0
        else:
            self._silent += 1
        if not self._too_long:
            self._frames.append(pcm)
            if self._spoken > self.max_frames:
                # Too long for "stop": it is not worth recognising; keep nothing of it.
                self._too_long, self._frames = True, []
        if self._silent < self.end_frames:
            return None
        return self._end()

    def flush(self) -> bytes | None:
        """End a stretch in progress (the assistant fell silent); its audio when it was short."""
        return self._end() if self._in_speech else None

    def reset(self) -> None:
        """Forget everything heard so far."""
        self._pre_roll.clear()
        self._run, self._silent, self._spoken = 0, 0, 0
        self._in_speech, self._too_long, self._frames = False, False, []

    def _end(self) -> bytes | None:
        frames, too_long = self._frames, self._too_long
        self.reset()
        if too_long:
            self.dropped += 1
            return None
        self.cut += 1
        return b"".join(frames)
