"""Typed frames that flow one way through a session's stages."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

SAMPLE_RATE = 16_000
"""Every audio frame inside the pipeline is 16 kHz mono signed 16-bit PCM."""

FRAME_MS = 30
"""Length of one pipeline audio frame; webrtcvad accepts 10, 20 or 30 ms."""

FRAME_SAMPLES = SAMPLE_RATE * FRAME_MS // 1000
FRAME_BYTES = FRAME_SAMPLES * 2


@dataclass(frozen=True, slots=True)
class AudioChunk:
    """A piece of 16 kHz mono s16le audio entering the pipeline."""

    pcm: bytes
    """Raw little-endian 16-bit samples."""
    t: float
    """Monotonic time (seconds) at which the chunk's last sample arrived."""


@dataclass(frozen=True, slots=True)
class EndOfStream:
    """The audio source has no more audio."""


@dataclass(frozen=True, slots=True)
class SpeechStarted:
    """The endpointer heard the start of an utterance."""

    t: float
    """Monotonic time of the first voiced frame."""


@dataclass(frozen=True, slots=True)
class WakeDetected:
    """The wake word was heard; a command may follow without a pause."""

    model: str
    """Name of the wake word model that heard it, e.g. "okay_nabu"."""
    phrase: str
    """The wake phrase as people say it, e.g. "Okay Nabu"."""
    probability: float
    """The model's averaged probability when it crossed the cutoff."""
    t: float
    """Monotonic time of the end of the frame in which it was heard."""


@dataclass(frozen=True, slots=True)
class SpeechEnded:
    """The endpointer decided the utterance is over."""

    pcm: bytes
    """The whole utterance, pre-roll included, 16 kHz mono s16le."""
    t_speech_start: float
    """Monotonic time of the first voiced frame."""
    t_last_voiced: float
    """Monotonic time of the end of the last voiced frame."""
    t_endpoint: float
    """Monotonic time of the endpoint decision."""
    truncated: bool = False
    """True when the utterance hit the maximum length and was cut."""
    heard: str | None = None
    """Text already recognised from exactly this audio (early endpointing), else None."""
    t_heard: float | None = None
    """Monotonic time that recognition finished, when ``heard`` is set."""


@dataclass(frozen=True, slots=True)
class Transcript:
    """Text recognised from an utterance."""

    text: str
    """The words heard, stripped of surrounding whitespace."""
    final: bool = True
    """False for a partial hypothesis while the person is still speaking."""


@dataclass(frozen=True, slots=True)
class Intent:
    """A decision of the router: which skill action to run, with validated slots."""

    skill: str
    """Name of the skill that owns the intent."""
    action: str
    """Name of the intent inside the skill."""
    slots: dict[str, Any] = field(default_factory=dict)
    """Normalized slot values."""


@dataclass(frozen=True, slots=True)
class ReplyText:
    """A piece of the reply to be spoken, usually one sentence or clause."""

    text: str
    """The words to speak."""
    last: bool = False
    """True on the final piece of a reply."""


@dataclass(frozen=True, slots=True)
class ReplyAudio:
    """Synthesized audio of one reply piece."""

    pcm: bytes
    """Raw little-endian 16-bit mono samples."""
    sample_rate: int
    """Samples per second of ``pcm``."""
    text: str = ""
    """The text this audio speaks."""

    @property
    def duration_s(self) -> float:
        """How long the audio plays, in seconds."""
        return len(self.pcm) / 2 / self.sample_rate if self.sample_rate > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Interrupt:
    """A control frame: stop what this session is doing now (barge-in, stop phrase)."""

    reason: str = ""
    """Why the session was interrupted, for logs."""
