"""Measure what WebRTC's echo canceller (livekit's AudioProcessingModule) removes from a
microphone that hears the assistant's own reply, and what it leaves of a person's command.

The mix: our piper reply (the embedded voice) played into a simulated room (a delay, a decaying
reverb tail, a gain), a command in another voice (espeak-ng) starting part-way through the
reply, and a little noise. The far-end reference is the reply itself at 16 kHz, as the mixer
would hand it over. Rooms: an ordinary one, a reverberant one with a loud speaker, and none (a
headset, or a speaker the microphone does not hear); in each, the person speaks over the first
reply the canceller ever hears (it is still learning) and over a later one. Reported, with no
cancellation, with it, and with WebRTC's noise suppression added: echo reduction (ERLE) on the
stretch where only the echo sounds, webrtcvad's voiced frames there, whisper's transcripts of
the words (right = the same words as when said alone), wake word detections, and CPU time.

Run: python scripts/echo_measure.py [--save tests/data/echo_mix.wav] [--json]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import re
import subprocess
import tempfile
import time
import wave
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant import paths
from assistant.asr import WhisperAsr
from assistant.audio.dsp import resample
from assistant.audio.echo import EchoCanceller
from assistant.config import Config
from assistant.frames import FRAME_BYTES, SAMPLE_RATE, AudioChunk
from assistant.listen.vad import Vad
from assistant.listen.wake import WakeWordDetector
from assistant.models import resolve_model
from assistant.speak.tts import PiperTts

REPLY = (
    "Once upon a time, a small green dragon lived in the mountains above a quiet village. "
    "Every morning it flew over the river to watch the sun rise, and every evening it counted "
    "the stars until it fell asleep."
)
COMMANDS = {"command": "What time is it?", "stop": "Stop.", "wake": "Okay nabu."}
COMMAND_AT_S = (2.5, 4.0, 5.5, 7.0, 8.5)
"""Where in the reply the person starts speaking (one trial each)."""
SETTLE_S = 1.0
"""The echo canceller's first second is left out of the echo-only figures: it is still learning
the room then."""
T0 = 1000.0
"""Where the simulated recording starts on the monotonic clock."""
PAUSE_S = 3
"""Silence between a first reply and the second one, in the "warm" trials."""


VARIANTS: dict[str, dict[str, bool] | None] = {
    "none": None,
    "aec": {},  # as the daemon runs it
    "aec_unprimed": {"prime": False},
    "aec_ns": {"noise_suppression": True},
}
"""Ways of cleaning the microphone compared: none, and EchoCanceller with these options."""


@dataclass(frozen=True)
class Room:
    """How the speaker's sound reaches the microphone."""

    delay_ms: int = 40
    """Output latency plus the sound's flight time."""
    rt60_s: float = 0.35
    """Reverberation time of the decaying tail (an ordinary furnished room)."""
    gain: float = 0.7
    """Level of the echo against the played signal (a speaker close to the microphone)."""
    noise_dbfs: float = -55.0
    """Background noise level."""
    seed: int = 7


def impulse_response(room: Room, rate: int = SAMPLE_RATE) -> np.ndarray:
    """A direct path, a few early reflections and an exponentially decaying diffuse tail."""
    rng = np.random.default_rng(room.seed)
    n = int(room.rt60_s * rate)
    t = np.arange(n) / rate
    tail = rng.standard_normal(n) * np.exp(-6.9 * t / room.rt60_s) * 0.25
    tail[: int(0.005 * rate)] = 0.0  # the diffuse part starts after the first reflections
    h = tail
    h[0] = 1.0
    for ms, amp in ((3.1, 0.5), (7.3, -0.35), (11.9, 0.25), (17.4, -0.2)):
        h[int(ms * rate / 1000)] += amp
    return h / np.sqrt(np.sum(h**2))


def espeak(text: str) -> np.ndarray:
    """``text`` said by espeak-ng (a voice unlike piper's), as 16 kHz int16."""
    with tempfile.TemporaryDirectory() as tmp:
        raw, out = Path(tmp) / "raw.wav", Path(tmp) / "out.wav"
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "150", "-w", str(raw), text], check=True)
        subprocess.run(["sox", str(raw), "-r", str(SAMPLE_RATE), str(out)], check=True)
        return read_wav(out)


def read_wav(path: Path) -> np.ndarray:
    """A 16 kHz mono 16-bit WAV file's samples."""
    with wave.open(str(path)) as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, 1, 2), path
        return np.frombuffer(w.readframes(w.getnframes()), dtype="<i2").copy()


def write_wav(path: Path, x: np.ndarray) -> None:
    """Save int16 samples as a 16 kHz mono WAV file."""
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(SAMPLE_RATE)
        w.writeframes(x.astype("<i2").tobytes())


def to_int16(x: np.ndarray) -> np.ndarray:
    """Round and clip float samples to int16."""
    return np.clip(np.rint(x), -32768, 32767).astype(np.int16)


