"""Short sounds played before announcements: bundled ones by name, or any audio file by path."""

from __future__ import annotations

import functools
import wave
from importlib.resources import files
from pathlib import Path

from assistant.audio.files import read_audio_file
from assistant.errors import AudioFileError
from assistant.frames import SAMPLE_RATE, ReplyAudio

BUNDLED = ("chime", "alarm", "wake")


@functools.cache
def load_sound(name: str) -> ReplyAudio:
    """A bundled sound ("chime", "alarm", "wake") or an audio file's contents, ready to play."""
    if name in BUNDLED:
        path = Path(str(files("assistant") / "data" / "sounds" / f"{name}.wav"))
        with wave.open(str(path)) as w:
            return ReplyAudio(w.readframes(w.getnframes()), w.getframerate(), text=f"[{name}]")
    path = Path(name).expanduser()
    if not path.is_file():
        raise AudioFileError(f"{name}: not a bundled sound ({', '.join(BUNDLED)}) nor an audio file")
    return ReplyAudio(read_audio_file(path), SAMPLE_RATE, text=f"[{path.name}]")
