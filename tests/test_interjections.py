"""Words said over the assistant's own speech: short ones are recognised ("stop"), long ones
(its own sentences) are dropped unrecognised, and words it is saying itself are not a person's."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from assistant import paths
from assistant.asr import WhisperAsr
from assistant.audio.dsp import resample
from assistant.audio.files import read_audio_file
from assistant.config import Config
from assistant.frames import FRAME_BYTES, FRAME_SAMPLES, SAMPLE_RATE, AudioChunk
from assistant.listen.endpoint import Endpointer, EndpointSettings
from assistant.listen.interject import Interjections
from assistant.listen.vad import Vad
from assistant.listen.wake import WakeWordDetector
from assistant.listening import Listener
from assistant.models import resolve_model
from assistant.speak.tts import PiperTts

DATA = Path(__file__).parent / "data"
SAMPLES = Path(__file__).parents[1] / "assistant" / "data" / "samples"
T0 = 1000.0
FRAME_S = FRAME_SAMPLES / SAMPLE_RATE


def silence(seconds: float) -> bytes:
    return bytes(int(seconds * SAMPLE_RATE) * 2)


def labelled(pcm: bytes) -> list[tuple[bytes, bool]]:
    """30 ms frames of ``pcm`` with webrtcvad's labels."""
    vad = Vad(Config().vad.aggressiveness)
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    frames = [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]
    return [(f, vad.is_speech(f)) for f in frames]


# --------------------------------------------------------------------------- the state machine


def test_a_short_word_is_cut_out_and_a_long_sentence_is_dropped() -> None:
    cut = Interjections()
    stop = read_audio_file(DATA / "stop_espeak.wav")
    sentence = read_audio_file(SAMPLES / "capital_of_france.wav")  # about 2 s of speech
    pieces = [cut.feed(f, v) for f, v in labelled(silence(0.5) + stop + silence(0.6))]
    got = [p for p in pieces if p is not None]
    assert len(got) == 1 and cut.cut == 1 and not cut.active
    voiced_s = sum(v for _, v in labelled(stop)) * FRAME_S
    assert voiced_s <= len(got[0]) / 2 / SAMPLE_RATE <= voiced_s + 0.8  # the word, a little around it
    pieces = [cut.feed(f, v) for f, v in labelled(sentence + silence(0.6))]
    assert pieces.count(None) == len(pieces)
    assert cut.dropped == 1 and cut.cut == 1


def test_a_stretch_cut_short_by_the_end_of_its_speech_is_flushed() -> None:
    cut = Interjections()
    frames = labelled(read_audio_file(DATA / "stop_espeak.wav"))
    last_voiced = max(i for i, (_, v) in enumerate(frames) if v)
    for f, v in frames[: last_voiced + 1]:
        assert cut.feed(f, v) is None
    assert cut.active
    assert cut.flush() is not None and not cut.active
    assert cut.flush() is None


# --------------------------------------------------------------------------- the listener


@pytest.fixture(scope="module")
def asr() -> Iterator[WhisperAsr]:
    config = Config()
    model = WhisperAsr(resolve_model(config.asr.model, "asr", paths.data_dir()), config.asr)
    model.load()
    yield model
    model.close()


async def clocked(pcm: bytes, done: Callable[[], bool]) -> AsyncIterator[AudioChunk]:
    """``pcm`` in 30 ms frames, then silence in real time until ``done()`` (at most 5 s)."""
    pcm += bytes(-len(pcm) % FRAME_BYTES)
    n = 0
    for n in range(len(pcm) // FRAME_BYTES):
        await asyncio.sleep(0)
        yield AudioChunk(pcm[n * FRAME_BYTES : (n + 1) * FRAME_BYTES], T0 + (n + 1) * FRAME_S)
    for m in range(int(5 / FRAME_S)):
        if done():
            return
        # Recognition runs on its worker meanwhile, as it would while the microphone goes on.
        await asyncio.sleep(FRAME_S)
        yield AudioChunk(bytes(FRAME_BYTES), T0 + (n + m + 2) * FRAME_S)


class Overheard:
    """A wake-mode listener whose assistant speaks all along, collecting what it hands on."""

    def __init__(self, asr: WhisperAsr, saying: str = "") -> None:
        self.heard: list[str] = []
        self.listener = Listener(
            Vad(Config().vad.aggressiveness),
            Endpointer(EndpointSettings()),
            asr,
            lambda _: False,
            partial_after_ms=0,
            complete_command_ms=210,
            mode="wake",
            detector=WakeWordDetector(resolve_model("okay_nabu", "wake", paths.data_dir())),
        )
        self.listener.echo_until = lambda: T0 + 3600
        self.listener.overheard_vad = Vad(Config().vad.aggressiveness)
        self.listener.echo_text = lambda: saying

        async def interjected(text: str) -> None:
            self.heard.append(text)

        self.listener.on_interjection = interjected

    async def run(self, pcm: bytes) -> int:
        """Feed ``pcm``, then silence until what it said is handed on or found to be its own (or
        5 s, when nothing is); returns the number of utterances yielded."""
        listener = self.listener

        def done() -> bool:
            return bool(self.heard) or listener.own_words > 0

        return len([s async for s in listener.utterances(clocked(pcm + silence(0.5), done))])


async def test_stop_said_over_its_speech_is_handed_on(asr: WhisperAsr) -> None:
    over = Overheard(asr, saying="Once upon a time, a small green dragon lived in the mountains.")
    utterances = await over.run(silence(0.5) + read_audio_file(DATA / "stop_espeak.wav"))
    assert utterances == 0  # no command starts over its speech
    assert [t.strip(" .!").lower() for t in over.heard] == ["stop"], over.heard


async def test_a_long_sentence_over_its_speech_is_not_recognised(asr: WhisperAsr) -> None:
    over = Overheard(asr)
    await over.run(read_audio_file(SAMPLES / "capital_of_france.wav"))  # 5 s: nothing comes
    assert over.listener.interjections.dropped >= 1 and over.listener.interjections.cut == 0
    assert over.heard == []


async def test_stop_in_its_own_reply_is_not_taken_for_a_person(asr: WhisperAsr) -> None:
    config = Config()
    tts = PiperTts(resolve_model(config.tts.voice, "tts", paths.data_dir()), config.tts)
    await asyncio.to_thread(tts.load)
    said = np.frombuffer(await asyncio.to_thread(tts.synthesize_sync, "Stop."), dtype=np.int16)
    pcm = silence(0.3) + resample(said, tts.sample_rate, SAMPLE_RATE).tobytes()
    # The same audio, first with the assistant saying it, then with it saying something else.
    own = Overheard(asr, saying="Stop. I will stop when the story is over.")
    await own.run(pcm)
    other = Overheard(asr, saying="Once upon a time.")
    await other.run(pcm)
    assert own.heard == [] and own.listener.own_words == 1
    assert [t.strip(" .!").lower() for t in other.heard] == ["stop"], other.heard