@dataclass
class Mix:
    """One simulated recording and what is known about it."""

    far: np.ndarray
    """What the assistant played (the reference), 16 kHz int16."""
    mic: np.ndarray
    """What the microphone heard."""
    echo: np.ndarray
    """The echo part of ``mic`` alone (float)."""
    command: np.ndarray
    """The person's words alone (int16, unshifted)."""
    command_at: int
    """Sample where the command starts in ``mic``."""
    echo_from: int
    """Sample where the echo-only stretch measured starts (it ends at ``command_at``)."""


def build_mix(reply: np.ndarray, command: np.ndarray, room: Room, at_s: float, *, warm: bool) -> Mix:
    """Play ``reply`` into the room and have the person say ``command`` ``at_s`` into it. ``warm``:
    the reply is the second one, after a first and a pause, so the canceller has learnt the room."""
    first = 0
    if warm:
        first = reply.size + PAUSE_S * SAMPLE_RATE
        reply = np.concatenate([reply, np.zeros(PAUSE_S * SAMPLE_RATE, dtype=np.int16), reply])
    rng = np.random.default_rng(room.seed + 1)
    delay = int(room.delay_ms * SAMPLE_RATE / 1000)
    wet = np.convolve(reply.astype(np.float64), impulse_response(room))[: reply.size]
    echo = np.zeros(reply.size + delay)
    echo[delay:] = wet * room.gain
    n = echo.size + SAMPLE_RATE // 2
    echo = np.pad(echo, (0, n - echo.size))
    at = first + int(at_s * SAMPLE_RATE)
    near = np.zeros(n)
    near[at : at + command.size] = command[: n - at]
    noise = rng.standard_normal(n) * 32768 * 10 ** (room.noise_dbfs / 20)
    mic = to_int16(echo + near + noise)
    far = np.pad(reply, (0, n - reply.size))
    return Mix(far, mic, echo, command, at, first if warm else int(SETTLE_S * SAMPLE_RATE))


def cancel(mix: Mix, **options: bool) -> tuple[np.ndarray, float]:
    """Run the mix through the daemon's own canceller, in the microphone's 30 ms frames with the
    reference handed over as the mixer would; returns the cleaned microphone and its CPU time."""
    canceller = EchoCanceller(SAMPLE_RATE, **options)
    n = FRAME_BYTES // 2
    frames = mix.mic.size // n
    out = np.zeros_like(mix.mic)
    cpu = time.process_time()
    for k in range(frames):
        canceller.played(mix.far[k * n : (k + 1) * n].tobytes(), T0 + k * n / SAMPLE_RATE)
        chunk = AudioChunk(mix.mic[k * n : (k + 1) * n].tobytes(), T0 + (k + 1) * n / SAMPLE_RATE)
        out[k * n : (k + 1) * n] = np.frombuffer(canceller.clean(chunk).pcm, dtype=np.int16)
    return out, time.process_time() - cpu


def power(x: np.ndarray) -> float:
    """Mean square of the samples."""
    return float(np.mean(x.astype(np.float64) ** 2)) + 1e-9


def voiced_frames(x: np.ndarray, aggressiveness: int) -> int:
    """30 ms frames webrtcvad calls speech."""
    vad = Vad(aggressiveness)
    pcm = x.astype("<i2").tobytes()
    return sum(
        vad.is_speech(pcm[i : i + FRAME_BYTES]) for i in range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)
    )


def wakes(x: np.ndarray) -> int:
    """Times the default wake word (okay nabu) is detected in ``x``."""
    detector = WakeWordDetector(resolve_model(Config().wake.model, "wake", paths.data_dir()))
    pcm = x.astype("<i2").tobytes()
    found = 0
    for n, i in enumerate(range(0, len(pcm) - FRAME_BYTES + 1, FRAME_BYTES)):
        found += detector.feed(pcm[i : i + FRAME_BYTES], n * 0.03) is not None
    return found


def words(text: str) -> list[str]:
    """Lower-case words, without punctuation."""
    return re.findall(r"[a-z0-9']+", text.lower())


