"""Voice activity decisions per 30 ms frame, from webrtcvad."""

from __future__ import annotations

import webrtcvad

from assistant.frames import FRAME_BYTES, SAMPLE_RATE


class Vad:
    """Says whether one 30 ms 16 kHz frame holds speech."""

    def __init__(self, aggressiveness: int) -> None:
        self._vad = webrtcvad.Vad(aggressiveness)

    def is_speech(self, frame: bytes) -> bool:
        """True when webrtcvad hears speech in this frame (which must be exactly 30 ms)."""
        if len(frame) != FRAME_BYTES:
            raise ValueError(f"VAD frames must be {FRAME_BYTES} bytes, got {len(frame)}")
        return bool(self._vad.is_speech(frame, SAMPLE_RATE))