@dataclass
class Tally:
    """One way of cleaning the microphone (or none), summed over the trials."""

    erle_db: list[float] = field(default_factory=list)
    voiced: int = 0
    frames: int = 0
    right: int = 0
    wakes: int = 0
    cpu_s: float = 0.0
    audio_s: float = 0.0
    heard: list[str] = field(default_factory=list)

    def add(
        self, mix: Mix, cleaned: np.ndarray, asr: WhisperAsr, expect: list[str], aggressiveness: int
    ) -> None:
        """Score one cleaned recording."""
        settle, at = mix.echo_from, mix.command_at
        if cleaned is not mix.mic and np.any(mix.echo):
            self.erle_db.append(float(10 * np.log10(power(mix.mic[settle:at]) / power(cleaned[settle:at]))))
        self.voiced += voiced_frames(cleaned[settle:at], aggressiveness)
        self.frames += (at - settle) // (FRAME_BYTES // 2)
        segment = cleaned[max(0, at - SAMPLE_RATE // 4) : at + mix.command.size + SAMPLE_RATE // 4]
        text = asr.transcribe_sync(segment.tobytes()).text
        self.heard.append(text)
        self.right += words(text) == expect
        self.wakes += wakes(cleaned) > 0

    def summary(self) -> dict[str, Any]:
        """The tally as plain numbers."""
        return {
            "erle_db": round(float(np.mean(self.erle_db)), 1) if self.erle_db else None,
            "erle_db_min": round(min(self.erle_db), 1) if self.erle_db else None,
            "voiced_echo_frames": f"{self.voiced}/{self.frames}",
            "transcripts_right": self.right,
            "woke": self.wakes,
            "cpu_ms_per_s": round(self.cpu_s * 1000 / self.audio_s, 1) if self.audio_s else 0.0,
            "heard": self.heard,
        }


def main() -> None:
    """Build the mixes, cancel, measure, print."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--save", type=Path, help="write one mix (a 'stop' over the reply) and its reference")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args()
    config = Config()
    data = paths.data_dir()
    tts = PiperTts(resolve_model(config.tts.voice, "tts", data), config.tts)
    tts.load()
    reply = resample(np.frombuffer(tts.synthesize_sync(REPLY), dtype=np.int16), tts.sample_rate, SAMPLE_RATE)
    asr = WhisperAsr(resolve_model(config.asr.model, "asr", data), config.asr)
    asr.load()
    aggressiveness = config.vad.aggressiveness
    rooms = {
        "room": Room(),
        "reverberant_room": Room(gain=1.4, rt60_s=0.5, delay_ms=80),
        "no_echo": Room(gain=0.0),  # a headset, or a speaker the microphone does not hear
    }
    report: dict[str, Any] = {
        "reply_s": round(reply.size / SAMPLE_RATE, 2),
        "command_at_s": list(COMMAND_AT_S),
        "rooms": {name: dataclasses.asdict(room) for name, room in rooms.items()},
    }
    for name, text in COMMANDS.items():
        command = espeak(text)
        alone = asr.transcribe_sync(np.pad(command, SAMPLE_RATE // 4).tobytes()).text
        for (room_name, room), warm in itertools.product(rooms.items(), (False, True)):
            tallies = {label: Tally() for label in VARIANTS}
            echo_db: list[float] = []
            for at_s in COMMAND_AT_S:
                mix = build_mix(reply, command, room, at_s, warm=warm)
                at = mix.command_at
                echo_db.append(
                    float(10 * np.log10(power(to_int16(mix.echo[at : at + command.size])) / power(command)))
                )
                tallies["none"].add(mix, mix.mic, asr, words(alone), aggressiveness)
                for label, options in VARIANTS.items():
                    if options is None:
                        continue
                    cleaned, cpu_s = cancel(mix, **options)
                    tallies[label].cpu_s += cpu_s
                    tallies[label].audio_s += mix.mic.size / SAMPLE_RATE
                    tallies[label].add(mix, cleaned, asr, words(alone), aggressiveness)
                if args.save is not None and (name, room_name, warm, at_s) == ("stop", "room", False, 5.5):
                    write_wav(args.save, mix.mic)
                    write_wav(args.save.with_name(args.save.stem + "_far.wav"), mix.far)
            report[f"{name}/{room_name}/{'later' if warm else 'first'} reply"] = {
                "said": text,
                "alone": alone,
                "echo_over_command_db": round(float(np.mean(echo_db)), 1) if room.gain else None,
                **{label: tally.summary() for label, tally in tallies.items()},
            }
    if args.json:
        print(json.dumps(report, indent=1))
        return
    trials = len(COMMAND_AT_S)
    print(f"reply: {report['reply_s']} s of piper speech; each command said at {COMMAND_AT_S} s")
    for key, row in report.items():
        if not isinstance(row, dict) or "said" not in row:
            continue
        print(
            f"\n{key}: {row['said']!r} (heard alone as {row['alone']!r}), "
            f"echo {row['echo_over_command_db']} dB over it"
        )
        for label in VARIANTS:
            r = row[label]
            erle = (
                f"ERLE {r['erle_db']} dB (min {r['erle_db_min']})" if r["erle_db"] is not None else "ERLE -"
            )
            print(
                f"  {label:<7} {erle:<24} voiced echo frames {r['voiced_echo_frames']:<9} "
                f"right {r['transcripts_right']}/{trials}  woke {r['woke']}/{trials}  "
                f"CPU {r['cpu_ms_per_s']} ms/s  heard {r['heard']}"
            )


if __name__ == "__main__":
    main()
